"""Use cases around people and their settings: profile, users and teams (administrators), saved views,
record shares. One function per user action, each with its transaction."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from .models import AuditAction, Role, SavedView, Share, Team, User
from .records import fail, write_audit

SAVED_VIEW_MODELS = ("account", "contact")
_TEXT = {"first_name": 150, "last_name": 150, "email": 254}


def _require_admin(actor: User, message: str) -> None:
    if not actor.is_administrator:
        raise PermissionDenied(message)


def _unknown(data: dict[str, Any], allowed: set[str], errors: dict[str, list[str]]) -> None:
    for key in sorted(set(data) - allowed):
        errors[key] = [_("Unknown field.")]


def _texts(user: User, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for name, limit in _TEXT.items():
        if name in data:
            value = data[name]
            if not isinstance(value, str) or len(value.strip()) > limit:
                errors[name] = [_("Text of at most %(n)d characters.") % {"n": limit}]
            else:
                setattr(user, name, value.strip())


@transaction.atomic
def update_me(user: User, data: dict[str, Any]) -> User:
    """A user's own name, email, language and time zone."""
    errors: dict[str, list[str]] = {}
    _unknown(data, {*_TEXT, "language", "time_zone"}, errors)
    _texts(user, data, errors)
    if "language" in data:
        codes = [code for code, _label in settings.LANGUAGES]
        if data["language"] not in ["", *codes]:
            errors["language"] = [_("One of: %(choices)s.") % {"choices": ", ".join(codes)}]
        else:
            user.language = data["language"]
    if "time_zone" in data:
        zone = data["time_zone"]
        if zone and (not isinstance(zone, str) or zone not in zoneinfo.available_timezones()):
            errors["time_zone"] = [_("Not a time zone, e.g. Asia/Shanghai.")]
        else:
            user.time_zone = zone or ""
    fail(errors)
    user.save()
    return user


def _team(value: Any, errors: dict[str, list[str]], field: str = "team_id") -> Team | None:
    if value is None:
        return None
    team = Team.objects.filter(pk=value).first() if isinstance(value, int) else None
    if team is None:
        errors[field] = [_("No such team.")]
    return team


@transaction.atomic
def update_user(actor: User, user: User, data: dict[str, Any]) -> User:
    """An administrator changes a user's role, team, names or email, or (de)activates them."""
    _require_admin(actor, _("Only an administrator may manage users."))
    errors: dict[str, list[str]] = {}
    _unknown(data, {*_TEXT, "role", "team_id", "is_active"}, errors)
    _texts(user, data, errors)
    if "role" in data:
        if data["role"] not in Role.values:
            errors["role"] = [_("Unknown role.")]
        elif user.pk == actor.pk and data["role"] != Role.ADMIN:
            errors["role"] = [_("You cannot take away your own administrator role.")]
        else:
            user.role = data["role"]
            user.is_staff = user.is_superuser = user.role == Role.ADMIN
    if "team_id" in data:
        user.team = _team(data["team_id"], errors)
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = [_("true or false.")]
        elif user.pk == actor.pk and not data["is_active"]:
            errors["is_active"] = [_("You cannot deactivate yourself.")]
        else:
            user.is_active = data["is_active"]
    fail(errors)
    user.save()
    return user


@transaction.atomic
def update_team(actor: User, team: Team, data: dict[str, Any]) -> Team:
    """An administrator renames a team or moves it under another one (not under itself or its own sub-teams)."""
    _require_admin(actor, _("Only an administrator may manage teams."))
    errors: dict[str, list[str]] = {}
    _unknown(data, {"name", "parent_id"}, errors)
    if "name" in data:
        name = data["name"].strip() if isinstance(data["name"], str) else ""
        if not name or len(name) > 100:
            errors["name"] = [_("This field is required.") if not name else _("At most 100 characters.")]
        elif Team.objects.filter(name=name).exclude(pk=team.pk).exists():
            errors["name"] = [_("A team with this name exists.")]
        else:
            team.name = name
    if "parent_id" in data:
        parent = _team(data["parent_id"], errors, "parent_id")
        if parent is not None and parent.pk in team.subtree_ids():
            errors["parent_id"] = [_("A team cannot move under itself or one of its sub-teams.")]
        elif "parent_id" not in errors:
            team.parent = parent
    fail(errors)
    team.save()
    return team


@transaction.atomic
def save_view(user: User, model: str, name: str, query: str) -> SavedView:
    """Save a list's filters and sort under a name; saving a name again replaces it."""
    errors: dict[str, list[str]] = {}
    if model not in SAVED_VIEW_MODELS:
        errors["model"] = [_("One of: %(choices)s.") % {"choices": ", ".join(SAVED_VIEW_MODELS)}]
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("This field is required.") if not name else _("At most 100 characters.")]
    if len(query or "") > 2000:
        errors["query"] = [_("At most 2000 characters.")]
    fail(errors)
    params = QueryDict(query or "", mutable=True)
    params.pop("cursor", None)  # a saved view always starts on its first page
    view, _created = SavedView.objects.update_or_create(user=user, model=model, name=name,
                                                        defaults={"query": params.urlencode()})
    return view


def delete_view(user: User, view_id: int) -> None:
    """Delete one of the user's own saved views; another user's is not found."""
    deleted, _rows = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise SavedView.DoesNotExist


def _share_label(share: Share) -> str:
    return f"user:{share.user.username}" if share.user_id else f"team:{share.team.name}"


def shares_of(obj: models.Model) -> models.QuerySet[Share]:
    return Share.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)),
                                object_id=obj.pk).select_related("user", "team").order_by("id")


def _require_editable(actor: User, obj: models.Model) -> None:
    if not actor.can_edit or not type(obj).objects.editable_by(actor).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("You may not share this record."))


@transaction.atomic
def share_record(actor: User, obj: models.Model, *, user: User | None = None, team: Team | None = None) -> Share:
    """Let one more user, or a whole team, see the record; audited on the record."""
    _require_editable(actor, obj)
    if (user is None) == (team is None):
        raise ValidationError({"user": [_("Share with one user or one team.")]})
    share, created = Share.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk, user=user, team=team
    )
    if created:
        write_audit(obj, actor, AuditAction.UPDATE, {"shared_with": [None, _share_label(share)]})
    return share


@transaction.atomic
def unshare_record(actor: User, obj: models.Model, share_id: int) -> None:
    _require_editable(actor, obj)
    share = shares_of(obj).filter(pk=share_id).first()
    if share is None:
        raise Share.DoesNotExist
    write_audit(obj, actor, AuditAction.UPDATE, {"shared_with": [_share_label(share), None]})
    share.delete()


def add_user(actor: User, data: dict[str, Any]) -> User:
    """An administrator adds a user (username, password, role, team_id, names, email)."""
    from .services import create_user, new_user_errors

    _require_admin(actor, _("Only an administrator may manage users."))
    username, password = (data.get("username") or "").strip(), data.get("password") or ""
    role = data.get("role") or Role.SALES_REP
    errors = new_user_errors(username, password, role)
    _unknown(data, {*_TEXT, "username", "password", "role", "team_id"}, errors)
    team = _team(data.get("team_id"), errors)
    fail(errors)
    return create_user(actor, username=username, password=password, role=role, team=team,
                       **{k: (data.get(k) or "").strip() for k in _TEXT})


def add_team(actor: User, name: str, parent_id: int | None = None) -> Team:
    from .services import create_team

    errors: dict[str, list[str]] = {}
    parent = _team(parent_id, errors, "parent_id")
    fail(errors)
    return create_team(actor, name, parent)

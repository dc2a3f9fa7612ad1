"""Use cases of the core: users, teams, tokens, login throttling, sharing."""

from __future__ import annotations

import copy
import hashlib
import secrets
import time
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .db import prepared
from .models import MANAGER_ROLES, ApiToken, LoginFailure, Role, Team, User
from .records import fail


def assignable_users(actor: User) -> QuerySet[User]:
    """Who the actor may hand a record to: anyone (admin), their teams' members (manager), themselves."""
    users = User.objects.filter(is_active=True)
    if actor.is_administrator:
        return users
    if actor.role in MANAGER_ROLES and actor.team_id:
        return users.filter(Q(team_id__in=actor.visible_team_ids()) | Q(pk=actor.pk))
    return users.filter(pk=actor.pk)


def visible_users(actor: User) -> QuerySet[User]:
    """Colleagues whose names an actor may see (owner pickers, filters)."""
    if actor.is_administrator or actor.team_id is None:
        return User.objects.filter(is_active=True) if actor.is_administrator else User.objects.filter(pk=actor.pk)
    return User.objects.filter(is_active=True).filter(Q(team_id__in=actor.team.subtree_ids()) | Q(pk=actor.pk))


@transaction.atomic
def create_team(actor: User | None, name: str, parent: Team | None = None) -> Team:
    if actor is not None and not actor.is_administrator:
        raise PermissionDenied(_("Only an administrator may manage teams."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    if Team.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("A team with this name exists.")]})
    return Team.objects.create(name=name, parent=parent)


def new_user_errors(username: str, password: str, role: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not username or User.objects.filter(username=username).exists():
        errors["username"] = [_("Choose another user name.")]
    if role not in Role.values:
        errors["role"] = [_("Unknown role.")]
    if not password or len(password) < 8:
        errors["password"] = [_("At least 8 characters.")]
    return errors


@transaction.atomic
def create_user(actor: User | None, *, username: str, password: str, role: str = Role.SALES_REP,
                team: Team | None = None, first_name: str = "", last_name: str = "", email: str = "") -> User:
    if actor is not None and not actor.is_administrator:
        raise PermissionDenied(_("Only an administrator may manage users."))
    fail(new_user_errors(username, password, role))
    user = User(username=username, role=role, team=team, first_name=first_name, last_name=last_name, email=email,
                is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    user.set_password(password)
    user.save()
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, name: str = "api") -> str:
    """A new bearer token for the user; only its digest is stored, so this is the one time it is seen."""
    secret = "gx_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name[:100], prefix=secret[:10], digest=_digest(secret))
    return secret


# digest → (expires at, user): each process remembers a token for TOKEN_CACHE_SECONDS, which saves a
# database round trip on most API requests; revoking a token or deactivating a user clears this
# process's entries at once (signals below), other processes' within those seconds.
_token_cache: dict[str, tuple[float, User]] = {}
_TOKEN_CACHE_MAX = 10_000


def forget_tokens(user_id: int | None = None) -> None:
    """Drop remembered tokens (of one user, or all)."""
    if user_id is None:
        _token_cache.clear()
        return
    for digest, (_expires, user) in list(_token_cache.items()):
        if user.pk == user_id:
            _token_cache.pop(digest, None)


def user_for_token(secret: str) -> User | None:
    if not secret or len(secret) > 200:
        return None
    digest = _digest(secret)
    hit = _token_cache.get(digest)
    if hit is not None and hit[0] > time.monotonic():
        return copy.copy(hit[1])  # a copy: requests may annotate their user
    user = _user_for_digest(digest)
    seconds = settings.TOKEN_CACHE_SECONDS
    if user is not None and seconds > 0:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[digest] = (time.monotonic() + seconds, copy.copy(user))
    return user


def _user_for_digest(digest: str) -> User | None:
    # Fixed SQL instead of a select_related queryset: this runs on every API request, and building
    # the ORM query cost more than running it.
    with prepared():
        found = list(User.objects.raw(
            f"SELECT u.*, t.id AS token_id, t.last_used_at AS token_used_at FROM {User._meta.db_table} u "
            f"JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id WHERE t.digest = %s", [digest]))
    if not found or not found[0].is_active:
        return None
    user = found[0]
    used = user.token_used_at
    if used is not None and timezone.is_naive(used):  # raw() on SQLite: the stored UTC time, naive
        used = used.replace(tzinfo=UTC)
    now = timezone.now()
    if used is None or now - used > timedelta(minutes=5):
        ApiToken.objects.filter(pk=user.token_id).update(last_used_at=now)
    return user


def login_blocked(username: str, address: str) -> bool:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    recent = LoginFailure.objects.filter(at__gte=since)
    limit = settings.LOGIN_MAX_FAILURES
    return (recent.filter(username=username.lower()[:150]).count() >= limit
            or recent.filter(address=address[:64]).count() >= limit * 4)


def record_login_failure(username: str, address: str) -> None:
    LoginFailure.objects.create(username=(username or "").lower()[:150], address=(address or "")[:64])


def clear_login_failures(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()[:150]).delete()


def create_token(user: User, name: str) -> str:
    """A new token the user names in the UI; returns the secret, shown once."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the token a name, e.g. the program that uses it.")]})
    if len(name) > 100:
        raise ValidationError({"name": [_("At most 100 characters.")]})
    if ApiToken.objects.filter(user=user).count() >= 20:
        raise ValidationError({"name": [_("At most 20 tokens; revoke one you no longer use.")]})
    return issue_token(user, name)


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens; another user's token is not found."""
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise ApiToken.DoesNotExist

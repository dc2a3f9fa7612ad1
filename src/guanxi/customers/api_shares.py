"""Sharing an account or contact with another user or a whole team (beyond owner and managers)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from guanxi.core.api import READ_ONE, WRITE_ONE, Id, Ref, actor
from guanxi.core.models import Share, Team, User
from guanxi.core.people_services import share_record, shares_of, unshare_record
from guanxi.core.records import fail

from .api import visible_account, visible_contact

router = Router(tags=["sharing"])


class ShareOut(Schema):
    id: int
    user: Ref | None
    team: Ref | None


class ShareIn(Schema):
    user_id: int | None = None
    team_id: int | None = None


def _out(share: Share) -> dict[str, Any]:
    return {"id": share.pk,
            "user": {"id": share.user_id, "name": str(share.user)} if share.user_id else None,
            "team": {"id": share.team_id, "name": share.team.name} if share.team_id else None}


def _add(request: HttpRequest, record: Model, payload: ShareIn) -> Status:
    errors: dict[str, list[str]] = {}
    user = User.objects.filter(pk=payload.user_id, is_active=True).first() if payload.user_id else None
    team = Team.objects.filter(pk=payload.team_id).first() if payload.team_id else None
    if payload.user_id and user is None:
        errors["user_id"] = [_("No such active user.")]
    if payload.team_id and team is None:
        errors["team_id"] = [_("No such team.")]
    fail(errors)
    share = share_record(actor(request), record, user=user, team=team)
    return Status(201, _out(share))


def _remove(request: HttpRequest, record: Model, share_id: int) -> Status:
    try:
        unshare_record(actor(request), record, share_id)
    except Share.DoesNotExist:
        raise Http404 from None
    return Status(204, None)


@router.get("/accounts/{id}/shares", response={200: list[ShareOut], **READ_ONE})
def account_shares(request: HttpRequest, id: Id):
    """Who else this account is shared with."""
    return [_out(s) for s in shares_of(visible_account(request, id))]


@router.post("/accounts/{id}/shares", response={201: ShareOut, **WRITE_ONE})
def share_account(request: HttpRequest, id: Id, payload: ShareIn):
    """Share with one user (`user_id`) or one team (`team_id`); you must be able to edit the account."""
    return _add(request, visible_account(request, id), payload)


@router.delete("/accounts/{id}/shares/{share_id}", response={204: None, **WRITE_ONE})
def unshare_account(request: HttpRequest, id: Id, share_id: Id):
    return _remove(request, visible_account(request, id), share_id)


@router.get("/contacts/{id}/shares", response={200: list[ShareOut], **READ_ONE})
def contact_shares(request: HttpRequest, id: Id):
    """Who else this contact is shared with."""
    return [_out(s) for s in shares_of(visible_contact(request, id))]


@router.post("/contacts/{id}/shares", response={201: ShareOut, **WRITE_ONE})
def share_contact(request: HttpRequest, id: Id, payload: ShareIn):
    """Share with one user (`user_id`) or one team (`team_id`); you must be able to edit the contact."""
    return _add(request, visible_contact(request, id), payload)


@router.delete("/contacts/{id}/shares/{share_id}", response={204: None, **WRITE_ONE})
def unshare_contact(request: HttpRequest, id: Id, share_id: Id):
    return _remove(request, visible_contact(request, id), share_id)


__all__ = ["router"]

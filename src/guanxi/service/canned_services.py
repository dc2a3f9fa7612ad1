"""Canned replies: write, change and delete them (shared ones by service managers and administrators, one's own
by any agent), list those a user may use, and fill one in for a ticket."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.models import Role, User
from guanxi.core.records import fail, int_or_none
from guanxi.quality.normalize import clean_text

from . import placeholders
from .models import CannedReply, QuestionGroup
from .ticket_models import Ticket

MAX_BODY = 5000


def may_share(user: User) -> bool:
    return user.is_administrator or user.role == Role.SERVICE_MANAGER


def usable_by(user: User) -> QuerySet:
    """Shared replies and the user's own."""
    return CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def editable_by(user: User) -> QuerySet:
    return usable_by(user) if may_share(user) else CannedReply.objects.filter(owner=user)


def _clean(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    title = clean_text(data.get("title")) if isinstance(data.get("title"), str) else ""
    body = data.get("body").strip() if isinstance(data.get("body"), str) else ""
    if not title:
        errors["title"] = [_("Give the reply a title.")]
    elif len(title) > 120:
        errors["title"] = [_("At most %(max)s characters.") % {"max": 120}]
    if not body:
        errors["body"] = [_("Write the text of the reply.")]
    elif len(body) > MAX_BODY:
        errors["body"] = [_("At most %(max)s characters.") % {"max": MAX_BODY}]
    elif unknown := placeholders.unknown(body):
        errors["body"] = [_("Unknown placeholder %(names)s; use %(known)s.") % {
            "names": ", ".join(f"{{{n}}}" for n in unknown),
            "known": ", ".join(f"{{{n}}}" for n in placeholders.NAMES)}]
    group = None
    if data.get("question_group_id") not in (None, ""):
        group = QuestionGroup.objects.filter(pk=int_or_none(data["question_group_id"])).first()
        if group is None:
            errors["question_group_id"] = [_("No such question group.")]
    shared = data.get("shared") in (True, "true", "on", "1")
    if shared and not may_share(actor):
        errors["shared"] = [_("Only service managers and administrators may share replies with everyone.")]
    fail(errors)
    return {"title": title, "body": body, "question_group": group, "owner": None if shared else actor}


@transaction.atomic
def save_canned(actor: User, data: dict[str, Any], reply: CannedReply | None = None) -> CannedReply:
    """A new canned reply, or changes to one the actor may edit (anything else is a PermissionDenied)."""
    if not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))
    if reply is not None and not editable_by(actor).filter(pk=reply.pk).exists():
        raise PermissionDenied(_("You may not change this reply."))
    cleaned = _clean(actor, data)
    reply = reply or CannedReply()
    for key, value in cleaned.items():
        setattr(reply, key, value)
    reply.save()
    return reply


@transaction.atomic
def delete_canned(actor: User, reply: CannedReply) -> None:
    if not editable_by(actor).filter(pk=reply.pk).exists():
        raise PermissionDenied(_("You may not change this reply."))
    reply.delete()


def fill_for(actor: User, ticket: Ticket, reply: CannedReply) -> str:
    """The reply's text for this ticket (placeholders filled); counts the use."""
    contact = ticket.contact.name if ticket.contact_id else ""
    account = ticket.account.name if ticket.account_id else ""
    text = placeholders.fill(reply.body, {
        "customer": contact or account, "contact": contact, "account": account, "ticket": ticket.number or "",
        "subject": ticket.subject, "agent": actor.get_full_name() or actor.username,
    })
    CannedReply.objects.filter(pk=reply.pk).update(uses=F("uses") + 1)
    return text

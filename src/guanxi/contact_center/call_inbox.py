"""Missed calls in the one inbox: an inbound call nobody answered (missed, abandoned in the queue, or sent to
voicemail) waits there for a call back until an outbound call to the same number starts after it, or it is a
fortnight old. The pane offers the call back (click-to-call) and a ticket for the call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import Direction
from guanxi.service import services as desk
from guanxi.service.models import Queue
from guanxi.service.ticket_models import Ticket, TicketChannel

from . import inbox
from .call_models import Call, Outcome

UNANSWERED = (Outcome.MISSED, Outcome.ABANDONED, Outcome.VOICEMAIL)
WAITS_DAYS = 14


def waiting_calls(qs: QuerySet, now: dt.datetime | None = None) -> QuerySet:
    """Unanswered inbound calls of the last fortnight that no outbound call to the same number followed."""
    now = now or timezone.now()
    called_back = Call.objects.filter(direction=Direction.OUTBOUND, number=OuterRef("number"),
                                      started_at__gt=OuterRef("started_at"))
    return (qs.filter(direction=Direction.INBOUND, outcome__in=UNANSWERED,
                      started_at__gte=now - dt.timedelta(days=WAITS_DAYS))
            .exclude(number="").exclude(Exists(called_back)))


def _rows(user, filters: inbox.InboxFilters) -> QuerySet:
    qs = waiting_calls(Call.objects.visible_to(user))
    if filters.statuses and "new" not in filters.statuses:  # a missed call is new until called back
        return qs.none()
    if filters.scope == "mine":
        qs = qs.filter(owner_id=user.pk)
    elif filters.scope == "unassigned":
        qs = qs.filter(owner__isnull=True)
    elif filters.scope == "queues":  # the PBX's queue names, as the desk's queues are named
        qs = qs.filter(queue__in=Queue.objects.filter(pk__in=inbox.my_queue_ids(user)).values("name"))
    if filters.q:
        qs = qs.filter(Q(number__contains=filters.q) | Q(contact__name__icontains=filters.q))
    return qs.select_related("contact__primary_account", "account", "owner")


def _item(call: Call) -> inbox.InboxItem:
    contact = call.contact
    who = contact.name if contact else call.number
    return inbox.InboxItem(
        source="call", channel=TicketChannel.PHONE, pk=call.pk,
        subject=_("Missed call from %(who)s") % {"who": who},
        snippet=f"{call.get_outcome_display()} · {call.number}" + (f" · {call.queue}" if call.queue else ""),
        contact=contact, account=call.account or (contact.primary_account if contact else None), status="new",
        assignee=call.owner, queue=None, at=call.started_at, needs_reply=True,
        url=reverse("contact_center:call_list"))


inbox.register(inbox.InboxSource(key="call", channels=(TicketChannel.PHONE,), time_field="started_at",
                                 rows=_rows, item=_item))


def visible_call(user, pk: int) -> Call:
    return get_object_or_404(Call.objects.visible_to(user).select_related("contact__primary_account", "account",
                                                                          "owner"), pk=pk)


@transaction.atomic
def ticket_from_call(user, call: Call, subject: Any = None) -> Ticket:
    """A phone ticket for the caller (when the agent may see them), noting the call."""
    contact_id = call.contact_id if call.contact_id and call.contact.__class__.objects.visible_to(user).filter(
        pk=call.contact_id).exists() else None
    return desk.create_ticket(user, {
        "subject": (subject or "").strip()[:200] or _("Call from %(who)s") % {
            "who": call.contact.name if contact_id else call.number},
        "description": _("%(outcome)s call from %(number)s at %(at)s.") % {
            "outcome": call.get_outcome_display() or call.get_status_display(), "number": call.number,
            "at": timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M")},
        "contact_id": contact_id, "channel": TicketChannel.PHONE})

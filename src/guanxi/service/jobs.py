"""Sweep handlers (core.sweep, once a minute): SLA warnings before a breach, escalation at the breach, and
re-routing of tickets nobody picked up in time. Each selects everything due up to `now` and flips a flag (or
moves the assignment) in the same row it reads under a lock, so running a handler twice acts once; the
notifications carry a key for the same reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.core import sweep
from guanxi.core.models import AuditAction, User
from guanxi.core.notifications import notify
from guanxi.core.records import diff, write_audit

from . import csat_services, dispatch, nps_services, routing
from .services import RELATED, moved, warning_window
from .ticket_models import EventKind, Priority, Ticket, TicketEvent, TicketStatus

RUNNING = (TicketStatus.NEW, TicketStatus.OPEN)  # the clock runs (waiting and resolved are paused)
CLOCKS = {  # which → (due field, warned flag, breached flag)
    "response": ("first_response_due_at", "response_warned", "response_breached"),
    "resolution": ("resolution_due_at", "resolution_warned", "resolution_breached"),
}


def _tell(user: User | None, key: str, ticket: Ticket, words: Callable[..., str], *args: Any) -> None:
    """Notify `user` in their own language: `words(ticket, *args)` is called inside it."""
    if user is None:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        notify(user, words(ticket, *args), reverse("service:ticket_detail", args=[ticket.pk]), key)


def _warning(ticket: Ticket, which: str) -> str:
    text = (_("Ticket %(number)s: the first response is due soon.") if which == "response"
            else _("Ticket %(number)s: the resolution is due soon."))
    return text % {"number": ticket.number}


def _breach(ticket: Ticket, which: str) -> str:
    text = (_("Ticket %(number)s breached its first-response target; escalated to you.") if which == "response"
            else _("Ticket %(number)s breached its resolution target; escalated to you."))
    return text % {"number": ticket.number}


def _rerouted(ticket: Ticket, assigned: bool) -> str:
    text = (_("Ticket %(number)s was not picked up in time and went to another agent.") if assigned
            else _("Ticket %(number)s was not picked up in time and nobody else can take it."))
    return text % {"number": ticket.number}


def _due(which: str, now: dt.datetime, **extra):
    due, _warned, _breached = CLOCKS[which]
    qs = Ticket.objects.filter(status__in=RUNNING, paused_at__isnull=True, **{f"{due}__lte": now}, **extra)
    if which == "response":
        qs = qs.filter(first_response_at__isnull=True)
    return qs


@sweep.register("service.sla_warnings")
def warn_before_breach(now: dt.datetime) -> int:
    """Tell the assignee (or, with none, the queue's supervisor) when a due time is within the warning window."""
    done = 0
    for which, (due, warned, _breached) in CLOCKS.items():
        for ticket in _due(which, now + warning_window(), **{warned: False, f"{due}__gt": now}).select_related(
                "owner", "queue__supervisor"):
            if not Ticket.objects.filter(pk=ticket.pk, **{warned: False}).update(**{warned: True}):
                continue  # another sweep got here first
            at = getattr(ticket, due).isoformat()
            TicketEvent.objects.create(ticket=ticket, kind=EventKind.WARNED, data={"clock": which, "due": at})
            who = ticket.owner or (ticket.queue.supervisor if ticket.queue_id else None)
            _tell(who, f"service-warn-{which}-{ticket.pk}-{at}", ticket, _warning, which)
            done += 1
    return done


@sweep.register("service.sla_breaches")
def escalate_breaches(now: dt.datetime) -> int:
    """At the breach: flag it, raise the priority one level, log it, tell the queue's supervisor and the assignee."""
    done = 0
    for which, (due, _warned, breached) in CLOCKS.items():
        for ticket in _due(which, now, **{breached: False}).select_related("owner", "queue__supervisor"):
            new_priority = Priority.raised(ticket.priority)
            if not Ticket.objects.filter(pk=ticket.pk, **{breached: False}).update(
                    **{breached: True}, priority=new_priority, version=F("version") + 1):
                continue
            TicketEvent.objects.create(ticket=ticket, kind=EventKind.ESCALATED, data={
                "clock": which, "due": getattr(ticket, due).isoformat(), "old": ticket.priority, "new": new_priority})
            if new_priority != ticket.priority:
                write_audit(ticket, None, AuditAction.UPDATE, {"priority": [ticket.priority, new_priority]})
            key = f"service-breach-{which}-{ticket.pk}-{getattr(ticket, due).isoformat()}"
            _tell(ticket.queue.supervisor if ticket.queue_id else None, key, ticket, _breach, which)
            if ticket.owner_id and (not ticket.queue_id or ticket.owner_id != ticket.queue.supervisor_id):
                _tell(ticket.owner, key, ticket, _breach, which)
            if which == "response" and ticket.owner_id and ticket.queue_id and ticket.queue.reassign_on_breach:
                _reassign_unanswered(ticket.pk, now)
            done += 1
    return done


def _reassign_unanswered(ticket_id: int, now: dt.datetime) -> None:
    """Nobody answered in time: another agent of the queue gets the ticket (if one has room)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related(*RELATED).get(pk=ticket_id)
        if ticket.owner_id is None or ticket.first_response_at is not None or ticket.status not in RUNNING:
            return
        _route_elsewhere(ticket, now, {"lapsed": ticket.owner_id, "breach": True})


@sweep.register("service.reroute")
def reroute_unpicked(now: dt.datetime) -> int:
    """Tickets assigned but not picked up within their queue's minutes go to another agent; the supervisor hears."""
    candidates = list(Ticket.objects.filter(
        status__in=RUNNING, owner__isnull=False, picked_up_at__isnull=True, assigned_at__lte=now,
        queue__reroute_after_minutes__isnull=False).select_related("queue"))
    queues = {t.queue_id: t.queue.to_routing() for t in candidates}
    plain = [routing.Ticket(id=t.pk, queue_id=t.queue_id, created_at=t.created_at, assigned_to=t.owner_id,
                            assigned_at=t.assigned_at) for t in candidates]
    done = 0
    for due in routing.reroute_due(plain, queues, now):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update(of=("self",)).select_related(*RELATED).get(pk=due.ticket_id)
            if ticket.owner_id != due.lapsed_agent or ticket.picked_up_at is not None or ticket.status not in RUNNING:
                continue  # picked up or moved meanwhile (or another sweep re-routed it)
            assigned = _route_elsewhere(ticket, now, {"lapsed": due.lapsed_agent, "due": due.due_at.isoformat()})
            supervisor = User.objects.filter(pk=due.supervisor_id).first() if due.supervisor_id else None
            _tell(supervisor, f"service-reroute-{ticket.pk}-{due.lapsed_agent}", ticket, _rerouted, assigned)
            done += 1
    return done


def _route_elsewhere(ticket: Ticket, now: dt.datetime, data: dict[str, Any]) -> bool:
    """Take the (locked) ticket from its assignee, who is not tried again, and route it anew; logged and audited.
    True when another agent got it."""
    lapsed_agent, queue_id = ticket.owner_id, ticket.queue_id
    lapsed = routing.lapse(routing.Ticket(id=ticket.pk, queue_id=ticket.queue_id, created_at=ticket.created_at,
                                          assigned_to=ticket.owner_id,
                                          excluded=frozenset(ticket.lapsed_agents or ())))
    ticket.lapsed_agents = sorted(lapsed.excluded)
    ticket.set_owner(None)
    ticket.assigned_at = None
    ticket.version += 1
    TicketEvent.objects.create(ticket=ticket, kind=EventKind.REROUTED, data=data)
    decision = dispatch.route_ticket(ticket, now)
    ticket.save()
    write_audit(ticket, None, AuditAction.ASSIGN, {"owner_id": [lapsed_agent, ticket.owner_id]})
    before = {"status": ticket.status, "owner_id": lapsed_agent, "queue_id": queue_id}
    moved(ticket, before, diff(before, {"status": ticket.status, "owner_id": ticket.owner_id,
                                        "queue_id": ticket.queue_id}))
    return decision is not None and decision.agent_id is not None


@sweep.register("service.survey_mails")
def retry_survey_mails(now: dt.datetime) -> int:
    """Satisfaction surveys the mail server refused: sent again (see csat_services.retry_surveys)."""
    return csat_services.retry_surveys(now)


@sweep.register("service.nps_mails")
def retry_nps_mails(now: dt.datetime) -> int:
    """NPS survey e-mails the mail server refused, or a stopped worker never sent: sent again (see
    nps_services.retry_invitations)."""
    return nps_services.retry_invitations(now)

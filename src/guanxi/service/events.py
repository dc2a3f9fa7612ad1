"""A ticket event in the reader's language: the log stores facts (codes, ids), this words them."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .ticket_models import EventKind, Priority, TicketEvent, TicketStatus


def _reason(code: str | None) -> str:
    return {
        "no_members": _("nobody belongs to the queue"),
        "only_excluded": _("every agent of the queue already let it lapse"),
        "missing_skill": _("no agent has the skill"),
        "missing_language": _("no agent with the skill speaks the language"),
        "none_available": _("no agent is online in working hours"),
        "all_at_capacity": _("every agent online is at capacity"),
    }.get(code or "", code or "")


def _label(choices, value: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _when(iso: str | None) -> str:
    moment = parse_datetime(iso) if iso else None
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


def describe_event(event: TicketEvent) -> str:
    d = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        return _("Ticket created.")
    if kind == EventKind.ROUTED:
        text = _("Routed to %(agent)s.") % {"agent": d.get("agent_name", "")}
        if d.get("senior") and d.get("predicted_value"):
            return text + " " + _("Key customer by predicted value: senior queue first.")
        return text + (" " + _("Key customer: senior queue first.") if d.get("senior") else "")
    if kind == EventKind.UNROUTED:
        return _("Not routed: %(reason)s.") % {"reason": _reason(d.get("reason"))}
    if kind == EventKind.ASSIGNED:
        return _("Assigned to %(agent)s.") % {"agent": d["agent_name"]} if d.get("agent") else _("Unassigned.")
    if kind == EventKind.REROUTED:
        if d.get("breach"):
            return _("First response missed: given to another agent.")
        return _("Nobody picked it up in time: re-routed.")
    if kind == EventKind.STATUS:
        text = _("Status: %(old)s → %(new)s.") % {"old": _label(TicketStatus, d.get("old")),
                                                   "new": _label(TicketStatus, d.get("new"))}
        return text + (" " + _("Answered automatically from the knowledge base.") if d.get("automatic") else "")
    if kind == EventKind.WARNED:
        return _("SLA warning: the first response is due soon.") if d.get("clock") == "response" else \
            _("SLA warning: the resolution is due soon.")
    if kind == EventKind.ESCALATED:
        what = _("first response") if d.get("clock") == "response" else _("resolution")
        return _("SLA breached (%(what)s): escalated, priority %(old)s → %(new)s.") % {
            "what": what, "old": _label(Priority, d.get("old")), "new": _label(Priority, d.get("new"))}
    if kind == EventKind.SLA:
        return _("Priority or customer changed: SLA due times recomputed (first response %(response)s, "
                 "resolution %(resolution)s).") % {"response": _when(d.get("first_response_due_at")),
                                                   "resolution": _when(d.get("resolution_due_at"))}
    if kind == EventKind.SPLIT:
        if d.get("into"):
            return _("%(n)s message(s) split off into ticket %(number)s.") % {"n": d.get("messages", 0),
                                                                            "number": d.get("number", "")}
        return _("Split off from ticket %(number)s.") % {"number": d.get("number", "")}
    if kind == EventKind.MERGED:
        return _("Merged with ticket %(number)s.") % {"number": d.get("number", "")}
    return kind

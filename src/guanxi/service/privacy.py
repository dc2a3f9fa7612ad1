"""A contact's tickets and NPS answers in personal-data requests: exported (tickets with their public and internal
messages); on erasure a ticket's subject, description and messages and an NPS answer's reason are replaced, and the
address an NPS survey went to is forgotten (the rows stay, so counts and KPIs do not change)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.db.models.functions import Lower

from guanxi.core.models import User
from guanxi.customers.models import Contact
from guanxi.customers.privacy import PersonalData, register, scrub_audit

from .nps_models import NpsInvitation, NpsResponse
from .ticket_models import Ticket, TicketMessage


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_tickets(actor: User, contact: Contact) -> list[dict[str, Any]]:
    messages = Prefetch("messages", TicketMessage.objects.select_related("author").order_by("created_at", "id"))
    tickets = Ticket.objects.visible_to(actor).filter(contact=contact).order_by("created_at", "id")
    return [
        {
            "number": t.number, "subject": t.subject, "description": t.description, "status": t.status,
            "priority": t.priority, "created_at": _iso(t.created_at), "resolved_at": _iso(t.resolved_at),
            "messages": [
                {"at": _iso(m.created_at), "kind": m.kind, "author": m.author.username if m.author_id else None,
                 "body": m.body}
                for m in t.messages.all()
            ],
        }
        for t in tickets.prefetch_related(messages)
    ]


def erase_tickets(contact: Contact, placeholder: str) -> int:
    tickets = Ticket.objects.filter(contact=contact)
    changed = tickets.exclude(subject=placeholder[:200], description="").update(subject=placeholder[:200],
                                                                                 description="",
                                                                                 search_text=Lower("number"))
    changed += TicketMessage.objects.filter(ticket__in=tickets.values("pk")).exclude(body=placeholder).update(
        body=placeholder)
    numbers = dict(tickets.values_list("pk", "number"))
    return changed + scrub_audit(Ticket, list(numbers), {"subject", "description"},
                                 lambda entry: numbers.get(entry.object_id) or str(entry.object_id))


register(PersonalData("tickets", export_tickets, erase_tickets))


def export_nps(actor: User, contact: Contact) -> list[dict[str, Any]]:
    answers = NpsResponse.objects.filter(contact=contact).select_related("survey").order_by("at", "id")
    return [{"survey": r.survey.name, "score": r.score, "reason": r.reason, "at": _iso(r.at)} for r in answers]


def erase_nps(contact: Contact, placeholder: str) -> int:
    changed = NpsResponse.objects.filter(contact=contact).exclude(reason="").exclude(reason=placeholder).update(
        reason=placeholder)
    return changed + NpsInvitation.objects.filter(contact=contact).exclude(email="").update(email="")


register(PersonalData("nps_answers", export_nps, erase_nps))

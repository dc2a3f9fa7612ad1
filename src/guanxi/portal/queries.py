"""What a signed-in customer may see: the tickets of their organisation (their contact's companies) and
their own, their public messages only, and the public question groups."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from guanxi.service.models import QuestionGroup
from guanxi.service.ticket_models import MessageKind, Ticket, TicketMessage

from .models import PortalUser


def tickets_for(user: PortalUser) -> QuerySet[Ticket]:
    """The customer's organisation's tickets: any ticket of an account their contact belongs to, and the
    contact's own. A ticket outside this set is a 404 in the portal, whatever its id."""
    accounts = user.contact.accounts.values("pk") if user.contact_id else []
    return Ticket.objects.filter(Q(account_id__in=accounts) | Q(contact_id=user.contact_id))


def public_messages(ticket: Ticket) -> QuerySet[TicketMessage]:
    """Replies only: internal notes never leave the CRM."""
    return (ticket.messages.filter(kind=MessageKind.REPLY).select_related("author")
            .prefetch_related("attachments").order_by("created_at", "id"))


def question_groups() -> QuerySet[QuestionGroup]:
    return QuestionGroup.objects.filter(active=True, public=True).order_by("name", "pk")

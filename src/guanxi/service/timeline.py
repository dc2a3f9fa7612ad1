"""Tickets on their account's and their contact's 360° timeline: each ticket the user may see, when it was opened
(so every conversation the inbox shows, whatever its channel, lands on the customer's timeline)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from guanxi.customers.models import Account, Contact
from guanxi.customers.timeline import TimelineItem, register

from .models import Ticket


@register
def ticket_source(subject, user, limit, before):
    if isinstance(subject, Account):
        tickets = Ticket.objects.visible_to(user).filter(account=subject)
    elif isinstance(subject, Contact):
        tickets = Ticket.objects.visible_to(user).filter(contact=subject)
    else:
        return []
    tickets = tickets.select_related("requester")
    if before is not None:
        tickets = tickets.filter(created_at__lt=before)
    return [
        TimelineItem(at=t.created_at, kind="ticket", title=_("Ticket %(number)s: %(subject)s")
                     % {"number": t.number, "subject": t.subject}, body=t.get_status_display(), actor=t.requester)
        for t in tickets.order_by("-created_at", "-id")[:limit]
    ]

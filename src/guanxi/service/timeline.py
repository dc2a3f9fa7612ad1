"""Tickets and NPS answers on their account's and their contact's 360° timeline: each ticket the user may see, when
it was opened (so every conversation the inbox shows, whatever its channel, lands on the customer's timeline), and
each NPS survey answer of a contact the user may see, when it was given."""

from __future__ import annotations

from django.utils.translation import gettext as _

from guanxi.customers.models import Account, Contact
from guanxi.customers.timeline import TimelineItem, register

from .models import Ticket
from .nps_models import NpsResponse


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


@register
def nps_source(subject, user, limit, before):
    if isinstance(subject, Account):
        rows = NpsResponse.objects.filter(account=subject)
    elif isinstance(subject, Contact):
        rows = NpsResponse.objects.filter(contact=subject)
    else:
        return []
    rows = rows.filter(contact__in=Contact.objects.visible_to(user).values("pk")).select_related("survey", "contact")
    if before is not None:
        rows = rows.filter(at__lt=before)
    title = _("NPS survey “%(survey)s”: %(score)s/10 from %(contact)s (%(category)s)")
    return [
        TimelineItem(at=r.at, kind="nps", body=r.reason, title=title % {
            "survey": r.survey.name, "score": r.score, "contact": r.contact.name, "category": r.get_category_display()})
        for r in rows.order_by("-at", "-id")[:limit]
    ]

"""Web-form submissions on a contact's 360° timeline (those the user may see: by the lead or ticket created)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from guanxi.customers.models import Contact
from guanxi.customers.timeline import TimelineItem, register

from .form_models import FormSubmission


@register
def form_source(subject, user, limit, before):
    if not isinstance(subject, Contact):
        return []
    rows = FormSubmission.objects.visible_to(user).filter(contact=subject).select_related("form", "ticket")
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    return [TimelineItem(at=s.created_at, kind="form", title=_("Sent the web form %(form)s") % {"form": s.form.name},
                         body=_("Ticket %(number)s") % {"number": s.ticket.number} if s.ticket_id else "")
            for s in rows.order_by("-created_at", "-id")[:limit]]

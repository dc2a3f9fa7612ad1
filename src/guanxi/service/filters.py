"""The ticket list's filters and sort orders, shared by the page and the API."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core.search import matching
from guanxi.core.ui import clean_param

from .ticket_models import Priority, Ticket, TicketStatus

TICKET_SORTS = ["-updated_at", "updated_at", "-id", "id"]


def filter_tickets(params, user) -> QuerySet:
    """The tickets `user` may see, narrowed by the list filters, shared by the page and the API: a search (`q`:
    number or words of the subject), queue, status, priority, assignee (`me`), account, order, product."""
    errors: dict[str, list[str]] = {}
    if query := clean_param(params.get("q"), 200):
        qs, branches = Ticket.objects.visible_with_branches(user)
        qs = matching(qs, query, visible_first=branches is not None, branches=branches)
    else:
        qs = Ticket.objects.visible_to(user)
    for key, field in (("queue", "queue_id"), ("account", "account_id"), ("order", "order_id"),
                       ("product", "product_id")):
        values = [v for v in params.getlist(key) if v]
        if any(not v.isdigit() or len(v) > 18 for v in values):
            errors[key] = [_("Enter a whole number.")]
        elif values:
            qs = qs.filter(**{f"{field}__in": values})
    for key, choices in (("status", TicketStatus.values), ("priority", Priority.values)):
        values = [v for v in params.getlist(key) if v]
        if any(v not in choices for v in values):
            errors[key] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}]
        elif values:
            qs = qs.filter(**{f"{key}__in": values})
    assignees = [v for v in params.getlist("assignee") if v]
    if params.get("mine") in ("1", "true", "on"):
        assignees.append("me")
    if assignees:
        ids = [user.pk if v == "me" else v for v in assignees]
        if any(not str(v).isdigit() or len(str(v)) > 18 for v in ids):
            errors["assignee"] = [_("A user id, or `me`.")]
        else:
            qs = qs.filter(owner_id__in=ids)
    if errors:
        raise ValidationError(errors)
    return qs

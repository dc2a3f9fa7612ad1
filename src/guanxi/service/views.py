"""Service desk pages: the ticket list (keyset pages, filters), the ticket with its conversation, SLA badges
and the customer panel, the new-ticket form, and an agent's own queue with the availability switch."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.analytics.queries import account_insights
from guanxi.analytics.score_models import REASON_LABELS
from guanxi.core.paging import Page, paginate
from guanxi.core.records import EditConflict
from guanxi.core.services import assignable_users, visible_users
from guanxi.core.ui import clean_params, flash_errors, htmx_target
from guanxi.customers.import_files import refused_upload_message
from guanxi.customers.timeline import timeline_for
from guanxi.knowledge import services as knowledge
from guanxi.sales.models import Opportunity, StageKind
from guanxi.sales.queries import account_open_orders
from guanxi.sales.quote_models import Order

from . import canned_services, services
from .csat_models import SatisfactionResponse
from .events import describe_event
from .filters import TICKET_SORTS, filter_tickets
from .forms import TicketForm
from .models import AgentProfile, Availability, Priority, Queue
from .ticket_models import ACTIVE, TRANSITIONS, Ticket, TicketStatus

PAGE_SIZE = 50
ORDER_TICKETS = 20  # on the order page; more: a link to the ticket list filtered by the order
LIST_RELATED = ("queue", "owner", "account")
# The columns the ticket table shows (and the sort keys): fifty rows of these build in half the time.
LIST_FIELDS = ("id", "number", "subject", "status", "priority", "resolution_breached", "resolution_warned",
               "resolution_due_at", "updated_at", "queue", "owner", "account", "queue__name", "account__name",
               "owner__username", "owner__first_name", "owner__last_name")


PRIORITY_BADGES = {Priority.URGENT: "danger", Priority.HIGH: "warning"}


def _table_rows(rows: list[Ticket]) -> list[Ticket]:
    """The rows with what the table shows worked out once per page rather than by template filters per cell
    (labels, link, due time: half the table's rendering time)."""
    statuses = {value: str(label) for value, label in TicketStatus.choices}
    priorities = {value: str(label) for value, label in Priority.choices}
    link = reverse("service:ticket_detail", args=[999999999]).replace("999999999", "{}")
    for t in rows:
        t.status_label = statuses.get(t.status, t.status)
        t.priority_label = priorities.get(t.priority, t.priority)
        t.priority_badge = PRIORITY_BADGES.get(t.priority, "light border")
        t.link = link.format(t.pk)
        t.due_text = timezone.localtime(t.resolution_due_at).strftime("%Y-%m-%d %H:%M") \
            if t.resolution_due_at else "—"
    return rows


def _visible(request: HttpRequest, pk: int) -> Ticket:
    return get_object_or_404(Ticket.objects.visible_to(request.user), pk=pk)


@login_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    params = clean_params(request.GET)
    errors: list[str] = []
    try:
        qs = filter_tickets(params, user).select_related(*LIST_RELATED) \
            .only(*LIST_FIELDS)
        page = paginate(qs, sort=params.get("sort") or "-updated_at", allowed=TICKET_SORTS,
                        cursor=params.get("cursor") or None, limit=PAGE_SIZE, ids_first=True)
    except ValidationError as exc:
        errors = [m for ms in services.validation_messages(exc).values() for m in ms]
        page = Page(items=[], next_cursor=None, sort="-updated_at")
    context = {"page": page, "rows": _table_rows(page.items), "is_first_page": not params.get("cursor"),
               "errors": errors, "params": params, "now": timezone.now()}
    if htmx_target(request) == "results":
        return render(request, "service/_ticket_table.html", context)
    context.update({"queues": Queue.objects.only("pk", "name"), "statuses": TicketStatus.choices,
                    "priorities": Priority.choices,
                    "assignees": visible_users(user).only("pk", "username", "first_name", "last_name")
                    .order_by("username")})
    return render(request, "service/ticket_list.html", context)


@dataclass
class SlaBadge:
    label: str
    due: object
    state: str  # "ok", "warning", "breached", "met", "paused"


def _badges(ticket: Ticket) -> list[SlaBadge]:
    paused = ticket.paused_at is not None
    out = []
    if ticket.first_response_due_at:
        state = ("met" if ticket.first_response_at and not ticket.response_breached else
                 "breached" if ticket.response_breached else "paused" if paused else
                 "warning" if ticket.response_warned else "ok")
        out.append(SlaBadge(_("First response due"), ticket.first_response_due_at, state))
    if ticket.resolution_due_at:
        state = ("breached" if ticket.resolution_breached else "met" if ticket.resolved_at else
                 "paused" if paused else "warning" if ticket.resolution_warned else "ok")
        out.append(SlaBadge(_("Resolution due"), ticket.resolution_due_at, state))
    return out


def _customer_panel(ticket: Ticket, user) -> dict:
    """Beside the ticket: the customer's value (the account card's stored scores), open orders and
    opportunities the user may see, recent tickets and the 360° timeline; a fixed number of queries."""
    if not ticket.account_id:
        return {}
    account = ticket.account
    return {
        "insights": account_insights(account), "reason_labels": REASON_LABELS,
        # Through the orders' own visibility: an agent who sees the ticket but none of its orders is told none.
        "open_orders": account_open_orders(user, account),
        "opportunities": Opportunity.objects.visible_to(user).filter(account=account, status=StageKind.OPEN)
        .select_related("stage").order_by("-updated_at")[:5],
        "recent_tickets": Ticket.objects.visible_to(user).filter(account=account).exclude(pk=ticket.pk)
        .order_by("-created_at", "-id")[:5],
        "timeline": timeline_for(account, user, limit=5),
    }


@login_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ticket = get_object_or_404(Ticket.objects.visible_to(user).select_related(
        "queue", "owner", "account", "contact", "order", "product", "question_group", "requester", "merged_into"),
        pk=pk)
    services.pick_up(user, ticket)
    events = list(ticket.events.select_related("actor").order_by("created_at", "id"))
    context = {
        "obj": ticket,
        "conversation": ticket.messages.select_related("author").prefetch_related("attachments")
        .order_by("created_at", "id"),
        "events": [(e, describe_event(e)) for e in events],
        "badges": _badges(ticket),
        "transitions": [(s, TicketStatus(s).label) for s in TicketStatus.values if s in TRANSITIONS[ticket.status]],
        "assignees": assignable_users(user).order_by("username") if user.can_edit else [],
        "can_edit": user.can_edit,
        "canned": canned_services.usable_by(user).order_by(
            Case(When(question_group_id=ticket.question_group_id, then=0), default=1), "title", "id")
        .only("pk", "title") if user.can_edit else [],
        "satisfaction": SatisfactionResponse.objects.filter(ticket=ticket).first(),
        "files": ticket.attachments.filter(message__isnull=True).order_by("created_at", "id"),
        # The knowledge base's best answers to the question, each ready to go into the reply.
        "suggestions": knowledge.suggest(f"{ticket.subject}\n{ticket.description}", user)
        if user.can_edit and ticket.status != TicketStatus.CLOSED else [],
        "max_size": settings.TICKET_ATTACHMENT_MAX_BYTES, "types": " ".join(settings.TICKET_ATTACHMENT_TYPES),
        # The order's number is part of the ticket; its page only for those who may open it.
        "order_visible": bool(ticket.order_id)
        and Order.objects.visible_to(user).filter(pk=ticket.order_id).exists(),
        **_customer_panel(ticket, user),
    }
    return render(request, "service/ticket_detail.html", context)


def _act(request: HttpRequest, pk: int, action) -> HttpResponse:
    """Run a service on a visible ticket; field errors and edit conflicts become messages on the ticket."""
    ticket = _visible(request, pk)
    try:
        action(ticket)
    except ValidationError as exc:
        flash_errors(request, exc)
    except EditConflict:
        messages.error(request, _("Someone changed this ticket meanwhile; here it is as it is now."))
    return redirect("service:ticket_detail", pk)


@login_required
@require_POST
def ticket_message(request: HttpRequest, pk: int) -> HttpResponse:
    """A reply or an internal note, with files (`attachments`): refused whole when a file is refused."""
    body, files = request.POST.get("body"), request.FILES.getlist("attachments")
    add = services.add_note if request.POST.get("kind") == "note" else services.reply

    def action(ticket: Ticket) -> None:
        if refused := refused_upload_message(request):
            raise ValidationError({"attachments": [refused]})
        add(request.user, ticket, body, files=files)

    return _act(request, pk, action)


@login_required
@require_POST
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda t: services.change_status(request.user, t, request.POST.get("status"),
                                                               request.POST.get("version")))


@login_required
@require_POST
def ticket_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda t: services.assign(request.user, t, request.POST.get("assignee_id"),
                                                       request.POST.get("version")))


@login_required
@require_POST
def ticket_split(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible(request, pk)
    try:
        new = services.split(request.user, ticket, request.POST.getlist("message_ids"), request.POST.get("subject"))
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("service:ticket_detail", pk)
    messages.success(request, _("Split off into ticket %(number)s.") % {"number": new.number})
    return redirect("service:ticket_detail", new.pk)


@login_required
@require_POST
def ticket_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge this ticket into the one whose number (or id) is given."""
    number = (request.POST.get("target") or "").strip().upper()
    target = Ticket.objects.visible_to(request.user).filter(number=number).first() if number else None
    if target is None:
        messages.error(request, _("No ticket %(number)s that you may see.") % {"number": number or "—"})
        return redirect("service:ticket_detail", pk)
    return _act(request, pk, lambda t: services.merge(request.user, t, target))


@login_required
def ticket_create(request: HttpRequest) -> HttpResponse:
    form = TicketForm(request.POST or None, initial={key + "_id": request.GET.get(key, "")[:20]
                                                     for key in ("account", "order", "product")})
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.create_ticket(request.user, {k: v for k, v in form.cleaned_data.items()})
            messages.success(request, _("Created ticket %(number)s.") % {"number": ticket.number})
            return redirect("service:ticket_detail", ticket.pk)
        except ValidationError as exc:
            form.add_service_errors(services.validation_messages(exc))
    return render(request, "service/ticket_form.html", {"form": form})


@login_required
@require_GET
def order_tickets(request: HttpRequest, pk: int) -> HttpResponse:
    """The order page's tickets card (loaded by htmx): the tickets about the order that the user may see,
    newest first, in one query beside the order's."""
    order = get_object_or_404(Order.objects.visible_to(request.user).only("pk", "account_id"), pk=pk)
    rows = list(Ticket.objects.visible_to(request.user).filter(order=order).select_related("owner")
                .only("pk", "number", "subject", "status", "updated_at", "owner__username", "owner__first_name",
                      "owner__last_name").order_by("-updated_at", "-id")[:ORDER_TICKETS + 1])
    return render(request, "service/_order_tickets.html", {
        "order": order, "rows": rows[:ORDER_TICKETS], "more": len(rows) > ORDER_TICKETS,
        "can_create": request.user.can_edit})


@login_required
@require_GET
def my_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = _table_rows(list(Ticket.objects.filter(owner=user, status__in=ACTIVE).select_related(*LIST_RELATED)
                            .only(*LIST_FIELDS).order_by("resolution_due_at", "id")[:200]))
    profile = AgentProfile.objects.filter(user=user).prefetch_related("queues").first()
    return render(request, "service/my_queue.html", {"rows": rows, "profile": profile, "now": timezone.now(),
                                                     "availabilities": Availability.choices})


@login_required
@require_POST
def availability(request: HttpRequest) -> HttpResponse:
    try:
        services.set_availability(request.user, request.POST.get("availability"))
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("service:my_queue")

"""The customer's tickets in the portal: the organisation's list, submit (with suggested articles while
writing and deflection recording), follow a ticket (public replies only), reply, download its files."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.paging import Page, paginate
from guanxi.core.ui import clean_param
from guanxi.customers.fileio.textio import human_size
from guanxi.customers.import_files import refused_upload_message
from guanxi.knowledge import services as knowledge
from guanxi.knowledge.models import SearchLog, SearchSource
from guanxi.service import attachments, customer_services
from guanxi.service.csat_models import SatisfactionResponse
from guanxi.service.csat_services import survey_token
from guanxi.service.ticket_models import TicketStatus

from . import queries, session
from .session import portal_login_required
from .ui import errors_of, page

PAGE_SIZE = 25


def visitor_key(request: HttpRequest) -> str:
    return f"portal-{session.current(request).pk}"


def _ticket(request: HttpRequest, pk: int):
    return get_object_or_404(queries.tickets_for(session.current(request)), pk=pk)


@portal_login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The organisation's tickets, newest activity first, a keyset page at a time (a fixed number of queries)."""
    qs = queries.tickets_for(session.current(request)).select_related("contact")
    try:
        result = paginate(qs, sort="-updated_at", allowed=["-updated_at"],
                          cursor=clean_param(request.GET.get("cursor")) or None, limit=PAGE_SIZE)
    except ValidationError:
        result = Page(items=[], next_cursor=None, sort="-updated_at")
    return page(request, "portal/home.html", {"page": result})


def _open_searches(request: HttpRequest):
    return SearchLog.objects.filter(source=SearchSource.PORTAL, visitor_key=visitor_key(request),
                                    ended_without_ticket__isnull=True)


def _end_searches(request: HttpRequest, deflected: bool) -> None:
    """The visit's searches ended: without a ticket (deflected) or with one."""
    for log in _open_searches(request).order_by("pk")[:50]:
        knowledge.mark_search(log, ended_without_ticket=deflected)


@portal_login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        refused = refused_upload_message(request)
        try:
            if refused:
                raise ValidationError({"attachments": [refused]})
            ticket = customer_services.submit_ticket(
                session.current(request).contact,
                {"subject": request.POST.get("subject", ""), "description": request.POST.get("description", ""),
                 "question_group_id": request.POST.get("question_group_id", ""),
                 "language": translation.get_language() or ""},
                request.FILES.getlist("attachments"))
        except ValidationError as exc:
            errors = errors_of(exc)
        else:
            _end_searches(request, deflected=False)
            messages.success(request, _("Thank you: your ticket %(number)s has been received.")
                             % {"number": ticket.number})
            return redirect("portal:ticket_detail", ticket.pk)
    values = {k: request.POST.get(k, "") for k in ("subject", "description", "question_group_id")}
    return page(request, "portal/ticket_form.html", {
        "errors": errors, "values": values, "groups": queries.question_groups(),
        "max_size": human_size(settings.TICKET_ATTACHMENT_MAX_BYTES),
        "types": " ".join(settings.TICKET_ATTACHMENT_TYPES),
    }, status=400 if errors else 200)


@portal_login_required
@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """Public articles for what the customer is writing; the search is kept for the deflection figures."""
    text = clean_param(" ".join([request.GET.get("subject", ""), request.GET.get("description", "")]), 500)
    articles = knowledge.suggest_articles(text, public_only=True) if text else []
    if articles:
        knowledge.record_search(text[:200], results_count=len(articles), visitor_key=visitor_key(request),
                                source=SearchSource.PORTAL, language=translation.get_language() or "")
    return page(request, "portal/_suggestions.html", {"articles": articles})


@portal_login_required
@require_POST
def solved(request: HttpRequest) -> HttpResponse:
    """'My question is answered': the visit's searches ended without a ticket."""
    _end_searches(request, deflected=True)
    messages.success(request, _("Glad we could help!"))
    return redirect("portal:home")


@portal_login_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    answer = SatisfactionResponse.objects.filter(ticket=ticket).first()
    may_rate = answer is None and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    return page(request, "portal/ticket_detail.html", {
        "ticket": ticket, "conversation": queries.public_messages(ticket),
        "files": ticket.attachments.filter(message__isnull=True).order_by("pk"), "answer": answer,
        "survey_token": survey_token(ticket) if may_rate else "", "closed": ticket.status == TicketStatus.CLOSED})


@portal_login_required
@require_POST
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    refused = refused_upload_message(request)
    try:
        if refused:
            raise ValidationError({"attachments": [refused]})
        customer_services.customer_reply(session.current(request).contact, ticket, request.POST.get("body"),
                                         request.FILES.getlist("attachments"))
    except ValidationError as exc:
        for field_errors in errors_of(exc).values():
            for message in field_errors:
                messages.error(request, message)
    else:
        messages.success(request, _("Your message has been sent."))
    return redirect("portal:ticket_detail", ticket.pk)


@portal_login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    file = get_object_or_404(attachments.for_customer(queries.tickets_for(session.current(request))), pk=pk)
    return FileResponse(file.file.open("rb"), as_attachment=True, filename=file.name)

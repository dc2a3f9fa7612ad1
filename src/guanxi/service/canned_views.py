"""Canned replies: the page to write and manage them, and the ticket page's "insert" (the text filled in for
the ticket, as JSON for the reply box)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.records import int_or_none
from guanxi.customers.services import validation_messages

from . import canned_services, placeholders
from .models import CannedReply, QuestionGroup
from .ticket_models import Ticket


@login_required
def canned_list(request: HttpRequest) -> HttpResponse:
    """GET: the replies the user may use; POST: a new one (or a change with `id`); errors keep what was typed."""
    user = request.user
    errors: dict[str, list[str]] = {}
    form = {}
    if request.method == "POST":
        form = request.POST
        reply = None
        if request.POST.get("id"):
            reply = get_object_or_404(canned_services.editable_by(user), pk=int_or_none(request.POST["id"]) or 0)
        try:
            canned_services.save_canned(user, request.POST.dict(), reply)
        except ValidationError as exc:
            errors = validation_messages(exc)
        else:
            messages.success(request, _("Canned reply saved."))
            return redirect("service:canned_list")
    editable = set(canned_services.editable_by(user).values_list("pk", flat=True))
    replies = canned_services.usable_by(user).select_related("question_group", "owner")
    return render(request, "service/canned_list.html", {
        "replies": replies, "editable": editable, "errors": errors, "form": form,
        "groups": QuestionGroup.objects.filter(active=True).order_by("name"),
        "may_share": canned_services.may_share(user), "names": placeholders.NAMES,
    }, status=400 if errors else 200)


@login_required
@require_POST
def canned_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = get_object_or_404(CannedReply, pk=pk)
    try:
        canned_services.delete_canned(request.user, reply)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Canned reply deleted."))
    return redirect("service:canned_list")


@login_required
@require_GET
def canned_fill(request: HttpRequest, pk: int) -> HttpResponse:
    """The chosen reply filled in for ticket `pk` (both must be ones the user may see and use)."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user).select_related("contact", "account"), pk=pk)
    reply = get_object_or_404(canned_services.usable_by(request.user), pk=int_or_none(request.GET.get("id")) or 0)
    return JsonResponse({"text": canned_services.fill_for(request.user, ticket, reply)})

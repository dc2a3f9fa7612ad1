"""Mailbox pages (administrators only): the list, the form, and each mailbox's sync health with Sync now and
Reconcile. Views are thin: email_services does the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.customers.services import validation_messages
from guanxi.knowledge.models import Article
from guanxi.service.ticket_models import Ticket

from . import email_services
from .email_forms import MailboxForm, ReconcileForm
from .email_imap import SyncResult
from .email_kb_models import KnowledgeSuggestion
from .email_models import EmailAttachment, InboundEmail, Mailbox, OutboundEmail


def _mailbox(request: HttpRequest, pk: int) -> Mailbox:
    email_services.require_admin(request.user)
    return get_object_or_404(Mailbox.objects.visible_to(request.user), pk=pk)


@login_required
def mailbox_list(request: HttpRequest) -> HttpResponse:
    email_services.require_admin(request.user)
    rows = Mailbox.objects.visible_to(request.user).select_related("question_group", "queue")
    return render(request, "contact_center/mailbox_list.html", {"rows": rows})


@login_required
def mailbox_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    email_services.require_admin(request.user)
    mailbox = _mailbox(request, pk) if pk else None
    if request.method == "POST":
        form = MailboxForm(request.POST, mailbox=mailbox)
        if form.is_valid():
            try:
                saved = (email_services.create_mailbox(request.user, form.to_data()) if mailbox is None
                         else email_services.update_mailbox(request.user, mailbox, form.to_data()))
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
            else:
                messages.success(request, _("Saved the mailbox “%(name)s”.") % {"name": saved.name})
                return redirect("contact_center:mailbox_health", pk=saved.pk)
    else:
        form = MailboxForm(mailbox=mailbox)
    return render(request, "contact_center/mailbox_form.html", {"form": form, "mailbox": mailbox})


@login_required
def mailbox_health(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = _mailbox(request, pk)
    return render(request, "contact_center/mailbox_health.html", {
        "mailbox": mailbox, "health": email_services.health(mailbox), "reconcile_form": ReconcileForm()})


def _report(request: HttpRequest, result: SyncResult) -> None:
    if result.error:
        messages.error(request, _("The sync failed: %(error)s") % {"error": result.error})
    else:
        messages.success(request, _("Read %(fetched)s messages; %(created)s were new.")
                         % {"fetched": result.fetched, "created": result.created})


@login_required
@require_POST
def mailbox_sync(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = _mailbox(request, pk)
    _report(request, email_services.sync_now(request.user, mailbox))
    return redirect("contact_center:mailbox_health", pk=mailbox.pk)


@login_required
@require_POST
def mailbox_reconcile(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = _mailbox(request, pk)
    try:
        _report(request, email_services.reconcile(request.user, mailbox, request.POST.get("days")))
    except ValidationError as exc:
        for errors in validation_messages(exc).values():
            for error in errors:
                messages.error(request, error)
    return redirect("contact_center:mailbox_health", pk=mailbox.pk)


@login_required
def ticket_email_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The ticket page's email panel (loaded by htmx): the articles suggested for its question, the mails in and
    out, attachments to download."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), pk=ticket_id)
    inbound = list(InboundEmail.objects.filter(ticket=ticket).prefetch_related("attachments").order_by("id"))
    outbound = list(OutboundEmail.objects.filter(ticket=ticket).order_by("id"))
    suggestions = list(KnowledgeSuggestion.objects.filter(
        ticket=ticket, article__in=Article.objects.visible_to(request.user)).select_related("article"))
    return render(request, "contact_center/_ticket_email.html", {"ticket": ticket, "inbound": inbound,
                                                                  "outbound": outbound, "suggestions": suggestions})


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment of a mail on a ticket the user may see; anything else is a 404."""
    visible = Ticket.objects.visible_to(request.user).values("pk")
    attachment = get_object_or_404(EmailAttachment.objects.filter(inbound__ticket__in=visible).exclude(file=""),
                                   pk=pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                        content_type="application/octet-stream")

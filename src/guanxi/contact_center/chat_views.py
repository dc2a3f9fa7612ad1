"""Contact-centre pages of the web chat: the agent console (live visitors, open chats, one conversation; replies
go over the agent socket), a conversation made into a ticket or a lead, and the websites that carry the widget."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.access import require_admin
from guanxi.core.models import User
from guanxi.core.ui import flash_errors
from guanxi.service.models import Queue

from . import chat_services as cs
from . import inbox_services as ibs
from .chat_models import ChatConversation, ChatDocument, ChatSite, ChatStatus, Visitor

LIVE_MINUTES = 30
CONSOLE_ROWS = 100

# The 403's reason on every page here (the message is the same for each).
ADMIN_ONLY = gettext_lazy("Only an administrator may manage chat websites.")


def console_context(user: User, selected: ChatConversation | None = None) -> dict:
    """Live visitors and open chats the user may see, in two queries (plus the selected conversation's messages)."""
    since = timezone.now() - dt.timedelta(minutes=LIVE_MINUTES)
    visitors = list(Visitor.objects.visible_to(user).filter(last_seen__gte=since).select_related("contact")
                    .order_by("-last_seen", "-id")[:CONSOLE_ROWS])
    chats = list(ChatConversation.objects.visible_to(user).filter(status=ChatStatus.OPEN)
                 .select_related("visitor", "contact", "owner").order_by("-last_message_at", "-id")[:CONSOLE_ROWS])
    return {"visitors": visitors, "chats": chats, "selected": selected,
            "history": cs.history(selected) if selected else [], "can_edit": user.can_edit}


@login_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    return render(request, "contact_center/console.html", console_context(request.user))


def _visible(request: HttpRequest, pk: int) -> ChatConversation:
    return get_object_or_404(ChatConversation.objects.visible_to(request.user).select_related(
        "visitor", "contact", "owner"), pk=pk)


@login_required
@require_GET
def conversation_pane(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "contact_center/console.html", console_context(request.user, _visible(request, pk)))


def _make(request: HttpRequest, pk: int, action, done: str, target: str) -> HttpResponse:
    conversation = _visible(request, pk)
    try:
        record = action(request.user, conversation)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("contact_center:conversation", pk)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("contact_center:conversation", pk)
    messages.success(request, done % {"name": str(getattr(record, "number", None) or record)})
    return redirect(target, record.pk)


@login_required
@require_POST
def make_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    return _make(request, pk, cs.ticket_from_conversation, _("Created ticket %(name)s from the chat."),
                 "service:ticket_detail")


@login_required
@require_POST
def make_lead(request: HttpRequest, pk: int) -> HttpResponse:
    data = {k: request.POST.get(k, "")[:254] for k in ("name", "email", "phone", "company") if request.POST.get(k)}
    return _make(request, pk, lambda user, conv: cs.lead_from_conversation(user, conv, data),
                 _("Created lead %(name)s from the chat."), "sales:lead_detail")


@login_required
@require_POST
def push_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The console's *Send document*: the file goes to the visitor's widget; a refusal says why."""
    conversation = _visible(request, pk)
    try:
        message = ibs.push_document_to_chat(request.user, conversation, uploaded_file(request))
        messages.success(request, _("Sent %(name)s to the visitor.") % {"name": message.body})
    except ValidationError as exc:
        flash_errors(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("contact_center:conversation", pk)


def uploaded_file(request: HttpRequest):
    """The form's `file`; one the upload cap stopped is refused with its size, under `file`."""
    from guanxi.customers.import_files import refused_upload_message

    if refused := refused_upload_message(request):
        raise ValidationError({"file": [refused]})
    return request.FILES.get("file")


def _download(document: ChatDocument) -> FileResponse:
    response = FileResponse(document.file.open("rb"), as_attachment=True, filename=document.name,
                            content_type="application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def visitor_document(request: HttpRequest, token: str) -> HttpResponse:
    """A pushed document, for the chat's visitor: the signed link, not expired, with their key (`?visitor=`)."""
    document, expired = cs.document_for_visitor(token, request.GET.get("visitor"))
    if expired:
        return HttpResponse(_("This link has expired: open the chat again for a new one."), status=410,
                            content_type="text/plain; charset=utf-8")
    if document is None:
        raise Http404
    return _download(document)


@login_required
@require_GET
def staff_document(request: HttpRequest, pk: int) -> FileResponse:
    """A pushed document, for staff who may see its chat; anything else is a 404."""
    return _download(get_object_or_404(cs.documents_for(request.user), pk=pk))


# ------------------------------------------------------------------ websites


@login_required
@require_GET
def site_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    sites = list(ChatSite.objects.select_related("queue", "service_user"))
    base = request.build_absolute_uri("/").rstrip("/")
    return render(request, "contact_center/site_list.html", {"sites": sites, "base": base})


@login_required
def site_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    site = get_object_or_404(ChatSite, pk=pk) if pk else None
    errors: dict[str, list[str]] = {}
    values = {"name": site.name if site else "", "allowed_origins": "\n".join(site.allowed_origins) if site else "",
              "queue_id": site.queue_id if site else "", "service_user_id": site.service_user_id if site else "",
              "active": site.active if site else True, "on_portal": site.on_portal if site else False}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("name", "allowed_origins", "queue_id", "service_user_id")}
        values["active"] = request.POST.get("active") == "on"
        values["on_portal"] = request.POST.get("on_portal") == "on"
        try:
            site = cs.save_site(request.user, site, values)
            messages.success(request, _("Saved the website %(name)s.") % {"name": site.name})
            return redirect("contact_center:site_list")
        except ValidationError as exc:
            errors = exc.message_dict
    context = {"site": site, "values": values, "errors": errors, "queues": Queue.objects.all(),
               "service_users": User.objects.filter(is_active=True).order_by("username")[:500],
               "redis": bool(settings.REDIS_URL)}
    return render(request, "contact_center/site_form.html", context, status=400 if errors else 200)

"""The agent inbox (/cc/inbox/): the list of every channel's conversations on the left (filters, counts per
channel, refreshed live by inbox.js when the agent socket says something changed), the open conversation on the
right with its messages, the reply on its own channel, and the customer card with their 360° timeline.

A conversation's pane is per source (`PANES`: a phone helper adds "call"). Views are thin: inbox,
inbox_services and the channels' services do the work; what the user may not see is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.ui import is_htmx
from guanxi.customers.models import Account, Contact
from guanxi.customers.services import validation_messages
from guanxi.customers.timeline import timeline_for
from guanxi.sales.lead_models import Lead
from guanxi.service import services as desk
from guanxi.service.ticket_models import Ticket, TicketChannel

from . import call_inbox, inbox, inbox_leads
from . import chat_services as cs
from . import inbox_services as ibs
from .chat_models import ChatConversation
from .chat_views import uploaded_file
from .lead_link_models import LeadConversation

PAGE_SIZE = 50
TIMELINE_ITEMS = 20


def _filters(request: HttpRequest) -> tuple[inbox.InboxFilters, list[str]]:
    try:
        return inbox.clean_filters(request.GET.getlist("channel"), request.GET.get("scope"),
                                   request.GET.getlist("status"), request.GET.get("q")), []
    except ValidationError as exc:
        return inbox.InboxFilters(), [m for ms in validation_messages(exc).values() for m in ms]


def _query(filters: inbox.InboxFilters, **extra: Any) -> str:
    pairs = [("channel", c) for c in filters.channels] + [("status", s) for s in filters.statuses]
    if filters.scope != "all":
        pairs.append(("scope", filters.scope))
    if filters.q:
        pairs.append(("q", filters.q))
    pairs += [(k, v) for k, v in extra.items() if v]
    return urlencode(pairs)


def list_context(request: HttpRequest) -> dict[str, Any]:
    filters, errors = _filters(request)
    cursor = request.GET.get("cursor") or None
    try:
        page = inbox.inbox_page(request.user, filters, cursor=cursor, limit=PAGE_SIZE, with_counts=not cursor)
    except ValidationError as exc:
        errors += [m for ms in validation_messages(exc).values() for m in ms]
        page = inbox.InboxPage(items=[], next_cursor=None)
    counts = [{"channel": c, "label": inbox.CHANNELS[c], "icon": inbox.ICONS.get(c, "inbox"), "n": n,
               "active": c in filters.channels} for c, n in page.counts.items()]
    return {"page": page, "items": page.items, "filters": filters, "errors": errors, "counts": counts,
            "total": sum(page.counts.values()), "query": _query(filters), "more": bool(cursor),
            "next_query": _query(filters, cursor=page.next_cursor) if page.next_cursor else ""}


# ------------------------------------------------------------------ panes, one per source

def _customer(user, contact: Contact | None, account: Account | None) -> dict[str, Any]:
    """The customer card and the first page of their 360° timeline (the contact's, else the account's). As on the
    ticket page, the customer of a conversation the user may see is shown; their record pages link only when the
    user may open them, and each timeline source keeps to what the user may see."""
    account = account or (contact.primary_account if contact is not None else None)
    subject = contact or account
    if subject is None:
        return {"contact": None, "account": None}
    return {"contact": contact, "account": account, "subject": subject,
            "contact_link": contact is not None and Contact.objects.visible_to(user).filter(pk=contact.pk).exists(),
            "account_link": account is not None and Account.objects.visible_to(user).filter(pk=account.pk).exists(),
            "timeline": timeline_for(subject, user, limit=TIMELINE_ITEMS)}


def _ticket_pane(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = request.user
    ticket = get_object_or_404(Ticket.objects.visible_to(user).select_related(
        "contact__primary_account", "account", "owner", "queue", "requester"), pk=pk)
    desk.pick_up(user, ticket)
    return {"template": "contact_center/_inbox_ticket.html", "ticket": ticket,
            "icon": inbox.ICONS.get(ticket.channel, "inbox"), "emailed": ticket.channel == TicketChannel.EMAIL,
            "conversation": ticket.messages.select_related("author").order_by("created_at", "id"),
            **_customer(user, ticket.contact, ticket.account)}


def _chat_pane(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = request.user
    chat = get_object_or_404(ChatConversation.objects.visible_to(user).select_related(
        "visitor", "contact__primary_account", "owner"),
                             pk=pk)
    return {"template": "contact_center/_inbox_chat.html", "chat": chat, "history": cs.history(chat),
            **_customer(user, chat.contact, None)}


def _call_pane(request: HttpRequest, pk: int) -> dict[str, Any]:
    call = call_inbox.visible_call(request.user, pk)
    return {"template": "contact_center/_inbox_call.html", "call": call,
            **_customer(request.user, call.contact, call.account)}


PANES: dict[str, Callable[[HttpRequest, int], dict[str, Any]]] = {"ticket": _ticket_pane, "chat": _chat_pane,
                                                                  "call": _call_pane}


def _pane(request: HttpRequest, source: str, pk: int) -> dict[str, Any]:
    if source not in PANES:
        raise Http404
    pane = PANES[source](request, pk)
    conversation = pane[source]
    leads = LeadConversation.objects.filter(source=source, object_id=pk,
                                            lead__in=Lead.objects.visible_to(request.user)).select_related("lead")
    return {**pane, "source": source, "key": f"{source}-{pk}", "can_edit": request.user.can_edit,
            "can_lead": inbox_leads.can_make_lead(source, conversation), "leads": [link.lead for link in leads]}


def _page(request: HttpRequest, pane: dict[str, Any] | None, status: int = 200) -> HttpResponse:
    context = {**list_context(request), "pane": pane, "scopes": inbox.SCOPES, "statuses": inbox.STATUSES,
               "channels": inbox.CHANNELS}
    return render(request, "contact_center/inbox.html", context, status=status)


@login_required
@require_GET
def inbox_home(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@login_required
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    return render(request, "contact_center/_inbox_list.html", list_context(request))


@login_required
@require_GET
def inbox_open(request: HttpRequest, source: str, pk: int) -> HttpResponse:
    pane = _pane(request, source, pk)
    if is_htmx(request):
        return render(request, "contact_center/_inbox_pane.html", {"pane": pane})
    return _page(request, pane)


def _acted(request: HttpRequest, source: str, pk: int, action: Callable[[dict[str, Any]], Any],
           done: str) -> HttpResponse:
    """Run an action on a visible conversation; a refusal shows the page again with what was typed (400)."""
    pane = _pane(request, source, pk)
    try:
        result = action(pane)
    except ValidationError as exc:
        pane.update(errors=validation_messages(exc), body=request.POST.get("body", ""))
        return _page(request, pane, status=400)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do this."))
        return redirect("contact_center:inbox_open", source, pk)
    messages.success(request, done % {"name": str(getattr(result, "number", None) or result)})
    if isinstance(result, Ticket) and source != "ticket":
        return redirect("contact_center:inbox_open", "ticket", result.pk)
    return redirect("contact_center:inbox_open", source, pk)


@login_required
@require_POST
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    note = request.POST.get("kind") == "note"
    return _acted(request, "ticket", pk, lambda p: ibs.reply_to_ticket(
        request.user, p["ticket"], request.POST.get("body"), note=note),
        _("Note added.") if note else _("Reply sent."))


@login_required
@require_POST
def chat_reply(request: HttpRequest, pk: int) -> HttpResponse:
    return _acted(request, "chat", pk, lambda p: ibs.reply_to_chat(request.user, p["chat"], request.POST.get("body")),
                  _("Reply sent."))


@login_required
@require_POST
def chat_document(request: HttpRequest, pk: int) -> HttpResponse:
    return _acted(request, "chat", pk, lambda p: ibs.push_document_to_chat(request.user, p["chat"],
                                                                           uploaded_file(request)),
                  _("Sent %(name)s to the visitor."))


@login_required
@require_POST
def chat_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    return _acted(request, "chat", pk, lambda p: cs.ticket_from_conversation(request.user, p["chat"]),
                  _("Created ticket %(name)s from the chat."))


@login_required
@require_POST
def conversation_lead(request: HttpRequest, source: str, pk: int) -> HttpResponse:
    """Any conversation becomes a lead; the name, email, phone and company typed win over what it tells."""
    data = {k: request.POST.get(k, "")[:254] for k in ("name", "email", "phone", "company") if request.POST.get(k)}
    return _acted(request, source, pk, lambda p: inbox_leads.lead_from(request.user, source, p[source], data),
                  _("Created lead %(name)s from the conversation."))


@login_required
@require_POST
def conversation_lead_link(request: HttpRequest, source: str, pk: int) -> HttpResponse:
    return _acted(request, source, pk, lambda p: inbox_leads.link_to_lead(request.user, source, p[source],
                                                                          request.POST.get("lead")),
                  _("Linked the conversation to lead %(name)s."))


@login_required
@require_POST
def chat_link(request: HttpRequest, pk: int) -> HttpResponse:
    return _acted(request, "chat", pk, lambda p: ibs.link_chat_to_ticket(request.user, p["chat"],
                                                                         request.POST.get("ticket")),
                  _("Added the chat to ticket %(name)s."))


@login_required
@require_POST
def call_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    return _acted(request, "call", pk, lambda p: call_inbox.ticket_from_call(request.user, p["call"],
                                                                            request.POST.get("subject")),
                  _("Created ticket %(name)s from the call."))

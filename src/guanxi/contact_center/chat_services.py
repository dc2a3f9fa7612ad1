"""Web chat use cases: a visitor writes (opening a conversation), an agent replies, invites a visitor, pushes a
link or a document (served to that visitor only, through a signed link that expires), closes; an offline visitor
leaves a message that becomes a ticket; a conversation becomes a ticket or a lead. One function per action, each
in one transaction; bad input raises ValidationError keyed by field.

Message bodies are stored as typed (text, never HTML) and escaped wherever they are shown. The functions return
the event dicts that chat_realtime broadcasts; the caller has checked that an agent may see the conversation.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from guanxi.core.access import require_admin, require_editor
from guanxi.core.models import User
from guanxi.core.records import fail
from guanxi.customers.models import Contact
from guanxi.service import dispatch, routing
from guanxi.service import services as service_services
from guanxi.service.models import AgentProfile, Availability, Queue
from guanxi.service.ticket_models import TicketChannel

from . import visitor_services as vs
from .chat_models import (
    MAX_MESSAGE,
    ChatConversation,
    ChatDocument,
    ChatMessage,
    ChatSite,
    ChatStatus,
    Sender,
    Visitor,
)
from .inbox_live import chat_moved

DOCUMENT_SALT = "guanxi.chat.document"


def message_event(message: ChatMessage, conversation: ChatConversation) -> dict[str, Any]:
    event = {"type": "message", "id": message.pk, "conversation": conversation.pk,
             "visitor": conversation.visitor_id, "sender": message.sender,
             "agent": message.agent.get_full_name() or message.agent.username if message.agent_id else "",
             "body": message.body, "at": message.at.isoformat(), "owner": conversation.owner_id,
             "queue": conversation.queue_id, "status": conversation.status}
    if message.document_id:  # the visitor's link (valid for a while, with their key); staff use `document`
        event.update(sender="document", document=message.document_id, size=message.document.size,
                     url=document_path(message.document_id, conversation.visitor_id))
    return event


def document_path(document_id: int, visitor_id: int) -> str:
    """The visitor's download path of a pushed document: signed, expiring; the widget adds the visitor's key."""
    token = signing.dumps([document_id, visitor_id], salt=DOCUMENT_SALT, compress=True)
    return reverse("contact_center:chat_document", args=[token])


def documents_for(user: User):
    """The pushed documents of the chats `user` may see (any other is a 404)."""
    visible = ChatConversation.objects.visible_to(user).values("pk")
    return ChatDocument.objects.filter(conversation__in=visible).exclude(file="")


def document_for_visitor(token: str, visitor_key: Any) -> tuple[ChatDocument | None, bool]:
    """(the document, False) for a valid link presented with its visitor's key; (None, True) for an expired link;
    (None, False) for anything else."""
    try:
        document_id, visitor_id = signing.loads(token, salt=DOCUMENT_SALT,
                                                max_age=dt.timedelta(hours=settings.CC_CHAT_DOCUMENT_HOURS))
    except signing.SignatureExpired:
        return None, True
    except (signing.BadSignature, TypeError, ValueError):
        return None, False
    document = ChatDocument.objects.select_related("conversation__visitor").filter(
        pk=document_id, conversation__visitor_id=visitor_id).exclude(file="").first()
    if document is None or not isinstance(visitor_key, str) or not constant_time_compare(
            document.conversation.visitor.key, visitor_key):
        return None, False
    return document, False


def clean_body(value: Any, field: str = "body") -> str:
    errors: dict[str, list[str]] = {}
    body = vs._text({field: value}, field, MAX_MESSAGE, errors, required=True)
    fail(errors)
    return body


def agents_online(site: ChatSite) -> bool:
    """Someone can answer: an active agent who is online (in the site's queue when it has one)."""
    agents = AgentProfile.objects.filter(availability=Availability.ONLINE, user__is_active=True)
    if site.queue_id:
        agents = agents.filter(Q(queues=site.queue_id) | Q(user_id=site.queue.supervisor_id))
    return agents.exists()


def open_conversation(visitor: Visitor) -> ChatConversation | None:
    return visitor.conversations.filter(status=ChatStatus.OPEN).order_by("-pk").first()


def history(conversation: ChatConversation | None, limit: int = 100) -> list[ChatMessage]:
    if conversation is None:
        return []
    rows = list(conversation.messages.select_related("agent", "document").order_by("-at", "-id")[:limit])
    return rows[::-1]


def _open_chats(user_ids: list[int]) -> dict[int, int]:
    rows = (ChatConversation.objects.filter(owner_id__in=user_ids, status=ChatStatus.OPEN).values("owner_id")
            .annotate(n=Count("id")))
    return {row["owner_id"]: row["n"] for row in rows}


def _routed_agent(queue: Queue, language: str | None, now: dt.datetime) -> User | None:
    """The agent of the queue the desk's rules pick for a new chat (available now, with room — open chats and
    tickets both count —, speaking the visitor's language), or None: the chat waits in the queue."""
    profiles, agents, last = dispatch.queue_agents([queue.pk], _open_chats)
    code = (language or "").split(",")[0].split(";")[0]  # an Accept-Language header's first choice
    request = routing.Ticket(id=0, queue_id=queue.pk, created_at=now, language=routing.primary_language(code))
    decision = routing.route(request, queue.to_routing(), agents, now, last)
    if decision.agent_id is None:
        return None
    profile = next(p for p in profiles if p.user_id == decision.agent_id)
    profile.last_assigned_at = now
    profile.save(update_fields=["last_assigned_at"])
    return profile.user


def _new_conversation(visitor: Visitor, now: dt.datetime, owner: User | None = None,
                      language: str | None = None) -> ChatConversation:
    """A visitor's new chat, in their site's queue; without an `owner`, given to an agent by the queue's rules."""
    queue = visitor.site.queue
    conversation = ChatConversation(visitor=visitor, contact_id=visitor.contact_id, queue=queue, last_message_at=now)
    if owner is None and queue is not None:
        owner = _routed_agent(queue, language, now)
    if owner is not None:
        conversation.set_owner(owner)
    conversation.save()
    return conversation


def _add(conversation: ChatConversation, sender: str, body: str, now: dt.datetime,
         agent: User | None = None, document: ChatDocument | None = None) -> ChatMessage:
    message = ChatMessage.objects.create(conversation=conversation, sender=sender, body=body, at=now, agent=agent,
                                         document=document)
    ChatConversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    conversation.last_message_at = now
    return message


@transaction.atomic
def visitor_says(visitor: Visitor, body: Any, now: dt.datetime | None = None,
                 conversation: ChatConversation | None = None,
                 language: str | None = None) -> tuple[ChatConversation, ChatMessage, bool]:
    """The visitor's message, in their open conversation (a new one when there is none): (conversation, message,
    whether the conversation is new). `language`: the visitor's (Accept-Language), for routing a new chat.
    `conversation` is the caller's idea of the open one (a socket keeps it):
    it is checked by the same UPDATE that stamps the last message. An email or phone in the text identifies."""
    now = now or timezone.now()
    text = clean_body(body)
    vs.check_rate(f"chat:{visitor.pk}", settings.CC_MESSAGES_PER_MINUTE)
    if conversation is None or conversation.visitor_id != visitor.pk:
        conversation = open_conversation(visitor)
    if conversation is not None and not ChatConversation.objects.filter(
            pk=conversation.pk, status=ChatStatus.OPEN).update(last_message_at=now):
        conversation = open_conversation(visitor)  # closed meanwhile: the visitor starts a new one
    created = conversation is None
    if created:
        conversation = _new_conversation(visitor, now, language=language)
    conversation.last_message_at, conversation.status = now, ChatStatus.OPEN
    message = ChatMessage.objects.create(conversation=conversation, sender=Sender.VISITOR, body=text, at=now)
    if not visitor.contact_id:
        email, phone = vs.identity_in_text(text)
        if vs.identify(visitor, email=email, phone=phone) is not None:
            conversation.refresh_from_db(fields=["contact"])
    return conversation, message, created


def _require_agent(agent: User) -> None:
    require_editor(agent)


@transaction.atomic
def agent_reply(agent: User, conversation: ChatConversation, body: Any,
                now: dt.datetime | None = None) -> ChatMessage:
    """An agent answers; an unassigned conversation becomes theirs. A closed one is reopened."""
    _require_agent(agent)
    now = now or timezone.now()
    text = clean_body(body)
    conversation = ChatConversation.objects.select_for_update().select_related("visitor").get(pk=conversation.pk)
    changed, was_owner = [], conversation.owner_id
    if conversation.owner_id is None:
        conversation.set_owner(agent)
        changed += ["owner", "team"]
    if conversation.status != ChatStatus.OPEN:
        conversation.status, conversation.closed_at = ChatStatus.OPEN, None
        changed += ["status", "closed_at"]
    if changed:
        conversation.save(update_fields=changed)
        chat_moved(conversation, was_owner, conversation.queue_id)
    return _add(conversation, Sender.AGENT, text, now, agent=agent)


@transaction.atomic
def invite(agent: User, visitor: Visitor, body: Any = None, now: dt.datetime | None = None
           ) -> tuple[ChatConversation, ChatMessage]:
    """Invite a browsing visitor to chat: their open conversation (a new one, assigned to the agent) gets the
    agent's greeting."""
    _require_agent(agent)
    now = now or timezone.now()
    text = clean_body(body or _("Hello! Can I help you?"))
    conversation = open_conversation(visitor) or _new_conversation(visitor, now, owner=agent)
    return conversation, agent_reply(agent, conversation, text, now)


@transaction.atomic
def push_link(agent: User, conversation: ChatConversation, url: Any, now: dt.datetime | None = None) -> ChatMessage:
    """Send the visitor a link (stored as a system message; the widget offers to open it)."""
    _require_agent(agent)
    errors: dict[str, list[str]] = {}
    link = vs.clean_url(url, "url", errors, required=True)
    fail(errors)
    return _add(conversation, Sender.SYSTEM, link, now or timezone.now(), agent=agent)


@transaction.atomic
def push_document(agent: User, conversation: ChatConversation, file: UploadedFile | None,
                  now: dt.datetime | None = None) -> ChatMessage:
    """Send the visitor a file (the same types and size as ticket attachments): kept on the conversation, offered in
    the widget as a download that only this visitor can open, for CC_CHAT_DOCUMENT_HOURS."""
    from guanxi.service.attachments import check_files

    _require_agent(agent)
    if file is None or not getattr(file, "name", ""):
        fail({"file": [_("Choose a file.")]})
    try:
        check_files([file])
    except ValidationError as exc:  # its reasons, under this form's field
        fail({"file": [m for messages in exc.message_dict.values() for m in messages]})
    name = os.path.basename(file.name)[:200]
    document = ChatDocument.objects.create(conversation=conversation, file=file, name=name, size=file.size,
                                           content_type=(getattr(file, "content_type", "") or "")[:100],
                                           uploaded_by=agent)
    return _add(conversation, Sender.SYSTEM, name, now or timezone.now(), agent=agent, document=document)


@transaction.atomic
def close(agent: User, conversation: ChatConversation, now: dt.datetime | None = None) -> ChatMessage | None:
    _require_agent(agent)
    now = now or timezone.now()
    conversation = ChatConversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == ChatStatus.CLOSED:
        return None
    conversation.status, conversation.closed_at = ChatStatus.CLOSED, now
    conversation.save(update_fields=["status", "closed_at"])
    chat_moved(conversation, conversation.owner_id, conversation.queue_id)
    return _add(conversation, Sender.SYSTEM, _("The conversation was closed."), now, agent=agent)


def transcript(conversation: ChatConversation) -> str:
    names = {Sender.VISITOR: _("Visitor"), Sender.SYSTEM: _("System")}
    lines = []
    for m in conversation.messages.select_related("agent").order_by("at", "id"):
        who = (m.agent.get_full_name() or m.agent.username) if m.sender == Sender.AGENT and m.agent else names.get(
            m.sender, m.sender)
        lines.append(f"[{timezone.localtime(m.at):%Y-%m-%d %H:%M}] {who}: {m.body}")
    return "\n".join(lines)


def _subject(conversation: ChatConversation) -> str:
    first = conversation.messages.filter(sender=Sender.VISITOR).order_by("at", "id").first()
    text = first.body if first else ""
    return (_("Web chat: %(text)s") % {"text": text})[:200] if text else _("Web chat #%(id)s") % {
        "id": conversation.pk}


def ticket_from_conversation(agent: User, conversation: ChatConversation, data: dict[str, Any] | None = None):
    """A ticket holding the conversation's transcript, for its contact (when the agent may see them)."""
    data = data or {}
    contact_id = conversation.contact_id
    if contact_id and not Contact.objects.visible_to(agent).filter(pk=contact_id).exists():
        contact_id = None
    return service_services.create_ticket(agent, {
        "subject": data.get("subject") or _subject(conversation), "description": transcript(conversation),
        "contact_id": contact_id, "queue_id": conversation.queue_id, "channel": TicketChannel.CHAT})


def lead_from_conversation(agent: User, conversation: ChatConversation, data: dict[str, Any] | None = None):
    """A lead from the visitor's details (given in the form, or the linked contact's) and the transcript, linked to
    the chat (see inbox_leads)."""
    from .inbox_leads import lead_from  # it builds on this module

    return lead_from(agent, "chat", conversation, data)


@transaction.atomic
def offline_message(site: ChatSite, visitor: Visitor, data: dict[str, Any]):
    """No agent is online: the visitor's message becomes a ticket (requested by the site's service user)."""
    errors: dict[str, list[str]] = {}
    name, email, phone = vs.clean_identity(data, errors)
    body = vs._text(data, "body", MAX_MESSAGE, errors, required=True)
    if not (email or phone) and not ({"email", "phone"} & errors.keys()):
        errors["email"] = [_("Leave an email address or a phone number so that we can answer.")]
    if site.service_user_id is None or not site.service_user.can_edit:
        errors["__all__"] = [_("This website does not take offline messages.")]
    fail(errors)
    vs.check_rate(f"chat:{visitor.pk}", settings.CC_MESSAGES_PER_MINUTE)
    contact = vs.identify(visitor, name=name, email=email, phone=phone)
    user = site.service_user
    if contact is not None and not Contact.objects.visible_to(user).filter(pk=contact.pk).exists():
        contact = None
    who = " ".join(x for x in (name, email, phone) if x)
    return service_services.create_ticket(user, {
        "subject": (_("Web message from %(who)s") % {"who": who})[:200],
        "description": f"{body}\n\n{visitor.current_url}".strip(),
        "contact_id": contact.pk if contact else None, "queue_id": site.queue_id,
        "channel": TicketChannel.CHAT})


# ------------------------------------------------------------------ websites (administrators)


@transaction.atomic
def save_site(actor: User, site: ChatSite | None, data: dict[str, Any]) -> ChatSite:
    """Create or change a website that carries the widget: name, allowed origins (a list or one per line),
    queue, the user offline messages are filed as, active, and whether it is the customer portal's widget."""
    require_admin(actor, _("Only an administrator may manage chat websites."))
    from guanxi.core.records import int_or_none
    from guanxi.service.models import Queue

    errors: dict[str, list[str]] = {}
    site = site or ChatSite()
    site.name = vs._text(data, "name", 100, errors, required=True)
    site.allowed_origins = vs.clean_origins(data.get("allowed_origins"), errors)
    for field, model in (("queue_id", Queue), ("service_user_id", User)):
        value = data.get(field)
        if value in (None, ""):
            setattr(site, field, None)
            continue
        pk = int_or_none(value)
        if pk is None or not model.objects.filter(pk=pk).exists():
            errors[field] = [_("Choose one from the list.")]
        else:
            setattr(site, field, pk)
    site.active = bool(data.get("active", True)) and data.get("active") not in ("", "0", "false", "off")
    site.on_portal = bool(data.get("on_portal")) and data.get("on_portal") not in ("", "0", "false", "off")
    fail(errors)
    site.save()
    if site.on_portal:  # the portal carries one widget
        ChatSite.objects.filter(on_portal=True).exclude(pk=site.pk).update(on_portal=False)
    return site

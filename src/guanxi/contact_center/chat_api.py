"""REST resources of the web chat: conversations (keyset pages), their messages, an agent's reply and a document
pushed to the visitor (both delivered live), and a visitor with the pages they browsed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from guanxi.core.api import CURSOR, ERRORS, LIMIT, READ_ONE, WRITE_ONE, Id, Ref, actor, page_out, ref, sort_field, utc
from guanxi.core.paging import paginate

from . import chat_services as cs
from . import inbox_services as ibs
from .chat_models import MAX_MESSAGE, ChatConversation, ChatStatus, Visitor
from .chat_realtime import broadcast_message

router = Router()
TAG = ["chat"]
CONVERSATION_SORTS = ["-last_message_at", "last_message_at", "-created_at", "created_at", "id", "-id"]
MESSAGE_LIMIT = 500
PAGE_VIEW_LIMIT = 200


class ChatConversationOut(Schema):
    id: int
    visitor_id: int
    contact: Ref | None
    owner: Ref | None
    status: str
    queue_id: int | None
    created_at: dt.datetime
    last_message_at: dt.datetime
    closed_at: dt.datetime | None


class ChatConversationPage(Schema):
    items: list[ChatConversationOut]
    next: str | None


class ChatConversationQuery(Schema):
    status: str | None = Field(None, json_schema_extra={"enum": list(ChatStatus.values)})
    contact: Id | None = None
    sort: str = sort_field(CONVERSATION_SORTS, "-last_message_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class ChatDocumentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str


class ChatMessageOut(Schema):
    id: int
    sender: str
    agent: Ref | None
    body: str = Field(..., description="Plain text as typed: escape it when you show it.")
    at: dt.datetime
    document: ChatDocumentOut | None = Field(None, description="A document pushed to the visitor (the body is its "
                                                                "name): `GET /chat/documents/{id}/content`.")


class ChatMessageList(Schema):
    items: list[ChatMessageOut]


class ChatReplyIn(Schema):
    body: str = Field(..., min_length=1, max_length=MAX_MESSAGE)


class ChatPageViewOut(Schema):
    url: str
    title: str
    referrer: str
    at: dt.datetime


class ChatVisitorOut(Schema):
    id: int
    site_id: int
    contact: Ref | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    current_url: str
    page_count: int
    user_agent: str
    page_views: list[ChatPageViewOut] = Field(..., description="The latest 200, newest first.")


def conversation_item(c: ChatConversation) -> dict[str, Any]:
    return {"id": c.pk, "visitor_id": c.visitor_id, "contact": ref(c.contact), "owner": ref(c.owner),
            "status": c.status, "queue_id": c.queue_id, "created_at": utc(c.created_at),
            "last_message_at": utc(c.last_message_at), "closed_at": utc(c.closed_at)}


def message_item(m) -> dict[str, Any]:
    d = m.document if m.document_id else None
    return {"id": m.pk, "sender": m.sender, "agent": ref(m.agent), "body": m.body, "at": utc(m.at),
            "document": {"id": d.pk, "name": d.name, "size": d.size, "content_type": d.content_type} if d else None}


@router.get("/chat/conversations", response={200: ChatConversationPage, **ERRORS}, tags=TAG)
def list_conversations(request: HttpRequest, params: Query[ChatConversationQuery]):
    """Chat conversations you may see (assigned to you or your team; the service desk also sees waiting ones)."""
    rows = ChatConversation.objects.visible_to(actor(request)).select_related("contact", "owner")
    if params.status:
        rows = rows.filter(status=params.status)
    if params.contact:
        rows = rows.filter(contact_id=params.contact)
    page = paginate(rows, sort=params.sort, allowed=CONVERSATION_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([conversation_item(c) for c in page.items], page.next_cursor)


def _conversation(request: HttpRequest, id: int) -> ChatConversation:
    return get_object_or_404(ChatConversation.objects.visible_to(actor(request)), pk=id)


@router.get("/chat/conversations/{id}/messages", response={200: ChatMessageList, **READ_ONE}, tags=TAG)
def list_messages(request: HttpRequest, id: Id):
    """The conversation's messages, oldest first (the latest 500)."""
    return {"items": [message_item(m) for m in cs.history(_conversation(request, id), MESSAGE_LIMIT)]}


@router.post("/chat/conversations/{id}/messages", response={201: ChatMessageOut, **WRITE_ONE}, tags=TAG)
def reply(request: HttpRequest, id: Id, payload: ChatReplyIn):
    """Answer the visitor (delivered to their widget at once); an unassigned conversation becomes yours."""
    conversation = _conversation(request, id)
    message = cs.agent_reply(actor(request), conversation, payload.body)
    conversation.refresh_from_db()
    broadcast_message(cs.message_event(message, conversation))
    return Status(201, message_item(message))


@router.post("/chat/conversations/{id}/documents", response={201: ChatMessageOut, **WRITE_ONE}, tags=TAG)
def push_document(request: HttpRequest, id: Id, file: File[UploadedFile] = None):
    """Send the visitor a document (multipart/form-data `file`; the types and size of ticket attachments): their
    widget offers it at once, through a link that only this visitor can open, for `GUANXI_CC_CHAT_DOCUMENT_HOURS`.
    A refused file is a 400 naming `file`."""
    from guanxi.customers.import_files import refused_upload_message

    conversation = _conversation(request, id)
    if refused := refused_upload_message(request):
        raise ValidationError({"file": [refused]})
    return Status(201, message_item(ibs.push_document_to_chat(actor(request), conversation, file)))


@router.get("/chat/documents/{id}/content", response={**READ_ONE}, tags=TAG)
def document_content(request: HttpRequest, id: Id):
    """A pushed document itself (a download), for those who may see its chat."""
    document = get_object_or_404(cs.documents_for(actor(request)), pk=id)
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.name)


@router.get("/visitors/{id}", response={200: ChatVisitorOut, **READ_ONE}, tags=TAG)
def get_visitor(request: HttpRequest, id: Id):
    """A website visitor (service desk, or the agents who may see their contact) and the pages they browsed."""
    visitor = get_object_or_404(Visitor.objects.visible_to(actor(request)).select_related("contact"), pk=id)
    views = visitor.page_views.order_by("-at", "-id")[:PAGE_VIEW_LIMIT]
    return {"id": visitor.pk, "site_id": visitor.site_id, "contact": ref(visitor.contact),
            "first_seen": utc(visitor.first_seen), "last_seen": utc(visitor.last_seen),
            "current_url": visitor.current_url, "page_count": visitor.page_count, "user_agent": visitor.user_agent,
            "page_views": [{"url": v.url, "title": v.title, "referrer": v.referrer, "at": utc(v.at)} for v in views]}

"""GET /api/v1/inbox: the conversations of every channel the caller may see, newest activity first, one keyset
page over the union of the sources (tickets being worked on of any channel, open web chats)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from guanxi.core.api import CURSOR, ERRORS, LIMIT, Ref, actor, page_out, ref, utc

from . import inbox

router = Router()
TAG = ["inbox"]


class InboxItemOut(Schema):
    source: str = Field(..., description="Where the conversation lives: ticket, chat (others may be added).")
    id: int
    channel: str = Field(..., description="The door it came in by: email, portal, chat, web_form, phone, staff, api.")
    subject: str
    snippet: str = Field(..., description="The start of the latest message, as typed: escape it when you show it.")
    contact: Ref | None
    account: Ref | None
    status: str = Field(..., description="new (nobody answered yet), open, waiting (on the customer).")
    assignee: Ref | None
    queue: Ref | None
    at: dt.datetime = Field(..., description="The last activity; the list is ordered by it, newest first.")
    needs_reply: bool = Field(..., description="The customer wrote last (or nobody answered yet).")
    url: str = Field(..., description="The record's page in the web interface.")


class InboxPageOut(Schema):
    items: list[InboxItemOut]
    next: str | None
    counts: dict[str, int] | None = Field(None, description="Conversations per channel under the same filters "
                                                            "(channel aside); on the first page only.")


class InboxQuery(Schema):
    channel: list[str] = Field(default_factory=list, description="Repeat for several channels.",
                               json_schema_extra={"items": {"enum": list(inbox.CHANNELS)}})
    scope: str = Field("all", json_schema_extra={"enum": list(inbox.SCOPES)},
                       description="mine, queues (of the queues you belong to or supervise), unassigned, all.")
    status: list[str] = Field(default_factory=list, json_schema_extra={"items": {"enum": list(inbox.STATUSES)}})
    q: str | None = Field(None, max_length=200, description="Text in the subject or the customer's name.")
    limit: int = LIMIT
    cursor: str | None = CURSOR


def inbox_item(item: inbox.InboxItem) -> dict[str, Any]:
    return {"source": item.source, "id": item.pk, "channel": item.channel, "subject": item.subject,
            "snippet": item.snippet, "contact": ref(item.contact), "account": ref(item.account),
            "status": item.status, "assignee": ref(item.assignee), "queue": ref(item.queue), "at": utc(item.at),
            "needs_reply": item.needs_reply, "url": item.url}


@router.get("/inbox", response={200: InboxPageOut, **ERRORS}, tags=TAG)
def list_inbox(request: HttpRequest, params: Query[InboxQuery]):
    """One inbox across channels: tickets being worked on (any channel) and open web chats you may see."""
    filters = inbox.clean_filters(params.channel, params.scope, params.status, params.q)
    page = inbox.inbox_page(actor(request), filters, cursor=params.cursor, limit=params.limit,
                            with_counts=not params.cursor)
    return {**page_out([inbox_item(i) for i in page.items], page.next_cursor),
            "counts": page.counts if not params.cursor else None}

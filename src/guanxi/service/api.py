"""REST resources of the service desk: tickets (list with filters and a cursor, create, get, patch with
`version`), their messages (replies and internal notes), status, assignment and merge; queues and question
groups. The same services and visibility as the pages: another's ticket is a 404. See docs/api.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import (
    CONFLICT_SERIALIZERS,
    CURSOR,
    ERRORS,
    LIMIT,
    READ_ONE,
    WRITE,
    WRITE_ONE,
    Id,
    Out,
    Ref,
    actor,
    page_out,
    ref,
    sort_field,
    utc,
)
from guanxi.core.models import User
from guanxi.core.paging import paginate

from . import services
from .filters import TICKET_SORTS, filter_tickets
from .models import QuestionGroup, Queue
from .ticket_models import MessageKind, Priority, Ticket, TicketChannel, TicketStatus

router = Router()
TAG = ["tickets"]
SETUP_TAG = ["service set-up"]
Text = str | None


class TicketIn(Schema):
    subject: str = Field(..., max_length=200)
    description: Text = None
    priority: str = Field("normal", json_schema_extra={"enum": list(Priority.values)})
    question_group_id: Id | None = None
    queue_id: Id | None = Field(None, description="Default: the question group's queue.")
    account_id: Id | None = None
    contact_id: Id | None = None
    order_id: Id | None = Field(None, description="An order of the ticket's account (default: its account).")
    product_id: Id | None = Field(None, description="An active product of the catalogue.")
    language: Text = None
    channel: str = Field("api", description="The door the request came in by.",
                         json_schema_extra={"enum": list(TicketChannel.values)})


class TicketPatch(Schema):
    version: int = Field(..., description="The version you read; a stale one gives 409.")
    subject: Text = Field(None, max_length=200)
    description: Text = None
    priority: str | None = Field(None, json_schema_extra={"enum": list(Priority.values)})
    question_group_id: Id | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    order_id: Id | None = None
    product_id: Id | None = None
    language: Text = None


class SlaOut(Out):
    first_response_due_at: dt.datetime | None
    first_response_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    response_breached: bool
    resolution_breached: bool
    paused: bool


class TicketOut(Out):
    id: int
    version: int
    number: str
    subject: str
    description: str
    status: str
    priority: str
    channel: str
    question_group: Ref | None
    queue: Ref | None
    account: Ref | None
    contact: Ref | None
    order: Ref | None
    product: Ref | None
    assignee: Ref | None
    requester: Ref | None
    merged_into: int | None
    sla: SlaOut
    created_at: dt.datetime
    updated_at: dt.datetime


class TicketPage(Out):
    items: list[TicketOut]
    next: str | None


class TicketConflict(Schema):
    detail: str
    current: TicketOut


class TicketQuery(Schema):
    q: str | None = Field(None, max_length=200, description="Search: the ticket number or words of the subject.")
    queue: list[Id] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list, json_schema_extra={"items": {"enum": list(TicketStatus.values)}})
    priority: list[str] = Field(default_factory=list, json_schema_extra={"items": {"enum": list(Priority.values)}})
    assignee: list[str] = Field(default_factory=list, description="A user id, or `me`; repeat for several.")
    account: list[Id] = Field(default_factory=list)
    order: list[Id] = Field(default_factory=list)
    product: list[Id] = Field(default_factory=list)
    sort: str = sort_field(TICKET_SORTS, "-updated_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class MessageIn(Schema):
    body: str = Field(..., max_length=50_000)
    kind: str = Field("reply", json_schema_extra={"enum": list(MessageKind.values)},
                      description="`reply` (public; the first stamps the first response) or `note` (internal).")


class MessageOut(Schema):
    id: int
    kind: str
    body: str
    author: Ref | None
    created_at: dt.datetime


class MessageList(Schema):
    items: list[MessageOut]
    next: str | None


class TicketStatusIn(Schema):
    status: str = Field(..., json_schema_extra={"enum": list(TicketStatus.values)})
    version: int


class AssignIn(Schema):
    assignee_id: Id | None = Field(..., description="null: back to the queue.")
    version: int


class TicketMergeIn(Schema):
    target_id: Id = Field(..., description="The ticket that keeps the conversation; this one is closed.")


class SplitIn(Schema):
    message_ids: list[int] = Field(..., max_length=1000, description="Messages of this ticket to move.")
    subject: str = Field(..., max_length=1000, description="The new ticket's subject.")


class QueueOut(Schema):
    id: int
    name: str
    strategy: str
    is_senior: bool
    senior_queue: int | None
    reroute_after_minutes: int | None
    supervisor: Ref | None


class QueueList(Schema):
    items: list[QueueOut]
    next: str | None


class QuestionGroupOut(Schema):
    id: int
    name: str
    parent: int | None
    queue: int | None


class QuestionGroupList(Schema):
    items: list[QuestionGroupOut]
    next: str | None


RELATED = ("question_group", "queue", "account", "contact", "order", "product", "owner", "requester")


def ticket_item(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.pk, "version": t.version, "number": t.number or "", "subject": t.subject,
        "description": t.description, "status": t.status, "priority": t.priority,
        "channel": t.channel,
        "question_group": ref(t.question_group), "queue": ref(t.queue), "account": ref(t.account),
        "contact": ref(t.contact), "order": ref(t.order), "product": ref(t.product), "assignee": ref(t.owner),
        "requester": ref(t.requester),
        "merged_into": t.merged_into_id,
        "sla": {"first_response_due_at": utc(t.first_response_due_at), "first_response_at": utc(t.first_response_at),
                "resolution_due_at": utc(t.resolution_due_at), "resolved_at": utc(t.resolved_at),
                "response_breached": t.response_breached, "resolution_breached": t.resolution_breached,
                "paused": t.paused_at is not None},
        "created_at": utc(t.created_at), "updated_at": utc(t.updated_at),
    }


def _item(pk: int, user: User | None = None) -> dict[str, Any]:
    return ticket_item(Ticket.objects.select_related(*RELATED).get(pk=pk))


CONFLICT_SERIALIZERS[Ticket] = _item


def visible_ticket(request: HttpRequest, id: int) -> Ticket:
    """The ticket, or 404 when it does not exist or the user may not see it."""
    return get_object_or_404(Ticket.objects.visible_to(actor(request)), pk=id)


@router.get("/tickets", response={200: TicketPage, **ERRORS}, tags=TAG)
def list_tickets(request: HttpRequest, params: Query[TicketQuery]):
    """Tickets you may see. Filters combine with AND; repeat one for OR within it."""
    user = actor(request)
    qs = filter_tickets(request.GET, user).select_related(*RELATED)
    page = paginate(qs, sort=params.sort, allowed=TICKET_SORTS, cursor=params.cursor, limit=params.limit,
                    ids_first=True)
    return page_out([ticket_item(t) for t in page.items], page.next_cursor)


@router.post("/tickets", response={201: TicketOut, **WRITE}, tags=TAG)
def create_ticket(request: HttpRequest, payload: TicketIn):
    """A new ticket: SLA due times from the matching policy, routed at once to an agent of its queue."""
    data = payload.model_dump(exclude_unset=True)
    data.setdefault("channel", TicketChannel.API)
    ticket = services.create_ticket(actor(request), data)
    return Status(201, _item(ticket.pk))


@router.get("/tickets/{id}", response={200: TicketOut, **READ_ONE}, tags=TAG)
def get_ticket(request: HttpRequest, id: Id):
    return _item(visible_ticket(request, id).pk)


@router.patch("/tickets/{id}", response={200: TicketOut, **WRITE_ONE, 409: TicketConflict}, tags=TAG)
def update_ticket(request: HttpRequest, id: Id, payload: TicketPatch):
    """Change the fields sent (and only those); `version` must be the one you read."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    ticket = services.update_ticket(actor(request), visible_ticket(request, id), data, version)
    return _item(ticket.pk)


@router.get("/tickets/{id}/messages", response={200: MessageList, **READ_ONE}, tags=TAG)
def list_messages(request: HttpRequest, id: Id):
    """The conversation, oldest first: public replies and internal notes."""
    ticket = visible_ticket(request, id)
    rows = ticket.messages.select_related("author").order_by("created_at", "id")
    return page_out([{"id": m.pk, "kind": m.kind, "body": m.body, "author": ref(m.author),
                      "created_at": utc(m.created_at)} for m in rows], None)


@router.post("/tickets/{id}/messages", response={201: MessageOut, **WRITE_ONE}, tags=TAG)
def post_message(request: HttpRequest, id: Id, payload: MessageIn):
    """A public reply (refused on a closed ticket) or an internal note."""
    ticket, user = visible_ticket(request, id), actor(request)
    if payload.kind not in MessageKind.values:
        raise ValidationError({"kind": [_("Choose reply or note.")]})
    add = services.add_note if payload.kind == MessageKind.NOTE else services.reply
    m = add(user, ticket, payload.body)
    return Status(201, {"id": m.pk, "kind": m.kind, "body": m.body, "author": ref(user),
                        "created_at": utc(m.created_at)})


@router.post("/tickets/{id}/status", response={200: TicketOut, **WRITE_ONE, 409: TicketConflict}, tags=TAG)
def change_status(request: HttpRequest, id: Id, payload: TicketStatusIn):
    """Move along the workflow: new → open → waiting → resolved → closed, resolved → open (reopen). Waiting on
    the customer pauses the SLA clock."""
    ticket = services.change_status(actor(request), visible_ticket(request, id), payload.status, payload.version)
    return _item(ticket.pk)


@router.post("/tickets/{id}/assign", response={200: TicketOut, **WRITE_ONE, 409: TicketConflict}, tags=TAG)
def assign_ticket(request: HttpRequest, id: Id, payload: AssignIn):
    ticket = services.assign(actor(request), visible_ticket(request, id), payload.assignee_id, payload.version)
    return _item(ticket.pk)


@router.post("/tickets/{id}/merge", response={200: TicketOut, **WRITE_ONE}, tags=TAG)
def merge_ticket(request: HttpRequest, id: Id, payload: TicketMergeIn):
    """Move this ticket's conversation into `target_id` and close this one with a link to it."""
    source = visible_ticket(request, id)
    target = visible_ticket(request, payload.target_id)
    return _item(services.merge(actor(request), source, target).pk)


@router.post("/tickets/{id}/split", response={201: TicketOut, **WRITE_ONE}, tags=TAG)
def split_ticket(request: HttpRequest, id: Id, payload: SplitIn):
    """A new ticket for the same customer takes the chosen messages (a second question in one conversation)."""
    new = services.split(actor(request), visible_ticket(request, id), payload.message_ids, payload.subject)
    return Status(201, _item(new.pk))


@router.get("/queues", response={200: QueueList, **ERRORS}, tags=SETUP_TAG)
def list_queues(request: HttpRequest):
    return page_out([{"id": q.pk, "name": q.name, "strategy": q.strategy, "is_senior": q.is_senior,
                      "senior_queue": q.senior_queue_id, "reroute_after_minutes": q.reroute_after_minutes,
                      "supervisor": ref(q.supervisor)} for q in Queue.objects.select_related("supervisor")], None)


@router.get("/question-groups", response={200: QuestionGroupList, **ERRORS}, tags=SETUP_TAG)
def list_question_groups(request: HttpRequest):
    """Active question groups (a tree through `parent`)."""
    return page_out([{"id": g.pk, "name": g.name, "parent": g.parent_id, "queue": g.queue_id}
                     for g in QuestionGroup.objects.filter(active=True)], None)

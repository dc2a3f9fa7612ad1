"""REST resources for follow-up: notes, activities, tasks and appointments, hand-overs."""

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
    Ref,
    actor,
    page_out,
    ref,
    sort_field,
    utc,
)
from guanxi.core.paging import paginate
from guanxi.core.records import int_or_none
from guanxi.customers.api import visible_account, visible_contact

from . import services
from .models import Activity, ActivityKind, Note, Priority, Task, TaskKind, TaskStatus

router = Router()


class NoteIn(Schema):
    body: str


class NoteOut(Schema):
    id: int
    body: str
    author: Ref | None
    account_id: int | None
    contact_id: int | None
    created_at: dt.datetime


class NotePage(Schema):
    items: list[NoteOut]
    next: str | None


class NoteQuery(Schema):
    limit: int = LIMIT
    cursor: str | None = CURSOR


def note_item(note: Note) -> dict[str, Any]:
    return {
        "id": note.pk,
        "body": note.body,
        "author": ref(note.author),
        "account_id": note.account_id,
        "contact_id": note.contact_id,
        "created_at": utc(note.created_at),
    }


def _notes(notes, params: NoteQuery) -> dict[str, Any]:
    page = paginate(
        notes.select_related("author"), sort="-id", allowed=["-id"], cursor=params.cursor, limit=params.limit
    )
    return page_out([note_item(n) for n in page.items], page.next_cursor)


@router.get("/accounts/{id}/notes", response={200: NotePage, **READ_ONE}, tags=["accounts"])
def account_notes(request: HttpRequest, id: Id, params: Query[NoteQuery]):
    """Notes on the account, newest first."""
    return _notes(Note.objects.filter(account=visible_account(request, id)), params)


@router.post("/accounts/{id}/notes", response={201: NoteOut, **WRITE_ONE}, tags=["accounts"])
def add_account_note(request: HttpRequest, id: Id, payload: NoteIn):
    """Add a note to the account; it appears on its timeline."""
    return Status(201, note_item(services.add_note(actor(request), visible_account(request, id), payload.body)))


@router.get("/contacts/{id}/notes", response={200: NotePage, **READ_ONE}, tags=["contacts"])
def contact_notes(request: HttpRequest, id: Id, params: Query[NoteQuery]):
    """Notes on the contact, newest first."""
    return _notes(Note.objects.filter(contact=visible_contact(request, id)), params)


@router.post("/contacts/{id}/notes", response={201: NoteOut, **WRITE_ONE}, tags=["contacts"])
def add_contact_note(request: HttpRequest, id: Id, payload: NoteIn):
    """Add a note to the contact; it appears on its timeline."""
    return Status(201, note_item(services.add_note(actor(request), visible_contact(request, id), payload.body)))


# ------------------------------------------------------------------ activities


ACTIVITY_SORTS = ["-occurred_at", "occurred_at", "-id"]
TASK_SORTS = ["at", "-at", "-updated_at", "id", "-id"]


class ActivityIn(Schema):
    kind: str = Field(..., json_schema_extra={"enum": [k for k in ActivityKind.values if k != "handover"]})
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=20000)
    account_id: Id | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None
    lead_id: Id | None = Field(None, description="A lead not yet converted.")
    occurred_at: dt.datetime | None = Field(None, description="Default: now.")
    direction: str | None = Field(None, json_schema_extra={"enum": ["in", "out"]}, description="Calls.")
    duration_seconds: int | None = Field(None, ge=0, le=7 * 24 * 3600, description="Calls.")
    document_name: str | None = Field(None, max_length=200, description="Documents sent: what.")
    document_to: str | None = Field(None, max_length=200, description="Documents sent: to whom.")


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    account: Ref | None
    contact: Ref | None
    opportunity: Ref | None
    lead: Ref | None
    author: Ref | None
    occurred_at: dt.datetime
    direction: str
    duration_seconds: int | None
    document_name: str
    document_to: str
    document_size: int | None
    created_at: dt.datetime


class ActivityPage(Schema):
    items: list[ActivityOut]
    next: str | None


class ActivityQuery(Schema):
    account: Id | None = None
    contact: Id | None = None
    opportunity: Id | None = None
    lead: Id | None = None
    kind: str | None = Field(None, json_schema_extra={"enum": list(ActivityKind.values)})
    sort: str = sort_field(ACTIVITY_SORTS, "-occurred_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


def activity_item(a: Activity) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "subject": a.subject,
        "body": a.body,
        "account": ref(a.account),
        "contact": ref(a.contact),
        "opportunity": ref(a.opportunity),
        "lead": ref(a.lead),
        "author": ref(a.author),
        "occurred_at": utc(a.occurred_at),
        "direction": a.direction,
        "duration_seconds": a.duration_seconds,
        "document_name": a.document_name,
        "document_to": a.document_to,
        "document_size": a.document_size,
        "created_at": utc(a.created_at),
    }


ACTIVITY_RELATED = ("account", "contact", "opportunity", "lead", "author")


@router.get("/activities", response={200: ActivityPage, **ERRORS}, tags=["activities"])
def list_activities(request: HttpRequest, params: Query[ActivityQuery]):
    """Activities on records you may see; filter by account, contact, opportunity, lead or kind."""
    qs = Activity.objects.visible_to(actor(request))
    for name in ("account", "contact", "opportunity", "lead", "kind"):
        if getattr(params, name) is not None:
            qs = qs.filter(**{name: getattr(params, name)})
    page = paginate(
        qs.select_related(*ACTIVITY_RELATED),
        sort=params.sort,
        allowed=ACTIVITY_SORTS,
        cursor=params.cursor,
        limit=params.limit,
    )
    return page_out([activity_item(a) for a in page.items], page.next_cursor)


@router.post("/activities", response={201: ActivityOut, **WRITE}, tags=["activities"])
def create_activity(request: HttpRequest, payload: ActivityIn):
    """Log a call, visit, email, document sent … on an account, contact, opportunity and/or lead."""
    activity = services.log_activity(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, activity_item(Activity.objects.select_related(*ACTIVITY_RELATED).get(pk=activity.pk)))


# ------------------------------------------------------------------ tasks


class _TaskFields(Schema):
    kind: str | None = Field(None, json_schema_extra={"enum": list(TaskKind.values)})
    description: str | None = Field(None, max_length=20000)
    due_at: dt.datetime | None = None
    start_at: dt.datetime | None = Field(None, description="Appointments.")
    end_at: dt.datetime | None = Field(None, description="Appointments.")
    all_day: bool | None = None
    priority: str | None = Field(None, json_schema_extra={"enum": list(Priority.values)})
    owner_id: Id | None = Field(None, description="The assignee; default you.")
    account_id: Id | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None
    lead_id: Id | None = Field(None, description="A lead not yet converted.")
    location: str | None = Field(None, max_length=200)
    remind_at: dt.datetime | None = None


class TaskIn(_TaskFields):
    title: str = Field(..., max_length=200)


class TaskPatch(_TaskFields):
    version: int = Field(..., description="The version you read; a stale one gives 409.")
    title: str | None = Field(None, max_length=200)


class VersionIn(Schema):
    version: int | None = Field(None, description="The version you read; a stale one gives 409.")


class TaskOut(Schema):
    id: int
    version: int
    kind: str
    title: str
    description: str
    due_at: dt.datetime | None
    start_at: dt.datetime | None
    end_at: dt.datetime | None
    all_day: bool
    priority: str
    status: str
    owner: Ref | None
    account: Ref | None
    contact: Ref | None
    opportunity: Ref | None
    lead: Ref | None
    location: str
    remind_at: dt.datetime | None
    reminded_at: dt.datetime | None
    completed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next: str | None


class TaskConflict(Schema):
    detail: str
    current: TaskOut


class TaskQuery(Schema):
    assignee: str = Field("me", description="`me` (default), `all` (every task you may see), or a user id.")
    status: list[str] = Field(default_factory=list, json_schema_extra={"items": {"enum": list(TaskStatus.values)}})
    account: Id | None = None
    contact: Id | None = None
    opportunity: Id | None = None
    lead: Id | None = None
    after: dt.datetime | None = Field(None, description="On the agenda at or after this time.")
    before: dt.datetime | None = Field(None, description="On the agenda before this time.")
    sort: str = sort_field(TASK_SORTS, "at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


TASK_RELATED = ("owner", "account", "contact", "opportunity", "lead")


def task_item(t: Task) -> dict[str, Any]:
    return {
        "id": t.pk,
        "version": t.version,
        "kind": t.kind,
        "title": t.title,
        "description": t.description,
        "due_at": utc(t.due_at),
        "start_at": utc(t.start_at),
        "end_at": utc(t.end_at),
        "all_day": t.all_day,
        "priority": t.priority,
        "status": t.status,
        "owner": ref(t.owner),
        "account": ref(t.account),
        "contact": ref(t.contact),
        "opportunity": ref(t.opportunity),
        "lead": ref(t.lead),
        "location": t.location,
        "remind_at": utc(t.remind_at),
        "reminded_at": utc(t.reminded_at),
        "completed_at": utc(t.completed_at),
        "created_at": utc(t.created_at),
        "updated_at": utc(t.updated_at),
    }


def _task(pk: int, user: Any = None) -> dict[str, Any]:
    return task_item(Task.objects.select_related(*TASK_RELATED).get(pk=pk))


CONFLICT_SERIALIZERS[Task] = _task


def visible_task(request: HttpRequest, id: int) -> Task:
    return get_object_or_404(Task.objects.visible_to(actor(request)), pk=id)


@router.get("/tasks", response={200: TaskPage, **ERRORS}, tags=["tasks"])
def list_tasks(request: HttpRequest, params: Query[TaskQuery]):
    """Your tasks and appointments (or, with `assignee`, those of others you may see), by agenda time.
    Tasks without a time sort last."""
    user = actor(request)
    qs = Task.objects.visible_to(user)
    if params.assignee == "me":
        qs = qs.filter(owner=user)
    elif params.assignee != "all":
        owner_id = int_or_none(params.assignee)
        if owner_id is None:
            raise ValidationError({"assignee": [_("`me`, `all` or a user id.")]})
        qs = qs.filter(owner_id=owner_id)
    if params.status:
        bad = [s for s in params.status if s not in TaskStatus.values]
        if bad:
            raise ValidationError({"status": [_("One of: %(choices)s.") % {"choices": ", ".join(TaskStatus.values)}]})
        qs = qs.filter(status__in=params.status)
    for name in ("account", "contact", "opportunity", "lead"):
        if getattr(params, name) is not None:
            qs = qs.filter(**{name: getattr(params, name)})
    if params.after is not None:
        qs = qs.filter(at__gte=params.after)
    if params.before is not None:
        qs = qs.filter(at__lt=params.before)
    if params.sort in ("at", "-at"):
        qs = qs.filter(at__isnull=False)  # keyset paging needs a value to page on
    page = paginate(
        qs.select_related(*TASK_RELATED), sort=params.sort, allowed=TASK_SORTS, cursor=params.cursor, limit=params.limit
    )
    return page_out([task_item(t) for t in page.items], page.next_cursor)


@router.post("/tasks", response={201: TaskOut, **WRITE}, tags=["tasks"])
def create_task(request: HttpRequest, payload: TaskIn):
    """A task (`due_at`) or an appointment (`kind` appointment, `start_at`–`end_at`)."""
    return Status(201, _task(services.create_task(actor(request), payload.model_dump(exclude_unset=True)).pk))


@router.get("/tasks/{id}", response={200: TaskOut, **READ_ONE}, tags=["tasks"])
def get_task(request: HttpRequest, id: Id):
    return _task(visible_task(request, id).pk)


@router.patch("/tasks/{id}", response={200: TaskOut, **WRITE_ONE, 409: TaskConflict}, tags=["tasks"])
def update_task(request: HttpRequest, id: Id, payload: TaskPatch):
    """Change the fields sent; `version` must be the one you read (409 with the current task otherwise)."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return _task(services.update_task(actor(request), visible_task(request, id), data, version).pk)


@router.post("/tasks/{id}/complete", response={200: TaskOut, **WRITE_ONE, 409: TaskConflict}, tags=["tasks"])
def complete_task(request: HttpRequest, id: Id, payload: VersionIn):
    """Mark the task done (again: no change)."""
    return _task(services.complete_task(actor(request), visible_task(request, id), payload.version).pk)


@router.post("/tasks/{id}/cancel", response={200: TaskOut, **WRITE_ONE, 409: TaskConflict}, tags=["tasks"])
def cancel_task(request: HttpRequest, id: Id, payload: VersionIn):
    return _task(services.cancel_task(actor(request), visible_task(request, id), payload.version).pk)


# ------------------------------------------------------------------ hand-overs


class HandOverIn(Schema):
    to_user_id: Id
    from_user_id: Id | None = Field(None, description="Hand over all of this user's accounts …")
    account_ids: list[Id] | None = Field(None, max_length=10000, description="… or just these.")
    note: str | None = Field(None, max_length=2000, description="Written on each account's timeline.")


class HandOverOut(Schema):
    accounts: int
    tasks: int
    opportunities: int


@router.post("/hand-overs", response={201: HandOverOut, **WRITE}, tags=["accounts"])
def create_hand_over(request: HttpRequest, payload: HandOverIn):
    """Move accounts to another owner with their open tasks and open opportunities, in one transaction.
    Administrators: anyone's accounts; managers: their team's; others: their own."""
    result = services.hand_over(
        actor(request),
        payload.to_user_id,
        from_user=payload.from_user_id,
        accounts=payload.account_ids,
        note=payload.note or "",
    )
    return Status(201, {"accounts": result.accounts, "tasks": result.tasks, "opportunities": result.opportunities})

"""REST resources for activities on customers. This issue: notes (GET the list, POST to add)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from guanxi.core.api import CURSOR, LIMIT, READ_ONE, WRITE_ONE, Id, Ref, actor, page_out, ref, utc
from guanxi.core.paging import paginate
from guanxi.customers.api import visible_account, visible_contact

from . import services
from .models import Note

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
    return {"id": note.pk, "body": note.body, "author": ref(note.author), "account_id": note.account_id,
            "contact_id": note.contact_id, "created_at": utc(note.created_at)}


def _notes(notes, params: NoteQuery) -> dict[str, Any]:
    page = paginate(notes.select_related("author"), sort="-id", allowed=["-id"], cursor=params.cursor,
                    limit=params.limit)
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

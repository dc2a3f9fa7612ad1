"""REST resources of ticket files: a reply or note with files (multipart), a ticket's files and a file's content.
The same visibility as the pages: a file of a ticket the caller may not see is a 404."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from guanxi.core.api import READ_ONE, WRITE_ONE, Id, Ref, actor, ref, utc
from guanxi.customers.import_files import refused_upload_message

from . import attachments as files_access
from . import services
from .api import visible_ticket
from .ticket_models import MessageKind

router = Router()
TAG = ["tickets"]


class TicketFileOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    message_id: int | None
    internal: bool
    created_at: dt.datetime


class TicketFileList(Schema):
    items: list[TicketFileOut]


class TicketFileMessageOut(Schema):
    id: int
    kind: str
    body: str
    author: Ref | None
    created_at: dt.datetime
    attachments: list[TicketFileOut]


def _file(f) -> dict:
    return {"id": f.pk, "name": f.name, "size": f.size, "content_type": f.content_type, "message_id": f.message_id,
            "internal": f.message is not None and f.message.kind == MessageKind.NOTE, "created_at": utc(f.created_at)}


@router.post("/tickets/{id}/messages/with-files", response={201: TicketFileMessageOut, **WRITE_ONE}, tags=TAG)
def post_message_with_files(request: HttpRequest, id: Id, body: Form[str], kind: Form[str] = "reply",
                            attachments: File[list[UploadedFile]] = None):
    """A reply or internal note with up to 5 files (multipart/form-data: `body`, `kind`, `attachments`). Files of
    a note are never shown to the customer. A refused file refuses the whole message."""
    ticket, user = visible_ticket(request, id), actor(request)
    if kind not in MessageKind.values:
        raise ValidationError({"kind": [_("Choose reply or note.")]})
    add = services.add_note if kind == MessageKind.NOTE else services.reply
    if refused := refused_upload_message(request):
        raise ValidationError({"attachments": [refused]})
    m = add(user, ticket, body, files=attachments or [])
    return Status(201, {"id": m.pk, "kind": m.kind, "body": m.body, "author": ref(user),
                        "created_at": utc(m.created_at),
                        "attachments": [_file(f) for f in m.attachments.select_related("message").order_by("pk")]})


@router.get("/tickets/{id}/attachments", response={200: TicketFileList, **READ_ONE}, tags=TAG)
def list_attachments(request: HttpRequest, id: Id):
    """The ticket's files, oldest first: the customer's, and those of replies and notes (`internal`)."""
    ticket = visible_ticket(request, id)
    rows = ticket.attachments.select_related("message").order_by("created_at", "id")
    return {"items": [_file(f) for f in rows]}


@router.get("/ticket-attachments/{id}/content", response={**READ_ONE}, tags=TAG)
def attachment_content(request: HttpRequest, id: Id):
    """The file itself (as a download)."""
    file = get_object_or_404(files_access.for_staff(actor(request)), pk=id)
    return FileResponse(file.file.open("rb"), as_attachment=True, filename=file.name)

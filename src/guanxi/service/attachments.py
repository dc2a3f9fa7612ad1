"""Files on tickets: what the customer attaches in the portal and what agents attach to replies and notes.

One set of checks for both doors (count, type, size, and the first bytes of the types that have a signature),
and who may download a file: staff who may see its ticket (`for_staff`); the customer, only files that are
not on an internal note (`for_customer`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.records import fail
from guanxi.customers.fileio.textio import human_size

from .csat_models import TicketAttachment
from .ticket_models import MessageKind, Ticket, TicketMessage

MAX_FILES = 5
# The first bytes of the types whose content is easy to check, so a renamed program is not taken for a picture.
SIGNATURES = {".pdf": (b"%PDF",), ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",),
              ".gif": (b"GIF87a", b"GIF89a"), ".zip": (b"PK\x03\x04", b"PK\x05\x06"),
              ".xlsx": (b"PK\x03\x04",), ".docx": (b"PK\x03\x04",)}


def _refusal(file: UploadedFile) -> str | None:
    name = os.path.basename(file.name or "")[:200] or "?"
    ext = os.path.splitext(name)[1].lower()
    allowed = settings.TICKET_ATTACHMENT_TYPES
    if ext not in allowed:
        return _("“%(name)s” was refused: files of this type are not accepted (allowed: %(types)s).") % {
            "name": name, "types": " ".join(allowed)}
    if file.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
        return _("“%(name)s” was refused: it is %(size)s, the largest file allowed is %(limit)s.") % {
            "name": name, "size": human_size(file.size), "limit": human_size(settings.TICKET_ATTACHMENT_MAX_BYTES)}
    if ext in SIGNATURES:
        file.seek(0)
        head = file.read(8)
        file.seek(0)
        if not head.startswith(SIGNATURES[ext]):
            return _("“%(name)s” was refused: its content is not a %(type)s file.") % {"name": name,
                                                                                      "type": ext[1:].upper()}
    return None


def check_files(files: Sequence[UploadedFile]) -> None:
    """Refuse the whole upload when any file is too large, of a type not allowed, or not what its name says."""
    if len(files) > MAX_FILES:
        fail({"attachments": [_("At most %(max)s files at once.") % {"max": MAX_FILES}]})
    fail({"attachments": refused} if (refused := [r for f in files if (r := _refusal(f))]) else {})


def store_files(ticket: Ticket, message: TicketMessage | None, files: Sequence[UploadedFile]) -> None:
    """Keep checked files on the ticket (and the message they came with); inside the caller's transaction."""
    for f in files:
        name = os.path.basename(f.name or "")[:200]
        TicketAttachment.objects.create(ticket=ticket, message=message, file=f, name=name, size=f.size,
                                        content_type=(getattr(f, "content_type", "") or "")[:100])


def for_staff(user: User) -> QuerySet[TicketAttachment]:
    """Attachments of the tickets `user` may see (any other is a 404)."""
    return TicketAttachment.objects.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))


def for_customer(tickets: QuerySet[Ticket]) -> QuerySet[TicketAttachment]:
    """Attachments a customer may have of their `tickets`: never one on an internal note."""
    return TicketAttachment.objects.filter(ticket__in=tickets.values("pk")).filter(
        Q(message__isnull=True) | ~Q(message__kind=MessageKind.NOTE))

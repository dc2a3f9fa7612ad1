"""What a customer does to tickets from outside the CRM (the portal): submit one with files, and reply.

The customer is identified by their contact; the caller (the portal) has already checked that the ticket
belongs to the contact's organisation. A customer's reply is a public message without a staff author.
Bad input raises ValidationError keyed by field and changes nothing (no ticket, no message, no file).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.records import clean_fields, fail, int_or_none
from guanxi.customers.fileio.textio import human_size
from guanxi.customers.models import Contact
from guanxi.quality.normalize import clean_text

from .csat_models import TicketAttachment
from .models import QuestionGroup
from .services import customer_replied, file_ticket
from .ticket_models import Ticket, TicketChannel, TicketMessage

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


def _store(ticket: Ticket, message: TicketMessage | None, files: Sequence[UploadedFile]) -> None:
    for f in files:
        name = os.path.basename(f.name or "")[:200]
        TicketAttachment.objects.create(ticket=ticket, message=message, file=f, name=name, size=f.size,
                                        content_type=(getattr(f, "content_type", "") or "")[:100])


@transaction.atomic
def submit_ticket(contact: Contact, data: dict[str, Any], files: Sequence[UploadedFile] = (),
                  now: dt.datetime | None = None) -> Ticket:
    """A customer's new ticket: subject, description, a public question group; the contact's company is the
    account. Routed and timed like a staff-made ticket."""
    now = now or timezone.now()
    data = {k: clean_text(v) if k == "subject" and isinstance(v, str) else v for k, v in data.items()}
    cleaned, errors = clean_fields(Ticket, data, ["subject", "description", "language"], partial=False)
    group = None
    if data.get("question_group_id") not in (None, ""):
        group = QuestionGroup.objects.filter(pk=int_or_none(data["question_group_id"]), active=True,
                                             public=True).first()
        if group is None:
            errors["question_group_id"] = [_("No such question group.")]
    fail(errors)
    check_files(files)
    account = contact.primary_account or contact.accounts.order_by("pk").first()
    ticket = file_ticket(Ticket(contact=contact, account=account, question_group=group,
                                channel=TicketChannel.PORTAL, **cleaned), None, now)
    _store(ticket, None, files)
    return ticket


@transaction.atomic
def customer_reply(contact: Contact, ticket: Ticket, body: Any, files: Sequence[UploadedFile] = (),
                   now: dt.datetime | None = None) -> TicketMessage:
    """The customer writes on their ticket: a public message. A resolved ticket, or one waiting on the customer,
    opens again (its SLA clock resumes); a closed one refuses and nothing changes."""
    now = now or timezone.now()
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        fail({"body": [_("This field is required.")]})
    if len(text) > 50_000:
        fail({"body": [_("At most %(max)s characters.") % {"max": 50_000}]})
    check_files(files)
    message = customer_replied(ticket, text, now, field="body")
    current = message.ticket
    _store(current, message, files)
    ticket.version, ticket.status = current.version, current.status
    return message

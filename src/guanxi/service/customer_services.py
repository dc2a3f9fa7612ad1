"""What a customer does to tickets from outside the CRM (the portal): submit one with files, and reply.

The customer is identified by their contact; the caller (the portal) has already checked that the ticket
belongs to the contact's organisation. A customer's reply is a public message without a staff author.
Bad input raises ValidationError keyed by field and changes nothing (no ticket, no message, no file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.records import clean_fields, fail, int_or_none
from guanxi.customers.models import Contact
from guanxi.quality.normalize import clean_text

from .attachments import check_files, store_files
from .models import QuestionGroup
from .services import customer_replied, file_ticket
from .ticket_models import Ticket, TicketChannel, TicketMessage


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
    store_files(ticket, None, files)
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
    store_files(current, message, files)
    ticket.version, ticket.status = current.version, current.status
    return message

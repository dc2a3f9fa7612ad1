"""Ingest one raw message into a mailbox: idempotent, whatever calls it (the poller, a re-sync, the reconcile).

The InboundEmail row is inserted first, under the unique (mailbox, message_id) constraint, in the same
transaction as everything the message causes (a ticket, a message on a ticket, a bounce flag, an
acknowledgement). A second delivery of the same message fails that insert and changes nothing, so it can
never make a second ticket, even from two pollers at once.

A new ticket gets its knowledge-base suggestions and, where allowed, an automatic answer (email_kb); a mailbox
used as a logging address logs users' mail on contacts' timelines instead of opening tickets (email_logging).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import deferred
from guanxi.core.models import AuditAction
from guanxi.core.records import write_audit
from guanxi.customers.fileio.textio import human_size
from guanxi.customers.models import Account, Contact, ContactMethod, ContactMethodKind
from guanxi.knowledge.queries import SuggestionCache
from guanxi.knowledge.services import suggestion_batch
from guanxi.quality.normalize import search_text
from guanxi.quality.signals import check_after_commit, entry_check_suspended
from guanxi.service import services as desk
from guanxi.service.models import settings_read_once
from guanxi.service.ticket_models import MessageKind, Ticket, TicketChannel, TicketMessage, TicketStatus

from . import mail
from .email_kb import answer_from_knowledge_base
from .email_kb_models import EmailAutoResponse
from .email_logging import log_mail
from .email_models import EmailAttachment, InboundEmail, InboundStatus, Mailbox, MailboxMode, OutboundEmail
from .email_outbound import queue_acknowledgement

logger = logging.getLogger(__name__)
CHUNK = 50  # messages a transaction in ingest_many


def attachment_limit() -> int:
    return settings.EMAIL_ATTACHMENT_MAX_BYTES


def ingest(mailbox: Mailbox, raw: bytes, uid: int | None = None,
           now: dt.datetime | None = None) -> tuple[InboundEmail, bool]:
    """Store and act on one message: (its row, True) — or (the row already there for it, False)."""
    now = now or timezone.now()
    try:
        parsed = mail.parse(raw, max_attachment=attachment_limit())
    except mail.MalformedMail as exc:
        return quarantine(mailbox, raw, uid, str(exc))
    try:
        with transaction.atomic(), suggestion_batch() as suggestions:
            row = _claim(mailbox, parsed, uid)
            if row.pk is None:  # already there: this message was ingested before
                existing = InboundEmail.objects.select_for_update().get(mailbox=mailbox, message_id=parsed.message_id)
                if existing.status != InboundStatus.QUARANTINED:
                    return existing, False
                existing.delete()  # quarantined before (too large, a failure) and readable now: ingest it for real
                row = _claim(mailbox, parsed, uid)
            _act(mailbox, row, parsed, now, raw, Batch(suggestions))
            return row, True
    except Exception as exc:  # a bug or a database refusal on this one message: keep it, poll on
        logger.exception("could not ingest %s into mailbox %s", parsed.message_id, mailbox.pk)
        return quarantine(mailbox, raw, uid, f"{exc.__class__.__name__}: {exc}"[:1000], parsed.message_id)


def ingest_many(mailbox: Mailbox, messages: Sequence[tuple[bytes, int | None]], now: dt.datetime | None = None
                ) -> list[tuple[InboundEmail, bool]]:
    """`ingest` for many messages (raw bytes, IMAP uid or None), in order, with one transaction per CHUNK of them:
    each message in a savepoint of its own, the lookups they share made once a chunk (Batch), the messages
    already there found with one query. A message that fails is rolled back alone and then ingested by itself
    (`ingest`: quarantined if it fails again); a chunk whose commit fails is ingested again message by message.
    The live events and mail of the chunk's messages go after its commit."""
    now = now or timezone.now()
    out: list[tuple[InboundEmail, bool]] = []
    for start in range(0, len(messages), CHUNK):
        out += _ingest_chunk(mailbox, messages[start:start + CHUNK], now)
    return out


def _ingest_chunk(mailbox: Mailbox, messages: Sequence[tuple[bytes, int | None]], now: dt.datetime
                  ) -> list[tuple[InboundEmail, bool]]:
    parsed: list[mail.ParsedMail | None] = []
    for raw, _uid in messages:
        try:
            parsed.append(mail.parse(raw, max_attachment=attachment_limit()))
        except mail.MalformedMail:
            parsed.append(None)  # quarantined by `ingest` below, with the reason
    try:  # almost always nothing fails: no savepoint per message (each one a round trip, twice)
        results = _store_chunk(mailbox, messages, parsed, now, isolated=False)
    except Exception:  # something did: nothing of the chunk was stored; again, each message in a savepoint
        try:
            results = _store_chunk(mailbox, messages, parsed, now, isolated=True)
        except Exception:  # the commit (or a shared lookup) failed: nothing of the chunk was stored
            logger.exception("could not commit %s messages of mailbox %s; ingesting them one by one",
                             len(messages), mailbox.pk)
            results = [None] * len(messages)
    return [result or ingest(mailbox, raw, uid, now) for result, (raw, uid) in zip(results, messages, strict=True)]


def _store_chunk(mailbox: Mailbox, messages: Sequence[tuple[bytes, int | None]],
                 parsed: list[mail.ParsedMail | None], now: dt.datetime, isolated: bool
                 ) -> list[tuple[InboundEmail, bool] | None]:
    """One transaction for the chunk. Not `isolated`: any error rolls all of it back (raised). `isolated`: each
    message in a savepoint, one that fails is rolled back alone and left None (for `ingest` to take it alone).
    The events and audit entries of the chunk are inserted together at its end, the new contacts' duplicate
    check runs for all of them after the commit."""
    results: list[tuple[InboundEmail, bool] | None] = [None] * len(messages)
    with (transaction.atomic(), suggestion_batch() as suggestions, settings_read_once(), entry_check_suspended(),
          deferred.rows_saved_together()):
        batch = Batch(suggestions)
        check_after_commit("contact", batch.new_contacts)
        known = {r.message_id: r for r in InboundEmail.objects.filter(
            mailbox=mailbox, message_id__in=[p.message_id for p in parsed if p is not None])}
        batch.find_contacts({p.from_address for p in parsed
                             if p is not None and p.from_address and p.message_id not in known})
        for i, ((raw, uid), message) in enumerate(zip(messages, parsed, strict=True)):
            if message is None:
                continue
            existing = known.get(message.message_id)
            if existing is not None:
                if existing.status != InboundStatus.QUARANTINED:  # else read again by `ingest` afterwards
                    results[i] = (existing, False)
                continue
            if not isolated:
                row = _new_row(mailbox, message, uid)  # inserted by _act once it knows the ticket: one query less;
                _act(mailbox, row, message, now, raw, batch)  # one already there (another poller) fails the chunk
                results[i] = (row, True)
                known[message.message_id] = row  # twice in the chunk: the second is this one again
                continue
            counted, kept = suggestions.checkpoint(), deferred.mark()
            try:
                with transaction.atomic():
                    row = _new_row(mailbox, message, uid)
                    row.save()  # a message already there (another poller, twice in the chunk) fails here
                    _act(mailbox, row, message, now, raw, batch)
                results[i] = (row, True)
            except Exception:  # rolled back to its savepoint; `ingest` takes it alone afterwards
                suggestions.restore(counted)
                deferred.drop_since(kept)
                batch.forget()
        deferred.flush()
    return results


def _new_row(mailbox: Mailbox, parsed: mail.ParsedMail, uid: int | None) -> InboundEmail:
    return InboundEmail(
        mailbox=mailbox, message_id=parsed.message_id, uid=uid, status=InboundStatus.TICKET,
        from_address=parsed.from_address[:254], from_name=parsed.from_name, to=parsed.to, cc=parsed.cc,
        subject=parsed.subject, in_reply_to=" ".join(parsed.in_reply_to), references=" ".join(parsed.references),
        body=parsed.text, sent_at=parsed.date if parsed.date and parsed.date.tzinfo else None)


def _claim(mailbox: Mailbox, parsed: mail.ParsedMail, uid: int | None) -> InboundEmail:
    row = _new_row(mailbox, parsed, uid)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        row.pk = None
    return row


def quarantine(mailbox: Mailbox, raw: bytes, uid: int | None, reason: str,
                message_id: str | None = None) -> tuple[InboundEmail, bool]:
    """Keep an unreadable message whole (raw bytes on file) with the reason, for the sync-health page."""
    message_id = message_id or mail.quarantine_id(raw)
    with transaction.atomic():
        row = InboundEmail(mailbox=mailbox, message_id=message_id, uid=uid, status=InboundStatus.QUARANTINED,
                           reason=reason)
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            existing = InboundEmail.objects.get(mailbox=mailbox, message_id=message_id)
            if existing.status != InboundStatus.QUARANTINED or existing.raw:
                return existing, False
            row = existing  # quarantined by a failed ingest of the same id before: keep the raw bytes now
        row.raw.save(f"{mailbox.pk}-{row.pk}.eml", ContentFile(raw), save=True)
        return row, True


def _thread(mailbox: Mailbox, parsed: mail.ParsedMail) -> tuple[Ticket | None, str]:
    """The ticket this message continues — a message id we stored or sent, else the subject's token when the sender
    may use it (mail.may_use_token) — and the token refused ("" when none was)."""
    ids = parsed.thread_ids
    ticket_id = None
    if ids:
        known = dict(OutboundEmail.objects.filter(message_id__in=ids).values_list("message_id", "ticket_id"))
        known.update({m: t for m, t in InboundEmail.objects.filter(message_id__in=ids, ticket__isnull=False)
                     .values_list("message_id", "ticket_id") if m not in known})
        ticket_id = next((known[m] for m in ids if m in known), None)
    ticket = Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None
    refused = ""
    if ticket is None and parsed.token:
        ticket = Ticket.objects.filter(number=parsed.token).first()
        if ticket is not None and not _may_use_token(ticket, parsed.from_address):
            ticket, refused = None, parsed.token
    seen = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:  # follow merges
        seen.add(ticket.pk)
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first() or ticket
    return ticket, refused


def _may_use_token(ticket: Ticket, sender: str) -> bool:
    contact = set()
    if ticket.contact_id:
        contact = set(ContactMethod.objects.filter(contact_id=ticket.contact_id, kind=ContactMethodKind.EMAIL)
                      .values_list("normalized", flat=True))
        emails = Contact.objects.filter(pk=ticket.contact_id).values_list("email", flat=True)
        contact |= {e.lower() for e in emails if e}
    seen: set[str] = set()
    for sender_, to, cc in InboundEmail.objects.filter(ticket=ticket).values_list("from_address", "to", "cc"):
        seen.update([sender_, *(to or []), *(cc or [])])
    for to, cc in OutboundEmail.objects.filter(ticket=ticket).values_list("to", "cc"):
        seen.update([to, *(cc or [])])
    return mail.may_use_token(sender, contact, seen)


class Batch:
    """What the messages of one transaction share: our own addresses, the senders' contacts and their accounts,
    each question group's automatic-answer setting, the knowledge base's suggestion cache. A message rolled back
    to its savepoint may have added a contact that is gone again: `forget` drops what was found."""

    def __init__(self, suggestions: SuggestionCache) -> None:
        self.suggestions = suggestions
        self.auto_responses: dict[int | None, EmailAutoResponse | None] = {}
        self._own: set[str] | None = None
        self.new_contacts: list[int] = []  # made in this transaction: their duplicate check runs after the commit
        self.forget()

    def forget(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.unknown: set[str] = set()  # addresses no contact had when looked up in this transaction
        self.accounts: dict[int, Account | None] = {}

    def ours(self, address: str) -> bool:
        """Mail from one of our mailboxes (it must not loop back in as a ticket)."""
        if self._own is None:
            self._own = set(Mailbox.objects.values_list("address", flat=True))
        return address in self._own

    def find_contacts(self, addresses: set[str]) -> None:
        """Look up the contacts of many senders at once (as `_contact_for` does one)."""
        addresses = addresses - self.contacts.keys() - self.unknown
        if not addresses:
            return
        found: list[Contact] = []
        for method in (ContactMethod.objects.select_related("contact__primary_account").filter(
                kind=ContactMethodKind.EMAIL, normalized__in=addresses).order_by("contact_id", "pk")):
            self.contacts.setdefault(method.normalized, method.contact)
            found.append(method.contact)
        rest = addresses - self.contacts.keys()
        if rest:
            for contact in Contact.objects.filter(email__in=rest).select_related("primary_account").order_by("pk"):
                self.contacts.setdefault(contact.email, contact)
                found.append(contact)
        self.unknown |= addresses - self.contacts.keys()
        self._find_accounts([c for c in found if c.pk not in self.accounts])

    def _find_accounts(self, contacts: list[Contact]) -> None:
        """`account_of` for many contacts: the primary account, else the first linked (one query for all)."""
        first: dict[int, int] = {}
        linked = [c.pk for c in contacts if c.primary_account_id is None]
        if linked:
            for contact_id, account_id in (Contact.accounts.through.objects.filter(contact_id__in=linked)
                                           .values_list("contact_id", "account_id")):
                first[contact_id] = min(account_id, first.get(contact_id, account_id))
        rows = Account.objects.in_bulk(set(first.values())) if first else {}
        for c in contacts:
            self.accounts[c.pk] = c.primary_account if c.primary_account_id else rows.get(first.get(c.pk, 0))

    def account_of(self, contact: Contact) -> Account | None:
        if contact.pk not in self.accounts:
            self.accounts[contact.pk] = contact.primary_account or contact.accounts.order_by("pk").first()
        return self.accounts[contact.pk]


def _contact_for(parsed: mail.ParsedMail, batch: Batch) -> Contact:
    address = parsed.from_address
    batch.find_contacts({address})
    if address in batch.contacts:
        return batch.contacts[address]
    name = (parsed.from_name or address.split("@")[0])[:100]
    contact = Contact.objects.create(name=name, email=address, search_text=search_text(names=[name], emails=[address]))
    ContactMethod.objects.create(contact=contact, kind=ContactMethodKind.EMAIL, value=address,
                                 normalized=address, is_primary=True)
    write_audit(contact, None, AuditAction.CREATE, {"name": [None, name], "emails": [None, [address]],
                                                    "source": [None, "email"]})
    batch.contacts[address] = contact
    batch.unknown.discard(address)
    batch.accounts[contact.pk] = None  # new: in no company yet
    batch.new_contacts.append(contact.pk)
    return contact


def _body(row: InboundEmail, parsed: mail.ParsedMail) -> str:
    """The text agents read: the message, who else was copied, and what happened to each attachment."""
    lines = [parsed.text or _("(no text)")]
    if parsed.cc:
        lines.append(_("Cc: %(addresses)s") % {"addresses": ", ".join(parsed.cc)})
    for attachment in parsed.attachments:
        if attachment.refused:
            lines.append(_("Attachment “%(name)s” (%(size)s) was refused: larger than the %(limit)s limit.")
                         % {"name": attachment.filename, "size": human_size(attachment.size),
                            "limit": human_size(attachment_limit())})
        else:
            lines.append(_("Attachment: %(name)s (%(size)s)") % {"name": attachment.filename,
                                                                  "size": human_size(attachment.size)})
    return "\n\n".join(lines)[:50_000]


def _store_attachments(row: InboundEmail, parsed: mail.ParsedMail) -> None:
    for attachment in parsed.attachments:
        item = EmailAttachment(inbound=row, filename=attachment.filename, content_type=attachment.content_type[:100],
                               size=attachment.size)
        if attachment.refused:
            item.refused = _("larger than the %(limit)s limit") % {"limit": human_size(attachment_limit())}
            item.save()
        else:
            item.file.save(attachment.filename, ContentFile(attachment.data), save=True)


def _keep(row: InboundEmail) -> None:
    """Write what the message became — with the row's insert when it was left unsaved until now (a chunk)."""
    if row.pk is None:
        row.save()
    else:
        row.save(update_fields=["status", "ticket", "ticket_message"])


def _act(mailbox: Mailbox, row: InboundEmail, parsed: mail.ParsedMail, now: dt.datetime, raw: bytes,
         batch: Batch) -> None:
    """What the message does. `row` may be unsaved yet: it is inserted as soon as something must point at it."""
    if row.pk is None and (mailbox.mode == MailboxMode.LOGGING or parsed.attachments):
        row.save()
    if mailbox.mode == MailboxMode.LOGGING:
        return log_mail(mailbox, row, parsed, raw, now)
    ticket, refused_token = _thread(mailbox, parsed)
    if parsed.kind == mail.BOUNCE:
        row.status = InboundStatus.BOUNCE
        reason = (parsed.subject or _("delivery failed"))[:200]
        ContactMethod.objects.filter(kind=ContactMethodKind.EMAIL, normalized__in=parsed.bounced,
                                     invalid_since__isnull=True).update(invalid_since=now, invalid_reason=reason)
        if ticket is not None:
            row.ticket = ticket
            row.ticket_message = TicketMessage.objects.create(
                ticket=ticket, kind=MessageKind.NOTE, body=_("Mail to %(addresses)s bounced: %(reason)s")
                % {"addresses": ", ".join(parsed.bounced) or "?", "reason": reason})
        _keep(row)
        return
    _store_attachments(row, parsed)
    body = _body(row, parsed)
    if parsed.kind == mail.AUTO_REPLY or batch.ours(parsed.from_address):
        # kept, never answered: an out-of-office must not reopen a ticket, our own mail must not loop back in
        row.status = InboundStatus.AUTO_REPLY
        if ticket is not None:
            row.ticket = ticket
            row.ticket_message = TicketMessage.objects.create(ticket=ticket, kind=MessageKind.NOTE, body=body)
        _keep(row)
        return
    if ticket is not None and ticket.status != TicketStatus.CLOSED:
        row.status, row.ticket = InboundStatus.THREADED, ticket
        row.ticket_message = desk.customer_replied(ticket, body, now)
        _keep(row)
        return
    contact = _contact_for(parsed, batch)
    description = _("Received by email from %(sender)s at %(mailbox)s.") % {"sender": parsed.from_address,
                                                                          "mailbox": mailbox.address}
    if ticket is not None:  # a reply to a closed ticket opens a new one, linked
        description += "\n" + _("Follow-up to closed ticket %(number)s.") % {"number": ticket.number}
    if refused_token:
        description += "\n" + _("The subject names ticket %(number)s, but the sender is not on that ticket: "
                                "opened a new ticket instead.") % {"number": refused_token}
    new = desk.open_ticket(None, {
        "subject": mail.TOKEN_RE.sub("", parsed.subject).strip()[:200] or _("(no subject)"),
        "description": description, "contact": contact,
        "account": batch.account_of(contact),
        "question_group": mailbox.question_group, "queue": mailbox.queue, "channel": TicketChannel.EMAIL,
    }, now)
    row.status, row.ticket = InboundStatus.TICKET, new
    row.ticket_message = TicketMessage.objects.create(ticket=new, kind=MessageKind.REPLY, body=body)
    _keep(row)
    if answer_from_knowledge_base(mailbox, row, new, parsed.text, now, batch.suggestions, batch.auto_responses):
        return  # the automatic answer carries the ticket number: no acknowledgement besides
    if mailbox.auto_acknowledge:
        queue_acknowledgement(mailbox, row, new, now)

"""A logging address: users BCC it on mail they send, or forward to it mail they received, from their own mail
client (Outlook, Foxmail, …), and the mail lands on the timeline of every contact it was with — an email
Activity by that user — instead of opening a ticket.

Only a Guanxi user may log: mail from any other sender is quarantined with the reason, never logged. The
InboundEmail row (unique per mailbox and Message-ID) makes logging the same mail twice a no-op, as for tickets.
Addresses that match no contact are kept on the row and listed on the mailbox's health page.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity, ActivityKind, Direction
from guanxi.activities.services import follow_up_recorded
from guanxi.core.models import AuditAction, User
from guanxi.core.records import write_audit
from guanxi.customers.models import Contact, ContactMethod, ContactMethodKind

from . import mail, mail_forward
from .email_models import InboundEmail, InboundStatus, Mailbox


def _quarantine(row: InboundEmail, raw: bytes, reason: str) -> None:
    row.status, row.reason = InboundStatus.QUARANTINED, reason
    row.raw.save(f"{row.mailbox_id}-{row.pk}.eml", ContentFile(raw), save=False)
    row.save(update_fields=["status", "reason", "raw"])


def _user(address: str) -> User | None:
    return User.objects.filter(email__iexact=address, is_active=True).order_by("pk").first() if address else None


def _contacts(addresses: list[str]) -> tuple[list[Contact], list[str]]:
    """The contacts with any of `addresses` (every one of them, when two share an address), and the addresses
    that are nobody's. Our own mailboxes and Guanxi users are not customers: left out of both."""
    ours = set(Mailbox.objects.filter(address__in=addresses).values_list("address", flat=True))
    ours |= set(User.objects.annotate(address=Lower("email")).filter(address__in=addresses)
                .values_list("address", flat=True))
    wanted = [a for a in addresses if a not in ours]
    methods = list(ContactMethod.objects.filter(kind=ContactMethodKind.EMAIL, normalized__in=wanted)
                   .values_list("normalized", "contact_id"))
    found = {a for a, _c in methods}
    by_email = {c.email.lower(): c for c in Contact.objects.filter(email__in=[a for a in wanted if a not in found])}
    ids = {c for _a, c in methods} | {c.pk for c in by_email.values()}
    contacts = list(Contact.objects.filter(pk__in=ids).select_related("primary_account").order_by("pk"))
    return contacts, [a for a in wanted if a not in found and a not in by_email]


def _when(value: dt.datetime | None, fallback: dt.datetime) -> dt.datetime:
    if value is None:
        return fallback
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def log_mail(mailbox: Mailbox, row: InboundEmail, parsed: mail.ParsedMail, raw: bytes, now: dt.datetime) -> None:
    """Log one mail that came to a logging address (inside the ingest's transaction)."""
    if parsed.kind != mail.NORMAL:
        return _quarantine(row, raw, _("An automatic message (bounce or auto-reply): not logged."))
    user = _user(parsed.from_address)
    if user is None:
        return _quarantine(row, raw, _("The sender %(address)s is not a Guanxi user: only users may log mail "
                                       "here.") % {"address": parsed.from_address})
    original = mail_forward.forwarded(raw, parsed.subject, parsed.text)
    if original is not None and original.from_address and _user(original.from_address) is None:
        direction, people = Direction.INBOUND, [original.from_address]  # a customer's mail the user received
    elif original is not None:
        direction, people = Direction.OUTBOUND, original.to + original.cc  # the user forwarded their own mail
    else:
        direction, people = Direction.OUTBOUND, parsed.to + parsed.cc  # BCC'd on mail the user sent
    source = original or parsed
    contacts, unmatched = _contacts(list(dict.fromkeys(people)))
    occurred = _when(source.date, parsed.date or now)
    header = [_("From: %(address)s") % {"address": source.from_address}]
    if source.to:
        header.append(_("To: %(addresses)s") % {"addresses": ", ".join(source.to)})
    if source.cc:
        header.append(_("Cc: %(addresses)s") % {"addresses": ", ".join(source.cc)})
    body = ("\n".join(header) + "\n\n" + (source.text or _("(no text)")))[:50_000]
    subject = (mail_forward.FORWARD_SUBJECT.sub("", source.subject).strip() or _("(no subject)"))[:200]
    for contact in contacts:
        activity = Activity.objects.create(
            kind=ActivityKind.EMAIL, subject=subject, body=body, contact=contact, account=contact.primary_account,
            author=user, occurred_at=occurred, direction=direction)
        write_audit(activity, user, AuditAction.CREATE, {"kind": [None, ActivityKind.EMAIL], "subject": [None, subject],
                                                         "contact_id": [None, contact.pk], "source": [None, "email"]})
    accounts = {c.primary_account_id for c in contacts if c.primary_account_id}
    if accounts:
        follow_up_recorded(accounts, occurred)
    row.status = InboundStatus.LOGGED if contacts else InboundStatus.NO_CONTACT
    row.unmatched = ", ".join(unmatched)[:5000]
    row.save(update_fields=["status", "unmatched"])

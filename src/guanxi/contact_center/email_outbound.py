"""Mail we send through a mailbox's SMTP server: acknowledgements of new tickets and agents' replies.

An OutboundEmail row is written in the transaction that causes it (so its Message-ID threads the customer's
answer even before it leaves); it is sent after commit, and a failed send is retried by the sweep. A send is
claimed by bumping `attempts` from the value read, so two senders never both send one row.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.customers.models import ContactMethod, ContactMethodKind
from guanxi.service.ticket_models import Ticket, TicketMessage

from . import mail
from .email_models import InboundEmail, Mailbox, OutboundEmail, OutboundKind, Security

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
SMTP_TIMEOUT = 20


def smtp_connection(mailbox: Mailbox) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if mailbox.smtp_security == Security.SSL:
        conn: smtplib.SMTP = smtplib.SMTP_SSL(mailbox.smtp_host, mailbox.smtp_port, timeout=SMTP_TIMEOUT,
                                              context=context)
    else:
        conn = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=SMTP_TIMEOUT)
        if mailbox.smtp_security == Security.STARTTLS:
            conn.starttls(context=context)
    if mailbox.smtp_user:
        conn.login(mailbox.smtp_user, mailbox.smtp_password)
    return conn


def build_message(out: OutboundEmail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((out.mailbox.name, out.mailbox.address))
    msg["To"] = out.to
    if out.cc:
        msg["Cc"] = ", ".join(out.cc)
    msg["Subject"] = out.subject
    msg["Date"] = format_datetime(out.created_at or timezone.now())
    msg["Message-ID"] = f"<{out.message_id}>"
    if out.in_reply_to:
        msg["In-Reply-To"] = f"<{out.in_reply_to}>"
    if out.references:
        msg["References"] = " ".join(f"<{m}>" for m in out.references.split())
    if out.kind in (OutboundKind.ACK, OutboundKind.AUTO):  # RFC 3834: other robots must not answer this
        msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(out.body)
    return msg


def send(ids: list[int]) -> int:
    """Send the rows not sent yet; returns how many left. A failure is kept on the row for the retry."""
    sent = 0
    for out in OutboundEmail.objects.select_related("mailbox").filter(pk__in=ids, sent_at__isnull=True):
        claimed = OutboundEmail.objects.filter(pk=out.pk, sent_at__isnull=True, attempts=out.attempts).update(
            attempts=F("attempts") + 1)
        if not claimed:
            continue
        try:
            with smtp_connection(out.mailbox) as conn:
                conn.send_message(build_message(out), from_addr=out.mailbox.address, to_addrs=[out.to, *out.cc])
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("could not send %s: %s", out.message_id, exc)
            OutboundEmail.objects.filter(pk=out.pk).update(error=f"{exc.__class__.__name__}: {exc}"[:1000])
            continue
        OutboundEmail.objects.filter(pk=out.pk).update(sent_at=timezone.now(), error="")
        sent += 1
    return sent


def send_after_commit(out: OutboundEmail) -> None:
    transaction.on_commit(lambda: send([out.pk]))


def retry_unsent(now: dt.datetime) -> int:
    """The sweep: send again what failed (or was never sent because the process died), a minute on."""
    ids = list(OutboundEmail.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS,
                                            created_at__lte=now - dt.timedelta(minutes=1))
               .values_list("pk", flat=True)[:100])
    return send(ids) if ids else 0


def _thread_of(ticket: Ticket) -> tuple[InboundEmail | None, str, list[str]]:
    """(latest inbound, its id to answer, the references chain) for a ticket that came by email."""
    inbound = list(InboundEmail.objects.filter(ticket=ticket).exclude(status="quarantined")
                   .order_by("received_at", "id").values_list("message_id", "received_at", "pk"))
    outbound = list(OutboundEmail.objects.filter(ticket=ticket).values_list("message_id", "created_at", "pk"))
    chain = [m for m, _at, _pk in sorted(inbound + outbound, key=lambda r: (r[1], r[2]))]
    latest = InboundEmail.objects.select_related("mailbox").get(pk=inbound[-1][2]) if inbound else None
    return latest, (inbound[-1][0] if inbound else ""), chain[-20:]


def queue_mail(mailbox: Mailbox, ticket: Ticket | None, kind: str, to: str, subject: str, body: str,
              in_reply_to: str, references: list[str], message: TicketMessage | None = None,
              cc: list[str] | None = None) -> OutboundEmail:
    out = OutboundEmail.objects.create(
        mailbox=mailbox, ticket=ticket, ticket_message=message, kind=kind, to=to, cc=cc or [],
        message_id=mail.new_message_id(mailbox.domain), subject=subject[:500], body=body,
        in_reply_to=in_reply_to, references=" ".join(references))
    send_after_commit(out)
    return out


def may_answer_automatically(mailbox: Mailbox, sender: str, now: dt.datetime) -> bool:
    """Whether a robot of ours may mail `sender` (see why_not_answer)."""
    return not why_not_answer(mailbox, sender, now)


def why_not_answer(mailbox: Mailbox, sender: str, now: dt.datetime) -> str:
    """Why a robot of ours may not mail `sender` ("" when it may): our own address, an address that bounced, or
    more often than EMAIL_ACK_PER_HOUR (acknowledgements and automatic answers together) — no mail loops."""
    if not sender:
        return _("the message has no sender address")
    if sender == mailbox.address.lower() or Mailbox.objects.filter(address=sender).exists():
        return _("the sender is one of our own mailboxes")
    recent = OutboundEmail.objects.filter(to=sender, kind__in=(OutboundKind.ACK, OutboundKind.AUTO),
                                          created_at__gte=now - dt.timedelta(hours=1)).count()
    if recent >= settings.EMAIL_ACK_PER_HOUR:
        return _("%(address)s already had %(count)s automatic answers in the last hour (mail-loop guard)") % {
            "address": sender, "count": recent}
    if ContactMethod.objects.filter(kind=ContactMethodKind.EMAIL, normalized=sender,
                                    invalid_since__isnull=False).exists():
        return _("mail to %(address)s bounced") % {"address": sender}
    return ""


def _answer(mailbox: Mailbox, row: InboundEmail, ticket: Ticket, kind: str, body: str) -> OutboundEmail:
    refs = [*row.references.split(), row.message_id][-20:]
    with translation.override(settings.LANGUAGE_CODE):
        subject = mail.reply_subject(row.subject, ticket.number)
    return queue_mail(mailbox, ticket, kind, row.from_address, subject, body, row.message_id, refs)


def queue_acknowledgement(mailbox: Mailbox, row: InboundEmail, ticket: Ticket, now: dt.datetime) -> None:
    """Tell the sender their ticket's number — unless we told them too often this hour (no mail loops): then the
    mail says why none went out (the ticket's email panel shows it)."""
    sender = row.from_address
    with translation.override(settings.LANGUAGE_CODE):  # stored text: in the site's language
        reason = why_not_answer(mailbox, sender, now)
        if reason:
            row.reason = _("No acknowledgement sent: %(reason)s.") % {"reason": reason}
    if reason:
        row.save(update_fields=["reason"])
        return
    with translation.override(settings.LANGUAGE_CODE):
        body = _("We received your message and opened ticket %(number)s. Reply to this email to add to it; "
                 "keep %(token)s in the subject.") % {"number": ticket.number, "token": mail.token_for(ticket.number)}
    _answer(mailbox, row, ticket, OutboundKind.ACK, body)


def queue_automatic_answer(mailbox: Mailbox, row: InboundEmail, ticket: Ticket, body: str) -> OutboundEmail:
    """The knowledge base's answer (email_kb decided it may go): in the thread, marked Auto-Submitted."""
    return _answer(mailbox, row, ticket, OutboundKind.AUTO, body)


def on_reply_added(sender, ticket: Ticket, message: TicketMessage, actor, **kwargs) -> None:
    """service.reply() on a ticket that came by email: the reply goes to the customer, in the same thread."""
    latest, answer_to, chain = _thread_of(ticket)
    if latest is None or not latest.mailbox.active:
        return
    to = latest.from_address or (ticket.contact.email if ticket.contact_id else "")
    if not to:
        return
    first_subject = (InboundEmail.objects.filter(ticket=ticket).exclude(subject="").order_by("received_at", "id")
                     .values_list("subject", flat=True).first() or ticket.subject)
    queue_mail(latest.mailbox, ticket, OutboundKind.REPLY, to, mail.reply_subject(first_subject, ticket.number),
              message.body, answer_to, chain, message=message,
              cc=[a for a in latest.cc if a != latest.mailbox.address.lower()][:20])

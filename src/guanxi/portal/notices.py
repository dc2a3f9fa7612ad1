"""A customer who opened a ticket in the portal is e-mailed when an agent replies on it (a ticket that came by
e-mail gets the reply itself in its thread: contact_center.email_outbound — so a portal ticket the customer also
wrote on by e-mail gets that, not a notice as well). The e-mail says a reply is there, quotes
it and links to the ticket in the portal; it goes through the configured SMTP server with the surveys' outbox rules
(service.survey_mail): one row per reply, sent after commit, claimed once per attempt, retried by the sweep."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.contact_center.email_models import OutboundEmail
from guanxi.service import survey_mail
from guanxi.service.ticket_models import MessageKind, Ticket, TicketChannel, TicketMessage

from .models import PortalUser, ReplyNotice


def ticket_url(ticket: Ticket) -> str:
    """The ticket's page in the portal (the customer signs in there if they are not)."""
    return settings.SITE_URL + reverse("portal:ticket_detail", args=[ticket.pk])


def on_reply_added(sender: Any, ticket: Ticket, message: TicketMessage, actor: Any, **kwargs: Any) -> None:
    """service.reply() (inside its transaction): an agent's public reply on a portal ticket is announced to the
    ticket's contact once the reply is committed. Internal notes and the customer's own messages are not."""
    if (ticket.channel != TicketChannel.PORTAL or message.kind != MessageKind.REPLY or message.author_id is None
            or ticket.contact_id is None):
        return
    row, created = ReplyNotice.objects.get_or_create(message=message)
    if created:
        transaction.on_commit(partial(send_notices, [row.pk]))


def _rows() -> QuerySet[ReplyNotice]:
    portal_language = (PortalUser.objects.filter(contact=OuterRef("message__ticket__contact"), is_active=True)
                       .exclude(language="").order_by("-last_login", "-pk").values("language")[:1])
    return ReplyNotice.objects.select_related("message__ticket__contact").annotate(
        portal_language=Subquery(portal_language),
        threaded=Exists(OutboundEmail.objects.filter(ticket_message_id=OuterRef("message_id"))))


def _notice(row: ReplyNotice) -> survey_mail.Mail | str:
    """The e-mail of a ReplyNotice in the customer's language (the ticket's, else their portal account's); a
    contact with no address any more has nothing to send."""
    message = row.message
    ticket = message.ticket
    contact = ticket.contact
    if contact is None or not contact.email:
        return "nothing to send: the ticket's contact has no e-mail address"
    if row.threaded:
        # The customer also wrote by e-mail: the reply itself went to them in that thread (written with the reply).
        return "nothing to send: the reply went out by e-mail in the ticket's thread"
    with translation.override(ticket.language or row.portal_language or settings.LANGUAGE_CODE):
        subject = _("New reply on your ticket %(number)s") % {"number": ticket.number}
        body = _("Hello %(name)s,\n\nwe have replied to your ticket %(number)s “%(subject)s”:\n\n%(reply)s\n\n"
                 "Read the whole conversation and answer in the customer portal:\n\n%(url)s") % {
            "name": contact.name, "number": ticket.number, "subject": ticket.subject, "reply": message.body,
            "url": ticket_url(ticket)}
    return survey_mail.Mail(subject, body, contact.email)


def send_notices(ids: list[int], now: dt.datetime | None = None) -> int:
    """E-mail these ReplyNotice rows not sent yet; returns how many left (a refusal is kept for the sweep)."""
    return survey_mail.send(_rows(), ids, _notice, now)


def retry_notices(now: dt.datetime) -> int:
    """The sweep: send again what the mail server refused (or what a dead process never sent)."""
    return survey_mail.retry(_rows(), _notice, now)

"""Satisfaction surveys (CSAT): when a ticket is resolved its contact is e-mailed a signed link (no log-in);
the answer, 1–5 and a comment, is taken once. Averages per agent and per queue over the tickets a user sees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.records import fail, int_or_none

from . import survey_mail
from .csat_models import SatisfactionResponse, SurveyMail
from .ticket_models import Ticket, TicketStatus

SALT = "guanxi.service.csat"
PERIODS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365, "all": None}


def survey_token(ticket: Ticket) -> str:
    return survey_mail.sign(ticket.pk, SALT)


def survey_url(ticket: Ticket) -> str:
    return settings.SITE_URL + reverse("portal:survey", args=[survey_token(ticket)])


def ticket_for_token(token: str) -> Ticket:
    """The ticket a survey link is for; an altered, foreign or expired link is refused."""
    pk = survey_mail.unsign(token, SALT, settings.CSAT_LINK_DAYS)
    ticket = Ticket.objects.select_related("owner").filter(pk=pk).first()
    if ticket is None:
        fail({"token": [_("This survey link is not valid.")]})
    return ticket


def _survey_message(row: SurveyMail) -> survey_mail.Mail | str:
    """The survey e-mail of a SurveyMail row in the ticket's language; a ticket with no address any more, or
    already rated, has nothing to send."""
    ticket = row.ticket
    if ticket.contact is None or not ticket.contact.email or SatisfactionResponse.objects.filter(
            ticket_id=ticket.pk).exists():
        return "nothing to send"
    with translation.override(ticket.language or settings.LANGUAGE_CODE):
        subject = _("How did we do? Ticket %(number)s") % {"number": ticket.number}
        body = _("Hello %(name)s,\n\nyour ticket %(number)s “%(subject)s” has been resolved. "
                 "Please tell us how satisfied you are (1–5), it takes a few seconds:\n\n%(url)s\n\n"
                 "If the problem is not solved, simply reply in the customer portal and the ticket opens again.") % {
            "name": ticket.contact.name, "number": ticket.number, "subject": ticket.subject, "url": survey_url(ticket)}
    return survey_mail.Mail(subject, body, ticket.contact.email)


def _rows():
    return SurveyMail.objects.select_related("ticket__contact")


def send_surveys(ids: list[int], now: dt.datetime | None = None) -> int:
    """E-mail the survey link of these SurveyMail rows not sent yet, each to its ticket's contact in the ticket's
    language; returns how many left (see survey_mail.send: a refusal is retried by the sweep)."""
    return survey_mail.send(_rows(), ids, _survey_message, now)


def retry_surveys(now: dt.datetime) -> int:
    """The sweep: send again what the mail server refused (or what a dead process never sent)."""
    return survey_mail.retry(_rows(), _survey_message, now)


def survey_on_commit(ticket: Ticket) -> None:
    """The ticket's survey e-mail, once in its life: written with the (first) resolution, sent once that
    transaction has committed (never for a rolled-back one); the sweep retries a failed send."""
    if ticket.contact_id is None:
        return
    row, created = SurveyMail.objects.get_or_create(ticket=ticket)
    if created:
        transaction.on_commit(partial(send_surveys, [row.pk]))


@transaction.atomic
def answer_survey(ticket: Ticket, score: Any, comment: Any = "", now: dt.datetime | None = None
                  ) -> SatisfactionResponse:
    """The customer's rating, taken once: a second answer is refused and the first stands."""
    errors: dict[str, list[str]] = {}
    value = int_or_none(score)
    if value is None or not 1 <= value <= 5:
        errors["score"] = [_("Choose a score from 1 to 5.")]
    text = comment.strip() if isinstance(comment, str) else ""
    if len(text) > 2000:
        errors["comment"] = [_("At most %(max)s characters.") % {"max": 2000}]
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        errors["score"] = [_("This ticket is not resolved yet.")]
    fail(errors)
    already = {"score": [_("This survey has already been answered. Thank you!")]}
    if SatisfactionResponse.objects.filter(ticket_id=ticket.pk).exists():
        fail(already)
    try:
        with transaction.atomic():
            return SatisfactionResponse.objects.create(ticket=ticket, score=value, comment=text,
                                                       agent_id=ticket.owner_id, queue_id=ticket.queue_id,
                                                       at=now or timezone.now())
    except IntegrityError:  # two answers at once: the other one stands
        fail(already)
        raise  # pragma: no cover - fail() raised


@dataclass
class CsatRow:
    id: int | None
    name: str
    responses: int
    average: float


def period_start(period: Any) -> dt.datetime | None:
    """The start of a report period: 7d, 30d, 90d, 365d or all (None)."""
    if period not in PERIODS:
        fail({"period": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(PERIODS)}]})
    days = PERIODS[period]
    return timezone.now() - dt.timedelta(days=days) if days else None


def averages(user: User, period: Any = "30d") -> dict[str, Any]:
    """Average score and count overall, per agent and per queue, over the responses to tickets `user` sees.
    Three aggregate queries, however many responses."""
    since = period_start(period)
    rows = SatisfactionResponse.objects.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))
    if since is not None:
        rows = rows.filter(at__gte=since)
    total = rows.aggregate(responses=Count("id"), average=Avg("score"))

    def grouped(key: str, name: str) -> list[CsatRow]:
        out = rows.values(key, name).annotate(n=Count("id"), avg=Avg("score")).order_by("-avg", key)
        return [CsatRow(r[key], r[name] or "—", r["n"], round(float(r["avg"]), 2)) for r in out]

    return {"period": period, "responses": total["responses"],
            "average": round(float(total["average"]), 2) if total["average"] is not None else None,
            "agents": grouped("agent_id", "agent__username"), "queues": grouped("queue_id", "queue__name")}

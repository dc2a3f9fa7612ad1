"""What the e-mailed surveys share — the satisfaction survey of a resolved ticket (CSAT) and the NPS relationship
survey: a signed link that needs no log-in and expires, and one outbox row per e-mail (`RetriedMail`), sent after
commit, claimed once per attempt and retried by the minute sweep until it leaves or is given up.

A send is claimed by bumping `attempts` from the value read and stamping `tried_at`: of two senders that read the
same row, one update matches and the other does nothing, so an e-mail never leaves twice. The sweep leaves a row
tried within the last RETRY_AFTER alone (a send under way is not tried again), and gives up after MAX_ATTEMPTS.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.mail import send_mail
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.records import fail, int_or_none

logger = logging.getLogger("guanxi.service")
MAX_ATTEMPTS = 8
RETRY_AFTER = dt.timedelta(minutes=2)  # longer than an SMTP timeout, so a send under way is not tried again


class RetriedMail(models.Model):
    """An e-mail to send once: when it was written, sent, how often tried (and when last), the last refusal."""

    created_at = models.DateTimeField(gettext_lazy("created"), auto_now_add=True)
    sent_at = models.DateTimeField(gettext_lazy("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(gettext_lazy("attempts"), default=0)
    tried_at = models.DateTimeField(gettext_lazy("last tried"), null=True, blank=True)
    error = models.TextField(gettext_lazy("last error"), blank=True, default="")

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    to: str


# What `compose` returns for a row: the e-mail, or the reason there is nothing to send (the row is given up).
Compose = Callable[[Any], "Mail | str"]


def sign(pk: int, salt: str) -> str:
    """The token of a survey link for row `pk`."""
    return signing.dumps(pk, salt=salt, compress=True)


def unsign(token: str, salt: str, days: int) -> int:
    """The row id of a survey link; an altered, foreign or older than `days` link is a ValidationError on `token`."""
    try:
        pk = signing.loads(token, salt=salt, max_age=dt.timedelta(days=days))
    except signing.SignatureExpired:
        fail({"token": [_("This survey link has expired.")]})
    except signing.BadSignature:
        fail({"token": [_("This survey link is not valid.")]})
    number = int_or_none(pk) if isinstance(pk, int) else None
    if number is None:
        fail({"token": [_("This survey link is not valid.")]})
    return number  # type: ignore[return-value]


def send(rows: QuerySet, ids: Iterable[int], compose: Compose, now: dt.datetime | None = None) -> int:
    """Send the e-mail of each row of `rows` with one of these ids not sent yet; returns how many left.

    `rows` may carry select_related and annotations that `compose(row)` reads. A refusal of the mail server is kept
    on the row for the sweep's retry; a row `compose` answers with a reason is given up with it."""
    model = rows.model
    sent = 0
    for row in rows.filter(pk__in=list(ids), sent_at__isnull=True).order_by("pk"):
        if not model.objects.filter(pk=row.pk, sent_at__isnull=True, attempts=row.attempts).update(
                attempts=F("attempts") + 1, tried_at=now or timezone.now()):
            continue  # another sender claimed it
        mail = compose(row)
        if isinstance(mail, str):
            model.objects.filter(pk=row.pk).update(attempts=MAX_ATTEMPTS, error=mail[:1000])
            continue
        try:
            send_mail(mail.subject, mail.body, None, [mail.to])
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("%s %s not sent: %s", model._meta.model_name, row.pk, exc)
            model.objects.filter(pk=row.pk).update(error=f"{exc.__class__.__name__}: {exc}"[:1000])
            continue
        model.objects.filter(pk=row.pk).update(sent_at=timezone.now(), error="")
        sent += 1
    return sent


def due(rows: QuerySet, now: dt.datetime, limit: int = 100) -> list[int]:
    """Rows the sweep sends again: not sent, not given up, last tried (or, never tried, written) RETRY_AFTER ago."""
    before = now - RETRY_AFTER
    return list(rows.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
                .filter(Q(tried_at__isnull=True, created_at__lte=before) | Q(tried_at__lte=before))
                .order_by("pk").values_list("pk", flat=True)[:limit])


def retry(rows: QuerySet, compose: Compose, now: dt.datetime, limit: int = 100) -> int:
    """The sweep: send again what the mail server refused (or what a dead process never sent), a few minutes
    after the last try, up to MAX_ATTEMPTS times."""
    ids = due(rows, now, limit)
    return send(rows, ids, compose, now) if ids else 0

"""Background work of the contact centre (core.sweep, once a minute).

Email: each active mailbox is polled by a task enqueued after the sweep commits (IMAP is slow and must not hold
the sweep's transaction); unsent mail is retried.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django_tasks import task

from guanxi.core import sweep

from .email_imap import sync
from .email_models import Mailbox
from .email_outbound import retry_unsent


@task()
def poll_mailbox(mailbox_id: int, since_days: int | None = None) -> str:
    mailbox = Mailbox.objects.filter(pk=mailbox_id, active=True).first()
    if mailbox is None:
        return "gone"
    result = sync(mailbox, since_days=since_days)
    return result.error or f"{result.created}/{result.fetched}"


@sweep.register("contact_center.email_poll")
def poll_mailboxes(now: dt.datetime) -> int:
    ids = list(Mailbox.objects.filter(active=True).values_list("pk", flat=True))
    for pk in ids:
        transaction.on_commit(lambda pk=pk: poll_mailbox.enqueue(pk))
    return len(ids)


@sweep.register("contact_center.email_retry")
def retry_outbound(now: dt.datetime) -> int:
    return retry_unsent(now)

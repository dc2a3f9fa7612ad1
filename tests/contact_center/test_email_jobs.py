"""The once-a-minute sweep polls every active mailbox (through a task, after commit) and retries unsent mail."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from guanxi.contact_center import jobs
from guanxi.contact_center.email_models import Mailbox
from guanxi.core import sweep
from guanxi.service.ticket_models import Ticket
from tests.contact_center.test_email_ingest import make_mail

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_the_sweep_polls_active_mailboxes(settings, mailbox, dovecot, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    Mailbox.objects.create(name="off", address="off@guanxi.test", imap_host="127.0.0.1", imap_user="x",
                           active=False)
    dovecot.append(mailbox.imap_folder, make_mail())
    assert "contact_center.email_poll" in sweep.handlers()
    with django_capture_on_commit_callbacks(execute=True):
        run = sweep.run_sweep(timezone.now())
    assert run.handled["contact_center.email_poll"] == {"ok": True, "result": 1}
    assert Ticket.objects.count() == 1
    assert jobs.poll_mailbox.call(mailbox.pk) == "0/0"  # nothing new the second time


def test_the_sweep_survives_an_unreachable_server(settings, mailbox, django_capture_on_commit_callbacks):
    from tests.contact_center.conftest import free_port

    settings.TASKS = IMMEDIATE
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    with django_capture_on_commit_callbacks(execute=True):
        run = sweep.run_sweep(timezone.now() + dt.timedelta(minutes=5))
    assert run.handled["contact_center.email_poll"]["ok"]
    assert "ConnectionRefused" in Mailbox.objects.get(pk=mailbox.pk).last_error

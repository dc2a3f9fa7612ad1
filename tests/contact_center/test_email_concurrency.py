"""Two pollers ingesting the same message at the same moment (real threads, real transactions): one row, one
ticket — the unique (mailbox, message_id) constraint decides, not a check-then-insert."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from guanxi.contact_center import email_ingest
from guanxi.contact_center.email_models import InboundEmail, Mailbox
from guanxi.service.ticket_models import Ticket
from tests.contact_center.test_email_ingest import make_mail


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets one writer in at a time anyway")
@pytest.mark.django_db(transaction=True)
def test_two_pollers_at_once_make_one_ticket(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mailbox = Mailbox.objects.create(name="客服", address="support@guanxi.test", imap_host="127.0.0.1",
                                     imap_user="x", auto_acknowledge=False)
    raws = [make_mail(message_id=f"<race{i}@mx>", subject=f"问题 {i}") for i in range(5)]
    barrier = threading.Barrier(2)
    outcomes: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def poller() -> None:
        try:
            barrier.wait()
            for raw in raws:
                row, created = email_ingest.ingest(mailbox, raw)
                outcomes.append((row.pk, created))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(created for _pk, created in outcomes) == [False] * 5 + [True] * 5
    assert InboundEmail.objects.count() == 5 and Ticket.objects.count() == 5
    assert InboundEmail.objects.filter(status="quarantined").count() == 0

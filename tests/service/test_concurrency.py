"""Capacity under concurrency: two tickets routed at once never both take an agent's last free place."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.service import services
from guanxi.service.models import AgentProfile, Queue, Ticket


def _blocked_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = "
                       "current_database()")
        return cursor.fetchone()[0] > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets one writer in at a time anyway")
@pytest.mark.django_db(transaction=True)
def test_the_last_free_place_goes_to_one_ticket_only():
    admin = create_user(None, username="boss", password="correct-horse-9", role=Role.ADMIN)
    agent = create_user(None, username="solo", password="correct-horse-9", role=Role.SERVICE_AGENT)
    queue = Queue.objects.create(name="Solo", reroute_after_minutes=None)
    AgentProfile.objects.create(user=agent, capacity=1, availability="online").queues.set([queue])
    first_routed, release, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                services.create_ticket(admin, {"subject": "A", "queue_id": queue.pk})
                first_routed.set()
                release.wait(20)  # hold the transaction open until the second is waiting (or done)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def second():
        try:
            services.create_ticket(admin, {"subject": "B", "queue_id": queue.pk})
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    assert first_routed.wait(20)
    b = threading.Thread(target=second)
    b.start()
    deadline = time.monotonic() + 20  # a bound, not a timing: we wait for a state
    while b.is_alive() and not _blocked_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    a.join(20)
    b.join(20)
    assert not errors
    assert Ticket.objects.filter(owner=agent).count() == 1
    assert Ticket.objects.filter(owner__isnull=True).get().events.get(kind="unrouted").data["reason"] == \
        "all_at_capacity"

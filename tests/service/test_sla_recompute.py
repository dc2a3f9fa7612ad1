"""A new priority (or account) recomputes a working ticket's SLA due times from its creation, keeping the
business time it spent paused, and says so in the ticket's log; resolved tickets keep theirs."""

import datetime as dt

import pytest

from guanxi.service import services
from guanxi.service.events import describe_event
from guanxi.service.ticket_models import Ticket

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _at(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def _fresh(ticket):
    ticket.refresh_from_db()
    return ticket


def test_priority_change_recomputes_due_times_from_creation_and_keeps_paused_time(desk):
    wang = desk["wang"]
    ticket = services.create_ticket(desk["lead"], {"subject": "无法登录", "question_group_id": desk["billing"].pk},
                                    now=TUESDAY_10)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=TUESDAY_10)
    ticket = _fresh(ticket)
    assert ticket.first_response_due_at == _at(10, 15, 30)  # normal: 240 business minutes (lunch 12:00–13:30)

    services.update_ticket(wang, ticket, {"priority": "urgent"}, ticket.version, now=TUESDAY_10 + 20 * MIN)
    ticket = _fresh(ticket)
    assert ticket.sla_policy.priority == "urgent"
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (_at(10, 10, 30), _at(10, 15, 30))
    sla_event = ticket.events.get(kind="sla")
    assert "SLA" in describe_event(sla_event)

    services.change_status(wang, ticket, "waiting", ticket.version, now=_at(10, 10, 25))
    ticket = _fresh(ticket)
    services.update_ticket(wang, ticket, {"priority": "low"}, ticket.version, now=_at(10, 11))
    ticket = _fresh(ticket)
    # low: 480 business minutes plus the 35 paused so far, from Tuesday 10:00 → Wednesday 11:05
    assert ticket.first_response_due_at == _at(11, 11, 5) and ticket.paused_minutes == 35
    services.change_status(wang, ticket, "open", ticket.version, now=_at(10, 11, 30))
    ticket = _fresh(ticket)
    assert ticket.first_response_due_at == _at(11, 11, 35) and ticket.paused_minutes == 65

    services.change_status(wang, ticket, "resolved", ticket.version, now=_at(10, 12))
    ticket = _fresh(ticket)
    due = ticket.resolution_due_at
    services.update_ticket(wang, ticket, {"priority": "urgent"}, ticket.version, now=_at(10, 12, 5))
    assert _fresh(ticket).resolution_due_at == due  # a resolved ticket keeps its record
    assert ticket.events.filter(kind="sla").count() == 2


def test_same_priority_changes_nothing(desk):
    ticket = services.create_ticket(desk["lead"], {"subject": "打印机", "priority": "high"}, now=TUESDAY_10)
    due = (ticket.first_response_due_at, ticket.resolution_due_at)
    services.update_ticket(desk["lead"], ticket, {"priority": "high", "subject": "打印机卡纸"}, ticket.version)
    ticket = _fresh(ticket)
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == due and not ticket.events.filter(kind="sla")

"""The sweep handlers with explicit `now`: a warning before the breach, escalation at the breach (priority
raised, supervisor notified, logged), re-routing of tickets nobody picked up; each acts once however often
it runs."""

import datetime as dt

import pytest

from guanxi.core.models import Notification
from guanxi.customers import services as customer_services
from guanxi.service import jobs, services
from guanxi.service.models import Ticket

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(desk, users):
    account = customer_services.create_account(users["rep_a"], {"name": "上海普通贸易公司", "classification": "C"})
    return services.create_ticket(users["rep_a"], {"subject": "无法登录", "account_id": account.pk,
                                                   "priority": "high", "question_group_id": desk["billing"].pk},
                                  now=TUESDAY_10)


def test_warning_then_escalation_each_once(ticket, desk, settings):
    settings.SERVICE_SLA_WARNING_MINUTES = 15
    due = ticket.first_response_due_at  # high: 60 business minutes → 11:00 Shanghai
    assert due == TUESDAY_10 + dt.timedelta(hours=1)
    assert jobs.warn_before_breach(due - dt.timedelta(minutes=16)) == 0
    assert jobs.warn_before_breach(due - dt.timedelta(minutes=10)) == 1
    assert jobs.warn_before_breach(due - dt.timedelta(minutes=5)) == 0
    assert Notification.objects.filter(user=desk["wang"]).count() == 1
    assert jobs.escalate_breaches(due - dt.timedelta(minutes=1)) == 0
    assert jobs.escalate_breaches(due) == 1
    assert jobs.escalate_breaches(due + dt.timedelta(minutes=1)) == 0
    ticket.refresh_from_db()
    assert ticket.response_breached and ticket.priority == "urgent" and ticket.version == 3
    escalated = ticket.events.get(kind="escalated")
    assert escalated.data["old"] == "high" and escalated.data["new"] == "urgent"
    assert Notification.objects.filter(user=desk["lead"]).count() == 1
    assert Notification.objects.filter(user=desk["wang"]).count() == 2
    # nobody answered: another agent of the queue has it now, and wang is not tried again
    assert ticket.owner not in (None, desk["wang"]) and ticket.lapsed_agents == [desk["wang"].pk]
    assert ticket.events.get(kind="rerouted").data["breach"] is True


def test_a_queue_may_keep_the_assignee_at_the_breach(ticket, desk):
    desk["general"].reassign_on_breach = False
    desk["general"].save()
    assert jobs.escalate_breaches(ticket.first_response_due_at) == 1
    ticket.refresh_from_db()
    assert ticket.response_breached and ticket.owner == desk["wang"]
    assert not ticket.events.filter(kind="rerouted").exists()


def test_a_missed_resolution_alone_does_not_reassign(ticket, desk):
    services.reply(desk["wang"], ticket, "正在处理", now=TUESDAY_10 + dt.timedelta(minutes=30))
    ticket.refresh_from_db()
    assert jobs.escalate_breaches(ticket.resolution_due_at) == 1
    ticket.refresh_from_db()
    assert ticket.resolution_breached and ticket.owner == desk["wang"]


def test_a_paused_or_answered_ticket_is_not_escalated(ticket, desk):
    services.reply(desk["wang"], ticket, "正在处理", now=TUESDAY_10 + dt.timedelta(minutes=30))
    ticket.refresh_from_db()
    services.change_status(desk["wang"], ticket, "waiting", ticket.version, now=TUESDAY_10 + dt.timedelta(minutes=31))
    assert jobs.escalate_breaches(TUESDAY_10 + dt.timedelta(days=30)) == 0


def test_nobody_picked_it_up_so_it_goes_to_someone_else_once(ticket, desk):
    assert ticket.owner == desk["wang"]
    assert jobs.reroute_unpicked(TUESDAY_10 + dt.timedelta(minutes=14)) == 0
    assert jobs.reroute_unpicked(TUESDAY_10 + dt.timedelta(minutes=15)) == 1
    assert jobs.reroute_unpicked(TUESDAY_10 + dt.timedelta(minutes=16)) == 0
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.owner not in (None, desk["wang"]) and ticket.lapsed_agents == [desk["wang"].pk]
    assert [e.kind for e in ticket.events.order_by("id")] == ["created", "routed", "rerouted", "routed"]
    assert Notification.objects.filter(user=desk["lead"], link=f"/service/tickets/{ticket.pk}/").count() == 1


def test_a_picked_up_ticket_stays(ticket, desk):
    services.pick_up(desk["wang"], ticket, now=TUESDAY_10 + dt.timedelta(minutes=3))
    assert jobs.reroute_unpicked(TUESDAY_10 + dt.timedelta(hours=2)) == 0
    assert Ticket.objects.get(pk=ticket.pk).owner == desk["wang"]

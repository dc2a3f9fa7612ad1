"""Queue metrics from a scripted set of calls, with exact figures: average wait, abandonment rate, calls per
resolution — per PBX queue, per agent and for the desk; on the service KPI page and in its API."""

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.contact_center import call_events as ce
from guanxi.contact_center.call_metrics import call_queue_metrics
from guanxi.contact_center.call_services import record_event, set_agent_phone
from guanxi.service import services as ticket_services
from guanxi.service.ticket_models import Ticket

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
NOVEMBER = (dt.datetime(2026, 11, 1, tzinfo=dt.UTC) - dt.timedelta(hours=8),
            dt.datetime(2026, 12, 1, tzinfo=dt.UTC) - dt.timedelta(hours=8))


def play(pbx, call_id, start, steps, direction="in"):
    """steps: (kind, seconds after start, extra fields)."""
    at = T0 + dt.timedelta(hours=start)
    record_event(pbx, ce.CallEvent(call_id, ce.RINGING, at, caller="13800138000", callee="4000",
                                   direction=direction))
    for kind, seconds, extra in steps:
        record_event(pbx, ce.CallEvent(call_id, kind, at + dt.timedelta(seconds=seconds), **extra))


def queued(queue, wait, answered_by="", talk=60):
    steps = [(ce.QUEUED, 0, {"queue": queue})]
    if answered_by:
        return [*steps, (ce.ANSWERED, wait, {"extension": answered_by}), (ce.HUNGUP, wait + talk, {})]
    return [*steps, (ce.ABANDONED, wait, {}), (ce.HUNGUP, wait, {})]


@pytest.fixture
def calls(pbx, users, agent, agent_phone, support_queue):
    set_agent_phone(users["admin"], users["rep_a"].pk, "1002")
    play(pbx, "a", 0, queued("support", 10, "1001"))
    play(pbx, "b", 1, queued("support", 20, "1001"))
    play(pbx, "c", 2, queued("support", 45))
    play(pbx, "d", 3, queued("support", 15))
    play(pbx, "e", 4, queued("sales", 30, "1002"))
    play(pbx, "f", 5, [(ce.HUNGUP, 25, {})])  # rang, nobody answered, never queued: missed
    play(pbx, "g", 6, [(ce.HUNGUP, 40, {"hint": "voicemail"})])
    play(pbx, "h", 7, [(ce.ANSWERED, 5, {"extension": "1001"}), (ce.HUNGUP, 65, {})], direction="out")
    play(pbx, "old", -24 * 30, queued("support", 300))  # October: another period
    _queue, group = support_queue
    for n, owner in enumerate((agent, agent)):
        ticket = ticket_services.create_ticket(users["admin"], {"subject": f"来电问题 {n}",
                                                               "question_group_id": group.pk})
        Ticket.objects.filter(pk=ticket.pk).update(resolved_at=T0 + dt.timedelta(hours=n), owner=owner)


def test_desk_figures(calls, users):
    desk = call_queue_metrics(users["admin"], *NOVEMBER)[None]
    assert desk == {"calls": 7, "answered": 3, "abandoned": 2, "missed": 2, "queued": 5,
                    "average_wait_seconds": Decimal("24.00"),  # (10 + 20 + 45 + 15 + 30) / 5
                    "abandonment_rate": Decimal("40.0"),  # 2 of the 5 queued
                    "resolved": 2, "calls_per_resolution": Decimal("1.50")}  # 3 answered / 2 tickets resolved


def test_per_queue_and_per_agent(calls, users, agent):
    queues = call_queue_metrics(users["admin"], *NOVEMBER, by="queue")
    assert set(queues) == {"support", "sales", ""}
    assert queues["support"]["average_wait_seconds"] == Decimal("22.50")
    assert queues["support"]["abandonment_rate"] == Decimal("50.0")
    assert queues["sales"]["abandonment_rate"] == Decimal("0.0") and queues["sales"]["calls_per_resolution"] is None
    assert (queues[""]["calls"], queues[""]["missed"], queues[""]["average_wait_seconds"]) == (2, 2, None)
    agents = call_queue_metrics(users["admin"], *NOVEMBER, by="agent")
    assert (agents[agent.pk]["answered"], agents[agent.pk]["calls_per_resolution"]) == (2, Decimal("1.00"))
    assert agents[users["rep_a"].pk]["answered"] == 1 and agents[users["rep_a"].pk]["resolved"] == 0


def test_only_visible_calls_count(calls, users):
    assert call_queue_metrics(users["rep_b"], *NOVEMBER) == {}
    mine = call_queue_metrics(users["rep_a"], *NOVEMBER)[None]
    assert (mine["calls"], mine["answered"]) == (1, 1)  # the call rep_a answered


def test_kpi_page_and_api_show_the_phone_queues(client, calls, users):
    client.force_login(users["admin"])
    html = client.get("/service/kpis/", {"period": "2026-11", "by": "desk"}).content.decode()
    assert 'id="call-kpi-table"' in html and "Abandonment rate (%)" in html and "24.00" in html
    body = client.get("/api/v1/service/kpis", {"period": "2026-11", "by": "desk"}).json()
    total = body["calls"][-1]
    assert total["group"] == "total" and total["current"]["abandonment_rate"] == "40.0"
    assert total["baseline"]["average_wait_seconds"] == "300.00"  # October's one abandoned call
    assert [r["group"] for r in body["calls"]] == ["sales", "support", "", "total"]

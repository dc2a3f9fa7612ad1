"""Service KPIs: first response and resolution times, contacts per resolution, first-contact resolution, SLA
compliance, reopen rate and backlog per agent, per queue and for the desk, beside a baseline period; only the
tickets the user may see; a constant number of queries; the page and the API."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.sales.quota_math import parse_period
from guanxi.service import csat_services, jobs, kpis, services
from guanxi.service.ticket_models import Ticket, TicketEvent

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
MARCH, FEBRUARY = parse_period("2026-03"), parse_period("2026-02")


def _ticket(desk, agent, at, subject="发票抬头错误"):
    ticket = services.create_ticket(desk["lead"], {"subject": subject, "question_group_id": desk["billing"].pk},
                                    now=at)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=at)  # the clock of the ticket's creation
    ticket.refresh_from_db()
    if ticket.owner_id != agent.pk:
        services.assign(desk["lead"], ticket, agent.pk, ticket.version, now=at)
        ticket.refresh_from_db()
    return ticket


def _status(desk, agent, ticket, status, at):
    ticket.refresh_from_db()
    services.change_status(agent, ticket, status, ticket.version, now=at)
    TicketEvent.objects.filter(ticket=ticket, kind="status", data__new=status).update(created_at=at)


@pytest.fixture
def history(desk):
    wang, li = desk["wang"], desk["li"]
    a = _ticket(desk, wang, TUESDAY_10)
    services.reply(wang, a, "已重开发票", now=TUESDAY_10 + H)
    _status(desk, wang, a, "resolved", TUESDAY_10 + 3 * H)

    b = _ticket(desk, wang, TUESDAY_10, "发票金额不对")
    services.reply(wang, b, "请提供订单号", now=TUESDAY_10 + 2 * H)
    services.add_note(wang, b, "内部备注不算联系", now=TUESDAY_10 + 3 * H)
    services.reply(wang, b, "已更正", now=TUESDAY_10 + 4 * H)
    _status(desk, wang, b, "resolved", TUESDAY_10 + 5 * H)
    _status(desk, wang, b, "open", TUESDAY_10 + 6 * H)  # the customer says it is not fixed: reopened

    c = _ticket(desk, li, TUESDAY_10, "网络断了")
    desk["general"].reassign_on_breach = False  # c stays li's: the figures per agent below count it for li
    desk["general"].save()
    jobs.escalate_breaches(TUESDAY_10 + 24 * 10 * H)  # nobody answered: both SLA targets breached

    feb = TUESDAY_10 - dt.timedelta(days=28)
    d = _ticket(desk, wang, feb, "二月的问题")
    services.reply(wang, d, "好的", now=feb + 4 * H)
    _status(desk, wang, d, "resolved", feb + 10 * H)
    a.refresh_from_db()
    d.refresh_from_db()
    csat_services.answer_survey(a, 4, now=TUESDAY_10 + 5 * H)
    csat_services.answer_survey(d, 2, "太慢", now=feb + 11 * H)
    return a, b, c, d


def test_figures_per_agent_for_the_period(desk, history):
    rows = kpis.figures(desk["lead"], MARCH, "agent")
    wang, li = rows[desk["wang"].pk].as_dict(), rows[desk["li"].pk].as_dict()
    assert wang["created"] == 2 and wang["responded"] == 2
    assert wang["first_response_hours"] == Decimal("1.5")  # (1 h + 2 h) / 2
    assert wang["resolved"] == 1 and wang["resolution_hours"] == Decimal("3")  # b was reopened: not resolved now
    assert wang["contacts_per_resolution"] == Decimal("1.00") and wang["first_contact_resolution"] == Decimal("100.0")
    assert wang["reopen_rate"] == Decimal("100.0")  # one reopening per one resolution
    assert wang["backlog"] == 1  # b, open again at the end of March
    assert wang["sla_compliance"] == Decimal("50.0")  # b, open again ten days later, missed its resolution target
    assert li["created"] == 1 and li["responded"] == 0 and li["first_response_hours"] is None
    assert li["sla_compliance"] == Decimal("0.0") and li["backlog"] == 1
    assert (wang["csat_responses"], wang["csat_average"], wang["csat_satisfied"]) == (1, Decimal("4.00"),
                                                                                     Decimal("100.0"))
    assert li["csat_responses"] == 0 and li["csat_average"] is None
    desk_total = kpis.figures(desk["lead"], MARCH, "desk")[None].as_dict()
    assert desk_total["created"] == 3 and desk_total["backlog"] == 2 and desk_total["sla_compliance"] == Decimal("33.3")


def test_report_sets_the_baseline_beside_and_counts_the_backlog_at_its_end(desk, history):
    rows = kpis.report(desk["lead"], MARCH, FEBRUARY, "agent")
    kpis.label_groups(rows, "agent")
    by_label = {r["label"]: r for r in rows}
    wang = by_label["wang"]
    assert wang["baseline"]["resolution_hours"] == Decimal("10") and wang["current"]["resolution_hours"] == Decimal("3")
    assert wang["change"]["resolution_hours"] == Decimal("-70.0")
    assert wang["baseline"]["first_response_hours"] == Decimal("4")
    assert wang["baseline"]["backlog"] == 0  # February's ticket was resolved within February
    assert wang["baseline"]["csat_average"] == Decimal("2.00") and wang["change"]["csat_average"] == Decimal("100.0")
    assert rows[-1]["group"] == "total" and rows[-1]["current"]["created"] == 3 and rows[-1]["baseline"]["created"] == 1
    queues = kpis.report(desk["lead"], MARCH, FEBRUARY, "queue")
    kpis.label_groups(queues, "queue")
    assert [r["label"] for r in queues][0] == "General" and queues[-1]["group"] == "total"


def test_only_visible_tickets_count_and_queries_do_not_grow_with_tickets(desk, history, users):
    assert kpis.figures(users["rep_b"], MARCH, "agent") == {}
    with CaptureQueriesContext(connection) as few:
        kpis.report(desk["lead"], MARCH, FEBRUARY, "agent")
    n = len(few.captured_queries)
    desk["profiles"]["zhao"].capacity = 10
    desk["profiles"]["zhao"].save()
    for i in range(5):
        _ticket(desk, desk["zhao"], TUESDAY_10 + i * H, f"更多问题 {i}")
    with CaptureQueriesContext(connection) as more:
        kpis.report(desk["lead"], MARCH, FEBRUARY, "agent")
    assert len(more.captured_queries) == n


def test_page_and_api(client, desk, history):
    client.force_login(desk["lead"])
    page = client.get("/service/kpis/", {"period": "2026-03", "baseline": "2026-02", "by": "agent"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="nav-service-kpis"' in html and 'id="kpi-table"' in html
    assert "wang" in html and "-70.0 %" in html
    bad = client.get("/service/kpis/", {"period": "2026-13", "by": "planet"})
    assert bad.status_code == 200 and 'id="kpi-errors"' in bad.content.decode()
    api = client.get("/api/v1/service/kpis", {"period": "2026-03", "baseline": "2026-02", "by": "queue"})
    assert api.status_code == 200
    body = api.json()
    assert body["rows"][-1]["group"] == "total" and body["rows"][-1]["current"]["created"] == 3
    assert body["rows"][0]["label"] == "General"
    refused = client.get("/api/v1/service/kpis", {"period": "March", "by": "planet"})
    assert refused.status_code == 400 and {"period", "by"} <= set(refused.json()["errors"])

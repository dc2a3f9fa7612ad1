"""The KPI dashboard: exact figures on a scripted month and its baseline, only what each user may see, targets
set by administrators with the status they give, a constant number of queries, the page and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.analytics import kpi_services as kpis
from guanxi.analytics.kpi_registry import REGISTRY, value
from guanxi.analytics.models import KpiTarget
from guanxi.knowledge.models import SearchLog
from guanxi.sales import services as sales_services
from guanxi.sales.catalog_models import Product
from guanxi.sales.models import Opportunity, StageKind
from guanxi.sales.quota_math import parse_period
from guanxi.sales.quote_models import Order, OrderLine, OrderStatus
from guanxi.service.csat_models import SatisfactionResponse
from guanxi.service.ticket_models import MessageKind, Ticket, TicketMessage

pytestmark = pytest.mark.django_db
BEIJING = ZoneInfo("Asia/Shanghai")
MARCH, LAST_MARCH = parse_period("2026-03"), parse_period("2025-03")
H = dt.timedelta(hours=1)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BEIJING)


def _order(owner, day, net, lines, currency="CNY", status=OrderStatus.CONFIRMED):
    order = Order.objects.create(number=f"K{Order.objects.count() + 1}", account=_account(owner), owner=owner,
                                 team=owner.team, ordered_on=day, net_total=Decimal(net), gross_total=Decimal(net),
                                 currency=currency, status=status)
    OrderLine.objects.bulk_create([OrderLine(order=order, product=p, description=p.name, quantity=Decimal(q),
                                             unit_price=Decimal(v) / Decimal(q), net=Decimal(v))
                                   for p, q, v in lines])
    return order


def _account(owner):
    from guanxi.customers.models import Account

    return Account.objects.create(name=f"{owner.username} 客户", owner=owner, team=owner.team)


def _ticket(owner, created, first_response_hours, replies, score, answered):
    ticket = Ticket.objects.create(subject="问题", owner=owner, team=owner.team, status="resolved")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created,
                                               first_response_at=created + first_response_hours * H,
                                               resolved_at=created + 24 * H)
    TicketMessage.objects.bulk_create([TicketMessage(ticket=ticket, kind=MessageKind.REPLY, author=owner, body="好")
                                       for _i in range(replies)]
                                      + [TicketMessage(ticket=ticket, kind=MessageKind.NOTE, author=owner, body="注")])
    SatisfactionResponse.objects.create(ticket=ticket, score=score, at=answered)


def _opportunity(owner, created, won_at=None):
    pipeline = sales_services.default_pipeline()
    stage = pipeline.stages.get(kind=StageKind.WON) if won_at else sales_services.first_open_stage(pipeline)
    opp = Opportunity.objects.create(name="商机", account=_account(owner), owner=owner, team=owner.team,
                                     pipeline=pipeline, stage=stage, status=stage.kind, amount=Decimal(100))
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created, closed_at=won_at)


@pytest.fixture
def book(users):
    a, b = users["rep_a"], users["rep_b"]
    p = Product.objects.create(code="P", name="服务器", cost=Decimal("60"))
    q = Product.objects.create(code="Q", name="咨询")
    _order(a, dt.date(2026, 3, 5), "1000", [(p, 10, "1000")])  # margin (1000 − 600) / 1000
    _order(a, dt.date(2026, 3, 20), "500", [(q, 1, "500")])  # no cost: not in the margin
    _order(a, dt.date(2026, 3, 25), "700", [(p, 1, "700")], currency="USD")  # counted, but not as CNY revenue
    _order(a, dt.date(2026, 3, 10), "9999", [(p, 1, "9999")], status=OrderStatus.CANCELLED)
    _order(a, dt.date(2025, 3, 10), "800", [(p, 5, "800")])  # the baseline: margin (800 − 300) / 800
    _order(b, dt.date(2026, 3, 6), "4000", [(p, 1, "4000")])
    _ticket(a, at(2026, 3, 2, 10), 2, 3, 4, at(2026, 3, 4, 9))
    _ticket(a, at(2026, 3, 10, 9), 4, 1, 5, at(2026, 3, 12, 9))
    _ticket(b, at(2026, 3, 5, 9), 10, 1, 1, at(2026, 3, 7, 9))
    _opportunity(a, at(2026, 3, 3), won_at=at(2026, 3, 15))
    _opportunity(a, at(2026, 3, 9))
    _opportunity(a, at(2025, 3, 9))
    _opportunity(b, at(2026, 3, 9))
    SearchLog.objects.bulk_create([
        SearchLog(query="发票", normalized="发票", source="portal", ended_without_ticket=False,
                  created_at=at(2026, 3, 3)),
        SearchLog(query="发票", normalized="发票", source="portal", ended_without_ticket=True,
                  created_at=at(2026, 3, 4)),
        SearchLog(query="退货", normalized="退货", source="agent", created_at=at(2026, 3, 5)),
        SearchLog(query="退货", normalized="退货", source="agent", created_at=at(2026, 4, 1, 0, 30)),  # April
    ])
    return p


def _figures(user, period=MARCH, baseline=LAST_MARCH):
    return {r.kpi.key: r for r in kpis.dashboard(user, period, baseline)}


def test_a_reps_figures_are_their_own(book, users):
    rows = _figures(users["rep_a"])
    got = {k: (r.value, r.baseline) for k, r in rows.items()}
    assert got == {
        "queue_seconds": (None, None), "abandonment": (None, None),  # no phone calls recorded in this install
        "calls_per_resolution": (None, None),
        "contacts_per_resolution": (Decimal("2.00"), None),  # 4 replies / 2 resolved (notes do not count)
        "first_response_hours": (Decimal("3.00"), None),
        "faq_searches": (3, None), "web_to_ticket": (Decimal("50.0"), None),
        "orders": (3, 1), "orders_per_product": (Decimal("1.50"), Decimal("1.00")),
        "opportunities_created": (2, 1), "opportunities_won": (1, 0),
        "revenue": (Decimal("1500.00"), Decimal("800.00")), "margin": (Decimal("40.0"), Decimal("62.5")),
        "csat": (Decimal("4.50"), None), "nps": (None, None),
    }
    assert rows["revenue"].change == Decimal("87.5") and rows["revenue"].improved is True
    assert rows["margin"].improved is False  # 62.5 → 40: worse, the way "up" is better
    assert rows["opportunities_won"].change is None  # nothing the year before: no percentage
    assert [v for _p, v in rows["orders"].trend] == [0, 0, 0, 0, 0, 3]
    assert [p for p, _v in rows["orders"].trend] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]


def test_an_administrator_sees_everyone_and_a_manager_their_team(book, users):
    admin = _figures(users["admin"])
    assert (admin["orders"].value, admin["revenue"].value, admin["margin"].value) == (4, Decimal("5500.00"),
                                                                                     Decimal("86.8"))
    assert (admin["contacts_per_resolution"].value, admin["first_response_hours"].value, admin["csat"].value) == (
        Decimal("1.67"), Decimal("5.33"), Decimal("3.33"))
    assert admin["opportunities_created"].value == 3
    manager = _figures(users["manager_a"])
    assert (manager["revenue"].value, manager["csat"].value) == (Decimal("1500.00"), Decimal("4.50"))
    other = _figures(users["rep_b"])
    assert (other["orders"].value, other["revenue"].value, other["csat"].value) == (1, Decimal("4000.00"),
                                                                                   Decimal("1.00"))
    assert value("revenue", users["rep_b"], MARCH) == Decimal("4000.00")


def test_targets_give_the_status_and_scale_with_the_period(book, users):
    admin, rep = users["admin"], users["rep_a"]
    kpis.set_target(admin, "revenue", "1600")
    kpis.set_target(admin, "margin", "30")
    kpis.set_target(admin, "contacts_per_resolution", "1.5")
    rows = _figures(rep)
    assert (rows["revenue"].target, rows["revenue"].status) == (Decimal("1600.00"), "near")  # 1500 ≥ 90 % of it
    assert rows["margin"].status == "good" and rows["contacts_per_resolution"].status == "bad"  # 2 > 1.5 · 1.1
    assert rows["csat"].status == "none"
    kpis.set_target(admin, "revenue", "2000")
    assert _figures(rep)["revenue"].status == "bad"
    quarter = _figures(rep, parse_period("2026-Q1"), parse_period("2025-Q1"))
    assert quarter["revenue"].target == Decimal("6000.00") and quarter["margin"].target == Decimal("30.00")
    kpis.set_target(admin, "revenue", "")
    assert not KpiTarget.objects.filter(key="revenue").exists()
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        kpis.set_target(users["manager_a"], "margin", "10")
    for key, target, field in (("nope", "1", "key"), ("margin", "abc", "target"), ("margin", "1e20", "target"),
                               ("margin", "NaN", "target")):
        with pytest.raises(ValidationError) as exc:
            kpis.set_target(admin, key, target)
        assert field in exc.value.message_dict


def test_queries_do_not_grow_with_the_data(book, users):
    def count(user):
        with CaptureQueriesContext(connection) as queries:
            kpis.dashboard(user, MARCH, LAST_MARCH)
        return len(queries)

    count(users["admin"])  # the first call creates the company profile
    before = {name: count(users[name]) for name in ("admin", "rep_a")}
    for day in (1, 2, 3):
        _order(users["rep_a"], dt.date(2026, 3, day), "10", [(book, 1, "10")])
        _ticket(users["rep_a"], at(2026, 3, day, 9), 1, 2, 3, at(2026, 3, day, 12))
    assert {name: count(users[name]) for name in ("admin", "rep_a")} == before
    assert before["rep_a"] <= 20  # about two per source, whatever the periods and records


def test_registering_a_source_and_phone_data(users, book):
    assert list(REGISTRY)[:2] == ["queue_seconds", "abandonment"]
    from guanxi.analytics import kpi_sources

    assert kpi_sources.find_model([("contact_center", "NoSuchModel")]) is None
    assert kpi_sources.phone(users["admin"], [MARCH]) == {"queue_seconds": [None], "abandonment": [None],
                                                          "calls_per_resolution": [None]}


def test_phone_figures_agree_with_the_contact_centre_once_calls_are_recorded(users):
    """The dashboard's phone KPIs and the service KPI page's phone table count calls the same way."""
    from guanxi.contact_center import call_metrics as metrics
    from guanxi.contact_center import call_models
    from guanxi.sales.performance import bounds

    pbx = call_models.PbxConnection.objects.create(name="总机")
    rep = users["rep_a"]
    for i, (outcome, wait, queued) in enumerate((("answered", 20, True), ("answered", 40, True),
                                                 ("abandoned", 90, True), ("missed", None, False))):
        call_models.Call.objects.create(source=pbx, call_id=f"c{i}", direction="in", outcome=outcome, owner=rep,
                                        team=rep.team, started_at=at(2026, 3, 2 + i, 10), wait_seconds=wait,
                                        queued_at=at(2026, 3, 2 + i, 10) if queued else None)
    rows = _figures(users["admin"])
    assert (rows["queue_seconds"].value, rows["abandonment"].value) == (Decimal("50.00"), Decimal("33.3"))
    assert rows["calls_per_resolution"].value is None  # two calls answered, no ticket resolved yet
    desk = metrics.call_queue_metrics(users["admin"], *bounds(MARCH))[None]
    assert (desk["average_wait_seconds"], desk["abandonment_rate"]) == (rows["queue_seconds"].value,
                                                                        rows["abandonment"].value)
    for i in range(3):  # two answered calls over three tickets resolved in March: 0.67 calls a resolution
        Ticket.objects.create(subject=f"电话问题 {i}", number=f"T{900 + i:06d}", status="resolved",
                              resolved_at=at(2026, 3, 10 + i, 9))
    rows = _figures(users["admin"])
    desk = metrics.call_queue_metrics(users["admin"], *bounds(MARCH))[None]
    assert rows["calls_per_resolution"].value == desk["calls_per_resolution"] == Decimal("0.67")


def test_page_renders_each_kpi_with_its_chart_and_targets_form_for_admins(client, book, users, english,
                                                                         django_assert_max_num_queries):
    client.force_login(users["rep_a"])
    with django_assert_max_num_queries(30):
        page = client.get("/analytics/kpis/", {"period": "2026-03", "baseline": "2025-03"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="kpi-revenue"' in html and "1500.00" in html
    assert html.count('class="echart kpi-trend"') == 11  # every KPI with data (not the phone ones nor NPS)
    assert 'id="kpi-queue_seconds"' in html and "no data" in html
    assert "kpi-option-revenue" in html and 'name="target"' not in html
    assert client.post("/analytics/kpis/revenue/target/", {"target": "5"}).status_code == 403
    bad = client.get("/analytics/kpis/", {"period": "2026-13", "baseline": "x"})
    assert bad.status_code == 400 and "Enter a period" in bad.content.decode()
    client.force_login(users["admin"])
    html = client.get("/analytics/kpis/", {"period": "2026-03"}).content.decode()
    assert 'name="target"' in html
    done = client.post("/analytics/kpis/margin/target/", {"target": "30", "next": "/analytics/kpis/?period=2026-03"})
    assert done.status_code == 302 and done.url == "/analytics/kpis/?period=2026-03"
    assert KpiTarget.objects.get(key="margin").target == Decimal("30.00")
    outside = client.post("/analytics/kpis/margin/target/", {"target": "31", "next": "https://evil.example/"})
    assert outside.url == "/analytics/kpis/"


def test_api(book, users):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    rep, admin = ApiClient(issue_token(users["rep_a"])), ApiClient(issue_token(users["admin"]))
    body = rep.get("analytics/kpis", {"period": "2026-03"}).json()
    assert (body["period"], body["baseline"]) == ("2026-03", "2025-03")
    items = {i["key"]: i for i in body["items"]}
    assert items["revenue"]["value"] == "1500.00" and items["revenue"]["baseline"] == "800.00"
    assert items["nps"]["value"] is None and items["orders"]["trend"][-1] == {"period": "2026-03", "value": 3}
    bad = rep.get("analytics/kpis", {"period": "2026-13"})
    assert bad.status_code == 400 and "period" in bad.json()["errors"]
    assert rep.put("analytics/kpis/margin/target", {"target": 30}).status_code == 403
    assert admin.put("analytics/kpis/margin/target", {"target": 30}).json() == {"key": "margin", "target": "30.00"}
    assert admin.put("analytics/kpis/nope/target", {"target": 30}).status_code == 400
    assert admin.put("analytics/kpis/margin/target", {"target": None}).json()["target"] is None

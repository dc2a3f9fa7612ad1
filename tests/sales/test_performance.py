"""Quotas, attainment, the leaderboard, the funnel and year on year, checked against hand computations on a
small book: two teams under one company team, two currencies, deals closed either side of month ends."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import AuditEntry, Role
from guanxi.core.services import create_user
from guanxi.customers import services as customer_services
from guanxi.sales import lead_services, payment_services, quota_services, services
from guanxi.sales.models import Lead, Quota
from guanxi.sales.performance import funnel, leaderboard, year_over_year
from guanxi.sales.quota_math import parse_period
from tests.sales import performance_book

pytestmark = pytest.mark.django_db
at, book, make_opp = performance_book.at, performance_book.book, performance_book.make_opp  # shared fixtures
MARCH = parse_period("2031-03")


def _rows(board):
    return {r["name"]: r for r in board["rows"]}


def test_leaderboard_matches_the_hand_computation(book, users):
    board = leaderboard(users["admin"], MARCH)
    assert [r["name"] for r in board["rows"]] == ["rep_a2", "rep_a", "rep_b"]
    a = _rows(board)["rep_a"]
    assert a["rank"] == 2 and a["won_amount"] == Decimal("15000.00")  # 10,000 + 5,000; April's 7,000 left out
    assert a["quota"] == Decimal("30000.00") and a["attainment"] == Decimal("50.0")
    assert (a["won_count"], a["lost_count"], a["win_rate"]) == (3, 1, Decimal("75.0"))
    assert a["average_deal"] == Decimal("7500.00")
    assert a["other_currencies"] == [{"currency": "USD", "amount": Decimal("2000.00")}]
    a2 = _rows(board)["rep_a2"]
    assert a2["attainment"] == Decimal("133.3") and a2["win_rate"] == Decimal("33.3")
    b = _rows(board)["rep_b"]  # a USD quota counts the USD won only
    assert (b["quota_currency"], b["quota_won"], b["attainment"]) == ("USD", Decimal("1000.00"), Decimal("25.0"))
    teams = {t["name"]: t for t in board["teams"]}
    assert teams["华北销售"]["won_amount"] == Decimal("35000.00") and teams["华北销售"]["attainment"] == Decimal("70.0")
    # The company team holds both sales teams: 15,000 + 20,000 + 8,000 = 43,000 of 60,000.
    assert teams["公司"]["won_amount"] == Decimal("43000.00") and teams["公司"]["attainment"] == Decimal("71.7")
    assert teams["公司"]["other_currencies"] == [{"currency": "USD", "amount": Decimal("3000.00")}]
    # In April, rep_a's deal closed half an hour into the month; quotas are per period, none set for April.
    april = _rows(leaderboard(users["admin"], parse_period("2031-04")))["rep_a"]
    assert april["won_amount"] == Decimal("7000.00") and april["attainment"] is None
    quarter = _rows(leaderboard(users["admin"], parse_period("2031-Q1")))["rep_a"]
    assert quarter["won_amount"] == Decimal("15000.00") and quarter["quota"] is None


def test_attainment_converts_other_currencies_at_the_stored_rates(book, users):
    """Exact cents: each currency's sum converted once, through the base currency (CNY), half up."""
    board = leaderboard(users["admin"], MARCH)
    a = _rows(board)["rep_a"]  # no USD rate yet: the 2,000 USD is shown as not counted, never taken 1:1
    assert (a["quota_won"], a["attainment"]) == (Decimal("15000.00"), Decimal("50.0"))
    assert a["unconverted"] == [{"currency": "USD", "amount": Decimal("2000.00")}]
    assert _rows(board)["rep_b"]["unconverted"] == [{"currency": "CNY", "amount": Decimal("8000.00")}]
    admin = users["admin"]
    payment_services.set_rate(admin, {"currency": "USD", "rate": "7.12345678", "valid_from": "2025-01-01"})
    payment_services.set_rate(admin, {"currency": "USD", "rate": "9", "valid_from": "2031-04-01"})  # after March
    board = leaderboard(users["admin"], MARCH)
    a = _rows(board)["rep_a"]  # 15,000 + 2,000 × 7.12345678 = 15,000 + 14,246.91
    assert (a["quota_won"], a["attainment"], a["unconverted"]) == (Decimal("29246.91"), Decimal("97.5"), [])
    assert a["won_amount"] == Decimal("15000.00")  # the ranking stays in the board's currency
    b = _rows(board)["rep_b"]  # a USD quota: 1,000 + 8,000 / 7.12345678 = 1,000 + 1,123.05
    assert (b["quota_won"], b["attainment"]) == (Decimal("2123.05"), Decimal("53.1"))
    teams = {t["name"]: t for t in board["teams"]}  # 43,000 CNY + 3,000 USD × 7.12345678 = 43,000 + 21,370.37
    assert teams["公司"]["won_amount"] == Decimal("64370.37") and teams["公司"]["unconverted"] == []
    assert teams["公司"]["other_currencies"] == [{"currency": "USD", "amount": Decimal("3000.00")}]


def test_a_rep_sees_only_their_row_and_a_manager_their_teams(book, users):
    rep = leaderboard(users["rep_a"], MARCH)
    assert [r["name"] for r in rep["rows"]] == ["rep_a"] and rep["teams"] == []
    manager = leaderboard(users["manager_a"], MARCH)
    assert {r["name"] for r in manager["rows"]} == {"rep_a", "rep_a2"}
    assert [t["name"] for t in manager["teams"]] == ["华北销售"]  # not the company team above it
    assert "rep_b" not in {r["name"] for r in leaderboard(users["viewer"], MARCH)["rows"]}


def test_leaderboard_queries_do_not_grow_with_reps_or_deals(book, users, teams, make_opp):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            leaderboard(users["manager_a"], MARCH)
        return len(ctx.captured_queries)

    count()  # the first one also makes the company profile (the base currency)
    before = count()
    for i in range(3):
        rep = create_user(
            None, username=f"rep_extra{i}", password="correct-horse-9", role=Role.SALES_REP, team=teams["a"]
        )
        make_opp(rep, "100.00", "won", at(2031, 3, 9))
        make_opp(rep, "50.00", "lost", at(2031, 3, 9))
    assert len(leaderboard(users["manager_a"], MARCH)["rows"]) == 5
    assert count() == before <= 11  # subtree and shares look-ups, one query per figure, base currency and rates


def test_quota_rules(users, teams):
    manager, admin = users["manager_a"], users["admin"]
    quota = quota_services.create_quota(
        manager, {"user_id": users["rep_a"].pk, "kind": "quarter", "start": "2031-04-01", "amount": "90000.50"}
    )
    assert quota.currency == "CNY" and AuditEntry.objects.filter(object_id=quota.pk, action="create").exists()
    with pytest.raises(ValidationError) as exc:  # once per rep and period
        quota_services.create_quota(
            admin, {"user_id": users["rep_a"].pk, "kind": "quarter", "start": "2031-04-01", "amount": "1"}
        )
    assert "user_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        quota_services.create_quota(
            admin,
            {
                "user_id": users["rep_a"].pk,
                "team_id": teams["a"].pk,
                "kind": "quarter",
                "start": "2031-05-01",
                "amount": "-1",
                "currency": "yuan",
            },
        )
    assert set(exc.value.message_dict) == {"user_id", "team_id", "start", "amount", "currency"}
    with pytest.raises(ValidationError) as exc:  # a manager sets quotas in their own teams only
        quota_services.create_quota(
            manager, {"user_id": users["rep_b"].pk, "kind": "month", "start": "2031-04-01", "amount": "1"}
        )
    assert "user_id" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        quota_services.create_quota(
            users["rep_a"], {"user_id": users["rep_a"].pk, "kind": "month", "start": "2031-04-01", "amount": "1"}
        )
    with pytest.raises(PermissionDenied):  # a rep's own quota is visible to them, not theirs to change
        quota_services.update_quota(users["rep_a"], quota, {"amount": "1"})
    quota_services.update_quota(manager, quota, {"amount": "80000"})
    entry = AuditEntry.objects.filter(object_id=quota.pk, action="update").get()
    assert entry.changes == {"amount": ["90000.50", "80000.00"]}
    assert list(Quota.objects.visible_to(users["rep_a2"])) == []
    assert list(Quota.objects.visible_to(users["rep_a"])) == [quota]
    pk = quota.pk
    quota_services.delete_quota(manager, quota)
    assert not Quota.objects.exists() and AuditEntry.objects.filter(object_id=pk, action="delete").exists()


def test_the_same_monthly_quota_for_a_year(users):
    reps = [users["rep_a"].pk, users["rep_a2"].pk]
    assert quota_services.set_monthly_quotas(users["manager_a"], reps, 2031, "10000", "CNY") == 24
    assert quota_services.set_monthly_quotas(users["manager_a"], reps[:1], 2031, "12000", "CNY") == 12
    assert quota_services.set_monthly_quotas(users["manager_a"], reps[:1], 2031, "12000", "CNY") == 0
    assert Quota.objects.filter(user_id=reps[0], amount=Decimal("12000")).count() == 12
    with pytest.raises(ValidationError) as exc:  # rep_b is another team's: nothing is written
        quota_services.set_monthly_quotas(users["manager_a"], [users["rep_b"].pk], "year", "x")
    assert set(exc.value.message_dict) == {"user_ids", "year", "amount"}
    assert Quota.objects.count() == 24


@pytest.fixture
def leads(users, stages):
    """rep_a's leads created in March 2031: one new, one qualified, two converted (one of them won);
    one created in February; and rep_b's lead in March."""
    a = users["rep_a"]

    def lead(name, created, owner=a):
        made = lead_services.create_lead(owner, {"name": name, "company": f"{name}公司"})
        Lead.objects.filter(pk=made.pk).update(created_at=created)
        made.refresh_from_db()
        return made

    lead("王芳", at(2031, 3, 1, 0, 10))
    q = lead("李娜", at(2031, 3, 4))
    lead_services.set_lead_status(a, q, "qualified", q.version)
    for name, won in (("刘洋", True), ("陈静", False)):
        c = lead(name, at(2031, 3, 9))
        c = lead_services.convert_lead(a, c, {"amount": "1000", "create_opportunity": True}, c.version)
        if won:
            opp = c.converted_opportunity
            services.move_stage(a, opp, stages["won"].pk, opp.version)
    lead("赵磊", at(2031, 2, 28, 23, 59))
    lead("孙强", at(2031, 3, 9), owner=users["rep_b"])


def test_funnel_counts_and_rates(leads, users, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        result = funnel(users["admin"], MARCH, owner_id=users["rep_a"].pk)
    steps = {s["step"]: s for s in result["steps"]}
    assert [steps[k]["count"] for k in ("created", "qualified", "converted", "won")] == [4, 3, 2, 1]
    assert steps["qualified"]["rate"] == Decimal("75.0") and steps["converted"]["rate"] == Decimal("66.7")
    assert steps["won"]["rate"] == Decimal("50.0") and result["overall_rate"] == Decimal("25.0")
    assert funnel(users["admin"], MARCH)["steps"][0]["count"] == 5
    assert funnel(users["rep_b"], MARCH)["steps"][0]["count"] == 1  # rep_b sees their own leads only


def test_year_over_year(users, make_opp):
    a = users["rep_a"]
    make_opp(a, "1000.00", "won", at(2031, 3, 5), created=at(2031, 3, 1, 0, 5))
    make_opp(a, "3000.00", "open", created=at(2031, 3, 20))
    make_opp(a, "500.00", "won", at(2030, 3, 31, 23, 0), created=at(2030, 2, 1))
    make_opp(a, "800.00", "won", at(2031, 3, 7), "USD", created=at(2031, 1, 2))
    make_opp(a, "9.00", "won", at(2029, 3, 7), created=at(2029, 3, 1))  # two years back: not compared
    cny, usd = year_over_year(users["admin"], 2031)
    assert (cny["currency"], usd["currency"]) == ("CNY", "USD")
    march = cny["months"][2]
    assert march["opportunities_created"] == {
        "count": 2,
        "amount": Decimal("4000.00"),
        "previous_count": 0,
        "previous_amount": Decimal("0"),
        "amount_change": None,
    }
    won = march["opportunities_won"]
    assert (won["count"], won["amount"], won["previous_count"], won["previous_amount"]) == (
        1,
        Decimal("1000.00"),
        1,
        Decimal("500.00"),
    )
    assert won["amount_change"] == Decimal("100.0")
    assert cny["months"][1]["opportunities_created"]["previous_count"] == 1
    assert usd["totals"]["opportunities_won"]["amount"] == Decimal("800.00")
    assert year_over_year(users["rep_b"], 2031) == []


def test_year_over_year_compares_orders_by_order_date_leaving_cancelled_and_hidden_ones_out(users):
    from guanxi.sales.quote_models import Order

    a, b = users["rep_a"], users["rep_b"]
    account = customer_services.create_account(a, {"name": "订单客户"})
    other = customer_services.create_account(b, {"name": "别人的客户"})

    def order(owner, acct, number, day, net, status="confirmed"):
        Order.objects.create(number=number, account=acct, owner=owner, team=owner.team, ordered_on=day,
                             net_total=Decimal(net), gross_total=Decimal(net) * Decimal("1.13"), status=status)

    order(a, account, "O-1", dt.date(2031, 3, 1), "1000.00")
    order(a, account, "O-2", dt.date(2031, 3, 31), "500.00")
    order(a, account, "O-3", dt.date(2031, 3, 15), "9999.00", status="cancelled")
    order(a, account, "O-4", dt.date(2030, 3, 10), "750.00")
    order(a, account, "O-5", dt.date(2031, 4, 1), "1.00")
    order(b, other, "O-6", dt.date(2031, 3, 2), "4000.00")

    [cny] = year_over_year(a, 2031)
    march = cny["months"][2]["orders"]
    assert (march["count"], march["amount"], march["previous_count"], march["previous_amount"]) == (
        2, Decimal("1500.00"), 1, Decimal("750.00"))
    assert march["amount_change"] == Decimal("100.0")
    assert cny["months"][3]["orders"]["count"] == 1
    assert cny["totals"]["orders"]["amount"] == Decimal("1501.00")
    [everyone] = year_over_year(users["admin"], 2031)
    assert everyone["months"][2]["orders"]["amount"] == Decimal("5500.00")

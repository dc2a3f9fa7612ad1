"""The weighted forecast checked against a hand computation on a small fixture, per owner and per team,
only what the user may see, in one query."""

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.customers import services as customer_services
from guanxi.sales import services
from guanxi.sales.queries import forecast

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(users, stages):
    """rep_a: 3 opportunities in March 2031 (one won), 1 lost; rep_a2: 1 in March, 1 in April; rep_b: 1."""
    s = stages["open"]

    def opp(user, amount, stage, close, probability=None, **extra):
        account = customer_services.create_account(user, {"name": f"{user.username} 客户 {amount}"})
        data = {"name": f"商机 {amount}", "account_id": account.pk, "amount": amount, "stage_id": stage.pk,
                "expected_close": close, **extra}
        if probability is not None:
            data["probability"] = probability
        return services.create_opportunity(user, data)

    a, a2, b = users["rep_a"], users["rep_a2"], users["rep_b"]
    opp(a, "10000.00", s[0], "2031-03-03")                  # 10 % (stage default) → 1,000.00
    opp(a, "2500.50", s[2], "2031-03-31")                   # 50 % → 1,250.25
    opp(a, "333.33", s[1], "2031-03-15", probability=33)    # 33 % → 109.9989
    opp(a, "7000.00", stages["won"], "2031-03-20")          # won, 100 % → 7,000.00
    opp(a, "99999.00", stages["lost"], "2031-03-20", lost_reason="价格")  # lost: left out
    opp(a2, "4000.00", s[3], "2031-03-01")                  # 75 % → 3,000.00
    opp(a2, "1000.00", s[3], "2031-04-10")                  # 75 % → 750.00
    opp(b, "5000.00", s[0], "2031-03-05")                   # rep_b, team b: 10 % → 500.00


def _rows(user, **kw):
    return {(r["group"], r["month"]): r for r in forecast(user, **kw)}


def test_per_owner_matches_the_hand_computation(book, users, django_assert_num_queries):
    with django_assert_num_queries(2):  # one grouped query (by month, in SQL), one for the names
        rows = _rows(users["admin"])
    march, april = dt.date(2031, 3, 1), dt.date(2031, 4, 1)
    a = rows[("rep_a", march)]
    assert a["count"] == 4
    assert a["amount"] == Decimal("10000.00") + Decimal("2500.50") + Decimal("333.33") + Decimal("7000.00")
    # 1000 + 1250.25 + 109.9989 + 7000 = 9360.2489 → 9,360.25
    assert a["weighted"] == Decimal("9360.25")
    assert a["won"] == Decimal("7000.00")
    assert rows[("rep_a2", march)]["weighted"] == Decimal("3000.00")
    assert rows[("rep_a2", april)]["count"] == 1 and rows[("rep_a2", april)]["weighted"] == Decimal("750.00")
    assert rows[("rep_b", march)]["weighted"] == Decimal("500.00")
    assert len(rows) == 4


def test_per_team(book, users, teams):
    rows = _rows(users["admin"], by="team")
    a = rows[(teams["a"].name, dt.date(2031, 3, 1))]
    assert a["count"] == 5 and a["weighted"] == Decimal("12360.25")
    assert a["amount"] == Decimal("23833.83")
    assert rows[(teams["b"].name, dt.date(2031, 3, 1))]["amount"] == Decimal("5000.00")


def test_only_what_the_user_may_see(book, users, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # a manager: the team subtree, the shares check, the grouped query, names
        _rows(users["manager_a"])
    assert {g for g, _m in _rows(users["rep_a"])} == {"rep_a"}
    assert {g for g, _m in _rows(users["manager_a"])} == {"rep_a", "rep_a2"}
    assert {g for g, _m in _rows(users["rep_b"])} == {"rep_b"}


def test_month_range(book, users):
    rows = forecast(users["admin"], start=dt.date(2031, 4, 1), end=dt.date(2031, 5, 1))
    assert [(r["group"], r["count"]) for r in rows] == [("rep_a2", 1)]


def test_api_and_page(book, users, client):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    api = ApiClient(issue_token(users["manager_a"]))
    body = api.get("forecast", {"start": "2031-03", "end": "2031-03"}).json()
    assert {(r["group"], r["weighted"]) for r in body["rows"]} == {("rep_a", "9360.25"), ("rep_a2", "3000.00")}
    r = api.get("forecast", {"start": "2031-3", "by": "nobody"})
    assert r.status_code == 400
    client.force_login(users["manager_a"])
    page = client.get("/sales/forecast/", {"start": "2031-03", "end": "2031-04"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "9360.25" in html and "rep_b" not in html

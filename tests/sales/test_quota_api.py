"""/api/v1/quotas and /api/v1/performance/*: the figures of the services, 400 naming the field for a bad
period or quota, 403/404 for what a user may not set or see, constant queries for the quota list."""

import pytest

from guanxi.sales.models import Quota
from tests.sales import performance_book

pytestmark = pytest.mark.django_db
book = performance_book.book
make_opp = performance_book.make_opp


@pytest.fixture
def api(users):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    return {name: ApiClient(issue_token(user)) for name, user in users.items()}


def test_quota_crud(api, users, teams, django_assert_max_num_queries):
    rep = users["rep_a"].pk
    r = api["manager_a"].post("quotas", {"user_id": rep, "kind": "quarter", "start": "2031-04-01", "amount": "90000.5"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["period"], body["amount"], body["currency"], body["user"]["id"]) == ("2031-Q2", "90000.50", "CNY", rep)
    r = api["manager_a"].post(
        "quotas", {"team_id": teams["a"].pk, "kind": "month", "start": "2031-04-15", "amount": "x"}
    )
    assert r.status_code == 400 and "amount" in r.json()["errors"]
    r = api["manager_a"].post(
        "quotas", {"team_id": teams["a"].pk, "kind": "month", "start": "2031-04-15", "amount": "1"}
    )
    assert r.status_code == 400 and set(r.json()["errors"]) == {"start"}
    assert api["rep_a"].post("quotas", {"user_id": rep, "start": "2031-04-01", "amount": "1"}).status_code == 403
    r = api["manager_a"].post(
        "quotas/monthly", {"user_ids": [rep, users["rep_a2"].pk], "year": 2031, "amount": "10000"}
    )
    assert r.json() == {"written": 24}
    with django_assert_max_num_queries(6):  # not one per quota
        r = api["manager_a"].get("quotas", {"year": 2031, "limit": 30})
    assert len(r.json()["items"]) == 25 and r.json()["next"] is None
    assert len(api["manager_a"].get("quotas", {"period": "2031-03"}).json()["items"]) == 2
    assert api["rep_a"].get("quotas", {"period": "2031-13"}).status_code == 400
    quota_id = body["id"]
    assert api["rep_a2"].get(f"quotas/{quota_id}").status_code == 404
    assert api["rep_a"].patch(f"quotas/{quota_id}", {"amount": "1"}).status_code == 403
    r = api["manager_a"].patch(f"quotas/{quota_id}", {"amount": "80000", "currency": "usd"})
    assert r.status_code == 200 and (r.json()["amount"], r.json()["currency"]) == ("80000.00", "USD")
    assert api["manager_a"].delete(f"quotas/{quota_id}").status_code == 204
    assert not Quota.objects.filter(pk=quota_id).exists()


def test_performance_endpoints(api, book, users):
    r = api["admin"].get("performance/leaderboard", {"period": "2031-03"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["period"], body["start"], body["end"]) == ("2031-03", "2031-03-01", "2031-04-01")
    assert [(row["name"], row["won_amount"], row["attainment"]) for row in body["rows"]] == [
        ("rep_a2", "20000.00", "133.3"),
        ("rep_a", "15000.00", "50.0"),
        ("rep_b", "8000.00", "25.0"),
    ]
    assert {t["name"]: t["attainment"] for t in body["teams"]} == {"公司": "71.7", "华北销售": "70.0"}
    usd = api["admin"].get("performance/leaderboard", {"period": "2031-Q1", "currency": "usd"}).json()
    assert [(row["name"], row["won_amount"]) for row in usd["rows"]][:2] == [("rep_a", "2000.00"), ("rep_b", "1000.00")]
    mine = api["rep_b"].get("performance/leaderboard", {"period": "2031"}).json()
    assert [row["name"] for row in mine["rows"]] == ["rep_b"] and mine["teams"] == []
    for path, params in (
        ("performance/leaderboard", {"period": "2031-Q5"}),
        ("performance/funnel", {"period": "March"}),
    ):
        r = api["admin"].get(path, params)
        assert r.status_code == 400 and list(r.json()["errors"]) == ["period"]
    r = api["admin"].get("performance/year-over-year", {"year": "soon"})
    assert r.status_code == 400 and "year" in r.json()["errors"]
    funnel = api["admin"].get("performance/funnel", {"period": "2031-03", "owner": users["rep_a"].pk}).json()
    assert [s["step"] for s in funnel["steps"]] == ["created", "qualified", "converted", "won"]
    yoy = api["admin"].get("performance/year-over-year", {"year": 2031}).json()
    assert yoy["year"] == 2031 and [c["currency"] for c in yoy["currencies"]] == ["CNY", "USD"]
    assert len(yoy["currencies"][0]["months"]) == 12

"""/api/v1/analytics: an account's scores (404 for others'), the grid over visible accounts, a cell's accounts,
playbooks (administrators change them; running twice creates nothing more), and starting the scoring job."""

from __future__ import annotations

import pytest

from guanxi.analytics.models import Band, CustomerScore
from guanxi.analytics.score_services import score_customers
from guanxi.core.models import JobProgress

from .app_history import make_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    return {name: ApiClient(issue_token(user)) for name, user in users.items()}


@pytest.fixture
def scored(users):
    history = make_history([users["rep_a"], users["rep_b"]], seed=5)
    assert score_customers(history["as_of"]).status == "done"
    return history


def test_scores_of_visible_accounts_only(api, scored, users):
    mine = CustomerScore.objects.filter(account__owner=users["rep_a"]).first()
    theirs = CustomerScore.objects.filter(account__owner=users["rep_b"]).first()
    body = api["rep_a"].get(f"analytics/scores/{mine.account_id}").json()
    assert (body["segment"], body["churn_risk"], body["value_band"]) == (mine.segment, mine.churn_risk,
                                                                        mine.value_band)
    assert api["rep_a"].get(f"analytics/scores/{theirs.account_id}").status_code == 404
    assert api["rep_a"].get("analytics/scores/999999999").status_code == 404
    assert api["rep_a"].get("analytics/scores/abc").status_code == 400


def test_the_grid_and_a_cells_accounts_count_only_visible_accounts(api, scored, users):
    cells = {c["cell"]: c for c in api["rep_a"].get("analytics/grid").json()["cells"]}
    for key, cell in cells.items():
        value, risk = key.split("-")
        mine = CustomerScore.objects.filter(account__owner=users["rep_a"], value_band=value, risk_band=risk)
        assert cell["count"] == mine.count()
        ids, cursor = [], None
        while True:
            page = api["rep_a"].get(f"analytics/grid/{key}/accounts", {"limit": 5, **({"cursor": cursor} if cursor
                                                                                      else {})}).json()
            ids += [s["account_id"] for s in page["items"]]
            cursor = page["next"]
            if not cursor:
                break
        assert sorted(ids) == sorted(mine.values_list("account_id", flat=True))
    r = api["rep_a"].get("analytics/grid/middle-high/accounts")
    assert r.status_code == 400 and "cell" in r.json()["errors"]


def test_playbooks_are_changed_by_administrators_and_run_idempotently(api, scored, users):
    books = {(p["value_band"], p["risk_band"]): p for p in api["rep_a"].get("analytics/playbooks").json()["items"]}
    book = books[(Band.HIGH, Band.HIGH)]
    assert api["manager_a"].patch(f"analytics/playbooks/{book['id']}", {"title": "x"}).status_code == 403
    r = api["admin"].patch(f"analytics/playbooks/{book['id']}", {"action": "tag", "tag": None})
    assert r.status_code == 400 and "tag" in r.json()["errors"]
    r = api["admin"].patch(f"analytics/playbooks/{book['id']}", {"title": "", "due_hours": 0})
    assert r.status_code == 400 and "due_hours" in r.json()["errors"]
    r = api["admin"].patch(f"analytics/playbooks/{book['id']}", {"title": "48 小时内电话回访", "due_hours": 48})
    assert r.status_code == 200 and r.json()["title"] == "48 小时内电话回访"
    first = api["rep_a"].post(f"analytics/playbooks/{book['id']}/run").json()
    mine = CustomerScore.objects.filter(account__owner=users["rep_a"], value_band="high", risk_band="high").count()
    assert len(first["created_task_ids"]) == mine
    again = api["rep_a"].post(f"analytics/playbooks/{book['id']}/run").json()
    assert again["created_task_ids"] == [] and again["skipped"] == mine
    assert api["viewer"].post(f"analytics/playbooks/{book['id']}/run").status_code == 403
    assert api["rep_a"].post("analytics/playbooks/999999/run").status_code == 404


def test_starting_the_scoring_job(api, users):
    assert api["rep_a"].post("analytics/score").status_code == 403
    r = api["admin"].post("analytics/score")
    assert r.status_code == 202 and r.json()["kind"] == "analytics.score_customers"
    assert api["admin"].post("analytics/score").json()["id"] == r.json()["id"]
    assert JobProgress.objects.count() == 1

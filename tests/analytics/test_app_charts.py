"""The 7P chart pages: each draws from aggregate queries over the records the user may see, links every
bar to the records behind it, and costs the same number of queries however much data there is."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.analytics.chart_views import CHARTS
from guanxi.analytics.models import CustomerScore
from guanxi.analytics.score_services import score_customers
from guanxi.customers.models import Account
from guanxi.sales.quote_models import Order

from .app_history import make_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(users):
    today = timezone.localdate()
    history = make_history([users["rep_a"], users["rep_b"]], seed=5,
                           start=(today - dt.timedelta(days=400)).isoformat(), days=400)
    assert score_customers(min(history["as_of"], today + dt.timedelta(days=1))).status == "done"
    return history


def _ids(page: str, attribute: str) -> set[int]:
    return {int(x.split('"')[0]) for x in page.split(f'{attribute}="')[1:]}


def _option(page: str, key: str) -> dict:
    raw = page.split(f'<script id="option-{key}" type="application/json">')[1].split("</script>")[0]
    return json.loads(raw)


@pytest.mark.parametrize("name", list(CHARTS))
def test_every_chart_page_renders_for_a_rep_with_bounded_queries(scored, users, client, name,
                                                                 django_assert_max_num_queries):
    client.force_login(users["rep_a"])
    client.get(f"/analytics/charts/{name}/")
    with django_assert_max_num_queries(14):
        response = client.get(f"/analytics/charts/{name}/")
    assert response.status_code == 200
    if name == "promotion":
        assert 'id="no-charts"' in response.content.decode()


def test_revenue_counts_only_the_reps_orders_and_links_to_them(scored, users, client):
    rep = users["rep_a"]
    client.force_login(rep)
    page = client.get("/analytics/charts/performance/").content.decode()
    option = _option(page, "revenue")
    this_year = option["series"][0]["data"]
    months = option["xAxis"]["data"]
    month = months[-2]
    start = dt.date.fromisoformat(f"{month}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    mine = Order.objects.filter(owner=rep, ordered_on__gte=start, ordered_on__lt=end).exclude(status="cancelled")
    assert this_year[-2]["value"] == pytest.approx(float(sum(o.gross_total for o in mine) or Decimal(0)))
    drill = client.get(this_year[-2]["url"]).content.decode()
    assert _ids(drill, "data-order") <= set(mine.values_list("pk", flat=True))
    theirs = Order.objects.exclude(owner=rep).filter(ordered_on__gte=start, ordered_on__lt=end).first()
    if theirs:
        assert f'data-order="{theirs.pk}"' not in drill
    assert client.get("/analytics/orders/?month=2026-13").status_code == 400


def test_profiling_and_persistency_count_visible_accounts_and_drill_down(scored, users, client):
    rep = users["rep_a"]
    client.force_login(rep)
    option = _option(client.get("/analytics/charts/profiling/").content.decode(), "classification")
    assert sum(d["value"] for d in option["series"][0]["data"]) == Account.objects.filter(owner=rep).count()
    assert all(d["url"].startswith("/accounts/?classification=") for d in option["series"][0]["data"])
    buckets = _option(client.get("/analytics/charts/persistency/").content.decode(), "p_alive")["series"][0]["data"]
    mine = CustomerScore.objects.filter(account__owner=rep)
    assert sum(b["value"] for b in buckets) == mine.exclude(p_alive=None).count()
    listed = client.get(buckets[-1]["url"] + "&limit=200").content.decode()
    expected = set(mine.filter(p_alive__gte=0.8).values_list("account_id", flat=True))
    assert _ids(listed, "data-account") == expected
    assert client.get("/analytics/accounts/?p_alive_gte=abc").status_code == 400
    assert client.get("/analytics/accounts/?segment=nonsense").status_code == 400


def test_profitability_lists_the_top_customers_the_user_may_see(scored, users, client):
    rep = users["rep_b"]
    client.force_login(rep)
    top = _option(client.get("/analytics/charts/profitability/").content.decode(), "top")
    best = list(CustomerScore.objects.filter(account__owner=rep).exclude(clv=None).order_by("-clv", "pk")[:10])
    assert top["xAxis"]["data"] == [s.account.name for s in best]
    assert [d["url"] for d in top["series"][0]["data"]] == [f"/accounts/{s.account_id}/" for s in best]

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


def _table(page: str, table_id: str) -> str:
    return page.split(f'id="{table_id}"')[1].split("</table>")[0]


def _pages(client, url: str, attribute: str, table_id: str, max_queries, bound: int) -> set[int]:
    """Every id a paged drill-down lists, following its next-page links; each page within `bound` queries."""
    ids: set[int] = set()
    while url:
        with max_queries(bound):
            page = client.get(url).content.decode()
        ids |= _ids(_table(page, table_id), attribute)
        url = (url.split("?")[0] + page.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
               if 'id="next-page"' in page else None)
    return ids


def test_promotion_counts_the_accounts_each_playbook_targeted_and_those_that_ordered_since(
        scored, users, client, django_assert_max_num_queries):
    from guanxi.analytics.playbook_models import PlaybookAction
    from guanxi.analytics.playbook_services import playbooks, run_playbook

    for playbook in playbooks().values():
        run_playbook(users["admin"], playbook)
    actions = list(PlaybookAction.objects.order_by("pk"))
    assert len({a.playbook_id for a in actions}) >= 2
    now = timezone.now()
    for i, action in enumerate(actions):  # targeted 30 to 330 days ago, so some ordered since and some not
        PlaybookAction.objects.filter(pk=action.pk).update(created_at=now - dt.timedelta(days=30 + (i * 37) % 300))
    rep = users["rep_a"]
    orders = Order.objects.filter(owner=rep).exclude(status="cancelled")
    expected: dict[int, tuple[set[int], set[int]]] = {}
    for action in PlaybookAction.objects.filter(account__owner=rep):
        targeted, ordered = expected.setdefault(action.playbook_id, (set(), set()))
        targeted.add(action.account_id)
        if orders.filter(account_id=action.account_id,
                         ordered_on__gte=timezone.localtime(action.created_at).date()).exists():
            ordered.add(action.account_id)
    assert any(o for _t, o in expected.values()) and any(t - o for t, o in expected.values())

    client.force_login(rep)
    client.get("/analytics/charts/promotion/")
    with django_assert_max_num_queries(14):
        page = client.get("/analytics/charts/promotion/").content.decode()
    assert 'id="no-charts"' not in page
    option = _option(page, "playbooks")
    targeted, ordered = option["series"][0]["data"], option["series"][1]["data"]
    assert len(targeted) == len(expected)
    theirs = set(Account.objects.exclude(owner=rep).values_list("pk", flat=True))
    for bar, answered in zip(targeted, ordered, strict=True):
        pk = int(bar["url"].split("/playbooks/")[1].split("/")[0])
        assert bar["value"] == len(expected[pk][0]) and answered["value"] == len(expected[pk][1])
        listed = _pages(client, bar["url"], "data-account", "playbook-accounts", django_assert_max_num_queries, 10)
        assert listed == expected[pk][0] and not listed & theirs
        assert answered["url"] == bar["url"] + "?ordered=1"
        assert _pages(client, answered["url"], "data-account", "playbook-accounts",
                      django_assert_max_num_queries, 10) == expected[pk][1]
    assert client.get(targeted[0]["url"] + "?cursor=nonsense").status_code == 400


def test_promotion_reach_is_the_marketing_consent_of_the_visible_contacts(users, client,
                                                                          django_assert_max_num_queries):
    from guanxi.customers.models import Contact

    rep, other = users["rep_a"], users["rep_b"]
    Contact.objects.bulk_create([Contact(name=f"联系人{i}", owner=owner, team_id=owner.team_id,
                                         marketing_consent=consent)
                                 for i, (owner, consent) in enumerate([(rep, True)] * 3 + [(rep, False)] * 2
                                                                      + [(other, True)] * 4)])
    client.force_login(rep)
    option = _option(client.get("/analytics/charts/promotion/").content.decode(), "consent")
    bars = option["series"][0]["data"]
    assert [b["value"] for b in bars] == [3, 2]
    mine = Contact.objects.filter(owner=rep)
    with django_assert_max_num_queries(14):
        agreed = client.get(bars[0]["url"]).content.decode()
    assert _ids(_table(agreed, "contact-table"), "data-id") == set(
        mine.filter(marketing_consent=True).values_list("pk", flat=True))
    refused = client.get(bars[1]["url"]).content.decode()
    assert _ids(_table(refused, "contact-table"), "data-id") == set(
        mine.filter(marketing_consent=False).values_list("pk", flat=True))
    assert "marketing_consent" in client.get("/contacts/?marketing_consent=maybe").content.decode()


def test_product_points_open_that_products_orders_of_the_month(scored, users, client,
                                                               django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rep = users["rep_a"]
    client.force_login(rep)
    option = _option(client.get("/analytics/charts/product/").content.decode(), "product")
    months = option["xAxis"]["data"]
    series = option["series"][0]
    busiest = max(range(len(months)), key=lambda i: series["data"][i]["value"])
    point = series["data"][busiest]
    assert point["value"] > 0 and "product=" in point["url"]
    product = int(point["url"].split("product=")[1].split("&")[0])
    start = dt.date.fromisoformat(f"{months[busiest]}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    expected = set(Order.objects.filter(owner=rep, ordered_on__gte=start, ordered_on__lt=end,
                                        lines__product_id=product).exclude(status="cancelled")
                   .values_list("pk", flat=True))
    assert point["value"] == len(expected)
    with CaptureQueriesContext(connection) as month_only:
        client.get(f"/analytics/orders/?month={months[busiest]}")
    with django_assert_max_num_queries(len(month_only) + 1):  # + the product's name
        page = client.get(point["url"]).content.decode()
    assert _ids(page, "data-order") == expected
    assert client.get(f"/analytics/orders/?month={months[busiest]}&product=abc").status_code == 400


def test_geography_counts_visible_accounts_per_province_and_lists_them(scored, users, client,
                                                                       django_assert_max_num_queries):
    from guanxi.customers.models import Address

    rep = users["rep_a"]
    provinces = ["广东", "浙江", "江苏"]
    addresses = []
    for i, account in enumerate(Account.objects.order_by("pk")[:60]):
        addresses.append(Address(account=account, province=provinces[i % 3]))
        if i % 5 == 0:  # a second address in the same province counts the account once
            addresses.append(Address(account=account, province=provinces[i % 3], kind="billing"))
    only_theirs = Account.objects.exclude(owner=rep).first()
    addresses.append(Address(account=only_theirs, province="西藏"))
    Address.objects.bulk_create(addresses)
    client.force_login(rep)
    option = _option(client.get("/analytics/charts/profiling/").content.decode(), "province")
    mine = Account.objects.filter(owner=rep)
    expected = {p: set(mine.filter(addresses__province=p).values_list("pk", flat=True)) for p in provinces}
    bars = dict(zip(option["xAxis"]["data"], option["series"][0]["data"], strict=True))
    assert set(bars) == {p for p in provinces if expected[p]} and "西藏" not in bars
    for province, bar in bars.items():
        assert bar["value"] == len(expected[province])
        client.get(bar["url"])
        with django_assert_max_num_queries(14):
            listed = client.get(bar["url"]).content.decode()
        assert _ids(_table(listed, "account-table"), "data-id") == expected[province]

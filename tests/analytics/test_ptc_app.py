"""Target customers of a product in the app: the ranking on the CRM's orders with exact scores and reasons,
only the accounts the user may see, the call list (tasks for the owners, once), the segment (a tag), the CSV
file, the links from the product pages, and the API."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from guanxi.activities.models import Task
from guanxi.analytics import ptc_services as targets
from guanxi.customers.models import Account
from guanxi.sales.catalog_models import Product
from guanxi.sales.quote_models import Order, OrderLine, OrderStatus

pytestmark = pytest.mark.django_db
SIM_A, SIM_B = 2 / math.sqrt(15), 2 / math.sqrt(12)


@pytest.fixture
def shop(users):
    a, b = users["rep_a"], users["rep_b"]
    products = {code: Product.objects.create(code=code, name=name) for code, name in
                (("T", "打印机"), ("A", "纸张"), ("B", "墨盒"), ("D", "椅子"))}
    accounts = {}
    plan = [("b1", a, "AT"), ("b2", a, "ABT"), ("b3", a, "BT"), ("c1", a, "AB"), ("c2", a, "A"), ("c3", b, "AB"),
            ("c4", a, "D"), ("x", a, "")]
    for i, (name, owner, bought) in enumerate(plan):
        account = accounts[name] = Account.objects.create(name=f"客户 {name}", owner=owner, team=owner.team)
        if not bought:
            continue
        order = Order.objects.create(number=f"P{i}", account=account, owner=owner, team=owner.team,
                                     ordered_on=dt.date(2026, 1, 10 + i), gross_total=Decimal(100),
                                     net_total=Decimal(100))
        OrderLine.objects.bulk_create([OrderLine(order=order, product=products[c], description=c,
                                                 quantity=Decimal(1), unit_price=Decimal(10)) for c in bought])
    cancelled = Order.objects.create(number="X1", account=accounts["c4"], owner=a, ordered_on=dt.date(2026, 1, 1),
                                     status=OrderStatus.CANCELLED)  # does not make c4 a buyer of T
    OrderLine.objects.create(order=cancelled, product=products["T"], description="T", quantity=1, unit_price=1)
    return {"products": products, "accounts": accounts}


def test_ranking_scores_and_reasons_over_visible_accounts(shop, users, english):
    p, acc = shop["products"], shop["accounts"]
    mine = targets.target_customers(users["rep_a"], p["T"], top=10)
    assert (mine.method, mine.buyers, mine.message) == ("cf", 3, "")
    assert [r.account.name for r in mine.rows] == ["客户 c1", "客户 c2", "客户 c4"]  # not rep_b's c3 nor buyers
    assert [round(r.score, 4) for r in mine.rows] == [1.0, round(SIM_A / (SIM_A + SIM_B), 4), 0.0]
    assert [(q.code, w) for q, w in mine.rows[0].reasons] == [("B", round(SIM_B, 4)), ("A", round(SIM_A, 4))]
    everyone = targets.target_customers(users["admin"], p["T"], top=2)
    assert [r.account.pk for r in everyone.rows] == [acc["c1"].pk, acc["c3"].pk]  # a tie: the older account first
    with_buyers = targets.target_customers(users["rep_a"], p["T"], top=10, include_buyers=True)
    assert {r.account.name for r in with_buyers.rows if r.bought} == {"客户 b1", "客户 b2", "客户 b3"}
    assert len(with_buyers.rows) == 6  # x has no order: nothing to rank it by
    none = targets.target_customers(users["rep_a"], Product.objects.create(code="N", name="新品"))
    assert none.rows == [] and "Nobody has ordered" in none.message


def test_call_list_creates_one_open_task_per_owner_and_account(shop, users, english):
    p, acc = shop["products"], shop["accounts"]
    tasks, skipped = targets.make_call_list(users["rep_a"], p["T"], top=2)
    assert sorted(t.account_id for t in tasks) == sorted([acc["c1"].pk, acc["c2"].pk]) and skipped == 0
    task = next(t for t in tasks if t.account_id == acc["c1"].pk)
    assert (task.title, task.owner_id) == ("Offer 打印机", users["rep_a"].pk) and "墨盒, 纸张" in task.description
    assert targets.make_call_list(users["rep_a"], p["T"], top=2) == ([], 2)  # the tasks are still open
    admin_tasks, _skipped = targets.make_call_list(users["admin"], p["T"], top=2)
    assert [t.owner_id for t in admin_tasks] == [users["rep_b"].pk]  # c3's owner; c1 already has its task
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        targets.make_call_list(users["viewer"], p["T"])


def test_segment_tags_the_listed_accounts(shop, users):
    p, acc = shop["products"], shop["accounts"]
    assert targets.save_segment(users["rep_a"], p["T"], "打印机潜客", top=2) == 2
    assert set(Account.objects.filter(tags__name="打印机潜客").values_list("pk", flat=True)) == {
        acc["c1"].pk, acc["c2"].pk}
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        targets.save_segment(users["rep_a"], p["T"], " ")


def test_pages_actions_csv_and_links(client, shop, users, english, django_assert_max_num_queries):
    p, acc = shop["products"], shop["accounts"]
    client.force_login(users["rep_a"])
    url = f"/analytics/products/{p['T'].pk}/targets/"
    with django_assert_max_num_queries(20):
        page = client.get(url, {"top": "10"})
    html = page.content.decode()
    assert page.status_code == 200 and "客户 c1" in html and "客户 c3" not in html and "墨盒" in html
    assert client.get(url, {"top": "abc"}).status_code == 400
    assert client.get("/analytics/products/999999/targets/").status_code == 404
    done = client.post(url + "tasks/", {"top": "2"})
    assert done.status_code == 302 and Task.objects.filter(title="Offer 打印机").count() == 2
    assert client.post(url + "tag/", {"top": "1", "tag": "潜客"}).status_code == 302
    assert list(Account.objects.filter(tags__name="潜客")) == [acc["c1"]]
    csv = b"".join(client.get(f"/analytics/products/{p['T'].pk}/targets.csv", {"top": "2"}).streaming_content)
    lines = csv.decode("utf-8-sig").splitlines()
    assert lines[0] == "rank,account_id,account,owner,score,reasons"
    assert lines[1].startswith(f"1,{acc['c1'].pk},客户 c1,") and lines[1].endswith("墨盒 (0.5774); 纸张 (0.5164)")
    assert url in client.get("/sales/products/").content.decode()
    client.force_login(users["viewer"])
    assert client.post(url + "tasks/", {"top": "2"}).status_code == 403


def test_api(shop, users):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    p, acc = shop["products"], shop["accounts"]
    rep = ApiClient(issue_token(users["rep_a"]))
    body = rep.get(f"analytics/products/{p['T'].pk}/targets", {"top": 2}).json()
    assert (body["method"], body["buyers"]) == ("cf", 3)
    assert [i["account_id"] for i in body["items"]] == [acc["c1"].pk, acc["c2"].pk]
    assert body["items"][0]["reasons"][0] == {"product_id": p["B"].pk, "product": "墨盒",
                                             "similarity": round(SIM_B, 4)}
    assert rep.get(f"analytics/products/{p['T'].pk}/targets", {"top": 0}).status_code == 400
    assert rep.get("analytics/products/999999/targets").status_code == 404
    made = rep.post(f"analytics/products/{p['T'].pk}/targets/tasks", {"top": 1}).json()
    assert len(made["created_task_ids"]) == 1 and made["skipped"] == 0
    assert rep.post(f"analytics/products/{p['T'].pk}/targets/tag", {"top": 2, "tag": "潜客"}).json() == {"tagged": 2}
    assert rep.post(f"analytics/products/{p['T'].pk}/targets/tag", {"top": 2}).status_code == 400


def test_on_scored_history_the_model_ranks_non_buyers(users):
    """With the scoring run's RFM figures and enough buyers and non-buyers, the logistic model ranks the list."""
    from guanxi.analytics.score_services import score_customers

    from .app_history import make_history

    history = make_history([users["rep_a"], users["rep_b"]], seed=5)
    assert score_customers(history["as_of"]).status == "done"
    product = history["products"][5]
    found = targets.target_customers(users["rep_a"], product, top=500)
    bought = set(OrderLine.objects.filter(product=product).exclude(order__status=OrderStatus.CANCELLED)
                 .values_list("order__account_id", flat=True))
    assert found.method == "model" and found.buyers == len(bought)
    assert found.rows and all(r.account.owner_id == users["rep_a"].pk and r.account.pk not in bought
                              for r in found.rows)
    scores = [r.score for r in found.rows]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] < 1


def test_scored_lists_read_the_stored_figures_and_equal_the_recomputation(users, django_assert_max_num_queries):
    """After a scoring run, every role's list ranks on the run's stored recency, frequency and spend (one read
    of the scores, no aggregation of the orders) and equals the list ranked on figures aggregated again from
    the orders as of that run, for the accounts each user may see."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.analytics.score_models import CustomerScore
    from guanxi.analytics.score_services import score_customers

    from .app_history import make_history

    history = make_history([users["rep_a"], users["rep_b"], users["rep_a2"]], n_accounts=150, seed=11)
    assert score_customers(history["as_of"]).status == "done"
    product = history["products"][4]
    scores, orders = CustomerScore._meta.db_table, '"sales_order"'

    def listed(found):
        return [(r.account.pk, r.score, r.cf_score, r.bought, [(p.pk, w) for p, w in r.reasons]) for r in found.rows]

    for role in ("admin", "manager_a", "rep_a", "rep_a2", "rep_b", "viewer"):
        user = users[role]
        with django_assert_max_num_queries(7), CaptureQueriesContext(connection) as stored_queries:  # 2 + visibility
            stored = targets.target_customers(user, product, top=500, include_buyers=True)
        with CaptureQueriesContext(connection) as recomputed_queries:
            recomputed = targets.target_customers(user, product, top=500, include_buyers=True, recompute=True)
        reads = [q["sql"] for q in stored_queries.captured_queries]
        assert sum(scores in sql for sql in reads) == 1 and sum(orders in sql for sql in reads) == 1  # the pairs
        assert sum(orders in q["sql"] for q in recomputed_queries.captured_queries) == 2  # and the aggregation
        assert stored.method == recomputed.method == "model"
        assert stored.rows and listed(stored) == listed(recomputed), role
        visible = set(Account.objects.visible_to(user).values_list("pk", flat=True))
        assert {r.account.pk for r in stored.rows} == visible & set(
            CustomerScore.objects.values_list("account_id", flat=True)), role  # every visible account with orders

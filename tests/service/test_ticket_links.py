"""A ticket's order and product (issue 5: "links to account, contact, order and product"): checked by the
services (an order the user may not see, another account's order, an inactive product: a 400 naming the field),
in the API (in, out, list filters), the new-ticket form, the ticket page and the order page's tickets card;
every change audited. Beside the ticket, the customer's value (the account card's stored scores) and open orders
the agent may see. High predicted value sends a ticket to the senior queue first like a key classification."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from guanxi.analytics.models import CustomerScore
from guanxi.core.records import audit_trail
from guanxi.core.services import issue_token
from guanxi.customers import services as customer_services
from guanxi.sales.catalog_models import Product
from guanxi.sales.quote_models import Order, OrderStatus
from guanxi.service import services
from guanxi.service.models import Queue, Ticket
from tests.api.conftest import ApiClient

from .conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(users):
    return customer_services.create_account(users["rep_a"], {"name": "上海普通贸易公司", "classification": "C"})


@pytest.fixture
def other_account(users):
    return customer_services.create_account(users["rep_a"], {"name": "杭州另一家公司", "classification": "C"})


def _order(owner, account, number, status=OrderStatus.CONFIRMED, total="1000.00"):
    return Order.objects.create(number=number, account=account, owner=owner, team=owner.team, status=status,
                                ordered_on=dt.date(2026, 3, 1), gross_total=total, net_total=total)


@pytest.fixture
def products():
    return {"router": Product.objects.create(code="R-100", name="企业路由器"),
            "old": Product.objects.create(code="R-050", name="旧款路由器", active=False)}


@pytest.fixture
def api(users, desk):
    everyone = {**users, **{k: desk[k] for k in ("lead", "wang", "li", "zhao")}}
    return {name: ApiClient(issue_token(user)) for name, user in everyone.items()}


def _score(account, clv, segment="important_value"):
    return CustomerScore.objects.create(
        account=account, as_of=dt.date(2026, 3, 1), recency_days=10, frequency=8, monetary=50_000.0, r_score=5,
        f_score=4, m_score=5, segment=segment, p_alive=0.92, expected_orders=3.1, clv=clv, churn_risk=0.1,
        value_band="high", risk_band="low", scored_at=timezone.now())


# --- the links, checked by the services ------------------------------------------------------------------------

def test_a_ticket_links_an_order_of_its_account_and_an_active_product(users, desk, account, products):
    rep = users["rep_a"]
    order = _order(rep, account, "SO-1")
    ticket = services.create_ticket(rep, {"subject": "路由器掉线", "account_id": account.pk, "order_id": order.pk,
                                          "product_id": products["router"].pk}, now=TUESDAY_10)
    assert (ticket.order, ticket.product) == (order, products["router"])
    assert audit_trail(ticket).get().changes["order_id"] == [None, order.pk]
    # An order alone: the ticket is the ordering customer's.
    alone = services.create_ticket(rep, {"subject": "发货慢", "order_id": str(order.pk)}, now=TUESDAY_10)
    assert alone.account == account and alone.order == order


def test_bad_links_are_refused_naming_the_field_and_nothing_is_made(users, desk, account, other_account, products):
    rep, rep_b = users["rep_a"], users["rep_b"]
    theirs = _order(rep_b, customer_services.create_account(rep_b, {"name": "广州南方物流"}), "SO-B")
    elsewhere = _order(rep, other_account, "SO-2")
    cases = [({"order_id": theirs.pk}, "order_id"),  # an order rep_a may not see
             ({"order_id": 999_999}, "order_id"),
             ({"order_id": elsewhere.pk}, "order_id"),  # another account's order
             ({"product_id": products["old"].pk}, "product_id"),  # no longer sold
             ({"product_id": "x"}, "product_id")]
    for data, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.create_ticket(rep, {"subject": "问题", "account_id": account.pk, **data})
        assert set(exc.value.message_dict) == {field}, data
    assert not Ticket.objects.exists()


def test_editing_the_links_is_checked_and_audited(users, desk, account, other_account, products):
    rep = users["rep_a"]
    order, elsewhere = _order(rep, account, "SO-1"), _order(rep, other_account, "SO-2")
    ticket = services.create_ticket(rep, {"subject": "问题", "account_id": account.pk}, now=TUESDAY_10)
    ticket = services.update_ticket(rep, ticket, {"order_id": order.pk, "product_id": products["router"].pk},
                                    ticket.version)
    entry = audit_trail(ticket).first()
    assert entry.changes["order_id"] == [None, order.pk]
    assert entry.changes["product_id"] == [None, products["router"].pk]
    # Moving the ticket to another account while it keeps this account's order is refused.
    with pytest.raises(ValidationError) as exc:
        services.update_ticket(rep, ticket, {"account_id": other_account.pk}, ticket.version)
    assert set(exc.value.message_dict) == {"order_id"}
    ticket = services.update_ticket(rep, ticket, {"account_id": other_account.pk, "order_id": elsewhere.pk},
                                    ticket.version)
    assert (ticket.account, ticket.order) == (other_account, elsewhere)
    ticket = services.update_ticket(rep, ticket, {"order_id": None, "product_id": ""}, ticket.version)
    assert ticket.order is None and ticket.product is None
    assert audit_trail(ticket).first().changes["product_id"] == [products["router"].pk, None]
    # A split keeps the links: the second question is about the same order and product.
    services.update_ticket(rep, ticket, {"order_id": elsewhere.pk, "product_id": products["router"].pk},
                           ticket.version)
    services.add_note(rep, ticket, "第一个问题")
    message = services.add_note(rep, ticket, "另一个问题")
    new = services.split(rep, ticket, [message.pk], "另一个问题")
    assert (new.order, new.product) == (elsewhere, products["router"])


# --- the API ---------------------------------------------------------------------------------------------------

def test_api_takes_shows_and_filters_by_order_and_product(api, users, desk, account, other_account, products):
    rep = users["rep_a"]
    order, elsewhere = _order(rep, account, "SO-1"), _order(rep, other_account, "SO-2")
    r = api["rep_a"].post("tickets", {"subject": "路由器掉线", "account_id": account.pk, "order_id": order.pk,
                                      "product_id": products["router"].pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["order"] == {"id": order.pk, "name": "SO-1"}
    assert body["product"] == {"id": products["router"].pk, "name": "R-100 企业路由器"}
    r = api["rep_a"].post("tickets", {"subject": "x", "account_id": account.pk, "order_id": elsewhere.pk})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"order_id"}
    r = api["rep_b"].post("tickets", {"subject": "x", "order_id": order.pk})  # not rep_b's to see
    assert r.status_code == 400 and set(r.json()["errors"]) == {"order_id"}
    r = api["rep_a"].post("tickets", {"subject": "x", "product_id": products["old"].pk})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"product_id"}
    other = api["rep_a"].post("tickets", {"subject": "另一个", "account_id": other_account.pk}).json()
    r = api["rep_a"].patch(f"tickets/{other['id']}", {"version": other["version"], "order_id": elsewhere.pk})
    assert r.status_code == 200 and r.json()["order"]["id"] == elsewhere.pk and r.json()["product"] is None
    listed = api["rep_a"].get("tickets", {"order": order.pk}).json()["items"]
    assert [t["id"] for t in listed] == [body["id"]]
    listed = api["rep_a"].get("tickets", {"product": products["router"].pk}).json()["items"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert len(api["rep_a"].get("tickets", {"order": [order.pk, elsewhere.pk]}).json()["items"]) == 2
    assert api["rep_a"].get("tickets", {"product": "x"}).status_code in (400, 422)


# --- the pages -------------------------------------------------------------------------------------------------

def test_the_new_ticket_form_and_the_ticket_page_show_the_links(client, users, desk, account, products):
    rep = users["rep_a"]
    order = _order(rep, account, "SO-1")
    client.force_login(rep)
    form = client.get("/service/tickets/new/", {"order": order.pk, "account": account.pk}).content.decode()
    assert f'name="order_id" value="{order.pk}"' in form
    r = client.post("/service/tickets/new/", {"subject": "路由器掉线", "priority": "normal", "order_id": order.pk,
                                              "product_id": products["old"].pk})
    assert r.status_code == 200 and 'data-field="product_id"' in r.content.decode() and not Ticket.objects.exists()
    r = client.post("/service/tickets/new/", {"subject": "路由器掉线", "priority": "normal", "order_id": order.pk,
                                              "product_id": products["router"].pk})
    assert r.status_code == 302, r.content.decode()[-3000:]
    ticket = Ticket.objects.get()
    assert ticket.account == account
    page = client.get(f"/service/tickets/{ticket.pk}/").content.decode()
    order_cell = page.split('id="ticket-order"')[1].split("</dd>")[0]
    assert f'href="/sales/orders/{order.pk}/"' in order_cell and "SO-1" in order_cell
    product_cell = page.split('id="ticket-product"')[1].split("</dd>")[0]
    assert "企业路由器" in product_cell and f"product={products['router'].pk}" in product_cell
    # An agent handling the ticket who may not open the order sees its number, without a link.
    client.force_login(ticket.owner)
    order_cell = client.get(f"/service/tickets/{ticket.pk}/").content.decode().split('id="ticket-order"')[1]
    order_cell = order_cell.split("</dd>")[0]
    assert "SO-1" in order_cell and "href" not in order_cell


def test_the_order_page_shows_its_tickets_in_constant_queries(client, users, desk, account,
                                                              django_assert_max_num_queries):
    rep = users["rep_a"]
    order, other = _order(rep, account, "SO-1"), _order(rep, account, "SO-2")
    client.force_login(rep)
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert f'hx-get="/service/orders/{order.pk}/tickets/"' in page
    card = client.get(f"/service/orders/{order.pk}/tickets/").content.decode()
    assert 'id="order-tickets"' in card and "data-ticket=" not in card
    assert f"/service/tickets/new/?order={order.pk}" in card
    services.create_ticket(rep, {"subject": "发货慢 0", "order_id": order.pk}, now=TUESDAY_10)
    services.create_ticket(rep, {"subject": "别的订单", "order_id": other.pk}, now=TUESDAY_10)
    with django_assert_max_num_queries(30) as few:
        card = client.get(f"/service/orders/{order.pk}/tickets/").content.decode()
    assert card.count("data-ticket=") == 1 and "发货慢 0" in card and "别的订单" not in card
    for i in range(1, 6):
        services.create_ticket(rep, {"subject": f"发货慢 {i}", "order_id": order.pk}, now=TUESDAY_10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        card = client.get(f"/service/orders/{order.pk}/tickets/").content.decode()
    assert card.count("data-ticket=") == 6
    client.force_login(users["rep_b"])  # may not see the order: nothing about it
    assert client.get(f"/service/orders/{order.pk}/tickets/").status_code == 404


# --- beside the ticket: value and open orders -------------------------------------------------------------------

def test_the_agent_sees_the_customers_value_and_open_orders_in_constant_queries(
        client, users, desk, account, django_assert_max_num_queries):
    rep = users["rep_a"]
    _score(account, clv=88_000.0)
    _order(rep, account, "SO-OPEN-1")
    _order(rep, account, "SO-PART", status=OrderStatus.PARTIAL)
    _order(rep, account, "SO-DONE", status=OrderStatus.DELIVERED)
    _order(rep, account, "SO-CANC", status=OrderStatus.CANCELLED)
    ticket = services.create_ticket(rep, {"subject": "问题", "account_id": account.pk,
                                          "question_group_id": desk["billing"].pk}, now=TUESDAY_10)
    client.force_login(rep)  # the account's rep sees its orders
    url = f"/service/tickets/{ticket.pk}/"
    with django_assert_max_num_queries(80) as few:
        page = client.get(url).content.decode()
    orders = page.split('id="open-orders"')[1].split("</ul>")[0]
    assert "SO-OPEN-1" in orders and "SO-PART" in orders
    assert "SO-DONE" not in orders and "SO-CANC" not in orders
    card = page.split('id="account-analytics"')[1]
    assert 'data-segment="important_value"' in card
    assert card.split('id="clv">')[1].split("<")[0].replace(",", "") == "88000.00"
    for i in range(4):
        _order(rep, account, f"SO-MORE-{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.split('id="open-orders"')[1].split("</ul>")[0].count("data-order=") == 5
    # The agent sees the ticket (their queue's) but none of the account's orders: told none, shown none.
    client.force_login(ticket.owner)
    page = client.get(url).content.decode()
    orders = page.split('id="open-orders"')[1].split("</ul>")[0]
    assert "data-order=" not in orders and "SO-" not in orders
    assert 'data-segment="important_value"' in page  # the value beside the ticket all the same


def test_an_unscored_customer_says_so_beside_the_ticket(client, users, desk, account):
    ticket = services.create_ticket(users["rep_a"], {"subject": "问题", "account_id": account.pk}, now=TUESDAY_10)
    client.force_login(users["rep_a"])
    assert 'id="no-score"' in client.get(f"/service/tickets/{ticket.pk}/").content.decode()


# --- the senior queue by predicted value -----------------------------------------------------------------------

def _routed(rep, account, desk):
    ticket = services.create_ticket(rep, {"subject": "账单问题", "account_id": account.pk,
                                          "question_group_id": desk["billing"].pk}, now=TUESDAY_10)
    return ticket, ticket.events.get(kind="routed").data


def test_a_c_class_customer_of_high_predicted_value_goes_to_the_senior_queue_first(users, desk, account):
    Queue.objects.filter(pk=desk["general"].pk).update(senior_from_value=50_000)
    _score(account, clv=50_000.0)  # at the threshold counts
    ticket, data = _routed(users["rep_a"], account, desk)
    assert ticket.queue == desk["vip"] and ticket.owner == desk["li"]
    assert data["senior"] is True and data["predicted_value"] is True


def test_below_the_threshold_or_unscored_the_classification_decides(users, desk, account, zhang):
    Queue.objects.filter(pk=desk["general"].pk).update(senior_from_value=50_000)
    _score(account, clv=49_999.0)
    ticket, data = _routed(users["rep_a"], account, desk)
    assert ticket.queue == desk["general"] and data["senior"] is False
    CustomerScore.objects.all().delete()
    ticket, data = _routed(users["rep_a"], account, desk)
    assert ticket.queue == desk["general"] and data["senior"] is False
    key_account, _contact = zhang  # class A, no score: senior by classification as before
    ticket, data = _routed(users["rep_a"], key_account, desk)
    assert ticket.queue == desk["vip"] and data["senior"] is True and data["predicted_value"] is False


def test_without_a_threshold_the_score_is_not_used(users, desk, account):
    _score(account, clv=10_000_000.0)
    ticket, data = _routed(users["rep_a"], account, desk)
    assert ticket.queue == desk["general"] and data["senior"] is False


def test_the_threshold_is_set_on_the_queue_page_and_audited(client, users, desk):
    admin = users["admin"]
    client.force_login(admin)
    general = desk["general"]
    data = {"name": general.name, "strategy": general.strategy, "required_skills": "", "supervisor": desk["lead"].pk,
            "calendar": "", "senior_queue": desk["vip"].pk, "senior_for": "A", "senior_from_value": "80000",
            "reroute_after_minutes": "15", "reassign_on_breach": "on"}
    r = client.post(f"/service/settings/queues/{general.pk}/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    general.refresh_from_db()
    assert general.senior_from_value == 80_000
    assert audit_trail(general).first().changes["senior_from_value"][1] in ("80000.00", 80000, "80000")
    # A threshold needs a senior queue to send the customers to; a negative one is refused.
    r = client.post(f"/service/settings/queues/{general.pk}/", {**data, "senior_queue": "", "senior_for": ""})
    assert r.status_code == 400 and 'senior_from_value' in r.content.decode()
    r = client.post(f"/service/settings/queues/{general.pk}/", {**data, "senior_from_value": "-1"})
    assert r.status_code == 400
    general.refresh_from_db()
    assert general.senior_from_value == 80_000 and general.senior_queue_id == desk["vip"].pk

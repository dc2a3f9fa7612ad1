"""Deliveries: partial shipments per order line; over-delivery is refused naming the line and changes nothing;
two deliveries recorded at once never over-deliver; the order moves to partially delivered, then delivered; the
order page shows deliveries and the form with what is left."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.sales import delivery_services as ds
from guanxi.sales.delivery_models import Delivery
from guanxi.sales.quote_models import Order, OrderLine
from tests.concurrency import at_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]  # messages read in English


def _lines(order):
    return list(OrderLine.objects.filter(order=order).order_by("position"))


def test_two_partial_shipments_deliver_the_order(users, order):
    rep = users["rep_a"]
    servers, install = _lines(order)
    first = ds.record_delivery(rep, order, {"carrier": "顺丰", "tracking_number": "SF1234567890",
                                            "lines": [{"order_line_id": servers.pk, "quantity": "4"}]})
    order.refresh_from_db()
    servers.refresh_from_db()
    assert first.number.startswith("DN") and first.carrier == "顺丰"
    assert servers.delivered_quantity == 4 and order.status == "partial"
    ds.record_delivery(rep, order, {"lines": [{"order_line_id": servers.pk, "quantity": "6"},
                                              {"order_line_id": install.pk, "quantity": "3"}]})
    order.refresh_from_db()
    assert [ln.delivered_quantity for ln in _lines(order)] == [10, 3]
    assert order.status == "delivered"


def test_over_delivery_names_the_line_and_changes_nothing(users, order):
    rep = users["rep_a"]
    servers, install = _lines(order)
    ds.record_delivery(rep, order, {"lines": [{"order_line_id": servers.pk, "quantity": "8"}]})
    with pytest.raises(ValidationError) as err:
        ds.record_delivery(rep, order, {"lines": [{"order_line_id": install.pk, "quantity": "1"},
                                                  {"order_line_id": servers.pk, "quantity": "2.5"}]})
    assert list(err.value.message_dict) == ["lines.1.quantity"]
    assert err.value.message_dict["lines.1.quantity"] == ["Line 1 (服务器): only 2 left to deliver."]
    assert [ln.delivered_quantity for ln in _lines(order)] == [8, 0]
    assert Delivery.objects.filter(order=order).count() == 1
    for bad in ([], [{"order_line_id": 999999, "quantity": "1"}], [{"order_line_id": servers.pk, "quantity": "0"}],
                [{"order_line_id": servers.pk, "quantity": "abc"}],
                [{"order_line_id": install.pk, "quantity": "1"}, {"order_line_id": install.pk, "quantity": "1"}]):
        with pytest.raises(ValidationError):
            ds.record_delivery(rep, order, {"lines": bad})
    assert [ln.delivered_quantity for ln in _lines(order)] == [8, 0]


def test_only_those_who_may_change_the_order_deliver(users, order):
    servers, _install = _lines(order)
    for who in ("rep_b", "viewer", "rep_a2"):
        with pytest.raises(PermissionDenied):
            ds.record_delivery(users[who], order, {"lines": [{"order_line_id": servers.pk, "quantity": "1"}]})
    ds.record_delivery(users["manager_a"], order, {"lines": [{"order_line_id": servers.pk, "quantity": "1"}]})
    assert _lines(order)[0].delivered_quantity == 1


def _deliver(user, order_id, line_id):
    def action():
        try:
            ds.record_delivery(user, Order.objects.get(pk=order_id),
                               {"lines": [{"order_line_id": line_id, "quantity": "7"}]})
            return "delivered"
        except ValidationError:
            return "refused"

    return action


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_never_over_deliver(users, order):
    servers, _install = _lines(order)
    outcomes = at_once(*(_deliver(users[name], order.pk, servers.pk) for name in ("rep_a", "manager_a")))
    assert outcomes == ["delivered", "refused"]
    servers.refresh_from_db()
    assert servers.delivered_quantity == 7
    assert Delivery.objects.filter(order=order).count() == 1


def test_order_page_shows_deliveries_and_the_remaining_quantities(client, users, order):
    servers, install = _lines(order)
    client.force_login(users["rep_a"])
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'id="delivery-form"' in page and f'name="qty-{servers.pk}"' in page
    response = client.post(f"/sales/orders/{order.pk}/deliveries/", {
        f"qty-{servers.pk}": "4", f"qty-{install.pk}": "", "carrier": "<b>EMS</b>", "tracking_number": "E1"})
    assert response.status_code == 302
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert "&lt;b&gt;EMS&lt;/b&gt;" in page and 'data-status="partial"' in page
    assert f'id="qty-{servers.pk}" inputmode="decimal" value="6"' in page
    response = client.post(f"/sales/orders/{order.pk}/deliveries/", {f"qty-{servers.pk}": "7"}, follow=True)
    assert "only 6 left to deliver" in response.content.decode()
    assert OrderLine.objects.get(pk=servers.pk).delivered_quantity == Decimal(4)
    client.force_login(users["rep_b"])
    assert client.get(f"/sales/orders/{order.pk}/").status_code == 404
    assert client.post(f"/sales/orders/{order.pk}/deliveries/", {f"qty-{servers.pk}": "1"}).status_code == 404

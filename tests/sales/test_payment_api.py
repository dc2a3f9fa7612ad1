"""/api/v1/contracts, /orders/{id}/deliveries, /orders|contracts/{id}/payment-plan and /payments, /instalments,
/currency-rates and /receivables/aging: field-level 400s that change nothing, 404 outside visibility, 409 on a
stale contract version, and lists without a query per row."""

import pytest

from guanxi.core.services import issue_token
from guanxi.sales.quote_models import OrderLine
from tests.api.conftest import ApiClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]  # messages read in English


@pytest.fixture
def api(users):
    return {name: ApiClient(issue_token(user)) for name, user in users.items()}


def test_deliveries_over_the_api(api, order):
    servers, install = OrderLine.objects.filter(order=order).order_by("position")
    r = api["rep_a"].post(f"orders/{order.pk}/deliveries", {"carrier": "顺丰", "lines": [
        {"order_line_id": servers.pk, "quantity": "4"}]})
    assert r.status_code == 201, r.content
    assert r.json()["lines"] == [{"order_line_id": servers.pk, "description": "服务器", "quantity": "4"}]
    r = api["rep_a"].post(f"orders/{order.pk}/deliveries", {"lines": [
        {"order_line_id": install.pk, "quantity": "3"}, {"order_line_id": servers.pk, "quantity": "6.001"}]})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["lines.1.quantity"]
    assert len(api["rep_a"].get(f"orders/{order.pk}/deliveries").json()) == 1
    assert OrderLine.objects.get(pk=install.pk).delivered_quantity == 0
    assert api["rep_b"].get(f"orders/{order.pk}/deliveries").status_code == 404
    assert api["rep_b"].post(f"orders/{order.pk}/deliveries", {"lines": [
        {"order_line_id": servers.pk, "quantity": "1"}]}).status_code == 404
    assert api["viewer"].post(f"orders/{order.pk}/deliveries", {"lines": [
        {"order_line_id": servers.pk, "quantity": "1"}]}).status_code == 403


def test_plan_payments_invoices_and_aging_over_the_api(api, order):
    assert api["rep_a"].get(f"orders/{order.pk}/payment-plan").status_code == 404
    r = api["rep_a"].put(f"orders/{order.pk}/payment-plan", {"instalments": [
        {"due_date": "2026-01-31", "amount": "10000"}, {"due_date": "2026-02-28", "amount": "6000"}]})
    assert r.status_code == 400 and "instalments" in r.json()["errors"]
    r = api["rep_a"].put(f"orders/{order.pk}/payment-plan", {"count": 3, "first_due": "2026-01-31"})
    assert r.status_code == 200 and [i["amount"] for i in r.json()["instalments"]] == ["5356.67", "5356.67",
                                                                                       "5356.66"]
    r = api["rep_a"].post(f"orders/{order.pk}/payments", {"amount": "16070.01"})
    assert r.status_code == 400 and "exceeds the outstanding 16070.00 CNY" in r.json()["errors"]["amount"][0]
    r = api["rep_a"].post(f"orders/{order.pk}/payments", {"amount": "6000", "method": "transfer",
                                                          "reference": "回单 7"})
    assert r.status_code == 201 and r.json()["outstanding"] == "10070.00"
    first = r.json()["instalments"][0]
    assert first["status"] in ("paid",) and r.json()["instalments"][1]["paid_amount"] == "643.33"
    r = api["rep_a"].patch(f"instalments/{first['id']}/invoice", {"invoice_number": "No.1", "invoice_date":
                                                                  "2026-01-05"})
    assert r.status_code == 200 and r.json()["instalments"][0]["invoice_status"] == "invoiced"
    assert api["rep_b"].patch(f"instalments/{first['id']}/invoice", {"invoice_number": "x"}).status_code == 404
    assert api["rep_b"].get(f"orders/{order.pk}/payment-plan").status_code == 404
    r = api["rep_a"].get("receivables/aging?group=account")
    assert r.status_code == 200 and r.json()["totals"]["total"] == "10070.00"
    assert api["rep_b"].get("receivables/aging").json()["rows"] == []
    assert api["rep_a"].get("receivables/aging?group=team").status_code == 400


def test_contracts_over_the_api(api, order, zhang, django_assert_max_num_queries):
    r = api["rep_a"].post("contracts", {"order_id": order.pk, "title": "供货合同", "start_date": "2026-01-01",
                                        "end_date": "2026-12-31", "status": "active"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["value"] == "16070.00" and body["status"] == "active" and body["account"]["id"] == zhang[0].pk
    cid = body["id"]
    r = api["rep_a"].post("contracts", {"account_id": zhang[0].pk, "title": "", "start_date": "2026-02-01",
                                        "end_date": "2026-01-01"})
    assert r.status_code == 400 and {"title", "end_date"} <= set(r.json()["errors"])
    r = api["rep_a"].patch(f"contracts/{cid}", {"version": 1, "renewal_date": "2026-12-01"})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = api["rep_a"].patch(f"contracts/{cid}", {"version": 1, "title": "stale"})
    assert r.status_code == 409 and r.json()["current"]["renewal_date"] == "2026-12-01"
    r = api["rep_a"].post(f"contracts/{cid}/renew", {"version": 2})
    assert r.status_code == 201 and r.json()["previous_id"] == cid and r.json()["start_date"] == "2027-01-01"
    for n in range(3):
        api["rep_a"].post("contracts", {"account_id": zhang[0].pk, "title": f"合同{n}", "start_date": "2026-01-01",
                                        "end_date": "2026-12-31"})
    with django_assert_max_num_queries(6):
        r = api["rep_a"].get("contracts?limit=2&sort=end_date")
    assert len(r.json()["items"]) == 2 and r.json()["next"]
    assert len(api["rep_a"].get(f"contracts?cursor={r.json()['next']}&sort=end_date&limit=50").json()["items"]) == 3
    assert api["rep_a"].get("contracts?status=renewed").json()["items"][0]["id"] == cid
    assert api["rep_b"].get(f"contracts/{cid}").status_code == 404
    assert api["rep_b"].get("contracts").json()["items"] == []
    r = api["rep_a"].put(f"contracts/{cid}/payment-plan", {"count": 2, "first_due": "2026-03-01"})
    assert r.status_code == 200 and r.json()["contract_id"] == cid


def test_exchange_rates_over_the_api(api):
    assert api["rep_a"].post("currency-rates", {"currency": "USD", "rate": "7.1"}).status_code == 403
    r = api["admin"].post("currency-rates", {"currency": "USD", "rate": "7.1", "valid_from": "2026-01-01"})
    assert r.status_code == 201 and r.json()["rate"] == "7.1"
    assert api["admin"].post("currency-rates", {"currency": "USDX", "rate": "7"}).status_code == 400
    assert api["admin"].post("currency-rates", {"currency": "EUR", "rate": "0"}).status_code == 400
    assert [x["currency"] for x in api["rep_a"].get("currency-rates").json()] == ["USD"]
    assert api["admin"].delete(f"currency-rates/{r.json()['id']}").status_code == 204
    assert api["rep_a"].get("currency-rates").json() == []

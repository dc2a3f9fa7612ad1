"""/api/v1/quotes, /orders, /products, /price-lists: field-level 400s, 404 for others' quotes, 409 on a stale
version, and lists without a query per row."""

import pytest

from guanxi.core.services import issue_token
from guanxi.sales.quote_models import Quote, QuoteStatus
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users):
    return {name: ApiClient(issue_token(user)) for name, user in users.items()}


def test_create_patch_conflict_and_lines(api, zhang, catalog):
    account, contact = zhang
    r = api["rep_a"].post("quotes", {"account_id": account.pk, "contact_id": contact.pk, "lines": [
        {"product_id": catalog["server"].pk, "quantity": "2"},
        {"description": "运费", "quantity": 1, "unit_price": "300", "tax_rate": "0"}]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["gross_total"] == "63580.00" and body["currency"] == "CNY" and body["revision"] == 1
    assert [ln["unit_price"] for ln in body["lines"]] == ["28000.00", "300.00"]
    qid = body["id"]
    r = api["rep_a"].patch(f"quotes/{qid}", {"version": 1, "title": "机房二期"})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = api["rep_a"].patch(f"quotes/{qid}", {"version": 1, "title": "stale"})
    assert r.status_code == 409 and r.json()["current"]["title"] == "机房二期"
    r = api["rep_a"].post(f"quotes/{qid}/lines", {"version": 2, "lines": [
        {"product_id": catalog["install"].pk, "quantity": "1.5", "discount": "5"}]})
    assert r.status_code == 200 and len(r.json()["lines"]) == 3
    line = r.json()["lines"][2]
    assert line["net"] == "2137.50" and line["tax"] == "128.25"
    r = api["rep_a"].delete(f"quotes/{qid}/lines/{line['id']}?version=3")
    assert r.status_code == 200 and r.json()["gross_total"] == "63580.00"
    assert len(api["rep_a"].get(f"quotes/{qid}/lines").json()) == 2


@pytest.mark.parametrize("body, field", [
    ({"lines": [{"description": "x", "quantity": "-2", "unit_price": "1"}]}, "lines.0.quantity"),
    ({"lines": [{"product_id": 999999, "quantity": "1"}]}, "lines.0.product_id"),
    ({"currency": "CNY", "price_list_id": "usd"}, "currency"),
    ({"lines": [{"description": "x", "unit_price": "abc"}]}, "lines.0.unit_price"),
    ({}, "account_id"),
])
def test_bad_input_is_a_400_naming_the_field(api, zhang, catalog, body, field):
    if body.get("price_list_id") == "usd":
        body = {**body, "price_list_id": catalog["usd"].pk}
    body = {"account_id": zhang[0].pk, **body} if field != "account_id" else body
    r = api["rep_a"].post("quotes", body)
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert not Quote.objects.exists()


def test_others_quotes_are_404_and_lists_are_scoped(api, quote, account_b, users, django_assert_max_num_queries):
    from guanxi.sales import quote_services as qs

    for _i in range(3):  # discounted beyond the threshold: each needs an approval, still no query per row
        qs.create_quote(users["rep_b"], {"account_id": account_b.pk, "lines": [
            {"description": "运维", "quantity": "1", "unit_price": "100", "discount": "30"}]})
    assert api["rep_b"].get(f"quotes/{quote.pk}").status_code == 404
    assert api["rep_b"].post(f"quotes/{quote.pk}/send", {"version": quote.version}).status_code == 404
    assert api["manager_a"].get(f"quotes/{quote.pk}").status_code == 200  # the team's manager
    with django_assert_max_num_queries(10):
        r = api["rep_b"].get("quotes")
    assert len(r.json()["items"]) == 3 and all(q["approval_needed"] for q in r.json()["items"])


def test_send_needs_approval_then_accept_makes_an_order(api, quote, users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    line = quote.lines.first()
    r = api["rep_a"].patch(f"quotes/{quote.pk}/lines/{line.pk}", {"version": quote.version, "discount": "18"})
    assert r.json()["approval_needed"] is True
    version = r.json()["version"]
    r = api["rep_a"].post(f"quotes/{quote.pk}/send", {"version": version})
    assert r.status_code == 400 and "discount" in r.json()["errors"]
    approval = api["rep_a"].post(f"quotes/{quote.pk}/approval", {"note": "年度大单"}).json()
    assert api["rep_a"].post(f"quote-approvals/{approval['id']}/decision", {"approve": True}).status_code == 403
    r = api["manager_a"].post(f"quote-approvals/{approval['id']}/decision", {"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = api["rep_a"].post(f"quotes/{quote.pk}/send", {"version": version})
    assert r.status_code == 200 and r.json()["status"] == "sent"
    r = api["rep_a"].post(f"quotes/{quote.pk}/accept", {"version": r.json()["version"]})
    assert r.status_code == 201, r.content
    order = r.json()
    assert order["gross_total"] == Quote.objects.get(pk=quote.pk).gross_total.to_eng_string()
    assert len(order["lines"]) == 2 and order["status"] == "confirmed"
    assert api["rep_a"].get(f"orders/{order['id']}").json()["number"] == order["number"]
    assert api["rep_b"].get(f"orders/{order['id']}").status_code == 404
    assert [o["id"] for o in api["rep_a"].get("orders").json()["items"]] == [order["id"]]
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ACCEPTED


def test_revise_through_the_api(api, quote):
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.SENT)
    r = api["rep_a"].post(f"quotes/{quote.pk}/revise", {"version": quote.version})
    assert r.status_code == 201 and r.json()["revision"] == 2 and r.json()["previous_id"] == quote.pk
    assert api["rep_a"].get(f"quotes/{quote.pk}").json()["status"] == "superseded"


def test_catalogue_api(api, catalog, django_assert_max_num_queries):
    r = api["manager_a"].post("products", {"code": "KIT-1", "name": "机房套装 Server room kit", "kind": "bundle",
                                           "unit": "set", "components": [
                                               {"product_id": catalog["server"].pk, "quantity": 2},
                                               {"product_id": catalog["install"].pk, "quantity": 3}]})
    assert r.status_code == 201, r.content
    assert len(r.json()["components"]) == 2
    assert api["rep_a"].post("products", {"code": "X", "name": "x"}).status_code == 403
    r = api["manager_a"].post("products", {"code": "srv-740", "name": "dup"})
    assert r.status_code == 400 and "code" in r.json()["errors"]
    with django_assert_max_num_queries(6):
        r = api["rep_a"].get("products")
    assert {p["code"] for p in r.json()["items"]} == {"SRV-740", "SVC-INST", "KIT-1"}
    kit = r.json()["items"][[p["code"] for p in r.json()["items"]].index("KIT-1")]
    r = api["manager_a"].post(f"price-lists/{catalog['cny'].pk}/prices", {"product_id": kit["id"],
                                                                          "unit_price": "58000"})
    assert r.status_code == 200 and len(r.json()["prices"]) == 4
    r = api["manager_a"].post(f"price-lists/{catalog['cny'].pk}/prices", {"product_id": kit["id"],
                                                                          "unit_price": "-1"})
    assert r.status_code == 400 and "unit_price" in r.json()["errors"]
    lists = api["rep_a"].get("price-lists").json()["items"]
    assert {p["currency"] for p in lists} == {"CNY", "USD"}
    r = api["manager_a"].patch(f"price-lists/{catalog['usd'].pk}", {"currency": "EUR"})
    assert r.status_code == 400 and "currency" in r.json()["errors"]

"""Payment collection (回款): plans that sum to the order total, payments allocated to the oldest instalments,
over-payment refused with nothing changed, invoices per instalment, the overdue sweep (once per instalment),
exchange rates and the aging report (visible rows only, fixed query count, missing rate named), and the pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.core.models import Notification
from guanxi.customers import services as customer_services
from guanxi.sales import payment_services as ps
from guanxi.sales import quote_services
from guanxi.sales.payment_models import CurrencyRate, Instalment, Payment, PaymentAllocation
from guanxi.sales.receivable_queries import aging

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]  # messages read in English
D = Decimal


def _amounts(plan):
    return [(i.due_date, i.amount, i.paid_amount) for i in plan.instalments.order_by("due_date")]


def test_equal_instalments_sum_to_the_order_total_to_the_cent(users, order):
    plan = ps.set_plan(users["rep_a"], order, {"count": 3, "first_due": "2026-01-31", "interval_months": 1})
    assert [a for _d, a, _p in _amounts(plan)] == [D("5356.67"), D("5356.67"), D("5356.66")]
    assert [d for d, _a, _p in _amounts(plan)] == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)]
    assert plan.total == order.gross_total == D("16070.00") and plan.owner == users["rep_a"]


def test_a_hand_plan_must_add_up(users, order):
    rep = users["rep_a"]
    with pytest.raises(ValidationError) as err:
        ps.set_plan(rep, order, {"instalments": [{"due_date": "2026-01-01", "amount": "10000"},
                                                 {"due_date": "2026-02-01", "amount": "6000"}]})
    assert "16000" in err.value.message_dict["instalments"][0] and "16070" in err.value.message_dict["instalments"][0]
    assert not Instalment.objects.exists()
    with pytest.raises(ValidationError) as err:
        ps.set_plan(rep, order, {"instalments": [{"due_date": "not a date", "amount": "-1"}]})
    assert {"instalments.0.due_date", "instalments.0.amount"} <= set(err.value.message_dict)
    plan = ps.set_plan(rep, order, {"instalments": [{"due_date": "2026-02-01", "amount": "6070"},
                                                    {"due_date": "2026-01-01", "amount": "10000"}]})
    assert [a for _d, a, _p in _amounts(plan)] == [D("10000.00"), D("6070.00")]


def test_payments_go_to_the_oldest_instalments_and_overpayment_changes_nothing(users, order):
    rep = users["rep_a"]
    plan = ps.set_plan(rep, order, {"count": 2, "first_due": "2026-01-31"})
    ps.record_payment(rep, plan, {"amount": "9000", "received_on": "2026-01-20", "method": "transfer",
                                  "reference": "银行回单 0001"})
    assert [p for _d, _a, p in _amounts(plan)] == [D("8035.00"), D("965.00")]
    with pytest.raises(ValidationError) as err:
        ps.record_payment(rep, plan, {"amount": "7070.01"})
    assert err.value.message_dict["amount"] == ["The payment exceeds the outstanding 7070.00 CNY."]
    assert Payment.objects.count() == 1 and PaymentAllocation.objects.count() == 2
    assert [p for _d, _a, p in _amounts(plan)] == [D("8035.00"), D("965.00")]
    for bad in ({"amount": "0"}, {"amount": "abc"}, {"amount": "1", "method": "bitcoin"},
                {"amount": "1", "received_on": "yesterday"}):
        with pytest.raises(ValidationError):
            ps.record_payment(rep, plan, bad)
    ps.record_payment(rep, plan, {"amount": "7070.00"})
    today = dt.date(2026, 6, 1)
    assert [i.status_on(today) for i in plan.instalments.all()] == ["paid", "paid"]
    with pytest.raises(ValidationError):  # paid plans do not change
        ps.set_plan(rep, order, {"count": 4})


def test_only_editors_of_the_order_collect(users, order):
    plan = ps.set_plan(users["rep_a"], order, {"count": 1})
    for who in ("rep_b", "viewer"):
        with pytest.raises(PermissionDenied):
            ps.record_payment(users[who], plan, {"amount": "1"})
        with pytest.raises(PermissionDenied):
            ps.set_plan(users[who], order, {"count": 2})


def test_invoice_status_per_instalment(users, order):
    plan = ps.set_plan(users["rep_a"], order, {"count": 2})
    first = plan.instalments.first()
    ps.set_invoice(users["rep_a"], first, {"invoice_number": "No.04412345", "invoice_date": "2026-01-05"})
    first.refresh_from_db()
    assert (first.invoice_status, first.invoice_number, first.invoice_date) == (
        "invoiced", "No.04412345", dt.date(2026, 1, 5))
    with pytest.raises(ValidationError):
        ps.set_invoice(users["rep_a"], first, {"invoice_number": "x", "invoice_date": "2026-13-01"})
    ps.set_invoice(users["rep_a"], first, {"invoice_number": ""})
    first.refresh_from_db()
    assert first.invoice_status == "none" and first.invoice_date is None


def test_the_overdue_sweep_notifies_the_owner_once_per_instalment(users, order):
    rep = users["rep_a"]
    plan = ps.set_plan(rep, order, {"count": 3, "first_due": "2026-01-31"})
    ps.record_payment(rep, plan, {"amount": "5356.67"})  # the first is paid
    now = dt.datetime(2026, 3, 15, 9, 0, tzinfo=dt.UTC)  # the second is overdue, the third not yet due
    assert ps.notify_overdue(now) == 1
    assert ps.notify_overdue(now) == 0
    assert ps.notify_overdue(now + dt.timedelta(days=30)) == 1  # the third, once due
    texts = list(Notification.objects.filter(user=rep).values_list("text", flat=True))
    assert len(texts) == 2 and any("5356.67" in t and "2026-02-28" in t for t in texts)


def test_exchange_rates_are_for_administrators_and_refuse_bad_input(users):
    admin = users["admin"]
    with pytest.raises(PermissionDenied):
        ps.set_rate(users["manager_a"], {"currency": "USD", "rate": "7.1", "valid_from": "2026-01-01"})
    for bad in ({"currency": "US", "rate": "7"}, {"currency": "USD", "rate": "-1"}, {"currency": "CNY", "rate": "1"},
                {"currency": "USD", "rate": "1e30"}, {"currency": "USD", "rate": "123456789012.5"},
                {"currency": "USD", "rate": "7", "valid_from": "soon"}):
        with pytest.raises(ValidationError):
            ps.set_rate(admin, bad)
    ps.set_rate(admin, {"currency": "usd", "rate": "7.1", "valid_from": "2026-01-01"})
    ps.set_rate(admin, {"currency": "USD", "rate": "7.2", "valid_from": "2026-06-01"})
    ps.set_rate(admin, {"currency": "USD", "rate": "7.25", "valid_from": "2026-06-01"})  # a correction
    assert CurrencyRate.objects.count() == 2
    assert ps.rates_on(dt.date(2026, 5, 31)) == {"USD": D("7.1")}
    assert ps.rates_on(dt.date(2026, 6, 1)) == {"USD": D("7.25")}


@pytest.fixture
def receivables(users, order, account_b, settings, rates_later):
    """rep_a's CNY order in 3 instalments (1,000 paid); rep_b's USD order of 1,130.00 in one instalment."""
    rep_a, rep_b = users["rep_a"], users["rep_b"]
    plan_a = ps.set_plan(rep_a, order, {"instalments": [
        {"due_date": "2026-06-30", "amount": "6070.00"},  # current on 2026-06-30
        {"due_date": "2026-05-15", "amount": "5000.00"},  # 46 days: 31–60
        {"due_date": "2026-03-01", "amount": "5000.00"}]})  # 121 days: over 90
    ps.record_payment(rep_a, plan_a, {"amount": "1000.00"})  # goes to the oldest (2026-03-01)
    quote = quote_services.create_quote(rep_b, {"account_id": account_b.pk, "currency": "USD", "lines": [
        {"description": "Export server", "quantity": "1", "unit_price": "1000.00", "tax_rate": "13"}]})
    quote = quote_services.send_quote(rep_b, quote, quote.version, to="buyer@example.com")
    order_b = quote_services.accept_quote(rep_b, quote, quote.version)
    ps.set_plan(rep_b, order_b, {"instalments": [{"due_date": "2026-06-10", "amount": "1130.00"}]})  # 20 days
    return order_b


def test_aging_report_needs_a_rate_for_every_currency_it_sums(users, receivables):
    with pytest.raises(ValidationError) as err:
        aging(users["admin"], dt.date(2026, 6, 30))
    assert "USD" in err.value.message_dict["currency"][0]
    ps.set_rate(users["admin"], {"currency": "USD", "rate": "7.00000000", "valid_from": "2026-01-01"})
    report = aging(users["admin"], dt.date(2026, 6, 30))
    rows = {r["name"]: r for r in report["rows"]}
    assert rows["rep_a"]["buckets"] == {"current": D("6070.00"), "d1_30": D(0), "d31_60": D("5000.00"),
                                        "d61_90": D(0), "over_90": D("4000.00")}
    assert rows["rep_b"]["buckets"]["d1_30"] == D("7910.00")
    assert report["total"] == D("22980.00") and report["totals"]["d1_30"] == D("7910.00")


def test_a_rep_sees_only_their_own_receivables(users, receivables):
    report = aging(users["rep_a"], dt.date(2026, 6, 30), "account")  # no USD rate needed: rep_b's is not visible
    assert [r["name"] for r in report["rows"]] == ["北京星辰医疗科技有限公司"]
    assert report["total"] == D("15070.00")
    assert aging(users["rep_a2"], dt.date(2026, 6, 30))["rows"] == []


@pytest.mark.parametrize("plans", [1, 6])
def test_the_aging_report_costs_the_same_queries_however_many_rows(users, zhang, settings, plans,
                                                                    django_assert_max_num_queries):
    rep = users["rep_a"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for n in range(plans):
        account = customer_services.create_account(rep, {"name": f"客户{n}"})
        quote = quote_services.create_quote(rep, {"account_id": account.pk, "lines": [
            {"description": "件", "quantity": "1", "unit_price": "100", "tax_rate": "0"}]})
        quote = quote_services.send_quote(rep, quote, quote.version, to="a@example.com")
        ps.set_plan(rep, quote_services.accept_quote(rep, quote, quote.version), {"count": 2,
                                                                                 "first_due": "2026-01-01"})
    with django_assert_max_num_queries(4):
        report = aging(rep, dt.date(2026, 6, 30), "account")
    assert len(report["rows"]) == plans


def test_receivables_page_and_account_card(client, users, receivables, zhang):
    client.force_login(users["admin"])
    page = client.get("/sales/receivables/").content.decode()
    assert 'id="receivables-error"' in page and "USD" in page
    ps.set_rate(users["admin"], {"currency": "USD", "rate": "7", "valid_from": "2026-01-01"})
    page = client.get("/sales/receivables/?group=account").content.decode()
    assert 'id="aging-table"' in page and "广州南方物流有限公司" in page
    client.force_login(users["rep_a"])
    page = client.get("/sales/receivables/").content.decode()
    assert "rep_b" not in page and 'id="nav-receivables"' in page
    card = client.get(f"/accounts/{zhang[0].pk}/").content.decode().split('id="account-contracts"')[1]
    assert "15,070.00 CNY" in card or "15070.00 CNY" in card


def test_order_page_plan_and_payment_forms(client, users, order):
    client.force_login(users["rep_a"])
    assert client.post(f"/sales/orders/{order.pk}/plan/", {"count": "2", "first_due": "2026-01-31",
                                                           "interval_months": "1"}).status_code == 302
    response = client.post(f"/sales/orders/{order.pk}/payments/", {"amount": "99999", "method": "transfer"},
                           follow=True)
    assert "exceeds the outstanding 16070.00 CNY" in response.content.decode()
    client.post(f"/sales/orders/{order.pk}/payments/", {"amount": "8035", "method": "wechat", "reference": "<i>x</i>"})
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'id="outstanding">8,035.00' in page or 'id="outstanding">8035.00' in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page and 'data-status="paid"' in page
    client.force_login(users["rep_b"])
    assert client.post(f"/sales/orders/{order.pk}/payments/", {"amount": "1"}).status_code == 404


def test_exchange_rate_page_is_for_administrators(client, users):
    client.force_login(users["rep_a"])
    assert client.get("/settings/currency-rates/").status_code == 403
    client.force_login(users["admin"])
    assert 'id="nav-currency-rates"' in client.get("/settings/currency-rates/").content.decode()
    page = client.post("/settings/currency-rates/", {"currency": "US", "rate": "x"}).content.decode()
    assert "ISO 4217" in page and not CurrencyRate.objects.exists()
    client.post("/settings/currency-rates/", {"currency": "USD", "rate": "7.1", "valid_from": "2026-01-01"})
    rate = CurrencyRate.objects.get()
    assert "7.1 CNY" in client.get("/settings/currency-rates/").content.decode()
    client.post("/settings/currency-rates/", {"delete": rate.pk})
    assert not CurrencyRate.objects.exists()


def test_demo_collection_makes_contracts_deliveries_and_plans_that_add_up(users, order):
    from guanxi.sales.contract_models import Contract
    from guanxi.sales.payment_demo import create_demo_collection
    from guanxi.sales.quote_models import OrderLine

    today = dt.date(2026, 6, 30)
    assert create_demo_collection(3, [order], today) == 1
    assert create_demo_collection(3, [order], today) == 0  # not twice
    plan = order.payment_plan
    assert sum(i.amount for i in plan.instalments.all()) == order.gross_total
    assert Contract.objects.get(order=order).value == order.gross_total
    for line in OrderLine.objects.filter(order=order):
        assert 0 <= line.delivered_quantity <= line.quantity
        assert line.delivered_quantity == sum(d.quantity for d in line.delivery_lines.all())
    assert aging(users["admin"], today)["total"] == sum(i.outstanding for i in plan.instalments.all())


def test_instalments_edited_by_hand_on_the_page(client, users, order):
    from django.contrib.contenttypes.models import ContentType

    from guanxi.core.models import AuditEntry

    client.force_login(users["rep_a"])
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'id="enter-instalments"' in page
    ps.set_plan(users["rep_a"], order, {"count": 2, "first_due": "2026-01-31", "interval_months": 1})
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'id="edit-instalments"' in page
    url = f"/sales/orders/{order.pk}/plan/edit/"
    page = client.get(url).content.decode()
    assert 'name="due-0" value="2026-01-31"' in page and 'name="amount-1" value="8035.00"' in page
    assert 'name="rows" value="4"' in page  # the two instalments and two blank rows
    # Not adding up: the error names the instalments and both sums; a bad cell is shown beside its row.
    response = client.post(url, {"rows": "4", "due-0": "2026-01-15", "amount-0": "10000", "due-1": "2026-03-01",
                                 "amount-1": "6000", "due-2": "", "amount-2": "", "due-3": "", "amount-3": ""})
    text = response.content.decode()
    assert response.status_code == 400 and 'id="instalments-error"' in text
    assert "add up to 16000" in text and "the total is 16070.00" in text and 'value="2026-03-01"' in text  # kept
    response = client.post(url, {"rows": "4", "due-0": "2026-01-15", "amount-0": "10000", "due-3": "31/02/2026",
                                 "amount-3": "-5"})
    text = response.content.decode()
    assert response.status_code == 400 and 'id="due-3-error"' in text and 'id="amount-3-error"' in text
    assert [a for _d, a, _p in _amounts(order.payment_plan)] == [D("8035.00"), D("8035.00")]  # nothing saved
    response = client.post(url, {"rows": "4", "due-0": "2026-01-15", "amount-0": "10000", "due-1": "2026-03-01",
                                 "amount-1": "6000", "due-2": "2026-04-01", "amount-2": "70.00"})
    assert response.status_code == 302 and response.url == f"/sales/orders/{order.pk}/"
    assert _amounts(order.payment_plan) == [(dt.date(2026, 1, 15), D("10000.00"), 0), (dt.date(2026, 3, 1),
                                            D("6000.00"), 0), (dt.date(2026, 4, 1), D("70.00"), 0)]
    audit = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(order), object_id=order.pk,
                                      changes__has_key="instalments").first()
    assert audit.changes["instalments"] == ["2026-01-31: 8035.00, 2026-02-28: 8035.00",
                                            "2026-01-15: 10000.00, 2026-03-01: 6000.00, 2026-04-01: 70.00"]
    assert audit.actor == users["rep_a"]
    client.force_login(users["viewer"])  # may look at the order, may not change its plan
    assert client.get(url).status_code in (403, 404)
    client.force_login(users["rep_b"])
    assert client.get(url).status_code == 404
    ps.record_payment(users["rep_a"], order.payment_plan, {"amount": "100", "received_on": "2026-01-10"})
    client.force_login(users["rep_a"])
    assert 'id="edit-instalments"' not in client.get(f"/sales/orders/{order.pk}/").content.decode()
    response = client.post(url, {"rows": "1", "due-0": "2026-01-15", "amount-0": "16070"})
    assert response.status_code == 400 and "can no longer change" in response.content.decode()

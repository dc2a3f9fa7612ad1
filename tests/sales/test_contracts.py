"""Contracts: create from an order or an account, edit with the version read, activate, renew (a new contract
linked to the old one), the renewal reminder (once per contract and renewal date, notification and email), expiry,
the list (keyset pages, filters, fixed query count), the detail page (404 outside visibility) and the account
card."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.core.models import Notification
from guanxi.core.records import EditConflict
from guanxi.sales import contract_services as cs
from guanxi.sales.contract_models import Contract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]  # messages read in English
NOW = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)


def _contract(rep, account, **extra):
    data = {"account_id": account.pk, "title": "年度维保合同", "start_date": "2026-01-01", "end_date": "2026-12-31",
            "value": "120000", "renewal_date": "2026-12-01", "renewal_reminder_days": "30", **extra}
    return cs.create_contract(rep, data)


def test_a_contract_for_an_order_takes_its_account_value_and_currency(users, order):
    contract = cs.create_contract(users["rep_a"], {"order_id": order.pk, "title": "供货合同",
                                                   "start_date": "2026-01-01", "end_date": "2026-06-30"})
    assert contract.number.startswith("HT") and contract.status == "draft"
    assert (contract.account_id, contract.value, contract.currency) == (order.account_id, Decimal("16070.00"), "CNY")
    assert contract.owner == users["rep_a"] and contract.team == users["rep_a"].team


def test_bad_input_names_the_fields_and_saves_nothing(users, zhang, account_b):
    rep = users["rep_a"]
    with pytest.raises(ValidationError) as err:
        cs.create_contract(rep, {"account_id": account_b.pk, "title": "", "start_date": "2026-02-01",
                                 "end_date": "2026-01-01", "value": "-5", "currency": "RMB1"})
    assert {"account_id", "title", "end_date", "value", "currency"} <= set(err.value.message_dict)
    assert not Contract.objects.exists()


def test_edit_needs_the_version_read_and_activation_and_renewal(users, zhang):
    rep = users["rep_a"]
    contract = _contract(rep, zhang[0])
    contract = cs.update_contract(rep, contract, {"value": "130000"}, contract.version)
    with pytest.raises(EditConflict):
        cs.update_contract(rep, contract, {"value": "1"}, contract.version - 1)
    with pytest.raises(ValidationError):
        cs.renew_contract(rep, contract, {}, contract.version)  # a draft is not renewed
    contract = cs.set_status(rep, contract, "active", contract.version)
    new = cs.renew_contract(rep, contract, {}, contract.version)
    contract.refresh_from_db()
    assert contract.status == "renewed" and new.previous == contract and new.status == "active"
    assert (new.start_date, new.end_date, new.renewal_date) == (dt.date(2027, 1, 1), dt.date(2027, 12, 31),
                                                                dt.date(2027, 12, 1))
    assert new.value == Decimal("130000.00") and new.number != contract.number
    with pytest.raises(ValidationError):
        cs.renew_contract(rep, contract, {}, contract.version)
    with pytest.raises(PermissionDenied):
        cs.set_status(users["rep_b"], new, "terminated", new.version)


def test_the_renewal_reminder_is_sent_once_per_renewal_date(users, zhang, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep = users["rep_a"]
    rep.email = "rep_a@example.com"
    rep.save()
    contract = _contract(rep, zhang[0], status="active")
    assert cs.remind_renewals(NOW - dt.timedelta(days=2)) == 0  # 2026-10-31: before 30 days ahead
    assert cs.remind_renewals(NOW) == 1
    assert cs.remind_renewals(NOW) == 0 and cs.remind_renewals(NOW + dt.timedelta(days=3)) == 0
    assert Notification.objects.filter(user=rep).count() == 1 and len(mail.outbox) == 1
    assert contract.number in mail.outbox[0].subject and "2026-12-01" in mail.outbox[0].subject
    contract.refresh_from_db()
    contract = cs.update_contract(rep, contract, {"renewal_date": "2026-12-10"}, contract.version)
    assert cs.remind_renewals(NOW + dt.timedelta(days=7)) == 0  # 2026-11-09: not yet 30 days before 12-10
    assert cs.remind_renewals(NOW + dt.timedelta(days=8)) == 1  # a new renewal date reminds again
    assert Notification.objects.filter(user=rep).count() == 2


def test_active_contracts_past_their_end_expire(users, zhang):
    contract = _contract(users["rep_a"], zhang[0], status="active")
    assert cs.expire_contracts(dt.date(2026, 12, 31)) == 0
    assert cs.expire_contracts(dt.date(2027, 1, 1)) == 1
    contract.refresh_from_db()
    assert contract.status == "expired"


def test_list_filters_pages_and_visibility(client, users, zhang, account_b, django_assert_max_num_queries):
    for n in range(5):
        _contract(users["rep_a"], zhang[0], title=f"合同{n}")
    theirs = _contract(users["rep_b"], account_b, title="<b>南方</b>")
    client.force_login(users["rep_a"])
    with django_assert_max_num_queries(12):
        page = client.get("/sales/contracts/").content.decode()
    assert page.count("data-id=") == 5 and "南方" not in page and 'id="nav-contracts"' in page
    with django_assert_max_num_queries(12):
        client.get("/sales/contracts/?q=合同1")
    assert client.get("/sales/contracts/?q=合同1").content.decode().count("data-id=") == 1
    assert client.get(f"/sales/contracts/{theirs.pk}/").status_code == 404
    client.force_login(users["admin"])
    page = client.get("/sales/contracts/?status=draft&sort=end_date").content.decode()
    assert page.count("data-id=") == 6 and "&lt;b&gt;南方&lt;/b&gt;" in page
    assert client.get("/sales/contracts/?sort=bogus").status_code == 200


def test_pages_create_renew_and_account_card(client, users, zhang):
    account = zhang[0]
    client.force_login(users["rep_a"])
    response = client.post("/sales/contracts/new/", {"account_id": account.pk, "title": "", "start_date": "2026-01-01",
                                                     "end_date": "2025-01-01"})
    assert "The contract cannot end before it starts." in response.content.decode()
    response = client.post("/sales/contracts/new/", {"account_id": account.pk, "title": "三年服务", "value": "9000",
                                                     "start_date": "2026-01-01", "end_date": "2026-12-31"})
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/contracts/{contract.pk}/"
    client.post(f"/sales/contracts/{contract.pk}/activate/", {"version": contract.version})
    contract.refresh_from_db()
    response = client.post(f"/sales/contracts/{contract.pk}/renew/", {"version": contract.version})
    new = Contract.objects.get(previous=contract)
    assert response["Location"] == f"/sales/contracts/{new.pk}/"
    assert 'id="renewal-link"' in client.get(f"/sales/contracts/{contract.pk}/").content.decode()
    card = client.get(f"/accounts/{account.pk}/").content.decode().split('id="account-contracts"')[1]
    assert f'data-contract="{new.pk}"' in card and f'data-contract="{contract.pk}"' in card
    client.force_login(users["rep_b"])
    card = client.get(f"/accounts/{account.pk}/")
    assert card.status_code == 404 or "data-contract=" not in card.content.decode()


def test_the_account_card_costs_the_same_queries_however_many_contracts(client, users, zhang):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account = zhang[0]
    client.force_login(users["rep_a"])
    _contract(users["rep_a"], account)
    client.get(f"/accounts/{account.pk}/")  # warm the caches (content types, profile)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/accounts/{account.pk}/")
    few = len(one.captured_queries)
    for n in range(6):
        _contract(users["rep_a"], account, title=f"合同{n}")
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert len(many.captured_queries) == few
    assert page.split('id="account-contracts"')[1].count("data-contract=") == 7


def test_a_contract_is_collected_on_its_page(client, users, zhang):
    contract = _contract(users["rep_a"], zhang[0], value="1000.00")
    client.force_login(users["rep_a"])
    assert 'id="make-plan"' in client.get(f"/sales/contracts/{contract.pk}/").content.decode()
    client.post(f"/sales/contracts/{contract.pk}/plan/", {"count": "3", "first_due": "2026-01-31",
                                                         "interval_months": "3"})
    assert [str(i.amount) for i in contract.payment_plan.instalments.all()] == ["333.34", "333.33", "333.33"]
    client.post(f"/sales/contracts/{contract.pk}/payments/", {"amount": "400", "method": "alipay"})
    page = client.get(f"/sales/contracts/{contract.pk}/").content.decode()
    assert 'id="outstanding">600.00' in page and "2026-07-31" in page
    instalment = contract.payment_plan.instalments.first()
    client.post(f"/sales/contracts/{contract.pk}/instalments/{instalment.pk}/invoice/",
                {"invoice_number": "No.77", "invoice_date": "2026-01-10"})
    assert "No.77" in client.get(f"/sales/contracts/{contract.pk}/").content.decode()
    client.force_login(users["rep_b"])
    assert client.post(f"/sales/contracts/{contract.pk}/payments/", {"amount": "1"}).status_code == 404
    assert client.post(f"/sales/widgets/{contract.pk}/plan/", {"count": "1"}).status_code == 404


def test_the_minute_sweep_runs_the_reminders_and_the_overdue_check(users, zhang):
    from guanxi.core.sweep import run_sweep

    _contract(users["rep_a"], zhang[0], status="active")
    run = run_sweep(NOW)
    assert run.handled["sales.contract_renewals"] == {"ok": True, "result": 1}
    assert run.handled["sales.overdue_instalments"] == {"ok": True, "result": 0}

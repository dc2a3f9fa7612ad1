"""Issue 4's bad input "a currency without a rate": a deal, quote or contract in a currency that has no exchange
rate into the company's currency is refused with a message naming it, and nothing is saved; with a rate (of any
date) it is taken. A record already in that currency stays editable when the rate is later removed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.models import AuditEntry
from guanxi.sales import contract_services, payment_services, quote_services, services
from guanxi.sales.contract_models import Contract
from guanxi.sales.models import Opportunity
from guanxi.sales.payment_models import CurrencyRate
from guanxi.sales.quote_models import Quote

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NO_RATE = "No exchange rate for HKD into CNY"


def _refused(call) -> str:
    with pytest.raises(ValidationError) as exc:
        call()
    return " ".join(exc.value.message_dict["currency"])


def test_each_record_in_a_currency_without_a_rate_is_refused_and_nothing_is_saved(users, zhang, pipeline):
    rep, (account, _contact) = users["rep_a"], zhang
    audits = AuditEntry.objects.count()
    assert NO_RATE in _refused(lambda: services.create_opportunity(
        rep, {"name": "香港项目", "account_id": account.pk, "amount": "5000", "currency": "hkd"}))
    assert NO_RATE in _refused(lambda: quote_services.create_quote(
        rep, {"account_id": account.pk, "currency": "HKD"}))
    assert NO_RATE in _refused(lambda: contract_services.create_contract(
        rep, {"account_id": account.pk, "title": "港币合同", "start_date": "2026-01-01", "end_date": "2026-12-31",
              "value": "1000", "currency": "HKD"}))
    assert not Opportunity.objects.exists() and not Quote.objects.exists() and not Contract.objects.exists()
    assert AuditEntry.objects.count() == audits

    # A pipeline in that currency gives its deals the currency: refused the same way.
    hk = services.create_pipeline(users["admin"], {"name": "香港渠道", "currency": "HKD"})
    assert NO_RATE in _refused(lambda: services.create_opportunity(
        rep, {"name": "香港项目", "account_id": account.pk, "pipeline_id": hk.pk}))
    # Moving an existing CNY deal to HKD is refused too, and it stays CNY.
    deal = services.create_opportunity(rep, {"name": "北京项目", "account_id": account.pk, "amount": "5000"})
    assert NO_RATE in _refused(lambda: services.update_opportunity(rep, deal, {"currency": "HKD"}, deal.version))
    deal.refresh_from_db()
    assert deal.currency == "CNY"

    # A rate dated later is enough to enter the deal (the reports say which days it does not cover).
    payment_services.set_rate(users["admin"], {"currency": "HKD", "rate": "0.92", "valid_from": "2031-01-01"})
    hk_deal = services.create_opportunity(rep, {"name": "香港项目", "account_id": account.pk, "pipeline_id": hk.pk})
    quote = quote_services.create_quote(rep, {"account_id": account.pk, "currency": "HKD"})
    assert (hk_deal.currency, quote.currency) == ("HKD", "HKD")

    # The rate removed afterwards: the deal is not locked out of edits that keep its currency.
    CurrencyRate.objects.filter(currency="HKD").delete()
    hk_deal = services.update_opportunity(rep, hk_deal, {"amount": "6000"}, hk_deal.version)
    assert hk_deal.amount == Decimal("6000") and hk_deal.currency == "HKD"


def test_the_api_answers_400_naming_the_currency(users, zhang, pipeline):
    from guanxi.core.services import issue_token
    from tests.api.conftest import ApiClient

    api = ApiClient(issue_token(users["rep_a"]))
    account, _contact = zhang
    r = api.post("opportunities", {"name": "香港项目", "account_id": account.pk, "amount": "5000", "currency": "HKD"})
    assert r.status_code == 400 and NO_RATE in str(r.json())
    r = api.post("quotes", {"account_id": account.pk, "currency": "HKD"})
    assert r.status_code == 400 and NO_RATE in str(r.json())
    assert not Opportunity.objects.exists() and not Quote.objects.exists()
    CurrencyRate.objects.create(currency="HKD", rate=Decimal("0.92"), valid_from=dt.date(2026, 1, 1))
    r = api.post("opportunities", {"name": "香港项目", "account_id": account.pk, "amount": "5000", "currency": "HKD"})
    assert r.status_code == 201 and r.json()["currency"] == "HKD"

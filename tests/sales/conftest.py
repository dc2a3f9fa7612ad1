import pytest

from guanxi.customers import services as customer_services
from guanxi.sales import services
from guanxi.sales.models import StageKind


@pytest.fixture
def pipeline(db):
    return services.default_pipeline()


@pytest.fixture
def stages(pipeline):
    """The default pipeline's stages: open ones first (qualification … negotiation), then won, then lost."""
    found = list(pipeline.stages.order_by("position"))
    return {
        "open": [s for s in found if s.kind == StageKind.OPEN],
        "won": next(s for s in found if s.kind == StageKind.WON),
        "lost": next(s for s in found if s.kind == StageKind.LOST),
    }


@pytest.fixture
def account_b(users):
    return customer_services.create_account(users["rep_b"], {"name": "广州南方物流有限公司"})


@pytest.fixture
def deal(users, zhang, pipeline):
    """rep_a's opportunity on 北京星辰医疗, 120,000 CNY, in the first stage."""
    account, contact = zhang
    return services.create_opportunity(users["rep_a"], {
        "name": "CT 设备采购", "account_id": account.pk, "contact_id": contact.pk, "amount": "120000.00",
        "expected_close": "2031-03-15"})


@pytest.fixture
def order(users, zhang, settings):
    """rep_a's confirmed order for 北京星辰医疗, made through a sent and accepted quote: 10 servers at 1,000.00
    (13 % VAT, 11,300.00) and 3 days of installation at 1,500.00 (6 %, 4,770.00); 16,070.00 CNY in all."""
    from guanxi.sales import quote_services

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep = users["rep_a"]
    account, contact = zhang
    quote = quote_services.create_quote(rep, {"account_id": account.pk, "contact_id": contact.pk, "title": "机房扩容",
                                              "currency": "CNY", "lines": [
        {"description": "服务器", "quantity": "10", "unit_price": "1000.00", "tax_rate": "13"},
        {"description": "实施服务", "quantity": "3", "unit_price": "1500.00", "tax_rate": "6"}]})
    quote = quote_services.send_quote(rep, quote, quote.version)
    return quote_services.accept_quote(rep, quote, quote.version)

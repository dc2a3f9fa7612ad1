import datetime as dt
import random
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from guanxi.core.models import Share
from guanxi.core.people_services import share_record
from guanxi.customers import services as customer_services
from guanxi.sales import services
from guanxi.sales.models import StageKind
from guanxi.sales.payment_models import CurrencyRate
from guanxi.sales.quote_models import Order, OrderStatus


@pytest.fixture
def rates_later(db):
    """USD and EUR rates dated after every day the tests report on: deals, quotes and contracts in them may be
    entered (a currency without any rate is refused), while reports of earlier days still find none in force."""
    for currency in ("USD", "EUR"):
        CurrencyRate.objects.create(currency=currency, rate=Decimal("7"), valid_from=dt.date(2099, 1, 1))


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


@pytest.fixture
def varied_orders(users, teams):
    """Three hundred orders over two years (and a few beyond), every status, three currencies; some of rep_a2's
    filed under team b (they moved); shares to a user and to a team."""
    rng = random.Random(7)
    owners = [users["rep_a"], users["rep_a2"], users["rep_b"], users["manager_a"]]
    accounts = {u.pk: customer_services.create_account(u, {"name": f"{u.username} 的订单客户"}) for u in owners}
    made = []
    for i in range(300):
        owner = rng.choice(owners)
        made.append(Order(
            number=f"V{i}", account=accounts[owner.pk], owner=owner, team_id=owner.team_id,
            ordered_on=dt.date(2029, 12, 1) + dt.timedelta(days=rng.randrange(800)),
            currency=rng.choice(["CNY", "CNY", "USD", "EUR"]), net_total=Decimal(rng.randrange(1, 10**7)) / 100,
            status=rng.choice(OrderStatus.values)))
    Order.objects.bulk_create(made)
    moved = Order.objects.filter(pk__in=[o.pk for o in made[:40] if o.owner_id == users["rep_a2"].pk])
    moved.update(team=teams["b"], status=OrderStatus.CONFIRMED, ordered_on=dt.date(2031, 6, 1))
    admin = users["admin"]
    share_record(admin, moved.first(), user=users["manager_a"])
    for o in rng.sample(made, 50):
        share_record(admin, o, user=rng.choice([users["rep_a"], users["manager_a"], users["viewer"]]))
    for o in rng.sample(made, 20):
        share_record(admin, o, team=rng.choice([teams["a"], teams["b"]]))
    assert Share.objects.filter(content_type=ContentType.objects.get_for_model(Order)).exists()
    return made

"""Quotes through the services: totals, bad lines, approval, versions, rejection, acceptance into an order."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanxi.core.records import EditConflict, audit_trail
from guanxi.sales import quote_services as qs
from guanxi.sales import services as sales_services
from guanxi.sales.models import StageKind
from guanxi.sales.quote_models import ApprovalStatus, Order, Quote, QuoteStatus

pytestmark = pytest.mark.django_db


def _sent(quote, rep):
    """Mark sent without email (the SMTP path has its own test)."""
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.SENT)
    return Quote.objects.get(pk=quote.pk)


def test_new_quote_takes_prices_from_the_price_list_and_rounds_per_line(quote, catalog):
    lines = list(quote.lines.all())
    assert [ln.unit_price for ln in lines] == [Decimal("28000.00"), Decimal("1500.00")]
    assert lines[0].unit == "台" or lines[0].unit == "unit"
    # 2 × 28,000 = 56,000 + 13 % = 7,280; 3 × 1,500 × 0.9 = 4,050 + 6 % = 243
    assert (quote.net_total, quote.tax_total, quote.gross_total) == (
        Decimal("60050.00"), Decimal("7523.00"), Decimal("67573.00"))
    assert quote.number.startswith("Q") and quote.revision == 1 and quote.currency == "CNY"
    assert quote.price_list == catalog["cny"]
    assert quote.terms.startswith("付款方式")


def test_quantity_tier_price_applies_from_its_minimum(quote, users, catalog):
    quote = qs.update_line(users["rep_a"], quote, quote.lines.first().pk,
                           {"quantity": "10", "product_id": catalog["server"].pk}, quote.version)
    assert quote.lines.first().unit_price == Decimal("26500.00")


@pytest.mark.parametrize("line, field", [
    ({"product_id": "SRV", "quantity": "1"}, "lines.2.product_id"),
    ({"description": "运费", "quantity": "-1", "unit_price": "10"}, "lines.2.quantity"),
    ({"description": "运费", "quantity": "1", "unit_price": "10", "discount": "120"}, "lines.2.discount"),
    ({"description": "运费", "quantity": "1"}, "lines.2.unit_price"),
])
def test_bad_lines_are_refused_by_field_and_change_nothing(quote, users, line, field):
    with pytest.raises(ValidationError) as exc:
        qs.add_lines(users["rep_a"], quote, [line], quote.version)
    assert field in exc.value.message_dict
    assert Quote.objects.get(pk=quote.pk).lines.count() == 2


def test_currency_must_match_the_price_list(users, zhang, catalog, rates_later):
    with pytest.raises(ValidationError) as exc:
        qs.create_quote(users["rep_a"], {"account_id": zhang[0].pk, "currency": "CNY",
                                         "price_list_id": catalog["usd"].pk})
    assert "currency" in exc.value.message_dict
    usd = qs.create_quote(users["rep_a"], {"account_id": zhang[0].pk, "currency": "USD"})
    assert usd.price_list == catalog["usd"]


def test_stale_version_is_a_conflict(quote, users):
    qs.update_quote(users["rep_a"], quote, {"notes": "先发样机"}, quote.version)
    with pytest.raises(EditConflict):
        qs.update_quote(users["rep_a"], quote, {"notes": "again"}, quote.version)


def test_large_discount_needs_a_managers_approval(quote, users):
    rep, manager = users["rep_a"], users["manager_a"]
    line = quote.lines.first()
    quote = qs.update_line(rep, quote, line.pk, {"discount": "20"}, quote.version)
    assert qs.approval_needed(quote, rep)
    with pytest.raises(ValidationError) as exc:
        qs.send_quote(rep, quote, quote.version, to="zhang.wei@xingchen.cn")
    assert "discount" in exc.value.message_dict
    approval = qs.request_approval(rep, quote, "老客户续约")
    assert manager.notifications.filter(key=f"quote-approval-{approval.pk}").exists()
    with pytest.raises(PermissionDenied):
        qs.decide_approval(users["rep_a2"], approval, True)
    with pytest.raises(ValidationError):  # refusing needs a reason
        qs.decide_approval(manager, approval, False)
    qs.decide_approval(manager, approval, True)
    assert approval.quote.approvals.get().status == ApprovalStatus.APPROVED
    assert not qs.approval_needed(Quote.objects.get(pk=quote.pk), rep)
    # A larger discount afterwards is not covered by the approval.
    quote = Quote.objects.get(pk=quote.pk)
    quote = qs.update_line(rep, quote, line.pk, {"discount": "25"}, quote.version)
    assert qs.approval_needed(quote, rep)
    assert any(e.action == "approve" for e in audit_trail(quote))


def test_revise_makes_the_next_version_and_keeps_the_old_one(quote, users):
    rep = users["rep_a"]
    sent = _sent(quote, rep)
    new = qs.revise_quote(rep, sent, sent.version)
    old = Quote.objects.get(pk=quote.pk)
    assert (new.number, new.revision, new.status) == (quote.number, 2, QuoteStatus.DRAFT)
    assert old.status == QuoteStatus.SUPERSEDED and old.lines.count() == 2
    assert [ln.description for ln in new.lines.all()] == [ln.description for ln in old.lines.all()]
    assert new.gross_total == old.gross_total
    with pytest.raises(ValidationError):
        qs.revise_quote(rep, old, old.version)
    with pytest.raises(ValidationError):  # sent quotes are frozen
        qs.update_quote(rep, old, {"notes": "x"}, old.version)


def test_accepting_makes_an_order_and_can_mark_the_opportunity_won(users, zhang, catalog, pipeline):
    rep = users["rep_a"]
    opp = sales_services.create_opportunity(rep, {"name": "CT 设备采购", "account_id": zhang[0].pk,
                                                  "amount": "60000"})
    quote = qs.create_quote(rep, {"opportunity_id": opp.pk, "lines": [
        {"product_id": catalog["server"].pk, "quantity": "2"}]})
    assert quote.account == zhang[0]
    quote = _sent(quote, rep)
    order = qs.accept_quote(rep, quote, quote.version, mark_won=True)
    assert order.number.startswith("SO") and order.status == "confirmed"
    assert order.gross_total == Decimal("63280.00") and order.lines.get().delivered_quantity == 0
    assert order.lines.get().quantity == 2
    opp.refresh_from_db()
    assert opp.status == StageKind.WON
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ACCEPTED
    with pytest.raises(ValidationError):  # once
        qs.accept_quote(rep, Quote.objects.get(pk=quote.pk), quote.version + 1)
    assert Order.objects.count() == 1


def test_reject_and_expire(quote, users):
    import datetime as dt

    rep = users["rep_a"]
    with pytest.raises(ValidationError):  # a draft was never offered
        qs.reject_quote(rep, quote, quote.version)
    sent = _sent(quote, rep)
    Quote.objects.filter(pk=quote.pk).update(valid_until=dt.date(2020, 1, 1))
    assert qs.expire_quotes(dt.date.today()) == 1
    assert qs.expire_quotes(dt.date.today()) == 0
    expired = Quote.objects.get(pk=sent.pk)
    assert expired.status == QuoteStatus.EXPIRED
    assert qs.revise_quote(rep, expired, expired.version).revision == 2


def test_demo_catalogue_quotes_and_orders(db):
    from guanxi.core import demo
    from guanxi.sales.catalog_models import PriceList, Product

    demo.load(300, seed=3)
    assert Product.objects.filter(kind="bundle").get().components.count() == 4
    assert set(PriceList.objects.values_list("currency", flat=True)) == {"CNY", "USD"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in Product.objects.first().name)
    quotes = list(Quote.objects.prefetch_related("lines"))
    assert quotes and Order.objects.exists()
    for q in quotes:  # the stored totals are the sums of the stored lines
        assert q.gross_total == sum(ln.gross for ln in q.lines.all())
    # Every order comes from an accepted quote, but the two years of history the demo adds for the analytics
    # (analytics.demo: numbered H<seed>-…).
    assert not Order.objects.filter(quote=None).exclude(number__startswith="H3-").exists()
    for order in Order.objects.exclude(quote=None).select_related("quote"):
        assert order.quote.status == QuoteStatus.ACCEPTED and order.gross_total == order.quote.gross_total

"""Property tests of sales.pricing (no database): the documented rounding rule holds for any input."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanxi.sales.pricing import Line, PricingError, line_amounts, money, tier_price, totals

quantities = st.decimals(min_value=0, max_value=100_000, places=3)
prices = st.decimals(min_value=0, max_value=10_000_000, places=2)
percents = st.decimals(min_value=0, max_value=100, places=2)
rates = st.sampled_from([Decimal(13), Decimal(9), Decimal(6), Decimal(0)])
lines = st.builds(Line, quantity=quantities, unit_price=prices, currency=st.just("CNY"), discount=percents,
                  tax_rate=rates)


@given(st.lists(lines, max_size=30))
def test_totals_are_the_sums_of_the_rounded_lines(items):
    result = totals(items, "CNY")
    assert result.net == sum((a.net for a in result.lines), Decimal(0))
    assert result.tax == sum((a.tax for a in result.lines), Decimal(0))
    assert result.gross == sum((a.gross for a in result.lines), Decimal(0))
    assert sum((r[2] for r in result.tax_by_rate), Decimal(0)) == result.tax


@given(lines)
def test_net_plus_tax_is_gross_to_the_cent(line):
    a = line_amounts(line)
    assert a.net + a.tax == a.gross
    for value in (a.net, a.tax, a.gross):
        assert value == value.quantize(Decimal("0.01"))


@given(lines)
def test_a_discount_never_makes_a_negative_or_larger_amount(line):
    a = line_amounts(line)
    assert Decimal(0) <= a.net <= a.list_amount
    assert a.tax >= 0


@given(st.lists(lines, min_size=1, max_size=5), st.sampled_from(["USD", "EUR"]))
def test_currencies_are_never_mixed(items, other):
    mixed = [*items, Line(Decimal(1), Decimal(1), other)]
    with pytest.raises(PricingError) as exc:
        totals(mixed, "CNY")
    assert exc.value.field == "currency"


def test_half_up_rounding_per_line():
    # 3 × 0.335 = 1.005 → 1.01 (half up, not banker's 1.00); 13 % of 1.01 = 0.1313 → 0.13
    a = line_amounts(Line(Decimal(3), Decimal("0.335"), "CNY", tax_rate=Decimal(13)))
    assert (a.net, a.tax, a.gross) == (Decimal("1.01"), Decimal("0.13"), Decimal("1.14"))
    assert money(Decimal("2.675")) == Decimal("2.68")


@pytest.mark.parametrize("field, line", [
    ("quantity", Line(Decimal(-1), Decimal(1), "CNY")),
    ("unit_price", Line(Decimal(1), Decimal(-1), "CNY")),
    ("discount", Line(Decimal(1), Decimal(1), "CNY", discount=Decimal(101))),
])
def test_bad_lines_are_refused(field, line):
    with pytest.raises(PricingError) as exc:
        line_amounts(line)
    assert exc.value.field == field


def test_the_highest_tier_reached_applies():
    tiers = [(Decimal(1), Decimal(100)), (Decimal(10), Decimal(90)), (Decimal(50), Decimal(80))]
    assert [tier_price(tiers, Decimal(q)) for q in (0, 1, 9, 10, 49, 50, 500)] == [
        None, 100, 100, 90, 90, 80, 80]

"""Property tests of sales.receivables (no database): instalments add up to the cent, payments go to the oldest
instalments first and never beyond what is owed, aging buckets fall on the documented days, conversion refuses a
currency without a rate."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanxi.sales.receivables import (
    BUCKETS,
    Rate,
    ReceivablesError,
    allocate,
    bucket,
    bucket_bounds,
    check_plan,
    convert,
    convert_all,
    instalment_status,
    rate_on,
    split_equal,
)

amounts = st.decimals(min_value=0, max_value=10_000_000_000, places=2)
positive = st.decimals(min_value=Decimal("0.01"), max_value=10_000_000, places=2)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))


@given(amounts, st.integers(min_value=1, max_value=120))
def test_equal_split_sums_exactly_and_parts_differ_by_at_most_a_cent(total, count):
    parts = split_equal(total, count)
    assert len(parts) == count
    assert sum(parts, Decimal(0)) == total
    assert max(parts) - min(parts) <= Decimal("0.01")
    assert parts == sorted(parts, reverse=True)  # the leftover cents go to the first instalments
    assert all(p == p.quantize(Decimal("0.01")) for p in parts)


def test_split_examples_and_refusals():
    assert split_equal(Decimal("100.00"), 3) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert split_equal(Decimal("0.02"), 3) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]
    for total, count in ((Decimal("1.005"), 2), (Decimal("-1"), 2), (Decimal(10), 0), (Decimal(10), 121)):
        with pytest.raises(ReceivablesError):
            split_equal(total, count)


@given(st.lists(positive, min_size=1, max_size=20))
def test_a_hand_plan_must_sum_to_the_total(parts):
    total = sum(parts, Decimal(0))
    check_plan(parts, total)
    with pytest.raises(ReceivablesError) as err:
        check_plan(parts, total + Decimal("0.01"))
    assert err.value.field == "instalments" and err.value.amount == total


def test_a_hand_plan_refuses_zero_and_fractions_of_a_cent():
    for bad in ([Decimal(0), Decimal(10)], [Decimal("5.001"), Decimal("4.999")], []):
        with pytest.raises(ReceivablesError):
            check_plan(bad, Decimal(10))


@given(st.lists(amounts, min_size=1, max_size=12), st.data())
def test_allocation_pays_oldest_first_and_never_beyond_what_is_owed(owed, data):
    items = list(enumerate(owed))
    total = sum(owed, Decimal(0))
    if total == 0:
        with pytest.raises(ReceivablesError):
            allocate(Decimal("0.01"), items)
        return
    pay = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=total, places=2))
    parts = allocate(pay, items)
    assert sum((p for _k, p in parts), Decimal(0)) == pay
    for key, part in parts:
        assert 0 < part <= owed[key]
    keys = [k for k, _p in parts]
    # every instalment before the last one touched is paid off
    assert all(dict(parts).get(k, Decimal(0)) == owed[k] for k in range(keys[-1]) if owed[k] > 0)
    with pytest.raises(ReceivablesError) as err:
        allocate(total + Decimal("0.01"), items)
    assert err.value.amount == total


def test_status_of_an_instalment():
    due, today = dt.date(2026, 3, 31), dt.date(2026, 4, 1)
    assert instalment_status(Decimal(100), Decimal(0), due, due) == "open"
    assert instalment_status(Decimal(100), Decimal(40), due, due) == "partly_paid"
    assert instalment_status(Decimal(100), Decimal(40), due, today) == "overdue"
    assert instalment_status(Decimal(100), Decimal(100), due, today) == "paid"


def test_aging_buckets_on_fixed_dates():
    today = dt.date(2026, 6, 30)
    cases = {dt.date(2026, 7, 15): "current", today: "current", dt.date(2026, 6, 29): "d1_30",
             dt.date(2026, 5, 31): "d1_30", dt.date(2026, 5, 30): "d31_60", dt.date(2026, 5, 1): "d31_60",
             dt.date(2026, 4, 30): "d61_90", dt.date(2026, 4, 1): "d61_90", dt.date(2026, 3, 31): "over_90",
             dt.date(2020, 1, 1): "over_90"}
    for due, expected in cases.items():
        assert bucket(due, today) == expected, due


@given(days, days)
def test_sql_bounds_agree_with_the_bucket_function(due, today):
    matches = [name for name, earliest, latest in bucket_bounds(today)
               if (earliest is None or due >= earliest) and (latest is None or due <= latest)]
    assert matches == [bucket(due, today)]
    assert set(BUCKETS) == {b[0] for b in bucket_bounds(today)}


def test_rates_and_conversion():
    rates = [Rate("USD", Decimal("7.10"), dt.date(2026, 1, 1)), Rate("USD", Decimal("7.20"), dt.date(2026, 6, 1))]
    assert rate_on(rates, "USD", dt.date(2026, 5, 31)) == Decimal("7.10")
    assert rate_on(rates, "USD", dt.date(2026, 6, 1)) == Decimal("7.20")
    assert rate_on(rates, "USD", dt.date(2025, 12, 31)) is None
    assert convert(Decimal("10.005"), "CNY", "CNY", {}) == Decimal("10.005")
    assert convert(Decimal("3.33"), "USD", "CNY", {"USD": Decimal("7.1")}) == Decimal("23.64")
    with pytest.raises(ReceivablesError) as err:
        convert_all({"CNY": Decimal(1), "USD": Decimal(2), "EUR": Decimal(3)}, "CNY", {"USD": Decimal(7)})
    assert err.value.currency == "EUR"
    assert convert_all({"CNY": Decimal(1), "USD": Decimal(2)}, "CNY", {"USD": Decimal(7)}) == Decimal(15)


def test_convert_between_goes_through_the_base_and_rounds_once():
    from guanxi.sales.receivables import convert_between, sum_in

    rates = {"USD": Decimal("7.12345678"), "EUR": Decimal("7.8")}
    assert convert_between(Decimal("100.00"), "EUR", "USD", "CNY", rates) == Decimal("109.50")  # 780 / 7.12345678
    assert convert_between(Decimal("8000.00"), "CNY", "USD", "CNY", rates) == Decimal("1123.05")
    assert convert_between(Decimal("5.00"), "USD", "USD", "CNY", {}) == Decimal("5.00")
    with pytest.raises(ReceivablesError) as exc:
        convert_between(Decimal("1.00"), "JPY", "CNY", "CNY", rates)
    assert exc.value.currency == "JPY"
    total, missing = sum_in({"CNY": Decimal("10.00"), "USD": Decimal("1.00"), "JPY": Decimal("500")}, "CNY", "CNY",
                            rates)
    assert (total, missing) == (Decimal("17.12"), {"JPY": Decimal("500")})  # never 1:1

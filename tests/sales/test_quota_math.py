"""Periods and the performance arithmetic, without a database."""

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.sales.quota_math import (
    Period,
    attainment,
    average,
    change,
    is_period_start,
    parse_period,
    win_rate,
)


def test_periods_parse_and_end_on_the_next_first_day():
    assert parse_period("2031-03") == Period("month", dt.date(2031, 3, 1))
    assert parse_period("2031-12").end == dt.date(2032, 1, 1)
    q = parse_period("2031-q4")
    assert (q.kind, q.start, q.end, q.label) == ("quarter", dt.date(2031, 10, 1), dt.date(2032, 1, 1), "2031-Q4")
    y = parse_period("2031")
    assert (y.start, y.end, len(y.months())) == (dt.date(2031, 1, 1), dt.date(2032, 1, 1), 12)
    assert parse_period("2031-01").shifted(-1).label == "2030-12"
    for bad in ("", "2031-13", "2031-00", "2031-Q5", "31-03", "2031-03-01", "abcd", "0000"):
        with pytest.raises(ValueError):
            parse_period(bad)


def test_period_starts():
    assert is_period_start("quarter", dt.date(2031, 4, 1))
    assert not is_period_start("quarter", dt.date(2031, 5, 1))
    assert not is_period_start("month", dt.date(2031, 5, 2))
    assert is_period_start("year", dt.date(2031, 1, 1)) and not is_period_start("year", dt.date(2031, 7, 1))
    assert not is_period_start("week", dt.date(2031, 1, 1))


def test_attainment_rates_and_averages_round_half_up():
    assert attainment(Decimal("20000"), Decimal("15000")) == Decimal("133.3")
    assert attainment(Decimal("1"), Decimal("8")) == Decimal("12.5")
    assert attainment(Decimal("1"), Decimal("16")) == Decimal("6.3")  # 6.25 → 6.3, not banker's 6.2
    assert attainment(Decimal("5"), Decimal("0")) is None and attainment(Decimal("5"), None) is None
    assert win_rate(3, 1) == Decimal("75.0") and win_rate(0, 0) is None
    assert average(Decimal("10000.01"), 2) == Decimal("5000.01")  # 5000.005 → 5000.01
    assert average(Decimal("1"), 0) is None
    assert change(Decimal("150"), Decimal("100")) == Decimal("50.0") and change(5, 0) is None

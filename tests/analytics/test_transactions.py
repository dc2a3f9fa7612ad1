"""A transactions table is checked once, the same way for RFM and lifetime value."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from guanxi.analytics.errors import AnalyticsInputError
from guanxi.analytics.transactions import read_transactions


def table(**changes) -> pd.DataFrame:
    rows = {
        "customer": ["a", "b", "a"],
        "date": ["2026-01-01", "2026-01-05", "2026-02-01"],
        "amount": [10.0, 20.0, 30.0],
    }
    return pd.DataFrame(rows | changes)


@pytest.mark.parametrize(
    ("frame", "kwargs", "words"),
    [
        (table().drop(columns="amount"), {}, "missing column.*'amount'"),
        (table().iloc[:0], {}, "no rows"),
        (table(customer=["a", None, "a"]), {}, "no customer"),
        (table(date=["2026-01-01", "yesterday", "2026-02-01"]), {}, "not dates.*yesterday.*row 2"),
        (table(date=["2026-01-01", None, "2026-02-01"]), {}, "no date"),
        (table(amount=["10", "ten", "30"]), {}, "not numbers.*ten"),
        (table(amount=[10.0, None, 30.0]), {}, "no amount"),
        (table(amount=[10.0, -20.0, 30.0]), {}, "negative amount.*row 2"),
        (table(), {"as_of": "2026-01-20"}, "after the as-of date 2026-01-20.*2026-02-01 on row 3"),
        (table(), {"as_of": "someday"}, "as_of.*not a date"),
        (table(), {"today": dt.date(2026, 1, 31)}, r"1 transaction.* after today \(2026-01-31\).*2026-02-01 on row 3"),
        (table(), {"as_of": "2026-03-01", "today": dt.date(2026, 2, 28)}, "as_of: 2026-03-01 is in the future"),
        (table(), {"as_of": "2026-01-20", "today": dt.date(2026, 1, 31)}, "dated after today.*2026-02-01 on row 3"),
        (table(amount=[10.0, -20.0, 30.0]), {"first_line": 2}, "negative amount.*-20.0 on line 3"),
        (table(date=["2026-01-01", None, "2026-02-01"]), {"first_line": 2}, "1 row.*no date, e.g. line 3"),
    ],
)
def test_bad_transactions_are_refused_with_the_problem_named(frame, kwargs, words):
    with pytest.raises(AnalyticsInputError, match=words):
        read_transactions(frame, "customer", "date", "amount", **kwargs)


def test_ids_numbers_and_days():
    tx = read_transactions(table(customer=[7, 3, 7]), "customer", "date", "amount")
    assert list(tx.customers) == [3, 7] and list(tx.codes) == [1, 0, 1]
    assert tx.as_of == tx.days.max() and tx.days[1] - tx.days[0] == 4
    aware = table(
        date=pd.to_datetime(["2026-01-01 07:30", "2026-01-05 00:00", "2026-02-01 00:00"]).tz_localize("Asia/Shanghai")
    )
    slashes = table(date=["2026/1/1", "2026/1/5", "2026/2/1"])
    assert list(read_transactions(slashes, "customer", "date", "amount").days) == list(tx.days)
    assert read_transactions(aware, "customer", "date", "amount").days[0] == tx.days[0] - 1  # 23:30 UTC on 31 Dec


def test_today_and_the_as_of_date_may_be_the_last_day():
    tx = read_transactions(table(), "customer", "date", "amount", "2026-02-01", today=dt.date(2026, 2, 1))
    assert tx.as_of == tx.days.max()
    assert read_transactions(table(), "customer", "date", "amount", today=dt.date(2026, 2, 1)).as_of == tx.as_of

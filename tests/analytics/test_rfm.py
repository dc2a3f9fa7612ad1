"""RFM on tables small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from guanxi.analytics.errors import AnalyticsInputError
from guanxi.analytics.rfm import SEGMENT_BY_CODE, SEGMENTS, quintile_scores, rfm


def orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["客户", "日期", "金额"])


def score(frame: pd.DataFrame, as_of: str = "2026-03-31") -> pd.DataFrame:
    return rfm(frame, "客户", "日期", "金额", as_of=as_of).set_index("customer")


def test_ten_customers_fill_each_quintile_with_two():
    # Customer cK bought K times, the last time K days before the as-of date, K × 100 in all.
    rows = [
        (
            f"c{k:02d}",
            (pd.Timestamp("2026-03-31") - pd.Timedelta(days=k if i == 0 else k + i)).date().isoformat(),
            100.0,
        )
        for k in range(1, 11)
        for i in range(k)
    ]
    table = score(orders(rows))
    assert list(table["recency"]) == list(range(1, 11))
    assert list(table["frequency"]) == list(range(1, 11))
    assert list(table["monetary"]) == [100.0 * k for k in range(1, 11)]
    assert list(table["f_score"]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(table["m_score"]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(table["r_score"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]  # recent is good
    assert table.loc["c10", "rfm_score"] == 155
    # Mean score 3: c01/c02 are recent but rare and small, c09/c10 long gone but frequent and big.
    assert set(table.loc[["c01", "c02"], "segment"]) == {"general_develop"}
    assert set(table.loc[["c09", "c10"], "segment"]) == {"important_keep"}
    assert set(table.loc[["c05", "c06"], "segment"]) == {"general_retain"}  # score 3 is not above the mean


def test_ties_get_the_same_score_whatever_the_row_order():
    values = np.array([5, 1, 5, 5, 9, 1, 7])
    assert list(quintile_scores(values)) == [3, 1, 3, 3, 5, 1, 4]
    shuffled = np.random.default_rng(4).permutation(len(values))
    assert list(quintile_scores(values[shuffled])) == list(quintile_scores(values)[shuffled])
    assert list(quintile_scores(values, higher_is_better=False)) == [3, 5, 3, 3, 1, 5, 2]


def test_fewer_than_five_customers_or_values():
    assert list(quintile_scores([42.0])) == [3]
    assert list(quintile_scores([2.0, 2.0, 2.0])) == [3, 3, 3]  # nothing to tell apart: the middle
    assert list(quintile_scores([1.0, 2.0, 3.0])) == [1, 3, 5]
    assert list(quintile_scores([1.0, 1.0, 2.0, 2.0])) == [2, 2, 4, 4]
    table = score(orders([("张伟", "2026-03-01", 300.0), ("李娜", "2026-03-20", 50.0), ("李娜", "2026-01-02", 50.0)]))
    assert table.loc["张伟"].to_dict() == {
        "recency": 30,
        "frequency": 1,
        "monetary": 300.0,
        "r_score": 2,
        "f_score": 2,
        "m_score": 4,
        "rfm_score": 224,
        "segment": "important_retain",
        "segment_zh": "重要挽留客户",
        "segment_en": "Important to win back",
    }
    assert table.loc["李娜", "segment"] == "general_value"  # recent and frequent, spends less


def test_the_eight_segments_are_the_classic_ones():
    assert len({s.code for s in SEGMENTS.values()}) == 8
    assert SEGMENTS[(True, True, True)].zh == "重要价值客户"
    assert SEGMENTS[(True, False, True)].zh == "重要发展客户"
    assert SEGMENTS[(False, True, True)].zh == "重要保持客户"
    assert SEGMENTS[(False, False, True)].zh == "重要挽留客户"
    assert [SEGMENTS[(r, f, False)].zh for r, f in ((True, True), (True, False), (False, True), (False, False))] == [
        "一般价值客户",
        "一般发展客户",
        "一般保持客户",
        "一般挽留客户",
    ]
    assert SEGMENT_BY_CODE["important_value"].en == "Important value"


def test_as_of_bounds_the_period():
    frame = orders([("a", "2026-01-01", 10.0), ("a", "2026-02-01", 10.0), ("b", "2026-01-15", 10.0)])
    assert score(frame, "2026-02-11").loc["a", "recency"] == 10
    with pytest.raises(AnalyticsInputError, match="after the as-of date"):
        score(frame, "2026-01-20")

"""RFM: recency, frequency and monetary value per customer, their 1–5 scores and the eight segments.

As of a date D, for each customer with at least one transaction on or before D:

- recency: days from the last transaction to D (0 = bought on D);
- frequency: the number of transactions (rows);
- monetary: the total amount of those transactions.

Scores 1–5 are quintiles of each measure (5 is best: the most recent, the most frequent, the biggest
spender). Ties: a customer's score comes from the *average* rank of its value (rank method "average",
mid-ranks), score = 1 + floor(5 · (rank − ½) / n), clipped to 1..5. So equal values always get the same
score whatever order the rows came in, and with n distinct values spread evenly each score holds a fifth
of the customers. With fewer than 5 distinct values (or fewer than 5 customers) not every score is
used: a measure that is the same for everyone scores 3 for all; two values split into about 2 and 4.

Segments: each score is "high" when it is above the mean of that score over all customers, else "low"
(the common 中文 RFM practice of comparing with the average; a measure the same for everyone is low for
all). The eight combinations are the classic segments in SEGMENTS, each with a stable code (what the
app stores and translates) and its Chinese and English labels.

Everything is vectorised (numpy/pandas): 1,000,000 customers from 10,000,000 transactions score in a
few seconds. No Django here.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np
import pandas as pd

from guanxi.analytics.transactions import Transactions, read_transactions


class Segment(NamedTuple):
    code: str
    zh: str
    en: str


# Keyed by (R high, F high, M high).
SEGMENTS: dict[tuple[bool, bool, bool], Segment] = {
    (True, True, True): Segment("important_value", "重要价值客户", "Important value"),
    (True, False, True): Segment("important_develop", "重要发展客户", "Important to develop"),
    (False, True, True): Segment("important_keep", "重要保持客户", "Important to keep"),
    (False, False, True): Segment("important_retain", "重要挽留客户", "Important to win back"),
    (True, True, False): Segment("general_value", "一般价值客户", "General value"),
    (True, False, False): Segment("general_develop", "一般发展客户", "General to develop"),
    (False, True, False): Segment("general_keep", "一般保持客户", "General to keep"),
    (False, False, False): Segment("general_retain", "一般挽留客户", "General to win back"),
}
SEGMENT_BY_CODE: dict[str, Segment] = {s.code: s for s in SEGMENTS.values()}

COLUMNS = [
    "customer",
    "recency",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "segment",
    "segment_zh",
    "segment_en",
]


def quintile_scores(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1–5 by quintile of mid-ranks (see the module docstring for ties)."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    ranks = pd.Series(values if higher_is_better else -values).rank(method="average").to_numpy()
    scores = 1 + np.floor(5.0 * (ranks - 0.5) / n)
    return np.clip(scores, 1, 5).astype(np.int8)


def rfm_from_arrays(tx: Transactions) -> pd.DataFrame:
    """RFM table of checked transactions (see read_transactions); needs the amounts."""
    if tx.amounts is None:
        raise ValueError("RFM needs the transaction amounts")
    n = tx.n_customers
    frequency = np.bincount(tx.codes, minlength=n)
    monetary = np.bincount(tx.codes, weights=tx.amounts, minlength=n)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, tx.codes, tx.days)
    return rfm_from_summary(tx.customers, tx.as_of - last, frequency, monetary)


def rfm_from_summary(customers, recency, frequency, monetary) -> pd.DataFrame:
    """RFM table from per-customer measures already aggregated (e.g. by the database): recency in days,
    frequency (transactions) and monetary (their total), one value per customer in `customers`."""
    recency, frequency, monetary = (np.asarray(v) for v in (recency, frequency, monetary))
    r = quintile_scores(recency, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    high = [s > s.mean() for s in (r, f, m)]
    index = (~high[0]).astype(np.int8) * 4 + (~high[1]).astype(np.int8) * 2 + (~high[2]).astype(np.int8)
    ordered = [SEGMENTS[(not (i & 4), not (i & 2), not (i & 1))] for i in range(8)]
    return pd.DataFrame(
        {
            "customer": customers,
            "recency": recency,
            "frequency": frequency,
            "monetary": monetary,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": r.astype(np.int16) * 100 + f.astype(np.int16) * 10 + m,
            "segment": pd.Categorical.from_codes(index, [s.code for s in ordered]),
            "segment_zh": pd.Categorical.from_codes(index, [s.zh for s in ordered]),
            "segment_en": pd.Categorical.from_codes(index, [s.en for s in ordered]),
        }
    )


def rfm(
    transactions: pd.DataFrame,
    customer_col: str = "customer",
    date_col: str = "date",
    amount_col: str = "amount",
    as_of: str | dt.date | None = None,
) -> pd.DataFrame:
    """One row per customer: recency (days), frequency, monetary, r/f/m scores 1–5, rfm_score (e.g. 545)
    and the segment code with its Chinese and English labels, in customer id order.

    `as_of` (default: the last transaction's date) ends the period; a transaction after it, a negative
    amount or a missing column raises AnalyticsInputError (a ValueError) naming the problem.
    """
    tx = read_transactions(transactions, customer_col, date_col, amount_col, as_of)
    return rfm_from_arrays(tx)

"""Seeded synthetic transactions from the BG/NBD process with Gamma-Gamma spend (for tests, benchmarks
and demos): customers arrive over a period, buy at Poisson rate λ ~ Gamma(r, α) per day, drop out after
each purchase with probability p ~ Beta(a, b), and spend Gamma(p_spend, ν) per purchase with
ν ~ Gamma(q, γ) per customer. No Django here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def bgnbd_transactions(
    n_customers: int,
    seed: int = 1,
    start: str = "2024-01-01",
    days: int = 730,
    r: float = 0.9,
    alpha: float = 13.0,
    a: float = 0.8,
    b: float = 6.0,
    spend: tuple[float, float, float] = (6.0, 4.0, 60.0),
) -> pd.DataFrame:
    """A DataFrame (customer int, date datetime64, amount float rounded to cents), ordered by date.

    With the defaults a customer makes about 10 transactions on average over the two years.
    """
    rng = np.random.default_rng(seed)
    first = rng.integers(0, days, n_customers)  # day of the first purchase
    rate = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout = rng.beta(a, b, n_customers)
    window = days - first  # days from the first purchase to the end, exclusive of the first day
    # Events of a Poisson process on the window: their number, then their times as sorted uniforms; the
    # customer survives each purchase with probability 1 - p, so keeps the first Geometric - 1 of them.
    events = rng.poisson(rate * window)
    kept = np.minimum(events, rng.geometric(dropout) - 1)
    owner = np.repeat(np.arange(n_customers), events)
    offset = np.floor(rng.random(len(owner)) * np.repeat(window, events)).astype(np.int64)
    order = np.lexsort((offset, owner))
    owner, offset = owner[order], offset[order]
    position = np.arange(len(owner)) - np.repeat(np.cumsum(events) - events, events)
    keep = position < np.repeat(kept, events)
    customer = np.concatenate([np.arange(n_customers), owner[keep]])
    day = np.concatenate([first, first[owner[keep]] + 1 + np.minimum(offset[keep], window[owner[keep]] - 1)])
    p_spend, q, gamma = spend
    nu = rng.gamma(q, 1.0 / gamma, n_customers)
    amount = np.round(rng.gamma(p_spend, 1.0, len(customer)) / nu[customer], 2)
    order = np.argsort(day, kind="stable")
    return pd.DataFrame(
        {
            "customer": customer[order],
            "date": pd.Timestamp(start) + pd.to_timedelta(day[order], unit="D"),
            "amount": amount[order],
        }
    )

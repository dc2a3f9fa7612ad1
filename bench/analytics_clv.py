"""RFM and lifetime-value benchmark: `python -m bench.analytics_clv --customers 1000000`.

Generates seeded transactions from the BG/NBD process with Gamma-Gamma spend
(guanxi.analytics.simulate: ~10 per customer, so 1M customers ≈ 10M rows), writes them as CSV in a
temporary directory and reads them back, then times ours: RFM, the summary (frequency, recency, T,
monetary value), the BG/NBD fit, scoring (P(alive), expected purchases over 12 months), the
Gamma-Gamma fit and the 12-month CLV. lifetimes does the same steps in the same run on a
--subset-customer sample (its summary and fitters are too slow at full size), and ours runs on that
subset too, so the ratio compares like with like. Prints a Markdown report with machine, date and load
average; run it under `flock /tmp/guanxi-bench.lock`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from guanxi.analytics import clv, rfm, simulate

AS_OF = "2025-12-31"
MONTHS = 12


def timed(steps: dict[str, float], name: str, work: Callable):
    started = time.perf_counter()
    result = work()
    steps[name] = time.perf_counter() - started
    print(f"  {name}: {steps[name]:.2f} s", flush=True)
    return result


def ours(tx: pd.DataFrame) -> dict[str, float]:
    steps: dict[str, float] = {}
    timed(steps, "RFM", lambda: rfm.rfm(tx, "customer", "date", "amount", as_of=AS_OF))
    summary = timed(steps, "summary", lambda: clv.summary_from_transactions(tx, amount_col="amount", as_of=AS_OF))
    x, t_x, age, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    model = timed(steps, "BG/NBD fit", lambda: clv.fit_bgnbd(x, t_x, age))
    timed(steps, "BG/NBD scoring", lambda: clv.predict(model, summary, MONTHS * 30.0))
    spend = timed(steps, "Gamma-Gamma fit", lambda: clv.fit_gamma_gamma(x, m))
    timed(
        steps,
        "CLV 12 months",
        lambda: clv.customer_lifetime_value(model, x, t_x, age, spend.expected_average_value(x, m), MONTHS, 0.01),
    )
    print(f"  BG/NBD {model.fit.params}, Gamma-Gamma {spend.fit.params}", flush=True)
    return steps


def theirs(tx: pd.DataFrame) -> dict[str, float]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    steps: dict[str, float] = {}
    summary = timed(
        steps,
        "summary",
        lambda: summary_data_from_transaction_data(
            tx, "customer", "date", monetary_value_col="amount", observation_period_end=AS_OF
        ),
    )
    x, t_x, age, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    model = timed(steps, "BG/NBD fit", lambda: BetaGeoFitter().fit(x, t_x, age))
    timed(
        steps,
        "BG/NBD scoring",
        lambda: (
            model.conditional_probability_alive(x, t_x, age),
            model.conditional_expected_number_of_purchases_up_to_time(MONTHS * 30.0, x, t_x, age),
        ),
    )
    repeat = summary[x > 0]
    spend = timed(
        steps, "Gamma-Gamma fit", lambda: GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    )
    timed(
        steps,
        "CLV 12 months",
        lambda: spend.customer_lifetime_value(model, x, t_x, age, m, time=MONTHS, discount_rate=0.01, freq="D"),
    )
    print(f"  lifetimes BG/NBD {model.params_.to_dict()}", flush=True)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=100_000, help="customers for the comparison with lifetimes")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"generating {args.customers:,} customers", flush=True)
    started = time.perf_counter()
    generated = simulate.bgnbd_transactions(args.customers, seed=args.seed)
    generate_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="guanxi-clv-") as tmp:
        path = Path(tmp) / "transactions.csv"
        started = time.perf_counter()
        generated.to_csv(path, index=False, date_format="%Y-%m-%d")
        write_s = time.perf_counter() - started
        del generated
        started = time.perf_counter()
        tx = pd.read_csv(path, parse_dates=["date"], date_format="%Y-%m-%d")
        read_s = time.perf_counter() - started
    print(f"{len(tx):,} transactions; generated {generate_s:.1f} s, CSV written {write_s:.1f} s, read {read_s:.1f} s")
    print(f"ours, {args.customers:,} customers:", flush=True)
    full = ours(tx)
    subset = tx[tx["customer"] < args.subset]
    print(f"ours, {args.subset:,}-customer subset ({len(subset):,} transactions):", flush=True)
    ours_subset = ours(subset)
    print("lifetimes, the same subset:", flush=True)
    lifetimes_subset = theirs(subset)
    load_after = os.getloadavg()
    fitting = ("BG/NBD fit", "BG/NBD scoring", "Gamma-Gamma fit", "CLV 12 months")
    fit_and_score = sum(full[k] for k in fitting)
    print()
    print(
        f"### {dt.date.today().isoformat()} — {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}"
    )
    print()
    print(
        f"{args.customers:,} customers, {len(tx):,} transactions (seed {args.seed}); load average "
        f"{load[0]:.2f} at the start, {load_after[0]:.2f} at the end."
    )
    print()
    print(
        f"| step | ours, {args.customers // 1000:,}k customers (s) | ours, {args.subset // 1000:,}k subset (s) "
        f"| lifetimes, same subset (s) | lifetimes / ours |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for step, seconds in full.items():
        them = lifetimes_subset.get(step)
        cells = (f"{them:.2f}", f"{them / ours_subset[step]:.1f}×") if them is not None else ("—", "—")
        print(f"| {step} | {seconds:.2f} | {ours_subset[step]:.2f} | {cells[0]} | {cells[1]} |")
    print(
        f"| BG/NBD + Gamma-Gamma fit and scoring | {fit_and_score:.2f} | "
        f"{sum(ours_subset[k] for k in fitting):.2f} | {sum(lifetimes_subset[k] for k in fitting):.2f} | "
        f"{sum(lifetimes_subset[k] for k in fitting) / sum(ours_subset[k] for k in fitting):.1f}× |"
    )
    print()
    print(
        f"Targets: RFM < 10 s ({'met' if full['RFM'] < 10 else 'NOT met'}); BG/NBD + Gamma-Gamma fit and "
        f"scoring < 60 s ({'met' if fit_and_score < 60 else 'NOT met'})."
    )


if __name__ == "__main__":
    main()

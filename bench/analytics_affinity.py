"""Product affinity and churn benchmark: `python -m bench.analytics_affinity`.

Generates N order lines (default 10,000,000; seeded) over 5,000 products with Zipf-like popularity
(product k drawn with weight 1/k) in ~2,000,000 baskets of 1 + Poisson items, 30 % of which also hold
one of 300 "bundles" of 2–4 products (the bundles themselves Zipf-popular), so there are real rules to
find. Mines them with guanxi.analytics.affinity (encoding, FP-growth, rules timed apart) and, in the
same run, with mlxtend's fpgrowth + association_rules on the first --mlxtend-baskets baskets (mlxtend
wants a one-hot table and sums it densely, 5,000 columns × 2M rows does not fit), where both are
timed on the same subset and their rule sets compared. Then fits the churn model (5-fold CV + final
fit) on a synthetic --churn-rows customer table. Prints one JSON report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
import warnings

import numpy as np
import pandas as pd

from guanxi.analytics.affinity import Baskets, association_rules, frequent_itemsets
from guanxi.analytics.churn import fit_churn


def order_lines(
    lines: int, products: int = 5000, seed: int = 1, bundles: int = 300, bundle_share: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """(basket id, product id) per order line, sorted by basket; ~5 lines per basket."""
    rng = np.random.default_rng(seed)
    n_baskets = int(lines / 4.9)  # a little over: the lines are cut at exactly `lines`
    popularity = 1 / np.arange(1, products + 1)
    popularity /= popularity.sum()
    shuffled = rng.permutation(products)  # popularity not tied to the product id
    sizes = 1 + rng.poisson(4 - bundle_share * 3, n_baskets)
    item = shuffled[rng.choice(products, int(sizes.sum()), p=popularity)]
    basket = np.repeat(np.arange(n_baskets), sizes)
    bundle_size = rng.integers(2, 5, bundles)
    members = np.concatenate([shuffled[rng.choice(products, k, replace=False, p=popularity)] for k in bundle_size])
    first = np.cumsum(bundle_size) - bundle_size
    holders = np.flatnonzero(rng.random(n_baskets) < bundle_share)
    which = rng.zipf(1.5, len(holders)) % bundles
    k = bundle_size[which]
    extra = np.repeat(first[which], k) + np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    basket = np.concatenate([basket, np.repeat(holders, k)])
    item = np.concatenate([item, members[extra]])
    order = np.argsort(basket, kind="stable")[:lines]
    return basket[order], item[order]


def _timings(baskets: int, itemsets: int, rules: int, *t: float) -> dict:
    """Counts and seconds: encoding (t0→t1), FP-growth (t1→t2), rules (t2→t3); mining is the last two."""
    return {
        "baskets": baskets,
        "itemsets": itemsets,
        "rules": rules,
        "encode_s": round(t[1] - t[0], 2),
        "fpgrowth_s": round(t[2] - t[1], 2),
        "rules_s": round(t[3] - t[2], 2),
        "mining_s": round(t[3] - t[1], 2),
        "total_s": round(t[3] - t[0], 2),
    }


def ours(basket: np.ndarray, item: np.ndarray, support: float, confidence: float) -> tuple[dict, pd.DataFrame]:
    t0 = time.perf_counter()
    baskets = Baskets.from_pairs(basket, item)
    t1 = time.perf_counter()
    itemsets = frequent_itemsets(baskets, support)
    t2 = time.perf_counter()
    rules = association_rules(itemsets, confidence)
    t3 = time.perf_counter()
    return _timings(baskets.n, len(itemsets), len(rules), t0, t1, t2, t3), rules


def mlxtend(basket: np.ndarray, item: np.ndarray, support: float, confidence: float) -> tuple[dict, pd.DataFrame]:
    import scipy.sparse as sp
    from mlxtend.frequent_patterns import association_rules as ml_rules
    from mlxtend.frequent_patterns import fpgrowth

    t0 = time.perf_counter()
    rows, _ = pd.factorize(basket)
    cols, labels = pd.factorize(item)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(rows.max() + 1, len(labels)))
    with warnings.catch_warnings():  # pandas' notice about the sparse fill value, not ours to fix
        warnings.simplefilter("ignore", FutureWarning)
        onehot = pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(x) for x in labels])
    t1 = time.perf_counter()
    itemsets = fpgrowth(onehot, min_support=support, use_colnames=True)
    t2 = time.perf_counter()
    rules = ml_rules(itemsets, len(onehot), metric="confidence", min_threshold=confidence)
    rules = rules[rules["consequents"].map(len) == 1]
    t3 = time.perf_counter()
    return _timings(len(onehot), len(itemsets), len(rules), t0, t1, t2, t3), rules


def customers(rows: int, seed: int = 2) -> pd.DataFrame:
    """A CRM-like customer table whose churn depends on recency, trends, complaints, plan and tenure."""
    rng = np.random.default_rng(seed)
    t = pd.DataFrame(
        {
            "tenure_days": rng.integers(30, 3000, rows),
            "recency_days": rng.exponential(60, rows).round(),
            "orders_recent": rng.poisson(3, rows),
            "orders_trend": rng.integers(-5, 6, rows),
            "spend_trend": rng.normal(0, 200, rows).round(2),
            "tickets_recent": rng.poisson(0.5, rows),
            "complaints_total": rng.poisson(0.2, rows),
            "satisfaction": rng.choice([1, 2, 3, 4, 5, np.nan], rows),
            "plan": rng.choice(["basic", "plus", "pro", "enterprise"], rows),
            "region": rng.choice(list("ABCDEFGH"), rows),
            "channel": rng.choice(["web", "store", "phone", "partner"], rows),
        }
    )
    logit = (
        -1.5
        + t["recency_days"] / 60
        - 0.3 * t["orders_trend"]
        - t["spend_trend"] / 400
        + 0.6 * t["complaints_total"]
        - 0.3 * (t["satisfaction"].fillna(3) - 3)
        - t["tenure_days"] / 2000
        + t["plan"].map({"basic": 0.5, "plus": 0.0, "pro": -0.3, "enterprise": -0.8})
    )
    t["churned"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--lines", type=int, default=10_000_000)
    p.add_argument("--min-support", type=float, default=0.001)
    p.add_argument("--min-confidence", type=float, default=0.3)
    p.add_argument("--mlxtend-baskets", type=int, default=200_000, help="0: skip mlxtend")
    p.add_argument("--churn-rows", type=int, default=1_000_000, help="0: skip the churn fit")
    args = p.parse_args()
    report: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_before": os.getloadavg(),
    }
    basket, item = order_lines(args.lines)
    report["affinity"] = {"lines": len(basket), "min_support": args.min_support, "min_confidence": args.min_confidence}
    report["affinity"]["ours_full"], _ = ours(basket, item, args.min_support, args.min_confidence)
    if args.mlxtend_baskets:
        cut = np.searchsorted(basket, basket[0] + args.mlxtend_baskets)
        sub_b, sub_i = basket[:cut], item[:cut]
        ours_sub, a = ours(sub_b, sub_i, args.min_support, args.min_confidence)
        theirs, b = mlxtend(sub_b, sub_i, args.min_support, args.min_confidence)
        mine = {
            (frozenset(map(str, x)), frozenset(map(str, y))): c
            for x, y, c in zip(a["antecedent"], a["consequent"], a["confidence"], strict=True)
        }
        theirs_set = set(zip(b["antecedents"], b["consequents"], strict=True))
        # mlxtend divides supports (12/10000 over 40/10000 = 0.29999999999999993) where we divide counts
        # (12/40 = 0.3), so it drops rules whose confidence is exactly the threshold; nothing else may differ
        extra = [k for k in mine if k not in theirs_set]
        same = theirs_set <= mine.keys() and all(mine[k] == args.min_confidence for k in extra)
        report["affinity"]["subset"] = {
            "lines": int(cut),
            "ours": ours_sub,
            "mlxtend": theirs,
            "same_rules": same,
            "ours_only_at_exact_threshold": len(extra),
            "mining_ratio": round(theirs["mining_s"] / max(ours_sub["mining_s"], 0.01), 1),
        }
    if args.churn_rows:
        table = customers(args.churn_rows)
        started = time.perf_counter()
        model = fit_churn(table, "churned")
        report["churn"] = {
            "rows": args.churn_rows,
            "fit_s": round(time.perf_counter() - started, 1),
            "cv_auc": round(model.cv_auc, 4),
            "folds": len(model.fold_auc),
        }
    report["load_after"] = os.getloadavg()
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

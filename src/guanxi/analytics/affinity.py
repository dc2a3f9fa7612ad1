"""Product affinity: frequent itemsets by FP-growth and association rules ("bought together").

FP-growth here works on projected databases held in numpy arrays instead of a pointer-linked tree:
items are integer-encoded and ranked by frequency (rank 0 = most frequent), each basket is a row of
ranks in ascending order, and the conditional database of item x is, for every row holding x, the
part of the row before x (the more frequent items) with the row's weight. All conditional databases
of one node are cut out by one vectorised gather and every support count is one `np.bincount`, so the
work per node is a handful of numpy calls whatever the number of baskets. Each itemset is reached
once: by its least frequent item first, then the next, and so on.

Rules are single-consequent by default (antecedent → one item), with support, confidence, lift,
leverage and conviction. Supports are fractions of all baskets, empty ones included (as R's arules
and mlxtend count them). No Django here: the CLI, the benchmark and the app all call these functions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from guanxi.analytics.errors import AnalyticsInputError

# Cap on the elements of the conditional databases cut out at once (memory: ~20 bytes each).
CHUNK = 8_000_000
Column = Sequence | np.ndarray | pd.Series
RULE_COLUMNS = ["antecedent", "consequent", "support", "confidence", "lift", "leverage", "conviction", "count"]


@dataclass(frozen=True)
class Baskets:
    """Integer-encoded baskets: parallel arrays of (basket code, item code) and the item labels."""

    basket: np.ndarray  # int64 codes 0..n-1
    item: np.ndarray  # int64 codes into labels
    labels: np.ndarray  # item code → original item
    n: int  # number of baskets, empty ones included

    @classmethod
    def from_lists(cls, baskets: Iterable[Iterable[Hashable]]) -> Baskets:
        """One list of items per basket (an item repeated in a basket counts once)."""
        baskets = [list(b) for b in baskets]
        sizes = np.fromiter((len(b) for b in baskets), dtype=np.int64, count=len(baskets))
        flat = list(itertools.chain.from_iterable(baskets))
        codes, labels = pd.factorize(pd.Series(flat, dtype=object), sort=False)
        return cls(
            np.repeat(np.arange(len(baskets), dtype=np.int64), sizes),
            codes.astype(np.int64),
            np.asarray(labels, dtype=object),
            len(baskets),
        )

    @classmethod
    def from_pairs(cls, basket_ids: Column, items: Column) -> Baskets:
        """Order lines: one (basket id, item) pair each, in any order."""
        if len(basket_ids) != len(items):
            raise AnalyticsInputError(f"{len(basket_ids)} basket ids but {len(items)} items")
        basket, _ = pd.factorize(np.asarray(basket_ids), sort=False)
        codes, labels = pd.factorize(np.asarray(items), sort=False)
        if (basket < 0).any() or (codes < 0).any():
            raise AnalyticsInputError("an order line has no basket id or no item")
        return cls(
            basket.astype(np.int64),
            codes.astype(np.int64),
            np.asarray(labels, dtype=object),
            int(basket.max()) + 1 if len(basket) else 0,
        )


@dataclass
class Itemsets:
    """Frequent itemsets: each a tuple of item codes (least frequent first) with its basket count."""

    sets: list[tuple[int, ...]]
    counts: list[int]
    labels: np.ndarray
    n: int

    def __len__(self) -> int:
        return len(self.sets)

    def to_frame(self) -> pd.DataFrame:
        labels = self.labels
        return pd.DataFrame(
            {
                "itemset": [frozenset(labels[i] for i in s) for s in self.sets],
                "support": np.asarray(self.counts, dtype=float) / self.n,
                "count": self.counts,
            }
        )


def check_fraction(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value) or not 0 < value <= 1:
        raise AnalyticsInputError(f"{name} must be a number in (0, 1], not {value!r}")


def least_count(min_support: float, n: int) -> int:
    """The smallest basket count c with c / n >= min_support (compared as the ratio, like arules)."""
    c = max(1, math.ceil(min_support * n))
    while c > 1 and (c - 1) / n >= min_support:
        c -= 1
    while c / n < min_support:
        c += 1
    return c


def frequent_itemsets(baskets: Baskets, min_support: float, max_len: int | None = 10) -> Itemsets:
    """All itemsets in at least `min_support` of the baskets, up to `max_len` items (arules' default 10)."""
    check_fraction("min support", min_support)
    if max_len is not None and max_len < 1:
        raise AnalyticsInputError(f"max length must be at least 1, not {max_len}")
    if baskets.n == 0:
        raise AnalyticsInputError("no baskets")
    n_items = max(len(baskets.labels), 1)
    min_count = least_count(min_support, baskets.n)
    keys = np.sort(baskets.basket * n_items + baskets.item)
    keys = keys[_starts(keys)]  # one line per (basket, item); np.unique hashes here, several times slower
    item = keys % n_items
    counts = np.bincount(item, minlength=n_items)
    frequent = np.flatnonzero(counts >= min_count)
    by_rank = frequent[np.lexsort((frequent, -counts[frequent]))]
    rank_of = np.full(n_items, -1, dtype=np.int64)
    rank_of[by_rank] = np.arange(len(by_rank))
    ranks = rank_of[item]
    keep = ranks >= 0
    width = max(len(by_rank), 1)
    rows = np.sort((keys[keep] // n_items) * width + ranks[keep])  # rows in basket order, ranks ascending
    # int16 ranks when they fit: numpy's stable argsort is then a radix sort
    items = (rows % width).astype(np.int16 if width <= np.iinfo(np.int16).max else np.int32)
    basket = rows // width
    miner = _Miner(min_count, max_len or len(by_rank) or 1)
    miner.node((), items, np.ones(len(items)), _positions(_starts(basket)), len(by_rank))
    sets = [tuple(int(by_rank[r]) for r in s) for s in miner.sets]
    return Itemsets(sets, miner.counts, baskets.labels, baskets.n)


def _starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts, in a sorted array."""
    first = np.empty(len(sorted_keys), dtype=bool)
    first[:1] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    return first


def _positions(first: np.ndarray) -> np.ndarray:
    """Position of each element inside its row, given where rows start."""
    idx = np.arange(len(first))
    return idx - np.maximum.accumulate(np.where(first, idx, 0))


class _Miner:
    def __init__(self, min_count: int, max_len: int) -> None:
        self.min_count = min_count
        self.max_len = max_len
        self.sets: list[tuple[int, ...]] = []
        self.counts: list[int] = []

    def node(self, prefix: tuple[int, ...], items: np.ndarray, w: np.ndarray, pos: np.ndarray, bound: int) -> None:
        """Mine the conditional database (items, weights, position in row) of `prefix`; items < bound."""
        counts = np.bincount(items, weights=w, minlength=bound)
        frequent = counts >= self.min_count
        found = np.flatnonzero(frequent)
        if not len(found):
            return
        for x in found.tolist():
            self.sets.append((*prefix, x))
            self.counts.append(int(counts[x]))
        if len(prefix) + 1 >= self.max_len:
            return
        if not frequent.all():  # drop the infrequent items; rows keep their order, positions shift
            keep = frequent[items]
            row = np.cumsum(pos == 0)[keep]
            items, w = items[keep], w[keep]
            pos = _positions(_starts(row))
        if not pos.any():
            return
        self.project(prefix, items, w, pos)

    def project(self, prefix: tuple[int, ...], items: np.ndarray, w: np.ndarray, pos: np.ndarray) -> None:
        """Cut out the conditional database of every item and mine each, in chunks of CHUNK elements."""
        order = np.argsort(items, kind="stable")
        length = pos[order]
        keep = length > 0  # an item first in its row has nothing before it
        order, length = order[keep], length[keep]
        xs = items[order]
        ends = np.cumsum(length)
        bounds = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1], True])  # runs of one item in `order`
        lo = 0
        while lo < len(bounds) - 1:
            hi = lo + 1  # take whole items while the chunk stays under CHUNK elements (at least one item)
            base = ends[bounds[lo] - 1] if bounds[lo] else 0
            while hi < len(bounds) - 1 and ends[bounds[hi + 1] - 1] - base <= CHUNK:
                hi += 1
            a, b = bounds[lo], bounds[hi]
            occ, ln = order[a:b], length[a:b]
            cum = np.cumsum(ln)
            local = np.arange(int(cum[-1])) - np.repeat(cum - ln, ln)  # position inside the cut-out row
            c_items = items[np.repeat(occ - ln, ln) + local]
            c_w = np.repeat(w[occ], ln)
            run_ends = cum[bounds[lo + 1 : hi + 1] - a - 1]
            start = 0
            for x, end in zip(xs[bounds[lo:hi]].tolist(), run_ends.tolist(), strict=True):
                if end > start:
                    self.node((*prefix, x), c_items[start:end], c_w[start:end], local[start:end], x)
                start = end
            lo = hi


def association_rules(itemsets: Itemsets, min_confidence: float, max_consequent: int = 1) -> pd.DataFrame:
    """Rules antecedent → consequent from the itemsets, at least `min_confidence`, best first.

    Consequents have 1..max_consequent items; antecedents are never empty. Columns: antecedent and
    consequent (frozensets of items), support, confidence, lift, leverage, conviction (inf when the
    confidence is 1) and count (baskets holding both sides).
    """
    check_fraction("min confidence", min_confidence)
    if max_consequent < 1:
        raise AnalyticsInputError(f"max consequent must be at least 1, not {max_consequent}")
    count_of = {frozenset(s): c for s, c in zip(itemsets.sets, itemsets.counts, strict=True)}
    ante, cons, both, ante_n, cons_n = [], [], [], [], []
    for s, c in zip(itemsets.sets, itemsets.counts, strict=True):
        if len(s) < 2:
            continue
        whole = frozenset(s)
        for k in range(1, min(max_consequent, len(s) - 1) + 1):
            for right in itertools.combinations(s, k):
                right = frozenset(right)
                left = whole - right
                a = count_of[left]
                if c / a >= min_confidence:
                    ante.append(left)
                    cons.append(right)
                    both.append(c)
                    ante_n.append(a)
                    cons_n.append(count_of[right])
    n = itemsets.n
    both_, a_, c_ = (np.asarray(v, dtype=float) for v in (both, ante_n, cons_n))
    support, confidence, cons_support = both_ / n, both_ / np.maximum(a_, 1), c_ / n
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = confidence / cons_support
        conviction = np.where(confidence >= 1, np.inf, (1 - cons_support) / (1 - confidence))
    labels = itemsets.labels
    rules = pd.DataFrame(
        {
            "antecedent": [frozenset(labels[i] for i in s) for s in ante],
            "consequent": [frozenset(labels[i] for i in s) for s in cons],
            "support": support,
            "confidence": confidence,
            "lift": lift,
            "leverage": support - (a_ / n) * cons_support,
            "conviction": conviction,
            "count": both_.astype(np.int64),
        },
        columns=RULE_COLUMNS,
    )
    order = np.lexsort((-rules["support"].to_numpy(), -rules["lift"].to_numpy(), -rules["confidence"].to_numpy()))
    return rules.iloc[order].reset_index(drop=True)


def mine(
    baskets: Baskets, min_support: float, min_confidence: float, max_len: int | None = 10, max_consequent: int = 1
) -> pd.DataFrame:
    """Frequent itemsets and their rules in one call."""
    check_fraction("min confidence", min_confidence)
    return association_rules(frequent_itemsets(baskets, min_support, max_len), min_confidence, max_consequent)


@dataclass(frozen=True)
class Suggestion:
    item: Hashable
    confidence: float
    lift: float
    support: float


def also_bought(item: Hashable, rules: pd.DataFrame, n: int = 5) -> list[Suggestion]:
    """ "Customers who bought this also bought": the consequents of rules whose antecedent is just
    `item`, by confidence then lift, then those of rules whose antecedent holds `item` with others."""
    if rules.empty:
        return []
    ante = rules["antecedent"]
    holds = ante.map(lambda a: item in a).to_numpy(dtype=bool)
    alone = ante.map(len).to_numpy() == 1
    picked = rules[holds].assign(_alone=alone[holds])
    picked = picked.sort_values(["_alone", "confidence", "lift"], ascending=False, kind="stable")
    out: list[Suggestion] = []
    seen = {item}
    for row in picked.itertuples(index=False):
        for other in row.consequent:
            if other not in seen and len(out) < n:
                seen.add(other)
                out.append(Suggestion(other, float(row.confidence), float(row.lift), float(row.support)))
    return out

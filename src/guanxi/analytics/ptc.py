"""Target customers (PTC, propensity to buy): for one product, rank the customers by how likely they are to
buy it, with the products that drove each score. No Django here.

Two signals, from a customer × product purchase matrix X (1 when the customer bought the product):

- item-based collaborative filtering. The similarity of product j to the target t is the cosine of their
  buyer columns, co(j, t) / √(n_j · n_t) (co = customers who bought both, n = buyers of each). A
  customer's CF score is the sum of the similarities of the other products they bought; the products with
  the largest similarities are the reasons. Computed as two sparse products (Xᵀ·x_t, then X·sim): linear
  in the number of purchases, never an item × item matrix.
- when the product has at least `min_buyers` buyers (and as many non-buyers) and RFM features are given
  (recency_days, frequency, monetary per customer), a logistic regression of "bought the target" on the CF
  score and the RFM features, whose probability is the final score: the model learns how much weight CF
  and buying behaviour deserve for this product. The buyers' CF scores are computed leave-one-out (their
  own purchase removed from the co-buyer counts), so the model does not learn from a leaked signal.
  Otherwise the score is the CF score scaled to [0, 1] by its maximum.

Customers who already bought the product are left out unless `include_buyers`. Ties keep the customer
order (ascending id). The validation (tests/analytics/test_ptc.py) holds out later purchases on generated
data with a planted structure and checks the ranking against random (AUC and hit rate at N).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from guanxi.analytics.errors import AnalyticsInputError

FEATURES = ["recency_days", "frequency", "monetary"]
MIN_BUYERS = 20
REASONS = 3
COLUMNS = ["customer", "score", "cf_score", "bought", "reasons"]


@dataclass(frozen=True)
class PurchaseMatrix:
    """Binary customers × products; `customers` and `products` are the labels of the rows and columns."""

    customers: pd.Index
    products: pd.Index
    matrix: sparse.csr_matrix

    @classmethod
    def from_pairs(cls, customers: Any, products: Any) -> PurchaseMatrix:
        """From one (customer, product) pair per purchase (repeats count once)."""
        customers, products = pd.Series(np.asarray(customers)), pd.Series(np.asarray(products))
        if len(customers) != len(products):
            raise AnalyticsInputError("customers and products must have the same length")
        if len(customers) == 0:
            raise AnalyticsInputError("no purchases: the table has no rows")
        if customers.isna().any() or products.isna().any():
            raise AnalyticsInputError("every purchase needs a customer and a product")
        rows, customer_index = pd.factorize(customers, sort=True)
        cols, product_index = pd.factorize(products, sort=True)
        matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)),
                                   shape=(len(customer_index), len(product_index)))
        matrix.data[:] = 1.0  # duplicates were summed: a purchase is a purchase
        return cls(pd.Index(customer_index), pd.Index(product_index), matrix)

    def column(self, product: Any) -> int:
        if product not in self.products:
            # a product id read as text from a file may be given as a number, and the other way round
            as_text = {str(p): i for i, p in enumerate(self.products)}
            if str(product) in as_text:
                return as_text[str(product)]
            raise AnalyticsInputError(f"product {product!r}: nobody has bought it, so there is nothing to learn from")
        return int(self.products.get_loc(product))


@dataclass
class Propensity:
    """The ranking: a table with COLUMNS (best first) and how it was made."""

    table: pd.DataFrame
    method: str  # "model" (logistic on CF + RFM) or "cf" (item similarity only)
    buyers: int
    details: dict[str, Any]


def similarities(m: PurchaseMatrix, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sim to the target per product, buyers per product, co-buyers per product); sim of the target is 0."""
    x = m.matrix
    n = np.asarray(x.sum(axis=0)).ravel()
    target = x[:, t]
    co = np.asarray((x.T @ target).todense()).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(n > 0, co / np.sqrt(n * n[t]), 0.0)
    sim[t] = 0.0
    return sim, n, co


def _leave_one_out(m: PurchaseMatrix, t: int, n: np.ndarray, co: np.ndarray, buyers: np.ndarray) -> np.ndarray:
    """The buyers' CF scores with their own purchases taken out of the co-buyer and buyer counts."""
    if n[t] <= 1:
        return np.zeros(len(buyers))
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(n > 1, (co - 1) / np.sqrt(np.maximum(n - 1, 1) * (n[t] - 1)), 0.0)
    sim[t] = 0.0
    return np.asarray(m.matrix[buyers] @ np.clip(sim, 0, None)).ravel()


def _model(cf: np.ndarray, features: pd.DataFrame, bought: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    table = np.column_stack([
        np.log1p(cf),
        features["recency_days"].to_numpy(dtype=np.float64),
        np.log1p(features["frequency"].to_numpy(dtype=np.float64)),
        np.log1p(np.clip(features["monetary"].to_numpy(dtype=np.float64), 0, None)),
    ])
    table = np.nan_to_num(table)
    scaler = StandardScaler().fit(table)
    model = LogisticRegression(max_iter=500).fit(scaler.transform(table), bought)
    weights = dict(zip(["cf", *FEATURES], np.round(model.coef_[0], 4).tolist(), strict=True))
    return model.predict_proba(scaler.transform(table))[:, 1], {"coefficients": weights}


def propensity(m: PurchaseMatrix, product: Any, *, features: pd.DataFrame | None = None, top: int | None = None,
               include_buyers: bool = False, min_buyers: int = MIN_BUYERS, reasons: int = REASONS) -> Propensity:
    """Rank the customers of `m` for `product` (see the module doc). `features` is indexed by customer with
    FEATURES columns (missing customers get the medians); `top` keeps the best rows only. Each row's
    `reasons` is a list of (product, similarity) of the products they bought that drove the score."""
    if top is not None and top < 1:
        raise AnalyticsInputError("top: give a number of customers of at least 1")
    t = m.column(product)
    sim, n, co = similarities(m, t)
    cf = np.asarray(m.matrix @ sim).ravel()
    bought = np.asarray(m.matrix[:, t].todense()).ravel() > 0
    buyer_rows = np.flatnonzero(bought)
    details: dict[str, Any] = {"buyers": len(buyer_rows), "customers": len(m.customers)}
    method = "cf"
    if features is not None and min(len(buyer_rows), len(m.customers) - len(buyer_rows)) >= min_buyers:
        missing = [c for c in FEATURES if c not in features.columns]
        if missing:
            raise AnalyticsInputError(f"features: missing column(s) {', '.join(missing)}")
        aligned = features.reindex(m.customers)[FEATURES].astype(np.float64)
        aligned = aligned.fillna(aligned.median()).fillna(0.0)
        training_cf = cf.copy()
        training_cf[buyer_rows] = _leave_one_out(m, t, n, co, buyer_rows)
        probability, fitted = _model(training_cf, aligned, bought)
        score = probability
        method = "model"
        details.update(fitted)
    else:
        top_cf = float(cf.max()) if len(cf) else 0.0
        score = cf / top_cf if top_cf > 0 else np.zeros(len(cf))
        if features is not None:
            details["reason"] = f"fewer than {min_buyers} buyers or non-buyers: similarity only"
    keep = np.ones(len(cf), dtype=bool) if include_buyers else ~bought
    rows = np.flatnonzero(keep)
    order = rows[np.lexsort((rows, -score[rows]))]  # best score first; ties by customer order
    if top is not None:
        order = order[:top]
    table = pd.DataFrame({
        "customer": m.customers[order],
        "score": np.round(score[order], 6),
        "cf_score": np.round(cf[order], 6),
        "bought": bought[order],
        "reasons": [_reasons(m, row, sim, reasons) for row in order],
    }, columns=COLUMNS)
    return Propensity(table, method, len(buyer_rows), details)


def _reasons(m: PurchaseMatrix, row: int, sim: np.ndarray, limit: int) -> list[tuple[Any, float]]:
    start, end = m.matrix.indptr[row], m.matrix.indptr[row + 1]
    cols = m.matrix.indices[start:end]
    weights = sim[cols]
    picked = [(c, w) for c, w in sorted(zip(cols.tolist(), weights.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
              if w > 0][:limit]
    return [(_plain(m.products[c]), round(float(w), 4)) for c, w in picked]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def rfm_features(customers: Any, days: Any, amounts: Any | None, as_of: int) -> pd.DataFrame:
    """FEATURES per customer from transactions (customer, day number, amount): days since the last one,
    how many, their total (0 without amounts)."""
    frame = pd.DataFrame({"customer": np.asarray(customers), "day": np.asarray(days, dtype=np.int64),
                          "amount": np.zeros(len(days)) if amounts is None else np.asarray(amounts, np.float64)})
    grouped = frame.groupby("customer", sort=True)
    return pd.DataFrame({"recency_days": as_of - grouped["day"].max(), "frequency": grouped.size(),
                         "monetary": grouped["amount"].sum()})


# ------------------------------------------------------------------ measuring a ranking


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN without both classes."""
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(np.asarray(scores, dtype=np.float64)).rank(method="average").to_numpy()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def hit_rate(ranked: list, positives: set, n: int) -> float:
    """Share of the first `n` ranked customers that are positives."""
    head = ranked[:n]
    return sum(1 for c in head if c in positives) / len(head) if head else 0.0

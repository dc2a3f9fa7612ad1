"""Scoring the customers: SQL aggregates → the plain rfm / clv / churn / affinity modules → CustomerScore,
ScoringRun and AffinityRule rows, written in bulk. The job (score_jobs) and the CLI-free tests call
`score_customers`; nothing here holds a request."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.analytics import affinity, churn, clv, rfm
from guanxi.analytics.errors import AnalyticsInputError, ConvergenceError
from guanxi.customers.import_writer import insert_rows

from . import lifecycle_services, queries
from .score_models import AffinityRule, Band, CustomerScore, ScoringRun, ScoringStatus

HORIZON_MONTHS = 12
DISCOUNT_RATE = 0.01  # a month
CHURN_WINDOW_DAYS = 90  # churned = no order in the next 90 days; trends compare 90-day periods
MIN_CHURN_ROWS = 20
HIGH_VALUE_QUANTILE = 0.8  # the top fifth of lifetime value is "high value"
HIGH_RISK = 0.5  # a churn risk at or above this is "high risk"
REASONS = 3  # churn reasons kept per account
AFFINITY_MIN_ORDERS = 2  # a pair must be seen in at least this many orders (and 0.1 % of them)
AFFINITY_MIN_CONFIDENCE = 0.1
BATCH = 5000
STEPS = 7

Report = Callable[[int, str], None]


class ScoringFailed(Exception):
    """The models could not be fitted; the stored scores were left as they were."""


def _quiet(_step: int, _message: str) -> None:
    return None


def fit_lifetime_value(summary: queries.CustomerSummary) -> tuple[pd.DataFrame, dict[str, Any]]:
    """BG/NBD + Gamma-Gamma on the customers older than a day: p_alive, expected orders and CLV over
    HORIZON_MONTHS (NaN for customers first seen on the as-of date). Raises ScoringFailed with the
    reason when a model does not converge or the data cannot identify it."""
    frame = pd.DataFrame({"frequency": summary.frequency, "recency": summary.recency, "T": summary.age,
                          "monetary_value": summary.monetary_value}, index=summary.account_ids)
    known = frame[frame["T"] > 0]
    try:
        if known.empty:
            raise AnalyticsInputError(_("every customer's first order is on the scoring date"))
        purchases = clv.fit_bgnbd(known["frequency"], known["recency"], known["T"])
        spend = clv.fit_gamma_gamma(known["frequency"], known["monetary_value"])
    except ConvergenceError as exc:
        raise ScoringFailed(_("The lifetime-value model did not converge: %(reason)s. The scores were not "
                              "changed.") % {"reason": exc}) from exc
    except AnalyticsInputError as exc:
        raise ScoringFailed(_("The lifetime-value model cannot be fitted yet: %(reason)s. The scores were not "
                              "changed.") % {"reason": exc}) from exc
    horizon = HORIZON_MONTHS * clv.PERIODS_PER_MONTH["D"]
    table = clv.predict(purchases, known, horizon)
    value = spend.expected_average_value(known["frequency"], known["monetary_value"])
    table["clv"] = clv.customer_lifetime_value(purchases, known["frequency"], known["recency"], known["T"], value,
                                               HORIZON_MONTHS, DISCOUNT_RATE)
    fits = {"purchases": purchases.fit.as_dict(), "spend": spend.fit.as_dict(), "horizon_months": HORIZON_MONTHS,
            "discount_rate": DISCOUNT_RATE}
    return table.reindex(frame.index), fits


def churn_risk(summary: queries.CustomerSummary, as_of: dt.date,
               p_alive: pd.Series) -> tuple[pd.Series, list[list[dict[str, Any]]], dict[str, Any]]:
    """Churn risk and its top reasons per account. A model trained on the features of queries.churn_features
    (orders, tickets and complaints, satisfaction, activities) as of as_of − 2·window with the label from the
    next window, and validated on the window after, when the history is long enough;
    otherwise 1 − P(alive), said so in the returned details."""
    window = dt.timedelta(days=CHURN_WINDOW_DAYS)
    t0, t1 = as_of - 2 * window, as_of - window
    index = pd.Index(summary.account_ids)
    fallback_risk = (1.0 - p_alive.reindex(index).fillna(1.0)).clip(0, 1)
    reason = ""
    first = queries.EPOCH + dt.timedelta(days=int(summary.first_day.min())) if len(summary) else as_of
    if first > t0 - window:
        reason = _("less than %(days)d days of order history") % {"days": 3 * CHURN_WINDOW_DAYS}
    else:
        try:
            training = queries.churn_features(t0, t1, CHURN_WINDOW_DAYS)
            if len(training) < MIN_CHURN_ROWS:
                raise AnalyticsInputError(_("only %(n)d customers to learn from") % {"n": len(training)})
            model, report = churn.window_validation(
                lambda a, u: training if a == t0 else queries.churn_features(a, u, CHURN_WINDOW_DAYS),
                t0, t1, as_of, target="churned", positive="yes", folds=3)
        except (AnalyticsInputError, ValueError) as exc:
            reason = str(exc)
    if reason:
        reasons = [[{"feature": "p_alive", "value": round(float(1 - r), 4)}] if r >= HIGH_RISK else []
                   for r in fallback_risk]
        return fallback_risk, reasons, {"method": "fallback", "reason": reason}
    current = queries.churn_features(as_of, None, CHURN_WINDOW_DAYS)
    risk = fallback_risk.copy()
    reasons_by: dict[int, list[dict[str, Any]]] = {}
    if len(current):
        features = current[queries.FEATURES]
        risk.loc[features.index] = np.round(model.predict(features), 4)
        # One more than shown: a missing satisfaction among them makes way for the next.
        for account, found in zip(features.index, model.reasons(features, REASONS + 1), strict=True):
            reasons_by[int(account)] = [{"feature": r.column, "value": _shown(r.value), "contribution": r.contribution}
                                        for r in found if _known(r.value)][:REASONS]
    return risk, [reasons_by.get(int(a), []) for a in index], {"method": "model", **report.as_dict(),
                                                               "window_days": CHURN_WINDOW_DAYS}


def _known(value: Any) -> bool:
    """Whether a feature's value was there: a missing one (no satisfaction answer) took the median in the model,
    which tells the user nothing about the account, so it is never given as a reason."""
    return not (isinstance(value, float) and not np.isfinite(value))


def _shown(value: Any) -> Any:
    """A feature's value as a reason shows it: a mean or an amount to two decimals."""
    return round(value, 2) if isinstance(value, float) else value


def value_bands(values: pd.Series) -> np.ndarray:
    """"high" for lifetime values in the top fifth (at or above the 80th percentile), else "low"."""
    known = values.dropna()
    if known.empty:
        return np.full(len(values), Band.LOW, dtype=object)
    cut = float(np.quantile(known.to_numpy(), HIGH_VALUE_QUANTILE))
    return np.where(values.fillna(-np.inf).to_numpy() >= cut, Band.HIGH, Band.LOW).astype(object)


def _nullable(values: pd.Series) -> list[float | None]:
    """Floats for a column, None (NULL) where the value is missing or not finite."""
    array = values.to_numpy(dtype=np.float64)
    return [float(v) if ok else None for v, ok in zip(array.tolist(), np.isfinite(array).tolist(), strict=True)]


_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps makes an encoder per call


def _write_scores(columns: dict[str, list], as_of: dt.date, started: dt.datetime) -> None:
    """Replace every stored score by the run's (`columns`: CustomerScore column → one value per account) in one
    transaction: a DELETE, then the rows in bulk (COPY on PostgreSQL, multi-row INSERTs on SQLite); readers
    see the old scores until the commit, and accounts without counted orders now lose theirs."""
    n = len(columns["account_id"])
    fixed = {"as_of": connection.ops.adapt_datefield_value(as_of),
             "scored_at": connection.ops.adapt_datetimefield_value(started)}
    names = (*columns, *fixed)
    rows = list(zip(*columns.values(), *([v] * n for v in fixed.values()), strict=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'DELETE FROM "{CustomerScore._meta.db_table}"')
        insert_rows(CustomerScore, names, rows)


def mine_affinity() -> int:
    """Replace the affinity rules by one-product → one-product rules mined (FP-growth) from the orders."""
    orders, products = queries.order_baskets()
    rules = pd.DataFrame()
    if len(orders):
        baskets = affinity.Baskets.from_pairs(orders, products)
        support = max(AFFINITY_MIN_ORDERS / max(baskets.n, 1), 0.001)
        if support <= 1:
            rules = affinity.mine(baskets, support, AFFINITY_MIN_CONFIDENCE, max_len=2)
    rows = [AffinityRule(product_id=int(next(iter(r.antecedent))), suggested_id=int(next(iter(r.consequent))),
                         support=float(r.support), confidence=float(r.confidence), lift=float(r.lift),
                         orders=int(r.count))
            for r in rules.itertuples(index=False)] if len(rules) else []
    with transaction.atomic():
        AffinityRule.objects.all().delete()
        AffinityRule.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def score_customers(as_of: dt.date | None = None, report: Report = _quiet) -> ScoringRun:
    """Score every account with a counted order as of `as_of` (default today). A model that does not
    converge fails the run with the reason (ScoringRun.status failed, message) and keeps the old scores."""
    as_of = as_of or timezone.localdate()
    run = ScoringRun.objects.create(as_of=as_of)
    started = timezone.now()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    try:
        report(1, _("Adding up the orders per customer…"))
        summary = queries.customer_summary(as_of)
        lap("aggregate")
        if len(summary) == 0:
            CustomerScore.objects.all().delete()
            stages = lifecycle_services.update_stages(as_of)
            return _finish(run, ScoringStatus.DONE, _("No orders yet: nothing to score."), 0,
                           {"timings": timings, "lifecycle_changes": stages})
        table = rfm.rfm_from_summary(summary.account_ids, summary.as_of - summary.last_day, summary.orders,
                                     summary.total).set_index("customer")
        lap("rfm")
        report(2, _("Fitting the lifetime-value models…"))
        lifetime, fits = fit_lifetime_value(summary)
        lap("clv")
        report(3, _("Estimating churn risk…"))
        risk, reasons, churn_details = churn_risk(summary, as_of, lifetime["p_alive"])
        lap("churn")
        report(4, _("Saving the scores…"))
        bands = value_bands(lifetime["clv"])
        high_risk = risk.to_numpy() >= HIGH_RISK
        _write_scores({
            "account_id": table.index.tolist(), "recency_days": table["recency"].tolist(),
            "frequency": table["frequency"].tolist(), "monetary": table["monetary"].astype(float).tolist(),
            "r_score": table["r_score"].tolist(), "f_score": table["f_score"].tolist(),
            "m_score": table["m_score"].tolist(), "segment": table["segment"].astype(str).tolist(),
            "p_alive": _nullable(lifetime["p_alive"]), "expected_orders": _nullable(lifetime["expected_purchases"]),
            "clv": _nullable(lifetime["clv"]), "churn_risk": risk.astype(float).tolist(),
            "reasons": [_json(why) if why else "[]" for why in reasons], "value_band": [str(b) for b in bands],
            "risk_band": np.where(high_risk, Band.HIGH.value, Band.LOW.value).tolist(),
        }, as_of, started)
        n_scored = len(table)
        lap("write")
        report(5, _("Mining the products bought together…"))
        n_rules = mine_affinity()
        lap("affinity")
        report(6, _("Updating the lifecycle stages…"))
        stages = lifecycle_services.update_stages(as_of, risk, lifetime["p_alive"])
        lap("lifecycle")
    except ScoringFailed as exc:
        return _finish(run, ScoringStatus.FAILED, str(exc), 0, {"timings": timings})
    if churn_details["method"] == "model":
        method = _("a model trained and validated on the customers' history (orders, tickets, satisfaction, "
                   "activities)")
    else:
        method = _("1 − P(alive), because the churn model could not be used: %(reason)s") % {
            "reason": churn_details["reason"]}
    message = _("%(n)d customers scored; churn risk from %(method)s.") % {"n": n_scored, "method": method}
    details = {**fits, "churn": churn_details, "affinity_rules": n_rules, "lifecycle_changes": stages,
               "timings": timings}
    return _finish(run, ScoringStatus.DONE, message, n_scored, details)


def _finish(run: ScoringRun, status: str, message: str, customers: int, details: dict[str, Any]) -> ScoringRun:
    run.status, run.message, run.customers, run.details = status, message, customers, details
    run.finished_at = timezone.now()
    run.save()
    return run

"""Scoring the customers: SQL aggregates → the plain rfm / clv / churn / affinity modules → CustomerScore,
ScoringRun and AffinityRule rows, written in bulk. The job (score_jobs) and the CLI-free tests call
`score_customers`; nothing here holds a request."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.analytics import affinity, churn, clv, rfm
from guanxi.analytics.errors import AnalyticsInputError, ConvergenceError

from . import lifecycle_services, queries
from .score_models import AffinityRule, Band, CustomerScore, ScoringRun, ScoringStatus

HORIZON_MONTHS = 12
DISCOUNT_RATE = 0.01  # a month
CHURN_WINDOW_DAYS = 90  # churned = no order in the next 90 days; trends compare 90-day periods
MIN_CHURN_ROWS = 20
HIGH_VALUE_QUANTILE = 0.8  # the top fifth of lifetime value is "high value"
HIGH_RISK = 0.5  # a churn risk at or above this is "high risk"
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
    """Churn risk and its top reasons per account. A model trained on features as of as_of − 2·window with
    the label from the next window, and validated on the window after, when the history is long enough;
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
        for account, found in zip(features.index, model.reasons(features), strict=True):
            reasons_by[int(account)] = [{"feature": r.column, "value": r.value, "contribution": r.contribution}
                                        for r in found]
    return risk, [reasons_by.get(int(a), []) for a in index], {"method": "model", **report.as_dict(),
                                                               "window_days": CHURN_WINDOW_DAYS}


def value_bands(values: pd.Series) -> np.ndarray:
    """"high" for lifetime values in the top fifth (at or above the 80th percentile), else "low"."""
    known = values.dropna()
    if known.empty:
        return np.full(len(values), Band.LOW, dtype=object)
    cut = float(np.quantile(known.to_numpy(), HIGH_VALUE_QUANTILE))
    return np.where(values.fillna(-np.inf).to_numpy() >= cut, Band.HIGH, Band.LOW).astype(object)


def _none(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _write_scores(rows: list[CustomerScore], started: dt.datetime) -> None:
    fields = [f.name for f in CustomerScore._meta.concrete_fields if f.name != "account"]
    with transaction.atomic():
        for i in range(0, len(rows), BATCH):
            CustomerScore.objects.bulk_create(rows[i:i + BATCH], update_conflicts=True, unique_fields=["account"],
                                              update_fields=fields)
        CustomerScore.objects.filter(scored_at__lt=started).delete()  # accounts without counted orders now


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
        rows = [
            CustomerScore(account_id=int(a), as_of=as_of, recency_days=int(rec), frequency=int(f), monetary=float(m),
                          r_score=int(r), f_score=int(fs), m_score=int(ms), segment=str(seg), p_alive=_none(p),
                          expected_orders=_none(e), clv=_none(c), churn_risk=float(k), reasons=why,
                          value_band=band, risk_band=Band.HIGH if k >= HIGH_RISK else Band.LOW, scored_at=started)
            for a, rec, f, m, r, fs, ms, seg, p, e, c, k, why, band in zip(
                table.index, table["recency"], table["frequency"], table["monetary"], table["r_score"],
                table["f_score"], table["m_score"], table["segment"], lifetime["p_alive"],
                lifetime["expected_purchases"], lifetime["clv"], risk, reasons, bands, strict=True)
        ]
        _write_scores(rows, started)
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
        method = _("a model trained and validated on the order history")
    else:
        method = _("1 − P(alive), because the churn model could not be used: %(reason)s") % {
            "reason": churn_details["reason"]}
    message = _("%(n)d customers scored; churn risk from %(method)s.") % {"n": len(rows), "method": method}
    details = {**fits, "churn": churn_details, "affinity_rules": n_rules, "lifecycle_changes": stages,
               "timings": timings}
    return _finish(run, ScoringStatus.DONE, message, len(rows), details)


def _finish(run: ScoringRun, status: str, message: str, customers: int, details: dict[str, Any]) -> ScoringRun:
    run.status, run.message, run.customers, run.details = status, message, customers, details
    run.finished_at = timezone.now()
    run.save()
    return run

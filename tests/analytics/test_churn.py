"""Churn risk: cross-validated AUC on IBM Telco, calibration, reasons, windows and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from guanxi.analytics.churn import customer_features, fit_churn, window_validation
from guanxi.analytics.errors import AnalyticsInputError
from tests.analytics.datasets import telco


@pytest.fixture(scope="module")
def telco_model():
    return fit_churn(telco(), "churn", id_columns=["rownames"])


def test_telco_cross_validated_auc_and_calibration(telco_model):
    data = telco()
    m = telco_model
    assert m.cv_auc >= 0.84 and len(m.fold_auc) == 5
    assert m.positive == "Yes" and m.base_rate == pytest.approx(1869 / 7043)
    assert m.brier < m.brier_base  # calibrated held-out scores beat always answering the churn rate
    p = m.predict(data)
    assert ((p >= 0) & (p <= 1)).all()
    # calibration in the large: the mean score is the churn rate, high scores churn more often
    assert p.mean() == pytest.approx(m.base_rate, abs=0.01)
    churned = (data["churn"] == "Yes").to_numpy()
    assert churned[p >= 0.6].mean() > 0.6 > churned[p < 0.2].mean()
    assert "rownames" in m.columns.ignored and "contract" in m.columns.categorical


def test_reasons_name_real_columns_and_add_up_to_the_log_odds(telco_model):
    data = telco()
    m = telco_model
    rows = data.iloc[:50]
    reasons = m.reasons(rows, top=3)
    assert len(reasons) == 50 and all(len(r) <= 3 for r in reasons)
    named = {r.column for rs in reasons for r in rs}
    assert named and named <= set(data.columns) - {"churn", "rownames"}
    for rs, (_, row) in zip(reasons, rows.iterrows(), strict=True):
        assert [r.contribution for r in rs] == sorted((r.contribution for r in rs), reverse=True)
        assert all(r.contribution > 0 and r.value == row[r.column] for r in rs)
    # the contributions are the model's log-odds against the average customer, column by column
    contrib = m.contributions(rows).sum(axis=1).to_numpy()
    average = m.model.decision_function(m.features(data)).mean()
    assert contrib + average == pytest.approx(m.model.decision_function(m.features(rows)), abs=1e-6)
    scores = m.score(rows.iloc[:3])
    assert list(scores.columns) == ["churn_probability", "reasons"]


def _table(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "spend": rng.normal(100, 10, n).round(2).astype(str),
            "plan": rng.choice(["a", "b"], n),
            "left": rng.choice(["yes", "no"], n),
        }
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.drop(columns=["left"]), "no target column 'left'"),
        (lambda t: t.assign(left="no"), "one class"),
        (lambda t: t.assign(left=["a", "b", "c"] * 20), "3 classes"),
        (lambda t: t.assign(spend=t["spend"].where(t.index != 7, "abc")), r"'spend' holds numbers but row 9 .*'abc'"),
        (lambda t: t.iloc[:0], "no rows"),
        (lambda t: t.assign(left=["yes"] + ["no"] * 59), "only 1 row"),
        (lambda t: t.assign(left=t["left"].where(t.index != 3, "")), "empty in 1 row"),
        (lambda t: t[["left"]], "no column to learn from"),
    ],
)
def test_bad_tables_are_refused_with_the_problem_named(change, message):
    with pytest.raises(AnalyticsInputError, match=message):
        fit_churn(change(_table()), "left")


def test_target_values_and_options_are_checked():
    with pytest.raises(AnalyticsInputError, match="which value of 'left' means churn"):
        fit_churn(_table().assign(left=lambda t: t["left"].map({"yes": "x", "no": "z"})), "left")
    with pytest.raises(AnalyticsInputError, match="'maybe' is not a value"):
        fit_churn(_table(), "left", positive="maybe")
    with pytest.raises(AnalyticsInputError, match="folds"):
        fit_churn(_table(), "left", folds=1)
    with pytest.raises(AnalyticsInputError, match="no id column"):
        fit_churn(_table(), "left", id_columns=["nope"])
    m = fit_churn(_table(), "left", positive="no", folds=3)  # any value can be named as churn
    assert m.positive == "no" and m.columns.numeric == ["spend"]


def _history(n: int = 400, seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers whose ordering fades before they leave; complaints make it likelier."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-01")
    customers = pd.DataFrame(
        {"customer": np.arange(n), "since": start + pd.to_timedelta(rng.integers(0, 200, n), unit="D")}
    )
    rows = []
    for c, since in zip(customers["customer"], customers["since"], strict=True):
        unhappy = rng.random() < 0.3
        leaves = since + pd.Timedelta(days=int(rng.integers(150, 700 if unhappy else 2000)))
        day = since
        while day < min(leaves, start + pd.Timedelta(days=730)):
            rows.append((c, day, "order", float(rng.gamma(2, 50)), np.nan))
            gap = 20 + (day - since).days * 0.05 + (60 if leaves - day < pd.Timedelta(days=120) else 0)
            day += pd.Timedelta(days=int(rng.exponential(gap)) + 1)
            if rng.random() < (0.3 if unhappy else 0.05):
                rows.append((c, day, "complaint", np.nan, np.nan))
                rows.append((c, day, "survey", np.nan, float(rng.integers(1, 3 if unhappy else 6))))
            if rng.random() < 0.5:
                rows.append((c, day, "visit", np.nan, np.nan))
    events = pd.DataFrame(rows, columns=["customer", "at", "kind", "amount", "score"])
    return customers, events


def test_time_windows_train_early_and_validate_later():
    customers, events = _history()
    t0, t1, t2 = pd.Timestamp("2025-12-01"), pd.Timestamp("2026-03-01"), pd.Timestamp("2026-06-01")

    def build(as_of, until):
        table = customer_features(customers, events, as_of, until)
        return table[table["recency_days"] < 365]  # customers who left long ago are not at risk any more

    first = build(t0, t1)
    assert {
        "recency_days",
        "orders_trend",
        "spend_trend",
        "complaints_total",
        "satisfaction",
        "tenure_days",
        "engagement_recent",
        "churned",
    } <= set(first.columns)
    model, report = window_validation(build, t0, t1, t2, id_columns=["customer"], folds=3)
    assert report.train_rows == len(first) and report.validation_rows == len(build(t1, t2))
    assert report.validation_auc > 0.7 and report.validation_brier < report.validation_base_rate * (
        1 - report.validation_base_rate
    )
    assert "customer" in model.columns.ignored
    with pytest.raises(AnalyticsInputError, match="t0 < t1 < t2"):
        window_validation(build, t1, t0, t2)
    with pytest.raises(AnalyticsInputError, match="events: missing column"):
        customer_features(customers, events.drop(columns=["kind"]), t0, t1)

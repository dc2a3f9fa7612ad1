"""BG/NBD, Pareto/NBD and Gamma-Gamma against the published CDNOW estimates and lifetimes' results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value
from lifetimes.utils import summary_data_from_transaction_data

from guanxi.analytics import clv, simulate
from guanxi.analytics.errors import AnalyticsInputError, ConvergenceError


def close(value: float, expected: float, rel: float = 0.01) -> bool:
    return value == pytest.approx(expected, rel=rel)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def cdnow_money() -> pd.DataFrame:
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    return clv.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def lifetimes_bgnbd(cdnow):
    return BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def gamma_gamma(cdnow_money):
    repeat = cdnow_money[cdnow_money["frequency"] > 0]
    return clv.fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])


def test_bgnbd_reproduces_the_published_cdnow_estimates(bgnbd):
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert all(close(bgnbd.fit.params[k], v) for k, v in published.items()), bgnbd.fit.params
    assert close(bgnbd.fit.log_likelihood, -9582.4)
    assert bgnbd.fit.n_customers == 2357


def test_bgnbd_standard_errors_and_predictions_agree_with_lifetimes(bgnbd, lifetimes_bgnbd, cdnow):
    theirs = lifetimes_bgnbd.standard_errors_
    assert all(close(bgnbd.fit.standard_errors[k], theirs[k]) for k in ("r", "alpha", "a", "b"))
    x, t_x, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    expected = lifetimes_bgnbd.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, age)
    np.testing.assert_allclose(bgnbd.expected_purchases(39, x, t_x, age), expected, rtol=1e-4)
    alive = lifetimes_bgnbd.conditional_probability_alive(x, t_x, age)
    np.testing.assert_allclose(bgnbd.p_alive(x, t_x, age), alive, rtol=1e-4)
    assert bgnbd.p_alive([0], [0], [30])[0] == 1.0  # never came back: not yet seen to leave
    assert bgnbd.expected_purchases(0, x, t_x, age).sum() == 0


def test_pareto_nbd_agrees_with_lifetimes_and_the_published_cdnow_estimates(cdnow):
    ours = clv.fit_pareto_nbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    theirs = ParetoNBDFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert all(close(ours.fit.params[k], theirs.params_[k]) for k in ("r", "alpha", "s", "beta")), ours.fit.params
    published = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    assert all(close(ours.fit.params[k], v, rel=0.03) for k, v in published.items())
    assert all(0 < se < ours.fit.params[k] for k, se in ours.fit.standard_errors.items())
    x, t_x, age = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    np.testing.assert_allclose(
        ours.expected_purchases(39, x, t_x, age),
        theirs.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, age),
        rtol=1e-3,
    )
    np.testing.assert_allclose(ours.p_alive(x, t_x, age), theirs.conditional_probability_alive(x, t_x, age), rtol=1e-3)


def test_gamma_gamma_reproduces_the_published_estimates_and_lifetimes(gamma_gamma, cdnow_money):
    fit = gamma_gamma.fit
    assert close(fit.params["p"], 6.25) and close(fit.params["q"], 3.74) and close(fit.params["gamma"], 15.44)
    repeat = cdnow_money[cdnow_money["frequency"] > 0]
    theirs = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    assert all(
        close(fit.standard_errors[k], theirs.standard_errors_[v]) for k, v in (("p", "p"), ("q", "q"), ("gamma", "v"))
    )
    assert fit.n_customers == 946  # fitted on the repeat customers only
    np.testing.assert_allclose(
        gamma_gamma.expected_average_value(cdnow_money["frequency"], cdnow_money["monetary_value"]),
        theirs.conditional_expected_average_profit(cdnow_money["frequency"], cdnow_money["monetary_value"]),
        rtol=1e-4,
    )


def test_customer_lifetime_value_agrees_with_lifetimes(bgnbd, lifetimes_bgnbd, gamma_gamma, cdnow_money):
    x, t_x, age, m = (cdnow_money[c] for c in ("frequency", "recency", "T", "monetary_value"))
    repeat = cdnow_money[cdnow_money["frequency"] > 0]
    theirs = (
        GammaGammaFitter()
        .fit(repeat["frequency"], repeat["monetary_value"])
        .customer_lifetime_value(lifetimes_bgnbd, x, t_x, age, m, time=6, discount_rate=0.02, freq="W")
    )
    spend = gamma_gamma.expected_average_value(x, m)

    def value(rate: float) -> np.ndarray:
        weeks = clv.PERIODS_PER_MONTH["W"]
        return clv.customer_lifetime_value(
            bgnbd, x, t_x, age, spend, months=6, discount_rate=rate, periods_per_month=weeks
        )

    ours, undiscounted = value(0.02), value(0.0)
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-4)
    assert (undiscounted >= ours).all() and undiscounted.sum() > ours.sum()


def test_summary_from_transactions_agrees_with_lifetimes():
    tx = simulate.bgnbd_transactions(3000, seed=5)
    ours = clv.summary_from_transactions(tx, amount_col="amount", as_of="2025-12-31")
    theirs = summary_data_from_transaction_data(
        tx, "customer", "date", monetary_value_col="amount", observation_period_end="2025-12-31"
    )
    assert list(ours.index) == list(theirs.index)
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[column].to_numpy(), theirs[column].to_numpy(), rtol=1e-9, err_msg=column)


def test_summary_counts_a_day_once_and_measures_from_the_first_purchase():
    tx = pd.DataFrame(
        {
            "c": ["b", "a", "a", "a", "a", "b"],
            "d": ["2026-01-10", "2026-01-01", "2026-01-01", "2026-01-08", "2026-01-15", "2026-01-10"],
            "v": [5.0, 10.0, 2.0, 30.0, 50.0, 7.0],
        }
    )
    table = clv.summary_from_transactions(tx, "c", "d", "v", as_of="2026-01-29", freq="W")
    assert table.loc["a"].to_dict() == {"frequency": 2, "recency": 2.0, "T": 4.0, "monetary_value": 40.0}
    assert table.loc["b"].to_dict() == {"frequency": 0, "recency": 0.0, "T": 19 / 7, "monetary_value": 0.0}


def test_a_fit_that_cannot_converge_raises_a_convergence_error():
    # Everyone bought at the very end: no sign of anyone leaving, so the dropout parameters run off.
    x = np.array([3, 5, 2, 8, 4, 6] * 20)
    with pytest.raises(ConvergenceError, match="bgnbd"):
        clv.fit_bgnbd(x, np.full(len(x), 30.0), np.full(len(x), 30.0))


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "words"),
    [
        ([1, 2], [5, 40], [30, 30], "larger than T"),
        ([-1, 2], [0, 10], [30, 30], "whole number"),
        ([1.5, 2], [3, 10], [30, 30], "whole number"),
        ([0, 2], [4, 10], [30, 30], "recency must be 0"),
        ([1, 2], [0, 10], [30, 30], "recency > 0"),
        ([1, 2], [3, -1], [30, 30], "recency must be ≥ 0"),
        ([1, 2], [3, 10], [0, 30], "T"),
        ([2], [10], [30], "at least 2 customers"),
        ([0, 0], [0, 0], [30, 30], "no customer has a repeat purchase"),
        ([1, np.nan], [3, 10], [30, 30], "missing"),
        ([1, 2, 3], [3, 10], [30, 30], "one value per customer"),
    ],
)
def test_bad_summaries_are_refused_with_the_problem_named(frequency, recency, T, words):
    for fit in (clv.fit_bgnbd, clv.fit_pareto_nbd):
        with pytest.raises(AnalyticsInputError, match=words):
            fit(frequency, recency, T)


@pytest.mark.parametrize(
    ("frequency", "monetary", "words"),
    [
        ([1, 2, 3], [10.0, -5.0, 7.0], "negative"),
        ([1, 2, 3], [10.0, 0.0, 7.0], "> 0"),
        ([1, 0, 0], [10.0, 0.0, 0.0], "at least 2 customers with repeat"),
        ([1, 2], [10.0, 10.0], "differ"),
    ],
)
def test_bad_spend_is_refused(frequency, monetary, words):
    with pytest.raises(AnalyticsInputError, match=words):
        clv.fit_gamma_gamma(frequency, monetary)


def test_bad_lifetime_value_arguments_are_refused(bgnbd):
    with pytest.raises(AnalyticsInputError, match="months"):
        clv.customer_lifetime_value(bgnbd, [1], [2], [3], [10.0], months=0)
    with pytest.raises(AnalyticsInputError, match="discount_rate"):
        clv.customer_lifetime_value(bgnbd, [1], [2], [3], [10.0], discount_rate=1.5)
    with pytest.raises(AnalyticsInputError, match="freq"):
        clv.summary_from_transactions(pd.DataFrame({"customer": [1], "date": ["2026-01-01"]}), freq="Q")


@pytest.mark.parametrize(
    ("ll", "grad", "params"),
    [
        (clv._bgnbd_ll, clv._bgnbd_grad, np.array([0.4, 3.0, 1.2, 2.5])),
        (clv._gamma_gamma_ll, clv._gamma_gamma_grad, np.array([5.0, 3.0, 12.0])),
    ],
)
def test_analytic_gradients_match_finite_differences(cdnow_money, ll, grad, params):
    data = cdnow_money[cdnow_money["frequency"] > 0]
    columns = ["frequency", "recency", "T"] if len(params) == 4 else ["frequency", "monetary_value"]
    arrays = [data[c].to_numpy(dtype=float) for c in columns]
    for i in range(len(params)):
        step = np.zeros(len(params))
        step[i] = 1e-6 * params[i]
        numeric = (ll(params + step, *arrays) - ll(params - step, *arrays)) / (2 * step[i])
        np.testing.assert_allclose(grad(params, *arrays)[i], numeric, rtol=1e-5, atol=1e-7)

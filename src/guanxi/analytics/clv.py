"""Customer lifetime value: BG/NBD and Pareto/NBD for repeat purchases, Gamma-Gamma for spend.

The models (Fader, Hardie & Lee 2005; Schmittlein, Morrison & Colombo 1987) take, per customer:

- frequency x: the number of *repeat* purchase periods (distinct purchase days after the first);
- recency t_x: the age of the customer at the last purchase (time from first to last purchase);
- T: the age at the end of the observation period (time from first purchase to then);
- monetary_value: the mean spend of the repeat purchase periods (0 when there are none).

`summary_from_transactions` makes that table from raw transactions (as lifetimes'
summary_data_from_transaction_data does). `fit_bgnbd` / `fit_pareto_nbd` / `fit_gamma_gamma` fit by
maximum likelihood (scipy.optimize, Nelder-Mead on the log-parameters, analytic vectorised
log-likelihoods with gammaln / hyp2f1) and give standard errors from the inverse of the numerical
Hessian of the negative log-likelihood. Customers with the same (x, t_x, T) are fitted and scored once
with a weight, which is what makes a million customers fast. `customer_lifetime_value` discounts the
expected monthly spend over a horizon as lifetimes' customer_lifetime_value does.

A fit that does not converge raises ConvergenceError; bad input raises AnalyticsInputError (a
ValueError) naming the problem. No Django here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from guanxi.analytics.errors import AnalyticsInputError, ConvergenceError
from guanxi.analytics.transactions import Transactions, read_transactions

PERIOD_DAYS = {"D": 1, "W": 7}  # the time unit of recency and T, in days
PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345}  # as lifetimes' customer_lifetime_value


# --- the summary table ---------------------------------------------------------------------------


def _sorted(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative int64 keys sorted, and the order that sorts them. When key and row number fit in 63
    bits together, sorting the packed numbers is several times faster than numpy's argsort (10M rows:
    ~1 s instead of ~4 s)."""
    row_bits = max(int(len(key) - 1).bit_length(), 1)
    if int(key.max()).bit_length() + row_bits > 63:
        order = np.argsort(key, kind="stable")
        return key[order], order
    key <<= row_bits
    key |= np.arange(len(key), dtype=np.int64)
    key.sort()
    order = key & ((1 << row_bits) - 1)
    key >>= row_bits
    return key, order


def summary_from_arrays(tx: Transactions, freq: str = "D") -> pd.DataFrame:
    """frequency, recency, T (and monetary_value when there are amounts) per customer."""
    if freq not in PERIOD_DAYS:
        raise AnalyticsInputError(f"freq: {freq!r} is not one of {', '.join(PERIOD_DAYS)}")
    first_day = int(tx.days.min())
    span = int(tx.days.max()) - first_day + 1
    key = tx.codes * span
    key += tx.days
    key -= first_day  # one number per (customer, day), in that order
    order = None
    if not bool(np.all(key[1:] >= key[:-1])):
        key, order = _sorted(key)
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)  # first row of each (customer, day)
    day_key = key[starts]
    code, day = day_key // span, day_key % span + first_day
    n = tx.n_customers
    periods = np.bincount(code, minlength=n)
    cust_start = np.r_[0, np.cumsum(periods)[:-1]]
    cust_end = cust_start + periods - 1
    first, last = day[cust_start], day[cust_end]
    unit = PERIOD_DAYS[freq]
    out = pd.DataFrame(
        {
            "frequency": periods - 1,
            "recency": (last - first) / unit,
            "T": (tx.as_of - first) / unit,
        },
        index=tx.customers.rename("customer"),
    )
    if tx.amounts is not None:
        amounts = tx.amounts if order is None else tx.amounts[order]
        day_total = np.add.reduceat(amounts, starts)
        repeat_total = np.bincount(code, weights=day_total, minlength=n) - day_total[cust_start]
        frequency = periods - 1
        out["monetary_value"] = np.divide(repeat_total, frequency, out=np.zeros(n), where=frequency > 0)
    return out


def summary_from_transactions(
    transactions: pd.DataFrame,
    customer_col: str = "customer",
    date_col: str = "date",
    amount_col: str | None = None,
    as_of: str | dt.date | None = None,
    freq: str = "D",
) -> pd.DataFrame:
    """Per customer (index: the customer id, sorted): frequency, recency and T in periods of `freq`
    ("D" days, "W" 7 days), plus monetary_value if `amount_col` is given.

    Purchases on the same day count once, with their amounts added, as in lifetimes. `as_of` ends the
    observation period (default: the last transaction's day); a later transaction is an error.
    """
    return summary_from_arrays(read_transactions(transactions, customer_col, date_col, amount_col, as_of), freq)


# --- checking a summary --------------------------------------------------------------------------


def _vector(values, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnalyticsInputError(f"{name}: not numbers")
    if array.ndim != 1:
        raise AnalyticsInputError(f"{name}: one value per customer is needed")
    if not np.isfinite(array).all():
        raise AnalyticsInputError(f"{name}: {int((~np.isfinite(array)).sum())} missing or infinite value(s)")
    return array


def check_summary(frequency, recency, T, min_customers: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three vectors as float arrays, or AnalyticsInputError naming what is wrong."""
    x, t_x, age = _vector(frequency, "frequency"), _vector(recency, "recency"), _vector(T, "T")
    if not len(x) == len(t_x) == len(age):
        raise AnalyticsInputError("frequency, recency and T must have one value per customer each")
    if len(x) < min_customers:
        raise AnalyticsInputError(f"at least {min_customers} customers are needed to fit a model, got {len(x)}")
    problems = [
        ((x < 0) | (x != np.round(x)), "frequency must be a whole number ≥ 0"),
        (t_x < 0, "recency must be ≥ 0"),
        (age <= 0, "T (customer age at the as-of date) must be > 0"),
        (t_x > age, "recency must not be larger than T"),
        ((x == 0) & (t_x != 0), "recency must be 0 when frequency is 0"),
        ((x > 0) & (t_x == 0), "a customer with repeat purchases (frequency > 0) must have recency > 0"),
    ]
    for bad, message in problems:
        if bad.any():
            raise AnalyticsInputError(f"{message} ({int(bad.sum())} customer(s), e.g. number {int(bad.argmax())})")
    if not (x > 0).any():
        raise AnalyticsInputError("no customer has a repeat purchase: the model cannot be fitted")
    return x, t_x, age


def _patterns(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the columns, how many times each occurs, and each input row's distinct row
    (when all values are whole numbers; otherwise every row stands for itself)."""
    integral = all(c.size and c.min() >= 0 and (c == np.floor(c)).all() for c in columns)
    sizes = [int(c.max()) + 1 for c in columns] if integral else []
    if integral and float(np.prod(sizes, dtype=np.float64)) < 2.0**62:
        key = np.zeros(len(columns[0]), dtype=np.int64)  # whole numbers (days): one int64 key per row
        for column, size in zip(columns, sizes, strict=True):
            key *= size
            key += column.astype(np.int64)
        codes, uniques = pd.factorize(key)
        rows = []
        for size in reversed(sizes):
            rows.append((uniques % size).astype(np.float64))
            uniques = uniques // size
        return rows[::-1], np.bincount(codes, minlength=len(rows[0])), codes
    # Fractional values (weeks, money) rarely repeat: grouping them would cost more than it saves.
    n = len(columns[0])
    return [np.asarray(c, dtype=np.float64) for c in columns], np.ones(n, dtype=np.int64), np.arange(n)


# --- maximum likelihood --------------------------------------------------------------------------


@dataclass
class Fit:
    """A fitted model's parameters, their standard errors and the log-likelihood at the optimum."""

    model: str
    params: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    n_customers: int

    def as_dict(self) -> dict:
        return asdict(self)


def _hessian(f: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of f at theta, with steps relative to each parameter."""
    k = len(theta)
    h = 1e-4 * np.maximum(np.abs(theta), 1e-8)
    hess = np.empty((k, k))
    f0 = f(theta)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        hess[i, i] = (f(theta + ei) - 2 * f0 + f(theta - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            hess[i, j] = hess[j, i] = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    return hess


def _hessian_from_gradient(grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Central differences of the analytic gradient: 2k gradient evaluations instead of ~2k² values."""
    k = len(theta)
    h = 1e-5 * np.maximum(np.abs(theta), 1e-8)
    hess = np.empty((k, k))
    for i in range(k):
        step = np.zeros(k)
        step[i] = h[i]
        hess[:, i] = (grad(theta + step) - grad(theta - step)) / (2 * h[i])
    return (hess + hess.T) / 2


def _standard_errors(
    model: str,
    nll: Callable[[np.ndarray], float],
    theta: np.ndarray,
    names: list[str],
    grad: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, float]:
    """Square roots of the diagonal of the inverse Hessian of the negative log-likelihood. A Hessian that
    is not positive definite means the optimum is not a proper maximum: ConvergenceError."""
    with np.errstate(all="ignore"):
        hessian = _hessian(nll, theta) if grad is None else _hessian_from_gradient(grad, theta)
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        raise ConvergenceError(
            f"{model}: the fitted parameters are not a proper maximum of the likelihood "
            "(its curvature there is not positive); the data do not identify the model"
        )
    diagonal = np.diag(np.linalg.inv(hessian))
    return {n: float(np.sqrt(v)) for n, v in zip(names, diagonal, strict=True)}


def _maximise(
    model: str,
    nll: Callable[[np.ndarray], float],
    x0: np.ndarray,
    names: list[str],
    jac: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Log-parameters that minimise nll (the mean negative log-likelihood), or ConvergenceError.

    With an analytic gradient: BFGS (a few dozen evaluations); a stop on "precision loss" counts as
    converged when the gradient there is ~0. Without one, or if BFGS fails: Nelder-Mead, run twice.
    """
    result = None
    if jac is not None:
        with np.errstate(all="ignore"):
            result = minimize(nll, x0, jac=jac, method="BFGS", options={"gtol": 1e-7, "maxiter": 1000})
        flat = np.isfinite(result.fun) and np.abs(jac(result.x)).max() < 1e-5
        if result.success or flat:
            result.success = True
        else:
            result = None
    if result is None:
        result = _nelder_mead(nll, x0)
    if not result.success or not np.isfinite(result.fun):
        raise ConvergenceError(
            f"{model}: the fit did not converge ({result.message}); the data may not follow "
            "the model, or there are too few repeat customers"
        )
    runaway = [n for n, v in zip(names, result.x, strict=True) if abs(v) > 18]  # beyond 1e±8 on times scaled to 0..10
    if runaway:
        raise ConvergenceError(
            f"{model}: parameter(s) {', '.join(runaway)} ran off to "
            f"{', '.join(f'{np.exp(v):.3g}' for v in result.x)}; the data do not identify "
            "the model (too few repeat customers, or too short a period)"
        )
    return result.x


def _nelder_mead(nll: Callable[[np.ndarray], float], x0: np.ndarray):
    with np.errstate(all="ignore"):
        result = minimize(
            nll, x0, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 6000, "maxfev": 12000}
        )
        if result.success:  # a short second run from the optimum checks it is not a stalled simplex
            result = minimize(
                nll,
                result.x,
                method="Nelder-Mead",
                options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 2000, "maxfev": 4000},
            )
    return result


def _fit_patterns(
    model: str,
    names: list[str],
    ll: Callable,
    grad: Callable | None,
    data: list[np.ndarray],
    weights: np.ndarray,
    scaled: tuple[list[int], list[int]],
) -> Fit:
    """Maximum likelihood on distinct data rows with weights. `scaled`: the data columns that are times
    (or money) and the parameters in the same unit; they are rescaled so the largest value is 10 while
    fitting, as lifetimes does, so one starting point (all parameters 1) suits days, weeks or yuan."""
    columns, params = scaled
    scale = 10.0 / max(data[c].max() for c in columns)
    fitting = [d * scale if i in columns else d for i, d in enumerate(data)]
    total = weights.sum()

    def mean_nll(u):
        value = -(ll(np.exp(u), *fitting) * weights).sum() / total
        return value if np.isfinite(value) else np.inf

    def mean_nll_grad(u):
        theta = np.exp(u)
        return -(grad(theta, *fitting) * weights).sum(axis=1) / total * theta

    u = _maximise(model, mean_nll, np.zeros(len(names)), names, None if grad is None else mean_nll_grad)
    theta = np.exp(u)
    theta[params] /= scale

    def nll(p):
        return -(ll(p, *data) * weights).sum()

    def nll_grad(p):
        return -(grad(p, *data) * weights).sum(axis=1)

    log_likelihood = -nll(theta)
    if not np.isfinite(log_likelihood):
        raise ConvergenceError(f"{model}: the log-likelihood at the fitted parameters is not finite")
    errors = _standard_errors(model, nll, theta, names, None if grad is None else nll_grad)
    return Fit(model, dict(zip(names, map(float, theta), strict=True)), errors, float(log_likelihood), int(total))


# --- BG/NBD --------------------------------------------------------------------------------------


def _bgnbd_ll(params, x, t_x, T) -> np.ndarray:
    r, alpha, a, b = params
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)  # B(a, b+x) / B(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(repeat, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def _bgnbd_grad(params, x, t_x, T) -> np.ndarray:
    """Per-customer derivatives of _bgnbd_ll by r, alpha, a, b (rows)."""
    r, alpha, a, b = params
    repeat = x > 0
    xm = np.maximum(x, 1)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(repeat, np.log(a) - np.log(b + xm - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    w4 = expit(a4 - a3)  # the share of the second term of the likelihood; 0 without repeat purchases
    w3 = 1 - w4
    abx = digamma(a + b + x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - abx + w4 / a
    d_b = digamma(b + x) - abx - digamma(b) + digamma(a + b) - w4 / (b + xm - 1)
    return np.array([d_r, d_alpha, d_a, d_b])


@dataclass
class BetaGeoModel:
    """BG/NBD: purchases Poisson(λ) while alive, λ ~ Gamma(r, α); after each purchase the customer
    drops out with probability p ~ Beta(a, b)."""

    fit: Fit

    def _p(self):
        p = self.fit.params
        return p["r"], p["alpha"], p["a"], p["b"]

    def expected_purchases(self, t: float, frequency, recency, T) -> np.ndarray:
        """E[purchases in the next t periods | x, t_x, T], as lifetimes'
        conditional_expected_number_of_purchases_up_to_time."""
        r, alpha, a, b = self._p()
        x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        if t == 0:
            return np.zeros_like(x)
        ha, hb, hc, z = r + x, b + x, a + b + x - 1, t / (alpha + age + t)
        with np.errstate(all="ignore"):
            log_hyp = np.log(hyp2f1(ha, hb, hc, z))
            euler = np.log(hyp2f1(hc - ha, hc - hb, hc, z)) + (hc - ha - hb) * np.log1p(-z)
        log_hyp = np.where(np.isfinite(log_hyp), log_hyp, euler)
        numerator = (
            (a + b + x - 1) / (a - 1) * (1 - np.exp(log_hyp + (r + x) * np.log((alpha + age) / (alpha + t + age))))
        )
        odds = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0)
        return numerator / (1 + odds)

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(the customer is still active at T | x, t_x, T); 1 for customers who never came back."""
        r, alpha, a, b = self._p()
        x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        log_odds = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(a / (b + np.maximum(x, 1) - 1))
        return np.where(x == 0, 1.0, expit(-log_odds))


def _fit_counts(model: str, ll: Callable, grad: Callable | None, names: list[str], frequency, recency, T) -> Fit:
    x, t_x, age = check_summary(frequency, recency, T)
    data, weights, _ = _patterns(x, t_x, age)
    time_params = [i for i, n in enumerate(names) if n in ("alpha", "beta")]
    return _fit_patterns(model, names, ll, grad, data, weights, ([1, 2], time_params))


def fit_bgnbd(frequency, recency, T) -> BetaGeoModel:
    """Fit BG/NBD to a summary (see summary_from_transactions). ConvergenceError if it does not converge."""
    return BetaGeoModel(_fit_counts("bgnbd", _bgnbd_ll, _bgnbd_grad, ["r", "alpha", "a", "b"], frequency, recency, T))


# --- Pareto/NBD ----------------------------------------------------------------------------------


def _pareto_log_a0(params, x, t_x, T) -> np.ndarray:
    r, alpha, s, beta = params
    if alpha >= beta:
        big, small, second = alpha, beta, s + 1
    else:
        big, small, second = beta, alpha, r + x
    rsx = r + s + x
    p1 = np.log(hyp2f1(rsx, second, rsx + 1, (big - small) / (big + t_x)))
    p2 = np.log(hyp2f1(rsx, second, rsx + 1, (big - small) / (big + T)))
    q1, q2 = np.log(big + t_x), np.log(big + T)
    # log(e^{p1 - rsx q1} - e^{p2 - rsx q2}) without overflow
    left, right = p1 - rsx * q1, p2 - rsx * q2
    with np.errstate(divide="ignore"):  # t_x == T gives log(0) = -inf, which logaddexp takes
        return left + np.log(-np.expm1(right - left))


def _pareto_ll(params, x, t_x, T) -> np.ndarray:
    r, alpha, s, beta = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    a2 = np.logaddexp(
        -(r + x) * np.log(alpha + T) - s * np.log(beta + T),
        np.log(s) - np.log(r + s + x) + _pareto_log_a0(params, x, t_x, T),
    )
    return a1 + a2


@dataclass
class ParetoNBDModel:
    """Pareto/NBD: purchases Poisson(λ), λ ~ Gamma(r, α), while alive; lifetimes exponential(μ),
    μ ~ Gamma(s, β)."""

    fit: Fit

    def _p(self):
        p = self.fit.params
        return p["r"], p["alpha"], p["s"], p["beta"]

    def expected_purchases(self, t: float, frequency, recency, T) -> np.ndarray:
        """E[purchases in the next t periods | x, t_x, T]."""
        r, alpha, s, beta = self._p()
        x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        if t == 0:
            return np.zeros_like(x)
        ll = _pareto_ll(self._p(), x, t_x, age)
        first = (
            gammaln(r + x)
            - gammaln(r)
            + r * np.log(alpha)
            + s * np.log(beta)
            - (r + x) * np.log(alpha + age)
            - s * np.log(beta + age)
        )
        second = np.log(r + x) + np.log(beta + age) - np.log(alpha + age)
        third = np.log((1 - ((beta + age) / (beta + age + t)) ** (s - 1)) / (s - 1))
        return np.exp(first + second + third - ll)

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        r, alpha, s, beta = self._p()
        x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
        log_a0 = _pareto_log_a0(self._p(), x, t_x, age)
        return expit(-(np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + age) + s * np.log(beta + age) + log_a0))


def fit_pareto_nbd(frequency, recency, T) -> ParetoNBDModel:
    """Fit Pareto/NBD to a summary. ConvergenceError if it does not converge."""
    return ParetoNBDModel(
        _fit_counts("pareto_nbd", _pareto_ll, None, ["r", "alpha", "s", "beta"], frequency, recency, T)
    )


# --- Gamma-Gamma ---------------------------------------------------------------------------------


def _gamma_gamma_ll(params, x, m) -> np.ndarray:
    p, q, v = params
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def _gamma_gamma_grad(params, x, m) -> np.ndarray:
    p, q, v = params
    both = digamma(p * x + q)
    log_total = np.log(x * m + v)
    return np.array(
        [
            x * (both - digamma(p * x) + np.log(m) + np.log(x) - log_total),
            both - digamma(q) + np.log(v) - log_total,
            q / v - (p * x + q) / (x * m + v),
        ]
    )


@dataclass
class GammaGammaModel:
    """Gamma-Gamma: each purchase's value ~ Gamma(p, ν), ν ~ Gamma(q, γ) per customer."""

    fit: Fit

    def expected_average_value(self, frequency, monetary_value) -> np.ndarray:
        """E[average purchase value | x, mean spend m]: the customer's mean shrunk to the population's."""
        p, q, v = (self.fit.params[k] for k in ("p", "q", "gamma"))
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        weight = p * x / (p * x + q - 1)
        return (1 - weight) * (p * v / (q - 1)) + weight * m


def fit_gamma_gamma(frequency, monetary_value) -> GammaGammaModel:
    """Fit Gamma-Gamma on the customers with repeat purchases (frequency > 0); others are ignored."""
    x, m = _vector(frequency, "frequency"), _vector(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise AnalyticsInputError("frequency and monetary_value must have one value per customer each")
    if (m < 0).any():
        raise AnalyticsInputError(f"monetary_value must not be negative ({int((m < 0).sum())} customer(s))")
    repeat = x > 0
    if ((m <= 0) & repeat).any():
        raise AnalyticsInputError(
            "monetary_value must be > 0 for customers with repeat purchases "
            f"({int(((m <= 0) & repeat).sum())} customer(s))"
        )
    if repeat.sum() < 2:
        raise AnalyticsInputError("Gamma-Gamma needs at least 2 customers with repeat purchases")
    if np.unique(m[repeat]).size < 2:
        raise AnalyticsInputError("Gamma-Gamma needs spends that differ between customers")
    data, weights, _ = _patterns(x[repeat], m[repeat])
    fit = _fit_patterns(
        "gamma_gamma", ["p", "q", "gamma"], _gamma_gamma_ll, _gamma_gamma_grad, data, weights, ([1], [2])
    )
    if fit.params["q"] <= 1:
        raise ConvergenceError(
            f"gamma_gamma: q = {fit.params['q']:.3g} ≤ 1, so the model gives spend no finite mean; "
            "the spends are too spread out for Gamma-Gamma"
        )
    return GammaGammaModel(fit)


# --- lifetime value ------------------------------------------------------------------------------


def customer_lifetime_value(
    model: BetaGeoModel | ParetoNBDModel,
    frequency,
    recency,
    T,
    expected_value,
    months: int = 12,
    discount_rate: float = 0.01,
    periods_per_month: float = 30.0,
) -> np.ndarray:
    """Discounted expected spend over `months`: Σ_i value · E[purchases in month i] / (1 + rate)^i.

    Times are in the summary's unit: `periods_per_month` is 30 for days, 4.345 for weeks (as lifetimes).
    """
    if int(months) != months or months < 1:
        raise AnalyticsInputError("months must be a whole number ≥ 1")
    if not 0 <= discount_rate < 1:
        raise AnalyticsInputError("discount_rate is a monthly rate between 0 and 1, e.g. 0.01")
    x, t_x, age = check_summary(frequency, recency, T, min_customers=1)
    (ux, ut, uT), _, inverse = _patterns(x, t_x, age)
    value = np.asarray(expected_value, dtype=np.float64)
    clv_per_purchase = np.zeros((int(months), len(ux)))
    previous = np.zeros(len(ux))
    for i in range(1, int(months) + 1):
        cumulative = model.expected_purchases(i * periods_per_month, ux, ut, uT)
        clv_per_purchase[i - 1] = (cumulative - previous) / (1 + discount_rate) ** i
        previous = cumulative
    return value * clv_per_purchase.sum(axis=0)[inverse]


def predict(model: BetaGeoModel | ParetoNBDModel, summary: pd.DataFrame, t: float) -> pd.DataFrame:
    """p_alive and expected purchases in the next t periods for each row of a summary, scored once per
    distinct (frequency, recency, T)."""
    (ux, ut, uT), _, inverse = _patterns(
        *(summary[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T"))
    )
    return pd.DataFrame(
        {
            "p_alive": model.p_alive(ux, ut, uT)[inverse],
            "expected_purchases": model.expected_purchases(t, ux, ut, uT)[inverse],
        },
        index=summary.index,
    )

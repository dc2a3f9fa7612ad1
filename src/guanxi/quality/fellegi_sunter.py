"""Fellegi–Sunter record linkage model, m and u estimated by EM (numpy, no other dependency).

Comparison vectors are rows of small integer levels (0 = missing, which adds no evidence, 1 = different,
higher = more agreement). Fields are taken as independent given the match status (the classic model).
EM runs on the distinct comparison vectors with their counts, so its cost does not grow with the number
of pairs: a few thousand patterns whether there are ten thousand pairs or ten million.

Two estimators: `estimate_anchored` (used whenever a phone, email or id field allows it: u from random
pairs held fixed, m learnt on pairs sharing an identifier, the prior over all possible pairs; stable at a
million records) and `estimate`, classic EM of m, u and the prior on the candidate pairs (fallback for
files with no identifier field or too few pairs; it can mistake a blocking key for the match class on
large, repetitive data: measured at 1M synthetic contacts, precision 0.06 against 0.99 anchored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

_EPS = 1e-6


@dataclass
class Model:
    m: list[np.ndarray]  # per field: P(level | match), index = level (index 0, missing, unused)
    u: list[np.ndarray]  # per field: P(level | non-match)
    prior: float  # share of matches among the candidate pairs
    iterations: int = 0
    converged: bool = False
    log_likelihood: list[float] = field(default_factory=list)

    def field_weights(self) -> list[np.ndarray]:
        """log2(m / u) per field and level; 0 for missing."""
        out = []
        for m, u in zip(self.m, self.u, strict=True):
            w = np.log2(np.maximum(m, _EPS) / np.maximum(u, _EPS))
            w[0] = 0.0
            out.append(w)
        return out

    def weights(self, levels: np.ndarray) -> np.ndarray:
        """Match weight (log2 likelihood ratio) of each comparison vector."""
        total = np.zeros(len(levels), dtype=np.float64)
        for f, w in enumerate(self.field_weights()):
            total += w[levels[:, f]]
        return total

    def probabilities(self, levels: np.ndarray) -> np.ndarray:
        """Posterior probability of a match for each comparison vector."""
        return posterior(self.weights(levels), self.prior)


def posterior(weights: np.ndarray, prior: float) -> np.ndarray:
    prior = min(max(prior, 1e-15), 1 - _EPS)
    log_odds = weights * np.log(2) + np.log(prior / (1 - prior))
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))


def _initial_m(n_levels: int) -> np.ndarray:
    # Matches mostly agree exactly, a few are close, fewer differ.
    m = np.geomspace(0.02, 1.0, n_levels - 1)
    m[-1] = 3.0 * m[-2] + 1.0
    return np.concatenate([[0.0], m / m.sum()])


def _level_shares(
    patterns: np.ndarray, counts: np.ndarray, weights: np.ndarray, n_levels: int, start: np.ndarray, strength: float
) -> np.ndarray:
    """Weighted share of each level (missing left out), pulled towards `start` by `strength` pseudo-pairs.

    The pseudo-pairs matter only on small inputs, where a level seen zero times would otherwise get
    probability zero and an infinite weight.
    """
    mass = np.bincount(patterns, weights=counts * weights, minlength=n_levels)[:n_levels].astype(np.float64)
    mass[0] = 0.0
    mass = mass + strength * start + _EPS
    mass[0] = 0.0
    return mass / mass.sum()


def estimate(
    levels: np.ndarray,
    n_levels: Sequence[int],
    u_init: Sequence[np.ndarray] | None = None,
    prior_init: float = 0.1,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    strength: float = 10.0,
    fix_u: bool = False,
) -> Model:
    """Fit m, u and the prior by EM on comparison vectors `levels` (pairs × fields, int8).

    `u_init`: u per field to start from (from random pairs); `strength`: pseudo-pairs of that start
    (and of the default m) added to every M step, which keeps small inputs from extreme weights.
    """
    patterns, counts = np.unique(levels, axis=0, return_counts=True) if len(levels) else (levels, np.zeros(0))
    counts = counts.astype(np.float64)
    n_fields = levels.shape[1]
    m0 = [_initial_m(k) for k in n_levels]
    if u_init is not None:
        u0 = [np.array(x, dtype=np.float64) for x in u_init]
    else:
        u0 = [_level_shares(patterns[:, f], counts, np.ones(len(counts)), k, np.zeros(k), 0.0)
              for f, k in enumerate(n_levels)]
    m, u = m0, u0
    model = Model(m, u, prior_init)
    if len(patterns) == 0:
        return model
    previous = -np.inf
    for iteration in range(1, max_iterations + 1):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for f in range(n_fields):
            lm, lu = np.log(np.maximum(m[f], _EPS)), np.log(np.maximum(u[f], _EPS))
            lm[0] = lu[0] = 0.0  # missing: no evidence
            log_m += lm[patterns[:, f]]
            log_u += lu[patterns[:, f]]
        p = min(max(model.prior, _EPS), 1 - _EPS)
        a, b = np.log(p) + log_m, np.log(1 - p) + log_u
        top = np.maximum(a, b)
        log_total = top + np.log(np.exp(a - top) + np.exp(b - top))
        g = np.exp(a - log_total)  # E step: P(match | vector)
        ll = float((counts * log_total).sum())
        model.log_likelihood.append(ll)
        # M step
        # A Beta(1, 9) pseudo-count on the prior keeps a handful of pairs from driving it to 0 or 1.
        model.prior = float(((counts * g).sum() + 1.0) / (counts.sum() + 10.0))
        m = [_level_shares(patterns[:, f], counts, g, k, m0[f], strength) for f, k in enumerate(n_levels)]
        if not fix_u:
            u = [_level_shares(patterns[:, f], counts, 1 - g, k, u0[f], strength) for f, k in enumerate(n_levels)]
        model.m, model.u, model.iterations = m, u, iteration
        if abs(ll - previous) <= tolerance * abs(ll):
            model.converged = True
            break
        previous = ll
    return model


def best_threshold(probabilities: np.ndarray) -> float:
    """The probability cut that maximises the F1 the model itself expects.

    Taking the posteriors at their word, pairs at or above t give expected true positives sum(p) and
    false positives sum(1 - p); pairs below t expected missed matches sum(p). Never below 0.5: a pair
    the model thinks more likely different than not is not called a duplicate.
    """
    if len(probabilities) == 0:
        return 0.5
    p = np.sort(probabilities)[::-1]
    tp = np.cumsum(p)
    fp = np.cumsum(1 - p)
    fn = p.sum() - tp
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, _EPS)
    cut = float(p[int(np.argmax(f1))])
    return max(cut, 0.5)


def estimate_anchored(
    levels: np.ndarray,
    n_levels: Sequence[int],
    u: Sequence[np.ndarray],
    rules: Sequence[Sequence[int]],
    total_pairs: int,
    strength: float = 10.0,
) -> Model | None:
    """m by EM on the pairs that agree exactly on a rule's fields, u fixed; the prior over all record pairs.

    Plain EM on blocked pairs can latch onto the blocking instead of onto matches (pairs sharing a common
    name or postcode form a class of their own). Pairs sharing a phone, email or id number are, apart from
    that field, like random pairs in the population, so with u from random pairs held fixed their EM
    estimates m of every other field (the rule's own fields are masked: they were chosen to agree). Each
    field's m is the match-weighted mean over the rules that leave it free. The prior is then the share of
    matches among all n(n-1)/2 possible pairs, consistent with u from random pairs; pairs blocking never
    produced count as non-matches. Returns None when no rule leaves every field with an estimate.
    """
    n_fields = levels.shape[1]
    exact = np.array([k - 1 for k in n_levels])
    sums: list[np.ndarray] = [np.zeros(k) for k in n_levels]
    mass = np.zeros(n_fields)
    for rule in rules:
        subset = levels[np.all(levels[:, list(rule)] == exact[list(rule)], axis=1)].copy()
        if len(subset) < 20:
            continue
        subset[:, list(rule)] = 0  # masked: agreement there is how the pairs were chosen
        fitted = estimate(subset, n_levels, u_init=u, prior_init=0.5, strength=strength, fix_u=True)
        matches = fitted.prior * len(subset)
        for f in range(n_fields):
            if f not in rule:
                sums[f] += matches * fitted.m[f]
                mass[f] += matches
    if not np.all(mass > 0):
        return None
    m = [s / s.sum() for s in sums]
    model = Model(m, [np.asarray(x, dtype=np.float64) for x in u], prior=0.0)
    weights = model.weights(levels)
    prior = min(1.0, len(levels) / max(total_pairs, 1)) * 0.1
    for iteration in range(1, 101):  # 1-D EM on the prior alone
        new = float(posterior(weights, prior).sum()) / max(total_pairs, 1)
        model.iterations = iteration
        if abs(new - prior) <= 1e-6 * prior:
            prior = new
            model.converged = True
            break
        prior = new
    model.prior = max(prior, _EPS / max(total_pairs, 1))
    return model

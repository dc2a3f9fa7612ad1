"""The two ways an analysis fails: the input is wrong, or the model could not be fitted to it."""

from __future__ import annotations


class AnalyticsInputError(ValueError):
    """Bad input data or arguments; the message names the problem for the user."""


class ConvergenceError(RuntimeError):
    """A maximum-likelihood fit did not converge; its parameters would be meaningless."""

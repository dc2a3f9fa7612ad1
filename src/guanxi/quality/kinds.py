"""Field kinds of the duplicate detector and their comparison levels; import-light for the CLI's --help.

A level is a small integer, its name at that index: 0 = missing on either side (no evidence either
way), 1 = different, then increasing agreement up to the kind's last level, "exact".
"""

from __future__ import annotations

MISSING, DIFFERENT = 0, 1

LEVELS: dict[str, tuple[str, ...]] = {
    "name": ("missing", "different", "similar", "close", "exact"),
    "phone": ("missing", "different", "close", "exact"),
    "email": ("missing", "different", "close", "exact"),
    "address": ("missing", "different", "similar", "close", "exact"),
    "postcode": ("missing", "different", "close", "exact"),
    "date": ("missing", "different", "close", "exact"),
    "id": ("missing", "different", "close", "exact"),
    "text": ("missing", "different", "close", "exact"),
    "company": ("missing", "different", "similar", "close", "exact"),
}
KINDS = tuple(LEVELS)

# Chance agreement between two different people, per level above "different" (which takes the rest):
# a prior for u that the data overrides as soon as there are enough records (a file of three rows
# otherwise teaches the model that sharing a phone number is common).
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "name": (0.05, 0.01, 0.002),
    "phone": (0.001, 0.0001),
    "email": (0.001, 0.0001),
    "address": (0.02, 0.005, 0.001),
    "postcode": (0.05, 0.01),
    "date": (0.002, 0.001),
    "id": (0.001, 0.0001),
    "text": (0.05, 0.1),
    "company": (0.05, 0.02, 0.01),
}


def default_u(kind: str) -> list[float]:
    """DEFAULT_U of a kind as shares of every level, index = level (missing = 0)."""
    agree = list(DEFAULT_U[kind])
    return [0.0, 1.0 - sum(agree), *agree]

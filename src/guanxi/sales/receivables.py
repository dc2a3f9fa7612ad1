"""Payment-collection (回款) arithmetic in Decimal, without Django: splitting a total into instalments that add up
to the cent, allocating a payment to the oldest open instalments, instalment status, aging buckets and currency
conversion. Amounts are money (two decimals); every function refuses what would not add up instead of rounding
it away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .pricing import CENT, ZERO, money

MAX_INSTALMENTS = 120


class ReceivablesError(ValueError):
    """Input the arithmetic refuses; `field` names the offending input, `amount` or `currency` what it was about."""

    def __init__(self, field: str, message: str, *, amount: Decimal | None = None, currency: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.amount = amount
        self.currency = currency


def split_equal(total: Decimal, count: int) -> list[Decimal]:
    """`total` in `count` instalments as equal as cents allow; the first ones carry the leftover cents, so the
    parts differ by at most 0.01 and always sum to `total` exactly."""
    if count < 1 or count > MAX_INSTALMENTS:
        raise ReceivablesError("count", f"between 1 and {MAX_INSTALMENTS}")
    if total < 0 or total != money(total):
        raise ReceivablesError("total", "not an amount in cents")
    cents = int(total / CENT)
    share, extra = divmod(cents, count)
    return [(share + (1 if i < extra else 0)) * CENT for i in range(count)]


def check_plan(amounts: Sequence[Decimal], total: Decimal) -> None:
    """Hand-entered instalments: each positive, in cents, and together exactly the total."""
    if not amounts:
        raise ReceivablesError("instalments", "empty")
    if len(amounts) > MAX_INSTALMENTS:
        raise ReceivablesError("instalments", "too many")
    for amount in amounts:
        if amount <= 0 or amount != money(amount):
            raise ReceivablesError("amount", "not a positive amount in cents", amount=amount)
    given = sum(amounts, ZERO)
    if given != total:
        raise ReceivablesError("instalments", "sum differs from the total", amount=given)


def allocate(amount: Decimal, open_items: Sequence[tuple[Hashable, Decimal]]) -> list[tuple[Hashable, Decimal]]:
    """Spread a payment over instalments (key, outstanding) in the order given (oldest first): each is paid off
    before the next gets anything. A payment above the total outstanding is refused (`amount` = what is owed)."""
    if amount <= 0 or amount != money(amount):
        raise ReceivablesError("amount", "not a positive amount in cents")
    owed = sum((o for _k, o in open_items if o > 0), ZERO)
    if amount > owed:
        raise ReceivablesError("amount", "exceeds the outstanding", amount=owed)
    left = amount
    out: list[tuple[Hashable, Decimal]] = []
    for key, outstanding in open_items:
        if left <= 0:
            break
        if outstanding <= 0:
            continue
        part = min(left, outstanding)
        out.append((key, part))
        left -= part
    return out


OPEN, PARTLY_PAID, PAID, OVERDUE = "open", "partly_paid", "paid", "overdue"


def instalment_status(amount: Decimal, paid: Decimal, due: dt.date, today: dt.date) -> str:
    """Paid once nothing is owed; overdue while something is owed after the due date; else partly paid or open."""
    if paid >= amount:
        return PAID
    if due < today:
        return OVERDUE
    return PARTLY_PAID if paid > 0 else OPEN


# Aging: days overdue → bucket. "current" is not yet due (or due today).
BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "over_90")
_UPPER_DAYS = (0, 30, 60, 90)  # the last day overdue of each bucket but the last


def bucket(due: dt.date, today: dt.date) -> str:
    days = (today - due).days
    for name, upper in zip(BUCKETS, _UPPER_DAYS, strict=False):
        if days <= upper:
            return name
    return BUCKETS[-1]


def bucket_bounds(today: dt.date) -> list[tuple[str, dt.date | None, dt.date | None]]:
    """Each bucket as due-date bounds (earliest, latest, inclusive; None = open-ended), for a SQL CASE."""
    out: list[tuple[str, dt.date | None, dt.date | None]] = []
    latest: dt.date | None = None
    for name, upper in zip(BUCKETS, _UPPER_DAYS, strict=False):
        earliest = today - dt.timedelta(days=upper)
        out.append((name, earliest, latest))
        latest = earliest - dt.timedelta(days=1)
    out.append((BUCKETS[-1], None, latest))
    return out


@dataclass(frozen=True)
class Rate:
    currency: str
    rate: Decimal  # units of the base currency for one unit of `currency`
    valid_from: dt.date


def rate_on(rates: Iterable[Rate], currency: str, day: dt.date) -> Decimal | None:
    """The rate in force on `day`: the latest one valid from that day or before."""
    best: Rate | None = None
    for r in rates:
        if r.currency == currency and r.valid_from <= day and (best is None or r.valid_from > best.valid_from):
            best = r
    return best.rate if best else None


def convert(amount: Decimal, currency: str, base: str, rates: Mapping[str, Decimal]) -> Decimal:
    """`amount` in the base currency, to the cent; a currency without a rate is an error naming it."""
    if currency == base:
        return amount
    rate = rates.get(currency)
    if rate is None:
        raise ReceivablesError("currency", "no rate", currency=currency)
    return money(amount * rate)


def convert_all(amounts: Mapping[str, Decimal], base: str, rates: Mapping[str, Decimal]) -> Decimal:
    """Amounts per currency summed in the base currency; every missing rate is checked before any sum is made."""
    missing = sorted(c for c in amounts if c != base and c not in rates)
    if missing:
        raise ReceivablesError("currency", "no rate", currency=", ".join(missing))
    return sum((convert(a, c, base, rates) for c, a in amounts.items()), ZERO)


def convert_between(amount: Decimal, currency: str, target: str, base: str, rates: Mapping[str, Decimal]) -> Decimal:
    """`amount` of `currency` in `target` through the base currency (rates are base units per unit), rounded to
    the cent once; a currency without a rate (either side) is an error naming it."""
    if currency == target:
        return amount
    ratio = Decimal(1)
    for code, power in ((currency, 1), (target, -1)):
        if code == base:
            continue
        rate = rates.get(code)
        if rate is None:
            raise ReceivablesError("currency", "no rate", currency=code)
        ratio = ratio * rate if power == 1 else ratio / rate
    return money(amount * ratio)


def sum_in(amounts: Mapping[str, Decimal], target: str, base: str,
           rates: Mapping[str, Decimal]) -> tuple[Decimal, dict[str, Decimal]]:
    """Amounts per currency summed in `target` (each currency converted once); those that cannot be converted
    (no rate) are returned apart, never counted 1:1."""
    total, missing = ZERO, {}
    for code, amount in sorted(amounts.items()):
        try:
            total += convert_between(amount, code, target, base, rates)
        except ReceivablesError:
            missing[code] = amount
    return total, missing

"""Quote and order arithmetic, in Decimal, with one rounding rule (no Django here).

The rule: each line is rounded on its own, to 0.01 with ROUND_HALF_UP (四舍五入):
    net   = round(quantity × unit price × (1 − discount % / 100))
    tax   = round(net × tax rate % / 100)
    gross = net + tax
and a document's totals are the sums of its rounded lines, so the printed lines always add up to the
printed totals. Quantities and prices are never negative and a discount is 0–100 %, so no line is
ever below zero. Every line is in the document's currency; mixing currencies is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


class PricingError(ValueError):
    """Input the arithmetic refuses; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def money(value: Decimal) -> Decimal:
    """To the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal(value: object, field: str) -> Decimal:
    """A finite Decimal from text or a number (floats through their shortest text, never their binary value)."""
    if isinstance(value, bool) or value is None:
        raise PricingError(field, "not a number")
    try:
        number = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise PricingError(field, "not a number") from None
    if not number.is_finite():
        raise PricingError(field, "not a number")
    return number


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    currency: str
    discount: Decimal = ZERO  # percent, 0–100
    tax_rate: Decimal = ZERO  # percent, e.g. 13, 6, 0


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    gross: Decimal
    list_amount: Decimal  # quantity × unit price before the discount, rounded


@dataclass(frozen=True)
class Totals:
    currency: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    discount: Decimal  # Σ list amounts − Σ nets
    lines: tuple[LineAmounts, ...]
    tax_by_rate: tuple[tuple[Decimal, Decimal, Decimal], ...]  # (rate, net, tax), by rate


def check_line(line: Line) -> None:
    if line.quantity < 0:
        raise PricingError("quantity", "negative")
    if line.unit_price < 0:
        raise PricingError("unit_price", "negative")
    if not ZERO <= line.discount <= HUNDRED:
        raise PricingError("discount", "out of range")
    if not ZERO <= line.tax_rate <= HUNDRED:
        raise PricingError("tax_rate", "out of range")


def line_amounts(line: Line) -> LineAmounts:
    check_line(line)
    raw = line.quantity * line.unit_price
    net = money(raw * (HUNDRED - line.discount) / HUNDRED)
    tax = money(net * line.tax_rate / HUNDRED)
    return LineAmounts(net=net, tax=tax, gross=net + tax, list_amount=money(raw))


def totals(lines: Iterable[Line], currency: str) -> Totals:
    """The document's totals: sums of the rounded lines; every line must be in `currency`."""
    amounts = []
    by_rate: dict[Decimal, list[Decimal]] = {}
    for line in lines:
        if line.currency != currency:
            raise PricingError("currency", "mixed currencies")
        a = line_amounts(line)
        amounts.append(a)
        slot = by_rate.setdefault(line.tax_rate.normalize(), [ZERO, ZERO])
        slot[0] += a.net
        slot[1] += a.tax
    net = sum((a.net for a in amounts), ZERO)
    tax = sum((a.tax for a in amounts), ZERO)
    listed = sum((a.list_amount for a in amounts), ZERO)
    return Totals(currency=currency, net=money(net), tax=money(tax), gross=money(net + tax),
                  discount=money(listed - net), lines=tuple(amounts),
                  tax_by_rate=tuple((r, money(v[0]), money(v[1])) for r, v in sorted(by_rate.items())))


def tier_price(tiers: Iterable[tuple[Decimal, Decimal]], quantity: Decimal) -> Decimal | None:
    """The unit price of the largest tier (min quantity, price) that `quantity` reaches; None if none does."""
    best: tuple[Decimal, Decimal] | None = None
    for min_quantity, price in tiers:
        if quantity >= min_quantity and (best is None or min_quantity > best[0]):
            best = (min_quantity, price)
    return best[1] if best else None

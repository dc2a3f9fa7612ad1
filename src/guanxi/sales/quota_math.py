"""Periods and the arithmetic of performance (attainment, rates, averages): plain Python, no Django.

A period is a month ("2031-03"), a quarter ("2031-Q1") or a year ("2031"); it starts on its first day and
ends (exclusive) on the first day of the next one. Percentages are Decimals rounded half up to one place.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = (MONTH, QUARTER, YEAR)
_PERIOD = re.compile(r"^\s*(\d{4})(?:-(?:(\d{1,2})|[Qq]([1-4])))?\s*$")
TENTH = Decimal("0.1")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        months = {MONTH: 1, QUARTER: 3, YEAR: 12}[self.kind]
        index = self.start.year * 12 + self.start.month - 1 + months
        return dt.date(index // 12, index % 12 + 1, 1)

    @property
    def label(self) -> str:
        if self.kind == YEAR:
            return f"{self.start.year}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods later (earlier when negative), of the same kind."""
        months = {MONTH: 1, QUARTER: 3, YEAR: 12}[self.kind] * steps
        index = self.start.year * 12 + self.start.month - 1 + months
        return Period(self.kind, dt.date(index // 12, index % 12 + 1, 1))

    def months(self) -> list[dt.date]:
        """The first day of each month in the period."""
        out, day = [], self.start
        while day < self.end:
            out.append(day)
            day = Period(MONTH, day).end
        return out


def parse_period(text: str) -> Period:
    """ "2031-03", "2031-Q1" or "2031"; ValueError for anything else (years 1900–9998)."""
    match = _PERIOD.match(text or "")
    if not match or not 1900 <= int(match[1]) <= 9998:
        raise ValueError(text)
    year = int(match[1])
    if match[2]:
        if not 1 <= int(match[2]) <= 12:
            raise ValueError(text)
        return Period(MONTH, dt.date(year, int(match[2]), 1))
    if match[3]:
        return Period(QUARTER, dt.date(year, (int(match[3]) - 1) * 3 + 1, 1))
    return Period(YEAR, dt.date(year, 1, 1))


def is_period_start(kind: str, day: dt.date) -> bool:
    """Whether `day` is the first day of a period of `kind` (1 Jan, 1 Apr, 1 Jul, 1 Oct for a quarter)."""
    if kind not in KINDS or day.day != 1:
        return False
    return kind == MONTH or (kind == QUARTER and day.month % 3 == 1) or (kind == YEAR and day.month == 1)


def cents(value: Decimal | int | None) -> Decimal:
    """A sum of money to the cent (SQLite's SUM drops trailing zeros)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """part / whole as a percentage rounded half up to one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def attainment(won: Decimal, quota: Decimal | None) -> Decimal | None:
    """Won / quota in percent (may exceed 100); None without a positive quota."""
    return percent(won, quota) if quota and quota > 0 else None


def win_rate(won: int, lost: int) -> Decimal | None:
    """Won / (won + lost) in percent; None when nothing closed."""
    return percent(won, won + lost)


def average(total: Decimal, count: int) -> Decimal | None:
    """Average deal size, rounded half up to the cent."""
    return (Decimal(total) / count).quantize(CENT, rounding=ROUND_HALF_UP) if count else None


def change(now: Decimal | int, before: Decimal | int) -> Decimal | None:
    """Year-on-year change in percent; None when there was nothing the year before."""
    return percent(Decimal(now) - Decimal(before), before) if before else None

"""A transactions table (customer, date, amount) checked and turned into plain arrays.

RFM and the lifetime-value models both start here, so every bad input gets the same clear error
(`AnalyticsInputError`, a ValueError) whichever analysis reads it. Dates are kept at day resolution as
integer day numbers (days since 1970-01-01, UTC): the models count time in days or multiples of days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from guanxi.analytics.errors import AnalyticsInputError


@dataclass(frozen=True)
class Transactions:
    """One row per transaction, customers numbered 0..n-1 (in sorted order of their ids)."""

    customers: pd.Index  # the customer id of each number
    codes: np.ndarray  # int64 customer number per transaction
    days: np.ndarray  # int64 day number per transaction
    amounts: np.ndarray | None  # float64 per transaction, None when no amount column was given
    as_of: int  # day number of the end of the observation period

    @property
    def n_customers(self) -> int:
        return len(self.customers)


def day_number(value: str | dt.date | dt.datetime | pd.Timestamp, name: str = "as_of") -> int:
    """A date (ISO text, date, datetime or Timestamp) as days since 1970-01-01."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise AnalyticsInputError(f"{name}: {value!r} is not a date (use YYYY-MM-DD)")
    if stamp is pd.NaT:
        raise AnalyticsInputError(f"{name}: a date is required (use YYYY-MM-DD)")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return int(np.datetime64(stamp.to_datetime64(), "D").astype(np.int64))


def day_to_date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def _place(index: int, first_line: int | None) -> str:
    """Where the row at position `index` is: "row 3" of the table, or "line 4" of the file it came from."""
    return f"row {index + 1}" if first_line is None else f"line {first_line + index}"


def _refuse_unread(
    column: pd.Series, parsed: pd.Series, name: str, what: str, hint: str = "", first_line: int | None = None
) -> None:
    """AnalyticsInputError for values present in the column that parsing turned into missing ones."""
    bad = parsed.isna() & column.notna()
    if bad.any():
        first = int(bad.to_numpy().argmax())
        raise AnalyticsInputError(
            f"column {name!r}: {int(bad.sum())} value(s) are not {what}, e.g. {column.iloc[first]!r} "
            f"on {_place(first, first_line)}{hint}"
        )


def _dates(column: pd.Series, name: str, first_line: int | None = None) -> np.ndarray:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        parsed = pd.to_datetime(column, errors="coerce", format="ISO8601", utc=True)
        if (parsed.isna() & column.notna()).any():  # not all ISO: also read 2026/1/5 and the like, row by row
            parsed = pd.to_datetime(column, errors="coerce", format="mixed", utc=True)
        _refuse_unread(column, parsed, name, "dates", " (use YYYY-MM-DD)", first_line)
        column = parsed.dt.tz_localize(None)
    if column.isna().any():
        first = int(column.isna().to_numpy().argmax())
        raise AnalyticsInputError(
            f"column {name!r}: {int(column.isna().sum())} row(s) have no date, e.g. {_place(first, first_line)}"
        )
    return column.to_numpy().astype("datetime64[D]").astype(np.int64)


def _amounts(column: pd.Series, name: str, first_line: int | None = None) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        numbers = pd.to_numeric(column, errors="coerce")
        _refuse_unread(column, numbers, name, "numbers", first_line=first_line)
        column = numbers
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(values).any():
        first = int(np.isnan(values).argmax())
        raise AnalyticsInputError(
            f"column {name!r}: {int(np.isnan(values).sum())} row(s) have no amount, e.g. {_place(first, first_line)}"
        )
    if not np.isfinite(values).all():
        raise AnalyticsInputError(f"column {name!r}: amounts must be finite numbers")
    negative = values < 0
    if negative.any():
        first = int(negative.argmax())
        raise AnalyticsInputError(
            f"column {name!r}: {int(negative.sum())} negative amount(s), e.g. {column.iloc[first]} "
            f"on {_place(first, first_line)}; "
            "remove refunds or net them against their purchase first"
        )
    return values


def _factorize(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Customer numbers in sorted id order; whole-number ids in a compact range skip the hash table."""
    if pd.api.types.is_integer_dtype(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        values = ids.to_numpy(dtype=np.int64)
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * len(values) + 1_000:
            present = np.bincount(values - low, minlength=high - low + 1) > 0
            number = np.cumsum(present) - 1
            return number[values - low], pd.Index(np.flatnonzero(present) + low)
    codes, customers = pd.factorize(ids, sort=True)
    return codes, pd.Index(customers)


def _refuse_later(days: np.ndarray, end: int, what: str, date_col: str, first_line: int | None) -> None:
    late = days > end
    if late.any():
        first = int(late.argmax())
        raise AnalyticsInputError(
            f"column {date_col!r}: {int(late.sum())} transaction(s) dated after {what}, "
            f"e.g. {day_to_date(days[first]).isoformat()} on {_place(first, first_line)}"
        )


def read_transactions(
    frame: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    as_of: str | dt.date | None = None,
    today: dt.date | None = None,
    first_line: int | None = None,
) -> Transactions:
    """Check a transactions DataFrame and return it as arrays.

    Raises AnalyticsInputError naming the problem: a missing column, no rows, rows without a customer or
    with an unreadable date or amount, a negative amount, or a transaction dated after `as_of` (the
    end of the observation period; default: the last transaction's date). With `today`, a transaction
    dated after it, or an `as_of` after it, is refused too (a date in the future is a typo or a wrong
    column). Rows are named "row N" of the table, or "line N" of a file whose first row is on line
    `first_line` (2 for a CSV file with a header row).
    """
    if not isinstance(frame, pd.DataFrame):
        raise AnalyticsInputError("transactions must be a table (a pandas DataFrame)")
    wanted = [c for c in (customer_col, date_col, amount_col) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        columns = ", ".join(map(str, frame.columns))
        raise AnalyticsInputError(f"missing column(s) {', '.join(map(repr, missing))} (columns: {columns})")
    if len(frame) == 0:
        raise AnalyticsInputError("no transactions: the table has no rows")
    ids = frame[customer_col]
    if ids.isna().any():
        first = int(ids.isna().to_numpy().argmax())
        raise AnalyticsInputError(
            f"column {customer_col!r}: {int(ids.isna().sum())} row(s) have no customer, "
            f"e.g. {_place(first, first_line)}"
        )
    codes, customers = _factorize(ids)
    days = _dates(frame[date_col], date_col, first_line)
    amounts = _amounts(frame[amount_col], amount_col, first_line) if amount_col is not None else None
    end = int(days.max()) if as_of is None else day_number(as_of)
    if today is not None:
        if as_of is not None and end > day_number(today):
            raise AnalyticsInputError(
                f"as_of: {day_to_date(end).isoformat()} is in the future (today is {today.isoformat()})"
            )
        _refuse_later(days, day_number(today), f"today ({today.isoformat()})", date_col, first_line)
    _refuse_later(days, end, f"the as-of date {day_to_date(end).isoformat()}", date_col, first_line)
    return Transactions(customers, codes.astype(np.int64, copy=False), days, amounts, end)

"""Reading the analytics' input files: encoding as the import detects it, clear errors, no Django."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from guanxi.analytics.errors import AnalyticsInputError
from guanxi.customers.fileio.errors import FileFormatError
from guanxi.customers.fileio.textio import SAMPLE, detect_encoding
from guanxi.customers.fileio.writers import neutralise


def encoding_of(path: str | Path) -> str:
    """The file's encoding (UTF-8, GB18030, UTF-16/32 with BOM); refuses missing, empty and binary files."""
    path = Path(path)
    if not path.is_file():
        raise AnalyticsInputError(f"{path}: no such file")
    with path.open("rb") as fh:
        head = fh.read(SAMPLE)
    if not head.strip():
        raise AnalyticsInputError(f"{path}: empty file")
    try:
        return detect_encoding(head, complete=len(head) < SAMPLE)
    except FileFormatError as e:
        raise AnalyticsInputError(f"{path}: {e.text}")


def read_table(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A CSV file with a header row as text columns (types are the caller's business)."""
    encoding = encoding_of(path)
    try:
        header = pd.read_csv(path, nrows=0, encoding=encoding).columns
        if columns is not None:
            missing = [c for c in columns if c not in header]
            if missing:
                raise AnalyticsInputError(
                    f"{path}: no column(s) {', '.join(map(repr, missing))} (columns: {', '.join(header)})"
                )
        table = pd.read_csv(path, usecols=columns, dtype=str, keep_default_na=False, encoding=encoding)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise AnalyticsInputError(f"{path}: not a readable CSV file ({str(e).strip().splitlines()[0]})")
    if table.empty:
        raise AnalyticsInputError(f"{path}: a header but no rows")
    return table


def read_baskets(path: str | Path) -> list[list[str]]:
    """One basket per line, items separated by commas (blank lines are empty baskets)."""
    encoding = encoding_of(path)
    with open(path, encoding=encoding, newline="") as fh:
        try:
            return [[i.strip() for i in row if i.strip()] for row in csv.reader(fh)]
        except (csv.Error, UnicodeDecodeError) as e:
            raise AnalyticsInputError(f"{path}: not a readable CSV file ({e})")


def json_value(value: Any) -> Any:
    """JSON has no infinity nor NaN: those become null; sets become sorted lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (set, frozenset)):
        return sorted(map(str, value))
    return value.item() if hasattr(value, "item") else value


def write_rows(rows: Iterable[dict[str, Any]], headers: Sequence[str], fmt: str, output: str | None) -> None:
    """Rows as CSV (cells neutralised against spreadsheet formulas) or JSON, to a file or stdout."""
    buffer = io.StringIO() if output is None else None
    try:
        fh = buffer if buffer is not None else open(output, "w", encoding="utf-8", newline="")
    except OSError as e:
        raise AnalyticsInputError(f"cannot write {output}: {e.strerror or e}")
    with fh:
        if fmt == "json":
            json.dump([{k: json_value(r[k]) for k in headers} for r in rows], fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        else:
            writer = csv.writer(fh)
            writer.writerow(headers)
            for r in rows:
                writer.writerow([r[k] if isinstance(r[k], (int, float)) else neutralise(r[k]) for k in headers])
        if buffer is not None:
            sys.stdout.write(buffer.getvalue())

"""Export writers that stream: CSV and rejected-rows CSV as byte chunks, XLSX through openpyxl's
write-only mode (rows go to a temporary file as they come, so memory stays flat)."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

_CHUNK = 64 * 1024
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A number or phone number cannot call a function, so "+86 138 0013 8000" and "-12.5" stay as they are
# rather than gaining a quote that would end up in the data when the file is imported again.
_NUMERIC = re.compile(r"[+-]?[0-9][0-9 ().-]*")
# Control characters: not allowed in XLSX at all, and a NUL makes our own reader refuse a CSV or vCard as binary
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Rowlike = Mapping[str, Any] | Sequence[Any]


def neutralise(value: Any) -> str:
    """Cell text that a spreadsheet will not run as a formula (CSV injection): `'` before =, +, -, @.

    Control characters are dropped on the way."""
    text = "" if value is None else str(value)
    if not text.isprintable():
        text = CONTROL.sub("", text)
    if text.startswith(_TRIGGERS) and not _NUMERIC.fullmatch(text):
        return "'" + text
    return text


def _cells(row: Rowlike, headers: Sequence[str]) -> list[Any]:
    if isinstance(row, Mapping):
        return [row.get(h) for h in headers]
    return list(row)


def csv_chunks(headers: Sequence[str], rows: Iterable[Rowlike], *, bom: bool = True,
               delimiter: str = ",") -> Iterator[bytes]:
    """UTF-8 CSV bytes, header first, in ~64 KiB chunks. The BOM makes Excel read Chinese as UTF-8.

    Rows are mappings (looked up by header) or sequences in header order; every cell is neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    prefix = b"\xef\xbb\xbf" if bom else b""
    for row in rows:
        writer.writerow([neutralise(v) for v in _cells(row, headers)])
        if buffer.tell() >= _CHUNK:
            yield prefix + buffer.getvalue().encode("utf-8")
            prefix = b""
            buffer.seek(0)
            buffer.truncate()
    yield prefix + buffer.getvalue().encode("utf-8")


def _error_text(errors: Mapping[str | None, str | Sequence[str]] | Sequence[str] | str) -> str:
    if isinstance(errors, str):
        return errors
    if not isinstance(errors, Mapping):
        return "; ".join(errors)
    parts = []
    for column, messages in errors.items():
        for message in [messages] if isinstance(messages, str) else messages:
            parts.append(f"{column}: {message}" if column else message)
    return "; ".join(parts)


def rejected_csv_chunks(headers: Sequence[str],
                        rejects: Iterable[tuple[Rowlike, Mapping[str | None, str | Sequence[str]] | Sequence[str]]],
                        *, errors_header: str = "errors") -> Iterator[bytes]:
    """The rejected rows as CSV to fix and upload again: the original columns plus one column of reasons.

    `rejects` yields (row, errors); errors map a column to its message(s) ("手机: not a valid phone number"),
    with None for the row as a whole, or are a plain list of messages. Messages arrive already translated."""
    rows = ([*_cells(row, headers), _error_text(errors)] for row, errors in rejects)
    yield from csv_chunks([*headers, errors_header], rows)


def write_xlsx(file: IO[bytes] | str, headers: Sequence[str], rows: Iterable[Rowlike], *,
               title: str = "Sheet1") -> int:
    """Write a one-sheet workbook to a binary file object or path; returns the number of data rows."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet1")

    def cell(value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if not isinstance(value, str):
            return value if hasattr(value, "isoformat") else str(value)
        value = CONTROL.sub("", value)
        if value.startswith("="):  # openpyxl would store it as a formula; keep it as the text it is
            text = WriteOnlyCell(sheet, value=value)
            text.data_type = "s"
            return text
        return value

    sheet.append([cell(h) for h in headers])
    count = 0
    for row in rows:
        sheet.append([cell(v) for v in _cells(row, headers)])
        count += 1
    book.save(file)
    return count


def xlsx_chunks(headers: Sequence[str], rows: Iterable[Rowlike], *, title: str = "Sheet1") -> Iterator[bytes]:
    """The workbook as byte chunks for a streamed download; it is built in a temporary file, not memory."""
    with tempfile.TemporaryFile() as spool:
        write_xlsx(spool, headers, rows, title=title)
        spool.seek(0)
        while chunk := spool.read(_CHUNK):
            yield chunk

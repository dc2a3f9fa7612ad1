"""Rows out of an uploaded file (CSV, XLSX or vCard), lazily, in constant memory.

`open_rows(file, filename)` reads just enough to know the format, encoding and header, and returns a
`Table`: `table.headers`, then `for row in table` yields `Row(line, values, problems)` one at a time.
Anything that makes the whole file unreadable raises `FileFormatError`; a bad row (ragged, unparsable)
is a `Row` with problems and the rest of the file goes on."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import IO, Any

from .errors import FileFormatError, Problem, Row, gettext_noop
from .textio import DEFAULT_MAX_BYTES, TextLines, buffered, human_size, open_binary, read_head

RAGGED = gettext_noop("This row has %(count)s values but the header has %(width)s columns.")
BAD_CSV = gettext_noop("This row is not valid CSV (%(detail)s); a quote may be missing.")
EMPTY = gettext_noop("The file is empty: it has no header row.")
OLD_EXCEL = gettext_noop("Old Excel files (.xls) cannot be read. Save the sheet as .xlsx or CSV and try again.")
BAD_XLSX = gettext_noop("The Excel file cannot be read: it is damaged or not an .xlsx workbook.")
NO_SHEET = gettext_noop("The workbook has no sheet named \"%(sheet)s\".")
XLSX_TOO_LARGE = gettext_noop("The Excel file unpacks to %(size)s; the limit is %(limit)s.")

DELIMITERS = ",;\t"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc) container
_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
            ".vcf": "vcard", ".vcard": "vcard", ".xls": "xls"}


class Table:
    """An opened file: its format, encoding, headers, and its rows as a one-pass iterator."""

    def __init__(self, fmt: str, headers: list[str], rows: Iterator[Row], lines: TextLines | None = None,
                 delimiter: str = "", close: Callable[[], None] | None = None) -> None:
        self.format = fmt
        self.headers = headers
        self.delimiter = delimiter
        self._lines = lines
        self._rows = rows
        self._close = close

    @property
    def encoding(self) -> str:
        """The text encoding ("" for a workbook); may change from utf-8 to gb18030 while an ASCII start is read."""
        return self._lines.encoding if self._lines else ""

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        if self._close:
            self._close()
            self._close = None

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_rows(source: str | os.PathLike[str] | IO[bytes], filename: str = "", *,
              max_bytes: int = DEFAULT_MAX_BYTES, sheet: str | None = None, encoding: str | None = None) -> Table:
    """Open an upload (a path or a binary file object) and return its `Table`.

    The format comes from the content where that is unambiguous (a zip is a workbook, BEGIN:VCARD a
    vCard), else from the file name's extension, else CSV. `encoding` overrides detection (CSV, vCard)."""
    stream, owned = open_binary(source, max_bytes)
    try:
        head = read_head(stream)
        fmt = _format(filename or str(getattr(source, "name", "") or ""), head)
        if fmt == "xls":
            raise FileFormatError(OLD_EXCEL)
        if fmt == "xlsx":
            table = read_xlsx(_seekable(stream, head, max_bytes), sheet=sheet, max_bytes=max_bytes)
        else:
            lines = TextLines(buffered(stream, head, max_bytes), head, encoding)
            if fmt == "vcard":
                from .vcard import read_vcard  # vcard imports this module's Table

                table = read_vcard(lines)
            else:
                table = read_csv(lines)
    except BaseException:
        if owned:
            stream.close()
        raise
    if owned:
        inner = table._close
        table._close = lambda: (inner and inner(), stream.close())
    return table


def _format(filename: str, head: bytes) -> str:
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE):
        return "xls"
    start = head[:200].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if start.startswith(b"BEGIN:VCARD") or start.replace(b"\x00", b"").startswith(b"\xff\xfeBEGIN:VCARD"):
        return "vcard"
    return _FORMATS.get(os.path.splitext(filename.lower())[1], "csv")


def _seekable(stream: IO[bytes], head: bytes, max_bytes: int) -> IO[bytes]:
    """openpyxl needs to seek; a pipe is spooled to a temporary file first (within the size limit)."""
    try:
        if stream.seekable():
            stream.seek(stream.tell() - len(head))
            return stream
    except (AttributeError, OSError, ValueError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    shutil.copyfileobj(buffered(stream, head, max_bytes), spool)
    spool.seek(0)
    return spool


# CSV -----------------------------------------------------------------------------------------------


def sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: whichever of comma, semicolon and tab occurs most outside quotes.

    Only the header is looked at because csv.Sniffer is slow and fails on one-column files and on
    sample cuts inside quoted fields; headers rarely hold quoted delimiters."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def unique_headers(cells: Iterable[str]) -> list[str]:
    """Header names stripped, blanks named by position, repeats numbered, so each is a distinct key."""
    seen: set[str] = set()
    headers = []
    for i, cell in enumerate(cells, 1):
        name = cell.strip().lstrip("\ufeff").strip() or f"column {i}"
        base, n = name, 1
        while name in seen:
            n += 1
            name = f"{base} ({n})"
        seen.add(name)
        headers.append(name)
    return headers


def read_csv(lines: TextLines) -> Table:
    """A CSV table from decoded lines: skips leading blank lines and Excel's `sep=;` hint, reads the header."""
    it = iter(lines)
    first = ""
    for first in it:
        if first.strip():
            break
    else:
        raise FileFormatError(EMPTY)
    header_line = lines.line
    stripped = first.strip()
    if stripped.lower().startswith("sep=") and len(stripped) == 5:
        delimiter, pending = stripped[4], []
    else:
        delimiter, pending = sniff_delimiter(first), [first]
    # strict: a stray quote or a quote never closed is reported on its row instead of silently
    # swallowing the rest of the file into one cell
    reader = csv.reader(chain(pending, it), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileFormatError(EMPTY)
    except csv.Error as e:
        raise FileFormatError(BAD_CSV, line=header_line, params={"detail": str(e)})
    headers = unique_headers(header)
    return Table("csv", headers, _csv_rows(reader, lines, headers), lines, delimiter)


def _csv_rows(reader: Any, lines: TextLines, headers: list[str]) -> Iterator[Row]:
    width = len(headers)
    end = lines.line
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:  # the reader starts afresh on the next line, so the file goes on
            end = lines.line
            yield Row(start, {}, [Problem(BAD_CSV, {"detail": str(e)})])
            continue
        end = lines.line
        row = _row(start, cells, headers, width)
        if row is not None:
            yield row


def _row(line: int, cells: list[str], headers: list[str], width: int) -> Row | None:
    """A Row from cells, or None for a blank row; a ragged row keeps what fits and says so."""
    count = len(cells)
    if count == width:
        if not any(cells) or not "".join(cells).strip():
            return None
        return Row(line, dict(zip(headers, cells, strict=False)))
    while count > width and not cells[count - 1].strip():
        count -= 1  # trailing empty cells (an extra delimiter at the end) are not ragged
    if not "".join(cells).strip():
        return None
    values = dict(zip(headers, cells, strict=False))
    for key in headers[len(cells):]:
        values[key] = ""
    problems = [] if count == width else [Problem(RAGGED, {"count": count, "width": width})]
    return Row(line, values, problems)


# XLSX ----------------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell value as the text the user saw: dates as ISO, whole numbers without ".0", formulas as written."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # a phone number typed as a number must not come back as 13800138000.0
    return str(value)


def read_xlsx(file: IO[bytes], sheet: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """The first (or the named) sheet of a workbook, read-only and streaming; formulas are kept as text."""
    import openpyxl  # only workbook imports pay for loading it

    start = file.tell()
    try:
        with zipfile.ZipFile(file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileFormatError(BAD_XLSX)
    if unpacked > 4 * max_bytes:  # sheet XML is ~5-10x its zip; a zip bomb is far more
        raise FileFormatError(XLSX_TOO_LARGE, params={"size": human_size(unpacked), "limit": human_size(4 * max_bytes)})
    file.seek(start)
    try:
        # data_only=False: a formula comes back as its text ("=A1*2"), never a computed or cached value
        book = openpyxl.load_workbook(file, read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises a dozen types for a damaged workbook; all mean the same to the user
        raise FileFormatError(BAD_XLSX)
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise FileFormatError(NO_SHEET, params={"sheet": sheet})
    if not book.sheetnames:
        book.close()
        raise FileFormatError(EMPTY)
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    rows = _xlsx_cells(ws)
    try:
        for _line, cells in rows:
            if any(c.strip() for c in cells):
                break
        else:
            book.close()
            raise FileFormatError(EMPTY)
    except FileFormatError:
        raise
    except Exception:
        book.close()
        raise FileFormatError(BAD_XLSX)
    while cells and not cells[-1].strip():
        cells.pop()  # sheets often report more columns than hold data
    headers = unique_headers(cells)
    return Table("xlsx", headers, _xlsx_rows(rows, headers), close=book.close)


def _xlsx_cells(ws: Any) -> Iterator[tuple[int, list[str]]]:
    for line, values in enumerate(ws.iter_rows(values_only=True), 1):
        yield line, [cell_text(v) for v in values]


def _xlsx_rows(rows: Iterator[tuple[int, list[str]]], headers: list[str]) -> Iterator[Row]:
    width = len(headers)
    line = 0
    try:
        for line, cells in rows:
            row = _row(line, cells, headers, width)
            if row is not None:
                yield row
    except Exception:  # damage found halfway through the sheet's XML
        raise FileFormatError(BAD_XLSX, line=line + 1)

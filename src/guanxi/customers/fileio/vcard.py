"""vCard in (2.1, 3.0, 4.0) and out (4.0), as rows with the same column names the mapping uses.

Reading: lines are unfolded (a line starting with a space or tab continues the one before; in 2.1
quoted-printable a line ending in "=" does), then each card becomes one Row. A line that is not a
vCard property becomes a problem of its card (or one row for a run of stray lines between cards),
never an exception. Writing: RFC 6350 escaping, lines folded at 75 octets without splitting a UTF-8
character; what `vcard_chunks` writes, `read_vcard` reads back equal."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .errors import FileFormatError, Problem, Row, gettext_noop
from .readers import Table
from .textio import TextLines
from .writers import CONTROL

COLUMNS = ("name", "family_name", "given_name", "account", "department", "title", "mobile", "phone", "email",
           "other_phones", "other_emails", "address", "street", "district", "city", "province", "postcode",
           "country", "birthday", "website", "tags", "notes", "external_id")

NOT_VCARD = gettext_noop("This is not a vCard file: it does not start with BEGIN:VCARD.")
GARBAGE = gettext_noop("Line %(line)s is not a vCard property and was ignored: %(text)s")
STRAY = gettext_noop("Lines %(first)s to %(last)s are outside any vCard and were ignored.")
NOT_CLOSED = gettext_noop("This vCard has no END:VCARD line.")
VERSION = gettext_noop("vCard version %(version)s is not supported; read as 4.0.")
CHARSET = gettext_noop("The %(property)s value could not be decoded (charset %(charset)s).")
TOO_MANY = gettext_noop("%(count)s more problems in this vCard.")

_NAME = re.compile(r"(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)")
_ESCAPED = re.compile(r"\\(.)", re.S)
_PART = re.compile(r"\\.|[^\\]", re.S)
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?")
_MAX_PROBLEMS = 20
_MAX_LINES = 2000  # a card longer than this is a file without END lines; keeps memory flat


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPED.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split(value: str, sep: str) -> list[str]:
    """Split on separators that are not backslash-escaped; the parts stay escaped."""
    if "\\" not in value:
        return value.split(sep)
    parts, current = [], []
    for m in _PART.finditer(value):
        token = m.group()
        if token == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(token)
    parts.append("".join(current))
    return parts


def _outside_quotes(text: str, seps: str) -> Iterator[int]:
    quoted = False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif not quoted and char in seps:
            yield i


def _colon(line: str) -> int:
    colon = line.find(":")
    quote = line.find('"')
    if quote == -1 or colon < quote:
        return colon
    return next(_outside_quotes(line, ":"), -1)


def _split_outside(text: str, sep: str) -> list[str]:
    parts, start = [], 0
    for i in _outside_quotes(text, sep):
        parts.append(text[start:i])
        start = i + 1
    parts.append(text[start:])
    return parts


def _param_value(text: str) -> str:
    # RFC 6868: ^n newline, ^' double quote, ^^ caret
    text = text.strip().strip('"')
    if "^" not in text:
        return text
    return re.sub(r"\^([n'^])", lambda m: {"n": "\n", "'": '"', "^": "^"}[m.group(1)], text)


def parse_line(line: str) -> tuple[str, dict[str, list[str]], str] | None:
    """(NAME, params, raw value) of one unfolded content line, or None when it is not one."""
    colon = _colon(line)
    if colon <= 0:
        return None
    parts = _split_outside(line[:colon], ";")
    match = _NAME.fullmatch(parts[0].strip())
    if not match:
        return None
    params: dict[str, list[str]] = {}
    for part in parts[1:]:
        key, eq, value = part.partition("=")
        if not eq:  # vCard 2.1 bare parameters: TEL;CELL;VOICE, ;QUOTED-PRINTABLE
            key, value = "TYPE", part
            if part.strip().upper() in ("QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT"):
                key = "ENCODING"
        key = key.strip().upper()
        if key == "TYPE":  # TYPE=cell,voice and TYPE="cell,voice" alike
            params.setdefault(key, []).extend(t.strip() for t in _param_value(value).split(","))
        else:
            params.setdefault(key, []).append(_param_value(value))
    return match.group(1).upper(), params, line[colon + 1:]


def _logical_lines(lines: TextLines) -> Iterator[tuple[int, str]]:
    """(first physical line, unfolded line) pairs; blank lines dropped."""
    pending: str | None = None
    start = 0
    for physical in lines:
        text = physical.rstrip("\r\n")
        if pending is not None:
            if pending.endswith("=") and "QUOTED-PRINTABLE" in pending[: max(_colon(pending), 0)].upper():
                pending = pending[:-1] + text  # quoted-printable soft line break
                continue
            if text[:1] in (" ", "\t"):
                pending += text[1:]
                continue
            yield start, pending
            pending = None
        if text.strip():
            pending, start = text, lines.line
    if pending is not None:
        yield start, pending


class _Card:
    def __init__(self, line: int) -> None:
        self.line = line
        self.values = dict.fromkeys(COLUMNS, "")
        self.others: dict[str, list[str]] = {"other_phones": [], "other_emails": []}
        self.problems: list[Problem] = []
        self.hidden = 0
        self.lines = 0
        self.has_adr = False

    def problem(self, problem: Problem) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.hidden += 1

    def row(self, closed: bool) -> Row:
        if not closed:
            self.problem(Problem(NOT_CLOSED))
        if self.hidden:
            self.problems.append(Problem(TOO_MANY, {"count": self.hidden}))
        values = self.values
        for key, items in self.others.items():
            values[key] = ", ".join(items)
        if not values["name"] and (values["family_name"] or values["given_name"]):
            values["name"] = _full_name(values["family_name"], values["given_name"])
        return Row(self.line, values, self.problems)

    def add(self, line: int, text: str) -> None:
        self.lines += 1
        parsed = parse_line(text)
        if parsed is None:
            self.problem(Problem(GARBAGE, {"line": line, "text": text[:80]}))
            return
        name, params, raw = parsed
        encoding = (params.get("ENCODING") or [""])[0].upper()
        if encoding in ("B", "BASE64"):
            return  # photos and sounds: nothing we import
        if encoding == "QUOTED-PRINTABLE":
            raw = self._quoted_printable(name, params, raw)
        self._property(name, params, raw)

    def _quoted_printable(self, name: str, params: dict[str, list[str]], raw: str) -> str:
        data = binascii.a2b_qp(raw.encode("utf-8", "surrogateescape"))
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        for candidate in (charset, "utf-8", "gb18030"):
            try:
                return data.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
        self.problem(Problem(CHARSET, {"property": name, "charset": charset}))
        return data.decode("utf-8", "replace")

    def _property(self, name: str, params: dict[str, list[str]], raw: str) -> None:
        values = self.values
        simple = _SIMPLE.get(name)
        if simple:
            if not values[simple]:
                values[simple] = _unescape(raw)
        elif name == "N":
            parts = [_unescape(p) for p in _split(raw, ";")] + ["", ""]
            values["family_name"], values["given_name"] = parts[0], parts[1]
        elif name == "ORG":
            parts = [_unescape(p) for p in _split(raw, ";")]
            values["account"], values["department"] = parts[0], ";".join(parts[1:])
        elif name == "TEL":
            number = _unescape(raw).strip()
            number = number[4:] if number.lower().startswith("tel:") else number
            types = {t.lower() for t in params.get("TYPE", ())}
            slot = "mobile" if types & {"cell", "mobile", "iphone"} else "phone"
            if values[slot] or "fax" in types or "pager" in types:
                self.others["other_phones"].append(number)
            else:
                values[slot] = number
        elif name == "EMAIL":
            if values["email"]:
                self.others["other_emails"].append(_unescape(raw).strip())
            else:
                values["email"] = _unescape(raw).strip()
        elif name == "ADR" and not self.has_adr:
            self.has_adr = True
            parts = [_unescape(p) for p in _split(raw, ";")] + [""] * 7
            values["street"] = " ".join(p for p in parts[:3] if p)
            values["city"], values["province"], values["postcode"], values["country"] = parts[3:7]
            if params.get("LABEL") and not values["address"]:
                values["address"] = params["LABEL"][0]
        elif name == "CATEGORIES":
            values["tags"] = ", ".join(_unescape(t).strip() for t in _split(raw, ",") if t.strip())
        elif name == "BDAY":
            text = _unescape(raw).strip()
            match = _ISO_DATE.fullmatch(text)
            is_text = "text" in [v.lower() for v in params.get("VALUE", ())]
            values["birthday"] = f"{match[1]}-{match[2]}-{match[3]}" if match and not is_text else text
        elif name == "VERSION" and raw.strip() not in ("2.1", "3.0", "4.0"):
            self.problem(Problem(VERSION, {"version": raw.strip()[:20]}))


_SIMPLE = {"FN": "name", "TITLE": "title", "NOTE": "notes", "URL": "website", "UID": "external_id",
           "LABEL": "address", "X-GUANXI-DISTRICT": "district"}


def _full_name(family: str, given: str) -> str:
    # Chinese names run family-given without a space; Latin ones given-family
    if any("\u3400" <= c <= "\u9fff" for c in family + given):
        return family + given
    return " ".join(p for p in (given, family) if p)


def read_vcard(lines: TextLines) -> Table:
    """A Table of the cards in decoded lines; columns are COLUMNS whatever the card holds."""
    logical = _logical_lines(lines)
    first = next(logical, None)
    if first is None or first[1].strip().upper() != "BEGIN:VCARD":
        raise FileFormatError(NOT_VCARD, line=first[0] if first else None)
    return Table("vcard", list(COLUMNS), _cards(first, logical), lines)


def _cards(first: tuple[int, str], logical: Iterator[tuple[int, str]]) -> Iterator[Row]:
    card: _Card | None = None
    stray: list[int] = []  # first and last stray line between cards
    for line, text in _chain(first, logical):
        marker = text.strip().upper()
        if marker == "BEGIN:VCARD":
            if card is not None:
                yield card.row(closed=False)
            if stray:
                yield Row(stray[0], {}, [Problem(STRAY, {"first": stray[0], "last": stray[-1]})])
                stray = []
            card = _Card(line)
        elif card is None:
            stray = [stray[0] if stray else line, line]
        elif marker == "END:VCARD":
            yield card.row(closed=True)
            card = None
        elif card.lines >= _MAX_LINES:
            yield card.row(closed=False)
            card = None
            stray = [line, line]
        else:
            card.add(line, text)
    if card is not None:
        yield card.row(closed=False)
    if stray:
        yield Row(stray[0], {}, [Problem(STRAY, {"first": stray[0], "last": stray[-1]})])


def _chain(first: tuple[int, str], rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield first
    yield from rest


# writing -------------------------------------------------------------------------------------------

_CHUNK = 64 * 1024


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return text if text.isprintable() else CONTROL.sub("", text)


def escape(value: Any) -> str:
    """A text value escaped for vCard 4.0: backslash, comma, semicolon and newline."""
    return (_text(value).replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\n", "\\n"))


def _param(value: str) -> str:
    return '"' + value.replace("^", "^^").replace("\n", "^n").replace('"', "^'") + '"'


def fold(line: str) -> bytes:
    """A content line as UTF-8, folded so no physical line exceeds 75 octets, never inside a character."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return data
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: back to the start
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # continuation lines start with a space, which counts
    return b"\r\n ".join(parts)


def _split_list(value: Any) -> list[str]:
    return [p.strip() for p in _text(value).replace("，", ",").split(",") if p.strip()]


def vcard_lines(row: Mapping[str, Any], kind: str = "individual") -> list[str]:
    """The unfolded content lines of one vCard 4.0 for a row with COLUMNS keys (missing keys are blank)."""
    def get(key: str) -> str:
        return _text(row.get(key))

    name = get("name") or _full_name(get("family_name"), get("given_name")) or get("account") or get("email")
    out = ["BEGIN:VCARD", "VERSION:4.0"]
    if kind == "org":
        out.append("KIND:org")
    out.append("FN:" + escape(name))
    if get("family_name") or get("given_name"):
        out.append(f"N:{escape(get('family_name'))};{escape(get('given_name'))};;;")
    if get("account") or get("department"):
        out.append("ORG:" + escape(get("account")) + (";" + escape(get("department")) if get("department") else ""))
    if get("title"):
        out.append("TITLE:" + escape(get("title")))
    if get("mobile"):
        out.append("TEL;TYPE=cell:" + escape(get("mobile")))
    if get("phone"):
        out.append("TEL;TYPE=voice:" + escape(get("phone")))
    out.extend("TEL;TYPE=voice:" + escape(p) for p in _split_list(row.get("other_phones")))
    if get("email"):
        out.append("EMAIL:" + escape(get("email")))
    out.extend("EMAIL:" + escape(e) for e in _split_list(row.get("other_emails")))
    parts = [get(k) for k in ("street", "city", "province", "postcode", "country")]
    if any(parts) or get("address"):
        label = ";LABEL=" + _param(get("address")) if get("address") else ""
        out.append(f"ADR{label}:;;" + ";".join(escape(p) for p in parts))
    if get("district"):  # vCard's ADR has no district; other programs ignore the X- property
        out.append("X-GUANXI-DISTRICT:" + escape(get("district")))
    birthday = get("birthday")
    if birthday:
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", birthday)
        out.append(f"BDAY:{match[1]}{match[2]}{match[3]}" if match else "BDAY;VALUE=text:" + escape(birthday))
    if get("website"):
        out.append("URL:" + escape(get("website")))
    tags = _split_list(row.get("tags"))
    if tags:
        out.append("CATEGORIES:" + ",".join(escape(t) for t in tags))
    if get("notes"):
        out.append("NOTE:" + escape(get("notes")))
    if get("external_id"):
        out.append("UID;VALUE=text:" + escape(get("external_id")))
    out.append("END:VCARD")
    return out


def vcard_chunks(rows: Iterable[Mapping[str, Any]], kind: str = "individual") -> Iterator[bytes]:
    """vCard 4.0 bytes for rows, in chunks of about 64 KiB: memory stays flat however many rows."""
    buffer: list[bytes] = []
    size = 0
    for row in rows:
        for line in vcard_lines(row, kind):
            data = fold(line)
            buffer.append(data)
            size += len(data) + 2
        if size >= _CHUNK:
            yield b"\r\n".join(buffer) + b"\r\n"
            buffer, size = [], 0
    if buffer:
        yield b"\r\n".join(buffer) + b"\r\n"

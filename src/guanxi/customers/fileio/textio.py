"""Bytes in, text lines out: the size limit, encoding detection and exact line numbers for decoding errors.

Only UTF-8 (with or without BOM), GB18030 (a superset of GBK and GB2312, so it also reads what Chinese
Excel saves as "CSV") and UTF-16/32 with a BOM are expected, so detection is hand-written: a BOM decides;
otherwise the first 64 KiB must decode strictly as UTF-8, else as GB18030, else the file is refused with
the line of the first bad byte. A general-purpose guesser (charset-normalizer) would add a dependency and
guess Latin codepages for files that are really broken, which we would rather refuse clearly."""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterator
from typing import IO, Any

from .errors import FileFormatError, gettext_noop

SAMPLE = 64 * 1024
DEFAULT_MAX_BYTES = 512 * 1024 * 1024  # far above 1M contact rows (~150 MB), far below a 2 GB upload
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

TOO_LARGE = gettext_noop("The file is %(size)s; the largest file that can be imported is %(limit)s.")
NOT_TEXT = gettext_noop("The file is not text in UTF-8, GB18030/GBK or UTF-16. Save it as \"CSV UTF-8\" "
                        "and try again.")
BAD_BYTES = gettext_noop("The text is not valid %(encoding)s here. Save the whole file as \"CSV UTF-8\" "
                         "and try again.")
BINARY = gettext_noop("The file contains binary data, not text.")


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)  # unreachable; keeps type checkers calm


def too_large(size: int, limit: int) -> FileFormatError:
    return FileFormatError(TOO_LARGE, params={"size": human_size(size), "limit": human_size(limit)})


def open_binary(source: str | os.PathLike[str] | IO[bytes], max_bytes: int) -> tuple[IO[bytes], bool]:
    """The binary stream to read and whether we opened it (and so must close it).

    The size is checked before anything is parsed when it can be known (a path, a seekable upload)."""
    if isinstance(source, str | os.PathLike):
        size = os.stat(source).st_size
        if size > max_bytes:
            raise too_large(size, max_bytes)
        return open(source, "rb"), True
    try:
        if source.seekable():
            here = source.tell()
            size = source.seek(0, io.SEEK_END) - here
            source.seek(here)
            if size > max_bytes:
                raise too_large(size, max_bytes)
    except (AttributeError, OSError, ValueError):
        pass  # not seekable: _Source counts bytes as they are read instead
    return source, False


def read_head(stream: IO[bytes], size: int = SAMPLE) -> bytes:
    """Up to `size` bytes from the start, looping over short reads (pipes, sockets)."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class _Source(io.RawIOBase):
    """The head already read, then the rest of the stream; stops with an error past max_bytes."""

    def __init__(self, stream: IO[bytes], head: bytes, max_bytes: int) -> None:
        self._stream = stream
        self._head = memoryview(head)
        self._count = len(head)
        self._max = max_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer)) or b""
        self._count += len(data)
        if self._count > self._max:
            raise too_large(self._count, self._max)
        buffer[: len(data)] = data
        return len(data)


def buffered(stream: IO[bytes], head: bytes, max_bytes: int) -> io.BufferedReader:
    """The whole stream again (head included) as a fast binary line iterator with the size limit."""
    return io.BufferedReader(_Source(stream, head, max_bytes), buffer_size=SAMPLE)


def _decodes(data: bytes, encoding: str, complete: bool) -> int | None:
    """None when `data` decodes strictly (a character cut at the end of a sample is fine), else the bad offset."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=complete)
        return None
    except UnicodeDecodeError as e:
        return e.start


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a BOM: NULs beside the ASCII characters (delimiters, line ends, digits at least)."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head[: len(head) // 2 * 2])
    except UnicodeDecodeError:
        return None
    if not text or "\x00" in text or sum(c < "\x80" for c in text) < len(text) * 0.2:
        return None  # random binary decodes as UTF-16 too, but not as text that is partly ASCII
    return encoding


def detect_encoding(head: bytes, complete: bool) -> str:
    """The encoding of a file from its first bytes; `complete` says the head is the whole file."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if 0 in head:
        utf16 = _utf16_without_bom(head)
        if utf16:
            return utf16
        raise FileFormatError(BINARY, line=head[: head.index(0)].count(b"\n") + 1)
    bad = _decodes(head, "utf-8", complete)
    if bad is None:
        return "utf-8"
    if _decodes(head, "gb18030", complete) is None:
        return "gb18030"
    raise FileFormatError(NOT_TEXT, line=head[:bad].count(b"\n") + 1)


class TextLines:
    """Decoded lines (line ends kept, as csv wants) with `line`, the number of the last one read.

    UTF-8 and GB18030 never use the byte 0x0A inside a character, so those files are split into lines as
    bytes and decoded line by line: a bad byte is reported on its exact line. A file whose first 64 KiB
    are plain ASCII may still turn out to be GB18030 further down (a list sorted by English names), so
    it stays undecided until the first non-ASCII line."""

    def __init__(self, stream: io.BufferedReader, head: bytes, encoding: str | None = None) -> None:
        self.stream = stream
        complete = len(head) < SAMPLE
        self.encoding = encoding or detect_encoding(head, complete)
        self.line = 0
        self._undecided = encoding is None and self.encoding == "utf-8" and head.isascii() and not complete
        # old Mac files end lines with CR alone: split by the text layer, which knows all line ends
        self._cr_only = b"\r" in head and b"\n" not in head

    def __iter__(self) -> Iterator[str]:
        if self._cr_only or self.encoding.startswith(("utf-16", "utf-32")):
            return self._wide()
        return self._narrow()

    def _narrow(self) -> Iterator[str]:
        encoding = self.encoding
        first = encoding == "utf-8-sig"
        for raw in self.stream:
            self.line += 1
            try:
                if first:
                    first = False
                    yield raw.decode("utf-8-sig")
                    encoding = "utf-8"
                    continue
                if self._undecided and not raw.isascii():
                    self._undecided = False
                    if _decodes(raw, "utf-8", True) is not None and _decodes(raw, "gb18030", True) is None:
                        encoding = self.encoding = "gb18030"
                yield raw.decode(encoding)
            except UnicodeDecodeError:
                raise FileFormatError(BAD_BYTES, line=self.line, params={"encoding": _label(encoding)})

    def _wide(self) -> Iterator[str]:
        text = io.TextIOWrapper(self.stream, encoding=self.encoding, newline="")
        try:
            for line in text:
                self.line += 1
                yield line
        except UnicodeDecodeError:
            # decoded in chunks, so the line is where the bad chunk starts: close, not exact
            raise FileFormatError(BAD_BYTES, line=self.line + 1, params={"encoding": _label(self.encoding)})


def _label(encoding: str) -> str:
    return {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "gb18030": "GB18030/GBK"}.get(encoding, encoding.upper())

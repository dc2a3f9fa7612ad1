"""An import's stored file: where it lives, its size limit, and reading it whole (the check before
writing) or a chunk of rows at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from guanxi.core.uploads import FORM_SLACK, refused_size

from .fileio import FileFormatError, Row, open_rows
from .fileio.textio import TOO_LARGE, human_size
from .import_models import Import

CHUNK = 2000  # rows per transaction: the checkpoint and undo unit


def max_bytes() -> int:
    """The largest upload (GUANXI_IMPORT_MAX_BYTES)."""
    return settings.IMPORT_MAX_BYTES


def refused_upload_message(request: HttpRequest) -> str | None:
    """Why the upload is missing when the cap (core.uploads) stopped it, in the words of a file found too
    large after upload: its size when the body announced it, "over the limit" when it was cut off."""
    size = refused_size(request)
    if size is None:
        return None
    shown = human_size(size) if size > max_bytes() + FORM_SLACK else _("over the limit")
    return _(TOO_LARGE) % {"size": shown, "limit": human_size(max_bytes())}


def import_dir() -> Path:
    path = Path(settings.HOME) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(imp: Import) -> Path:
    return import_dir() / imp.stored_name



def file_error(exc: FileFormatError) -> ValidationError:
    text = _(exc.message) % exc.params if exc.params else _(exc.message)
    if exc.line:
        text = _("Line %(line)d: %(message)s") % {"line": exc.line, "message": text}
    return ValidationError({"file": [text]})



def chunks(imp: Import, skip: int = 0) -> Iterator[tuple[int, list[Row]]]:
    """(number, rows) from chunk `skip` on; earlier chunks are read past, not processed."""
    with open_rows(file_path(imp), imp.file_name, max_bytes=max_bytes()) as table:
        rows: list[Row] = []
        number = passed = 0
        for row in table:
            if number < skip:
                passed += 1
                if passed == CHUNK:
                    number, passed = number + 1, 0
                continue
            rows.append(row)
            if len(rows) == CHUNK:
                yield number, rows
                number, rows = number + 1, []
        if rows:
            yield number, rows


def scan(imp: Import) -> int:
    """Read the whole file once before writing anything: a file that breaks halfway (bad bytes, a damaged
    workbook) is refused with nothing changed. Returns the number of rows."""
    count = 0
    with open_rows(file_path(imp), imp.file_name, max_bytes=max_bytes()) as table:
        for _row in table:
            count += 1
    return count

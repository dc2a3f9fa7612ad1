"""What the file layer reports: one exception for files it cannot read, and per-row problems.

Messages are plain English templates with %(name)s placeholders and their values kept apart, so the
caller (which has Django) can translate the template and then fill it in. `gettext_noop` below is a
local identity function with the name makemessages looks for, so the templates land in the catalogue
without this module importing Django."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def gettext_noop(message: str) -> str:
    """Marks a message for extraction; the caller translates it."""
    return message


def _fill(message: str, params: Mapping[str, Any]) -> str:
    try:
        return message % params if params else message
    except (KeyError, TypeError, ValueError):
        return message


class FileFormatError(Exception):
    """The file cannot be read at all (wrong encoding, too large, not the format it claims)."""

    def __init__(self, message: str, line: int | None = None, params: Mapping[str, Any] | None = None) -> None:
        self.message = message
        self.line = line
        self.params = dict(params or {})
        super().__init__(self.text)

    @property
    def text(self) -> str:
        """The English message filled in, with the line when there is one."""
        filled = _fill(self.message, self.params)
        return f"Line {self.line}: {filled}" if self.line else filled


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one row that does not stop the rest of the file."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return _fill(self.message, self.params)


@dataclass(slots=True)
class Row:
    """One record: the physical line (or sheet row) it starts on, its values by column, its problems.

    Unpacks as `line, values` so callers that ignore problems can write `for line, values in rows`."""

    line: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    def __iter__(self):
        yield self.line
        yield self.values

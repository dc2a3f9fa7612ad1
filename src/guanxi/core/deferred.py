"""Log rows (ticket events, audit entries) written together at the end of a block instead of one INSERT each.

A batch that files many records in one transaction (email ingest: 50 messages) opens `rows_saved_together()`;
inside it, `save_later(row)` keeps the unsaved row and `flush()` inserts what was kept, one bulk INSERT per model
in the order the rows were made (so their ids keep that order). Outside such a block `save_later` saves at once.
Only rows nothing reads back within the block belong here: append-only logs. `mark` and `drop_since` forget
the rows of a part rolled back to its savepoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)
_kept: ContextVar[list[models.Model] | None] = ContextVar("guanxi_rows_saved_together", default=None)


def save_later(row: M) -> M:
    """Save `row` now, or with the enclosing `rows_saved_together` block's flush (its pk is None until then)."""
    kept = _kept.get()
    if kept is None:
        row.save()
    else:
        kept.append(row)
    return row


@contextlib.contextmanager
def rows_saved_together() -> Iterator[None]:
    """Keep the `save_later` rows made inside; the caller calls `flush()` before its transaction commits. Rows
    still kept on leaving (an error before the flush) are dropped with the transaction they belonged to."""
    token = _kept.set([])
    try:
        yield
    finally:
        _kept.reset(token)


def flush() -> None:
    kept = _kept.get()
    if not kept:
        return
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for row in kept:
        by_model.setdefault(type(row), []).append(row)
    kept.clear()
    for model, rows in by_model.items():
        model.objects.bulk_create(rows)


def mark() -> int:
    kept = _kept.get()
    return len(kept) if kept is not None else 0


def drop_since(position: int) -> None:
    kept = _kept.get()
    if kept is not None:
        del kept[position:]

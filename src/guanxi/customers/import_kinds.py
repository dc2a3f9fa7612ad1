"""Record types another app makes importable (leads, from guanxi.sales.lead_import).

The pipeline stays this app's: upload, mapping guessed from the headers, preview, the job with its progress,
checkpoints, the rejected-rows file and undo. A registered kind supplies what differs per record type: loading
the row context, cleaning rows, deciding a chunk (match key, possible duplicates), writing it and undoing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guanxi.core.models import User

    from .fileio import Row
    from .import_models import Import, ImportBatch
    from .import_rows import Context, Item


@dataclass(frozen=True)
class ImportKind:
    match_keys: tuple[str, ...]
    load: Callable[[User, Import], Context]
    prepare: Callable[[Context, list[Row]], list[Item]]
    decide: Callable[[Context, list[Item]], list[Item]]
    # (created ids, undo log [[id, {column: before}, {}], ...]) for the chunk's new and updated items
    write: Callable[[Context, Import, list[Item], list[Item]], tuple[list[int], list[list]]]
    undo: Callable[[Import, ImportBatch, User], None]


_KINDS: dict[str, ImportKind] = {}


def register(target: str, kind: ImportKind) -> None:
    """Called from the owning app's AppConfig.ready()."""
    _KINDS[target] = kind


def kind_of(target: str) -> ImportKind | None:
    """The registered kind of `target`; None for contacts and accounts (this app's own code handles them)."""
    return _KINDS.get(target)

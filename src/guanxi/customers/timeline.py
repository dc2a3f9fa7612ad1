"""The 360° timeline: one chronological stream from every registered source.

A source is `fn(subject, user, limit, before) -> iterable of TimelineItem`, where `subject` is an
Account or a Contact. Other apps (activities, sales, service, contact centre) register theirs with
`@register`; the timeline merges them newest first.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.core.models import AuditAction
from guanxi.core.records import audit_trail


@dataclass(order=False)
class TimelineItem:
    at: dt.datetime
    kind: str  # "note", "change", "merge", …: the template picks an icon by it
    title: str
    body: str = ""
    actor: Any = None
    changes: dict = field(default_factory=dict)


Source = Callable[[Any, Any, int, dt.datetime | None], Iterable[TimelineItem]]
_sources: list[Source] = []


def register(source: Source) -> Source:
    if source not in _sources:
        _sources.append(source)
    return source


def timeline_for(subject: Any, user: Any, limit: int = 50, before: dt.datetime | None = None) -> list[TimelineItem]:
    """The newest `limit` items about `subject` (older than `before`), from every source."""
    streams = [sorted(src(subject, user, limit, before), key=lambda i: i.at, reverse=True) for src in _sources]
    merged = heapq.merge(*streams, key=lambda i: i.at, reverse=True)
    return [item for _i, item in zip(range(limit), merged, strict=False)]


_TITLES = {
    AuditAction.CREATE: _("Created"),
    AuditAction.UPDATE: _("Changed"),
    AuditAction.MERGE: _("Merged"),
    AuditAction.ASSIGN: _("Reassigned"),
    AuditAction.TAG: _("Tagged"),
    AuditAction.DELETE: _("Deleted"),
}


@register
def audit_source(subject, user, limit, before):
    entries = audit_trail(subject)
    if before is not None:
        entries = entries.filter(at__lt=before)
    for entry in entries[:limit]:
        kind = "merge" if entry.action == AuditAction.MERGE else "change"
        yield TimelineItem(at=entry.at, kind=kind, title=str(_TITLES.get(entry.action, entry.action)),
                           actor=entry.actor, changes=entry.changes)

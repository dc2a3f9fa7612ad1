"""Small database helpers shared by the hot paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import BaseIterable
from django.db.models.sql.constants import MULTI


@contextmanager
def prepared() -> Iterator[None]:
    """Queries of fixed SQL run inside become prepared statements on PostgreSQL (planned once per connection).

    Only for fixed SQL: planning the API's related-lists query took longer than running it. Everything else
    stays unprepared, because a generic plan for `search_text LIKE $1` cannot see the pattern and chose
    table scans for search (seconds instead of milliseconds at 1M rows).
    """
    options = connection.settings_dict.get("OPTIONS", {})
    if connection.vendor != "postgresql" or not options.get("server_side_binding"):
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = 0
    try:
        yield
    finally:
        raw.prepare_threshold = before


class DriverRows(BaseIterable):
    """A values() queryset's rows as dicts of what the database driver hands back, without Django's converters:
    SQLite's times stay naive (UTC) and JSON stays text on both databases (Django loads jsonb as text on
    PostgreSQL, then parses it). For code that writes the values out itself (the API's rows: `stamp`, orjson):
    converting each value first, only for it to be written back, took the list request from 2.1 to 2.6 ms on
    SQLite (docs/benchmarks.md, 2026-11-25). Use with `driver_rows(qs.values(...))`."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        queryset = self.queryset
        query = queryset.query
        compiler = query.get_compiler(queryset.db)
        results = compiler.execute_sql(MULTI, chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size)
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        width = compiler.col_count
        for rows in results:
            for row in rows:
                yield dict(zip(names, row[:width], strict=True))


def driver_rows(values: QuerySet) -> QuerySet:
    """`values` (a values() queryset) iterating as DriverRows; ordering, filtering and slicing keep it."""
    values._iterable_class = DriverRows
    return values

"""Small database helpers shared by the hot paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


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

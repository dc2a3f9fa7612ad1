"""One search interface over SQLite FTS5 (trigram) and PostgreSQL pg_trgm.

Each searchable model keeps a lower-cased `search_text` column (names, pinyin, initials, phone
digits, emails). Terms of 3 or more characters use the index; 1–2 character terms (most Chinese
words are two characters, below a trigram) fall back to a plain scan. Filtering always starts
from the caller's queryset, so visibility rules apply before anything is counted or shown.
"""

from __future__ import annotations

import json

from django.db import connection, models

from guanxi.quality.normalize import clean_text, looks_like_phone, phone_digits

FTS_SUFFIX = "_fts"
SMALL_MATCH = 5000  # up to this many matching rows, SQLite gets the ids themselves
COUNT_CAP = 1000  # the search box counts up to here; "1000+" is all anyone reads


def terms_of(query: str) -> list[str]:
    """The words a query must all match; a phone number in any format becomes its digits."""
    text = clean_text(query).lower()
    if not text:
        return []
    if looks_like_phone(text):
        digits = phone_digits(text)
        return [digits] if len(digits) >= 3 else []
    return [t for t in text.split(" ") if t][:8]


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _narrowed_to(qs: models.QuerySet, table: str, ids: list[int]) -> models.QuerySet:
    """`qs` limited to a short list of ids, passed as one parameter (a JSON array on SQLite, an array on
    PostgreSQL): the planner starts from those rows instead of walking a sort index."""
    if connection.vendor == "sqlite":
        return qs.extra(where=[f'"{table}"."id" IN (SELECT value FROM json_each(%s))'], params=[json.dumps(ids)])
    return qs.extra(where=[f'"{table}"."id" = ANY(%s)'], params=[ids])


def _candidates(sql: str, params: list) -> list[int] | None:
    """The ids a pre-pass finds, or None when there are more than SMALL_MATCH (then the caller's plan is better)."""
    with connection.cursor() as cursor:
        cursor.execute(sql + " LIMIT %s", [*params, SMALL_MATCH + 1])
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= SMALL_MATCH else None


def matching(queryset: models.QuerySet, query: str) -> models.QuerySet:
    """`queryset` narrowed to rows whose search text contains every term of `query`."""
    terms = terms_of(query)
    if not terms:
        return queryset.none()
    long_terms = [t for t in terms if len(t) >= 3]
    short_terms = [t for t in terms if len(t) < 3]
    qs = queryset
    table = queryset.model._meta.db_table
    # "yang li": a common long word (20,000 matches in 1M) with a short one no trigram index serves. Testing
    # the long word's matches for the short words once, without sort or visibility, gives a short id list
    # that both the page and its count then start from (they would otherwise each test every match).
    tests = " AND ".join(f'{"instr(search_text, %s) > 0" if connection.vendor == "sqlite" else "search_text LIKE %s"}'
                         for _ in short_terms)
    like = [t if connection.vendor == "sqlite" else "%" + _like_escape(t) + "%" for t in short_terms]
    if long_terms and connection.vendor == "sqlite":
        fts = table + FTS_SUFFIX
        match = " AND ".join(_fts_phrase(t) for t in long_terms)
        ids = _candidates(f'SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH %s', [match])
        if ids is None and short_terms:
            ids = _candidates(f'SELECT id FROM "{table}" WHERE id IN (SELECT rowid FROM "{fts}" WHERE "{fts}" '
                              f"MATCH %s) AND {tests}", [match, *like])
        if ids is not None:  # most searches: FTS5 streams a few rowids
            qs = _narrowed_to(qs, table, ids)
        elif short_terms:  # both words common: FTS gives the candidates
            qs = qs.extra(where=[f'"{table}"."id" IN (SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH %s)'],
                          params=[match])
        else:
            # A common term alone (gmail.com): one row in 200 or more matches, so walking the sort index and
            # testing each row finds a page sooner than collecting every match from FTS (1M rows: 8 ms vs 90 ms).
            for term in long_terms:
                qs = qs.filter(search_text__contains=term)
    else:  # PostgreSQL: LIKE on the pg_trgm GIN index
        if long_terms and short_terms:
            ids = _candidates(f'SELECT id FROM "{table}" WHERE '
                              + " AND ".join(["search_text LIKE %s"] * len(long_terms)) + f" AND {tests}",
                              ["%" + _like_escape(t) + "%" for t in long_terms] + like)
            if ids is not None:
                qs = _narrowed_to(qs, table, ids)
        for term in long_terms:
            qs = qs.filter(search_text__contains=term)
    for term in short_terms:
        qs = qs.filter(search_text__contains=term)
    return qs


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def capped_count(queryset: models.QuerySet) -> int:
    """How many match, counting no further than COUNT_CAP + 1 (which means "more than COUNT_CAP")."""
    return queryset[: COUNT_CAP + 1].count()


def sqlite_fts_sql(table: str) -> list[str]:
    """DDL for an external-content FTS5 trigram index over `table.search_text`, kept in step by triggers."""
    fts = table + FTS_SUFFIX
    return [
        f'CREATE VIRTUAL TABLE IF NOT EXISTS "{fts}" USING fts5(search_text, content="{table}", '
        f"content_rowid=id, tokenize='trigram')",
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_ai" AFTER INSERT ON "{table}" BEGIN '
        f'INSERT INTO "{fts}"(rowid, search_text) VALUES (new.id, new.search_text); END',
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_ad" AFTER DELETE ON "{table}" BEGIN '
        f"INSERT INTO \"{fts}\"(\"{fts}\", rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_au" AFTER UPDATE OF search_text ON "{table}" BEGIN '
        f"INSERT INTO \"{fts}\"(\"{fts}\", rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        f'INSERT INTO "{fts}"(rowid, search_text) VALUES (new.id, new.search_text); END',
    ]


def sqlite_fts_drop_sql(table: str) -> list[str]:
    fts = table + FTS_SUFFIX
    return [f'DROP TRIGGER IF EXISTS "{fts}_{s}"' for s in ("ai", "ad", "au")] + [f'DROP TABLE IF EXISTS "{fts}"']


def postgres_trgm_sql(table: str) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f'CREATE INDEX IF NOT EXISTS "{table}_search_trgm" ON "{table}" USING gin (search_text gin_trgm_ops)',
    ]


def install_index(schema_editor, table: str) -> None:
    """Used by migrations: the search index for the database in use."""
    vendor = schema_editor.connection.vendor
    statements = sqlite_fts_sql(table) if vendor == "sqlite" else postgres_trgm_sql(table) \
        if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


def remove_index(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in sqlite_fts_drop_sql(table):
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_search_trgm"')


def rebuild_index(model: type[models.Model]) -> None:
    """After bulk loads that bypassed the triggers: rebuild the FTS5 table from its content table."""
    if connection.vendor == "sqlite":
        fts = model._meta.db_table + FTS_SUFFIX
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO \"{fts}\"(\"{fts}\") VALUES ('rebuild')")

"""One search interface over SQLite FTS5 (trigram) and PostgreSQL pg_trgm.

Each searchable model keeps a lower-cased `search_text` column (names, pinyin, initials, phone
digits, emails). Terms of 3 or more characters use the index. Terms of 2 characters (most Chinese
words) use it too on models that index character pairs (`search_pairs_indexed`: tickets, and accounts
and contacts on SQLite; see `install_index`); elsewhere they, and 1-character terms, are tested row by
row. Filtering always starts from the caller's queryset, so visibility rules apply before anything is
counted or shown.

How a search runs, cheapest plan first:

1. the indexed terms' matches, when there are at most SMALL_MATCH of them, as an id list the page
   starts from (a ticket number, a rare word);
2. otherwise, for a caller who sees a small share of the table (`visible_first`: a sales rep's
   customers' tickets), the matches among the rows they may see, tested through the visibility
   indexes — again an id list when there are at most SMALL_MATCH of them (a common word their
   customers never used: walking the sort order for it would read the whole table);
3. otherwise the sort index is walked and each row tested: one row in 200 or more matches, so a
   page fills after a few thousand rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models

from guanxi.quality.normalize import clean_text, looks_like_phone, phone_digits

FTS_SUFFIX = "_fts"
VOCAB_SUFFIX = "_fts_vocab"  # SQLite, pair-indexed models: the trigrams the FTS index holds
SOURCE_SUFFIX = "_fts_source"  # SQLite, pair-indexed models: the text the FTS index reads (ends with a space)
PAIRS_COLUMN = "search_pairs"  # PostgreSQL, pair-indexed models: the text's character pairs (generated)
SMALL_MATCH = 5000  # up to this many matching rows, the page starts from their ids
PROBE_MATCH = 1000  # PostgreSQL (a user's visible branches; one word): up to this many matches, start from them
COUNT_CAP = 100  # the search box counts up to here: "100+" (four pages of 25) says "narrow the search", and
# counting further cost more than the page itself (a rep's "gmail.com": 41 ms to reach 1,001 on SQLite, 3 ms to 101)
PAIR_FOLLOWERS_MAX = 300  # SQLite: a pair followed by more different characters than this is tested row by row


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


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pairs_indexed(model: type[models.Model], vendor: str | None = None) -> bool:
    """Whether `model`'s search index serves 2-character terms on `vendor` (default: the connection's).
    `search_pairs_indexed` is True (every database) or the vendors that have it: on PostgreSQL the pair index
    is a stored column and a GIN index, worth it where a common word plus a short one is a usual search; on
    SQLite the FTS index's own trigrams serve it at no cost in storage."""
    indexed = getattr(model, "search_pairs_indexed", False)
    if isinstance(indexed, bool):
        return indexed
    return (vendor or connection.vendor) in indexed


def fts_content(model: type[models.Model]) -> str:
    """SQLite: the table or view the FTS index reads `id` and `search_text` from. A bulk write that keeps the
    index itself (instead of its triggers) must add and delete exactly these texts."""
    table = model._meta.db_table
    return table + SOURCE_SUFFIX if pairs_indexed(model, "sqlite") else table


def _indexable_pair(term: str) -> bool:
    """A 2-character term the pair index can serve exactly. SQLite finds it among the FTS index's trigrams,
    which FTS5 case-folds itself: only characters that fold the same way in Python and SQLite (ASCII letters
    and digits, and caseless scripts such as CJK) are looked up there."""
    if len(term) != 2:
        return False
    if connection.vendor == "postgresql":
        return True
    return all(c.isalnum() and (c.isascii() or c.lower() == c.upper()) for c in term)


def _narrowed_to(qs: models.QuerySet, table: str, ids: list[int]) -> models.QuerySet:
    """`qs` limited to a short list of ids, passed as one parameter (a JSON array on SQLite, an array on
    PostgreSQL) and joined as a set: the planner starts from those rows instead of walking a sort index."""
    if connection.vendor == "sqlite":
        return qs.extra(where=[f'"{table}"."id" IN (SELECT value FROM json_each(%s))'], params=[json.dumps(ids)])
    # A set to join (an `= ANY(...)` filter let the planner walk the date index testing every row against it:
    # 58,000 rows for an agent's 1,000 of 5,000 ids), given as an array literal (the driver's list adapter
    # takes ~2 ms over 5,000 ids).
    return qs.extra(where=[f'"{table}"."id" IN (SELECT unnest(%s::bigint[]))'],
                    params=["{" + ",".join(map(str, ids)) + "}"])


def _first_ids(sql: str, params: list, limit: int | None = None) -> list[int] | None:
    """The ids a pre-pass finds, or None when there are more than `limit` (default SMALL_MATCH; then another
    plan is better)."""
    limit = SMALL_MATCH if limit is None else limit
    with connection.cursor() as cursor:
        cursor.execute(sql + " LIMIT %s", [*params, limit + 1])
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= limit else None


def _pair_trigrams(table: str, pair: str) -> list[str] | None:
    """SQLite: the indexed trigrams that start with `pair`. The indexed text ends with a space, so every
    occurrence of the pair is followed by some character: a row holds the pair exactly when it holds one of
    these trigrams. None when there are too many to ask for (the pair is then tested row by row)."""
    vocab = table + VOCAB_SUFFIX
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT term FROM "{vocab}" WHERE term >= %s AND term < %s LIMIT %s',
                       [pair, pair + "\U0010ffff", PAIR_FOLLOWERS_MAX + 1])
        trigrams = [row[0] for row in cursor.fetchall()]
    return trigrams if len(trigrams) <= PAIR_FOLLOWERS_MAX else None


class _Plan:
    """The terms of one search split by how they are found: `fts` (SQLite MATCH expressions, one per term)
    or `indexed` (PostgreSQL conditions) for the index, `tested` for terms only a row-by-row test finds."""

    def __init__(self, queryset: models.QuerySet, terms: list[str]):
        self.table = queryset.model._meta.db_table
        self.terms = terms
        self.fts: list[str] = []
        self.indexed: list[tuple[str, str]] = []  # (kind, term): "like" (trigram index) or "pair" (pair index)
        self.tested: list[str] = []
        self.empty = False  # a pair no row holds: nothing can match
        pairs = pairs_indexed(queryset.model)
        for term in terms:
            if len(term) >= 3:
                self.fts.append(_fts_phrase(term))
                self.indexed.append(("like", term))
            elif pairs and _indexable_pair(term):
                if connection.vendor == "postgresql":
                    self.indexed.append(("pair", term))
                    continue
                trigrams = _pair_trigrams(self.table, term)
                if trigrams is None:
                    self.tested.append(term)
                elif not trigrams:
                    self.empty = True
                else:
                    self.fts.append("(" + " OR ".join(_fts_phrase(t) for t in trigrams) + ")")
            else:
                self.tested.append(term)

    def _sql(self, column: str = "search_text", *, one_indexed: bool = False) -> tuple[list[str], list]:
        """SQL conditions for every term on `column` (maybe qualified by its table): the indexed ones in the
        form their index serves, the others as row tests. `one_indexed`: only the first indexed term in its
        index's form, the others as row tests (see `indexed_filter`)."""
        sqlite = connection.vendor == "sqlite"
        conditions, params = [], []
        kinds = [] if sqlite else self.indexed
        if one_indexed:
            kinds = kinds[:1] + [("strpos", t) for _k, t in kinds[1:]]
        for kind, term in kinds + [("test", t) for t in self.tested]:
            if kind == "pair":
                conditions.append(column.replace("search_text", PAIRS_COLUMN) + " @> ARRAY[%s]::text[]")
                params.append(term)
            elif kind == "strpos":
                conditions.append(f"strpos({column}, %s) > 0")
                params.append(term)
            elif sqlite:
                conditions.append(f"instr({column}, %s) > 0")
                params.append(term)
            else:
                conditions.append(f"{column} LIKE %s")
                params.append("%" + _like_escape(term) + "%")
        return conditions, params

    def candidates(self, limit: int | None = None) -> list[int] | None:
        """The ids of every row matching all terms, when there are at most `limit` (default SMALL_MATCH)."""
        table = self.table
        if connection.vendor == "sqlite":
            tests, params = self._sql()
            fts = table + FTS_SUFFIX
            match = " AND ".join(self.fts)
            ids = _first_ids(f'SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH %s', [match])
            if ids is None and tests:
                # "yang li": a common indexed word with a short one nothing indexes. Testing the word's matches
                # for the short one once, without sort or visibility, gives a short id list that both the page
                # and its count then start from (they would otherwise each test every match).
                ids = _first_ids(f'SELECT id FROM "{table}" WHERE id IN (SELECT rowid FROM "{fts}" WHERE '
                                 f'"{fts}" MATCH %s) AND ' + " AND ".join(tests), [match, *params])
            return ids
        conditions, params = self._sql()
        return _first_ids(f'SELECT id FROM "{table}" WHERE ' + " AND ".join(conditions), params, limit)

    @property
    def uses_index(self) -> bool:
        return bool(self.fts if connection.vendor == "sqlite" else self.indexed)

    def indexed_filter(self, qs: models.QuerySet) -> models.QuerySet:
        """`qs` filtered by every term, the first indexed one in a form the database can combine with other
        indexes (PostgreSQL: a bitmap AND of the search index with the visibility indexes). One only: the
        planner takes words for independent, so two common words that go together ("password reset")
        look rare, and it would not bother to AND their index with another."""
        if connection.vendor == "sqlite":
            return self.walk(qs)
        conditions, params = self._sql(f'"{self.table}"."search_text"', one_indexed=True)
        return qs.extra(where=conditions, params=params)

    def walk(self, qs: models.QuerySet) -> models.QuerySet:
        """`qs` filtered by row-by-row tests only, so the planner walks the sort index and stops at a page.
        (On PostgreSQL a LIKE would let it collect every match through the trigram index and sort them
        all, which its estimates favour when two common words go together.)"""
        if connection.vendor == "sqlite":
            for term in self.terms:
                qs = qs.filter(search_text__contains=term)
            return qs
        return qs.extra(where=[f'strpos("{self.table}"."search_text", %s) > 0'] * len(self.terms),
                        params=list(self.terms))


def _ids(qs: models.QuerySet) -> list[int] | None:
    ids = list(qs.order_by().values_list("pk", flat=True)[: SMALL_MATCH + 1])
    return ids if len(ids) <= SMALL_MATCH else None


def _probe(plan: _Plan, branches: Sequence[models.QuerySet]) -> list[int] | None:
    """PostgreSQL: the ids of the rows of `branches` holding every term, or None when there are more than
    PROBE_MATCH. Each branch is tested on its own: a branch its index covers with the search text (a rep's
    customers' tickets) is read from that index alone, which a bitmap over the rule's OR cannot do."""
    found: set[int] = set()
    for branch in branches:
        found.update(plan.walk(branch).order_by().values_list("pk", flat=True)[: PROBE_MATCH + 1])
        if len(found) > PROBE_MATCH:
            return None
    return list(found)


def matching(queryset: models.QuerySet, query: str, *, visible_first: bool = False,
             branches: Sequence[models.QuerySet] | None = None) -> models.QuerySet:
    """`queryset` narrowed to rows whose search text contains every term of `query`.

    `visible_first`: the caller sees a small share of the table, and the visibility rule applied to
    `queryset` has indexes that find those rows: a common word is then looked for among them.
    `branches`: with `visible_first`, querysets that together hold every row of `queryset`, one per branch of
    its visibility rule (PostgreSQL probes each; SQLite does not use them)."""
    terms = terms_of(query)
    if not terms:
        return queryset.none()
    plan = _Plan(queryset, terms)
    if plan.empty:
        return queryset.none()
    table = plan.table
    postgres = connection.vendor == "postgresql"
    if postgres and visible_first and branches is not None:
        # Few matches among the user's rows: their ids (a short list to join); many: the walk of the sort
        # order fills a page soon (the planner's bitmap of every match and sort took up to 3 times as long).
        ids = _probe(plan, branches)
        return _narrowed_to(queryset, table, ids) if ids is not None else plan.walk(queryset)
    if postgres and not visible_first and len(plan.indexed) == 1 and not plan.tested:
        # One indexed word. A rare one: its ids, from the trigram index (a short pre-pass: 2–18 ms). The planner
        # misjudges those: it took "liuyang" (158 of a million contacts) for 1 % and walked the name index
        # through 183,717 rows whose names sort before 刘 (330 ms). A common one: the planner chooses between
        # the index and a walk.
        ids = plan.candidates(PROBE_MATCH)
        return _narrowed_to(queryset, table, ids) if ids is not None else plan.indexed_filter(queryset)
    # PostgreSQL with `visible_first` skips the global count: the count among the visible rows that follows
    # uses the same indexes (and the visibility ones) and finds the rare words as well.
    if plan.uses_index and not (visible_first and postgres):
        ids = plan.candidates()
        if ids is not None:  # most searches: the index gives a few ids
            qs = _narrowed_to(queryset, table, ids)
            for term in plan.tested:
                qs = qs.filter(search_text__contains=term)
            return qs
    if visible_first:
        ids = _ids(plan.indexed_filter(queryset))
        if ids is not None:
            return _narrowed_to(queryset, table, ids)
    if connection.vendor == "sqlite" and plan.fts and plan.tested:
        # Both kinds common ("yang li" in a million contacts): the index gives the candidates for the tests.
        fts = table + FTS_SUFFIX
        qs = queryset.extra(where=[f'"{table}"."id" IN (SELECT rowid FROM "{fts}" WHERE "{fts}" MATCH %s)'],
                            params=[" AND ".join(plan.fts)])
        for term in plan.tested:
            qs = qs.filter(search_text__contains=term)
        return qs
    return plan.walk(queryset)


def capped_count(queryset: models.QuerySet) -> int:
    """How many match, counting no further than COUNT_CAP + 1 (which means "more than COUNT_CAP")."""
    return queryset[: COUNT_CAP + 1].count()


def sqlite_fts_sql(table: str, *, pairs: bool = False) -> list[str]:
    """DDL for an external-content FTS5 trigram index over `table.search_text`, kept in step by triggers.

    `pairs`: the index reads the text with a space appended (through a view), and a vocabulary table lists
    its trigrams. Every occurrence of a 2-character term is then followed by some character, so the rows
    holding the term are exactly those holding one of the trigrams that start with it (`_pair_trigrams`)."""
    fts = table + FTS_SUFFIX
    content, text, old_text = table, "new.search_text", "old.search_text"
    statements = []
    if pairs:
        content = table + SOURCE_SUFFIX
        text, old_text = f"{text} || ' '", f"{old_text} || ' '"
        statements.append(f'CREATE VIEW IF NOT EXISTS "{content}" AS SELECT id, search_text || \' \' AS search_text '
                          f'FROM "{table}"')
    statements += [
        f'CREATE VIRTUAL TABLE IF NOT EXISTS "{fts}" USING fts5(search_text, content="{content}", '
        f"content_rowid=id, tokenize='trigram')",
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_ai" AFTER INSERT ON "{table}" BEGIN '
        f'INSERT INTO "{fts}"(rowid, search_text) VALUES (new.id, {text}); END',
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_ad" AFTER DELETE ON "{table}" BEGIN '
        f"INSERT INTO \"{fts}\"(\"{fts}\", rowid, search_text) VALUES ('delete', old.id, {old_text}); END",
        f'CREATE TRIGGER IF NOT EXISTS "{fts}_au" AFTER UPDATE OF search_text ON "{table}" BEGIN '
        f"INSERT INTO \"{fts}\"(\"{fts}\", rowid, search_text) VALUES ('delete', old.id, {old_text}); "
        f'INSERT INTO "{fts}"(rowid, search_text) VALUES (new.id, {text}); END',
    ]
    if pairs:
        statements.append(f'CREATE VIRTUAL TABLE IF NOT EXISTS "{table}{VOCAB_SUFFIX}" USING fts5vocab("{fts}", row)')
    return statements


def sqlite_fts_drop_sql(table: str) -> list[str]:
    fts = table + FTS_SUFFIX
    return ([f'DROP TRIGGER IF EXISTS "{fts}_{s}"' for s in ("ai", "ad", "au")]
            + [f'DROP TABLE IF EXISTS "{table}{VOCAB_SUFFIX}"', f'DROP TABLE IF EXISTS "{fts}"',
               f'DROP VIEW IF EXISTS "{table}{SOURCE_SUFFIX}"'])


def postgres_trgm_sql(table: str) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f'CREATE INDEX IF NOT EXISTS "{table}_search_trgm" ON "{table}" USING gin (search_text gin_trgm_ops)',
    ]


# PostgreSQL: the distinct 2-character substrings of a text, without spaces (terms never hold one). IMMUTABLE,
# so a generated column can store it; stored rather than an index expression, because a bitmap scan combining
# the pair and trigram indexes rechecks every candidate row, and computing the pairs costs ~20 µs a row.
POSTGRES_PAIRS_FUNCTION = """
CREATE OR REPLACE FUNCTION guanxi_char_pairs(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT p), '{}') FROM (
    SELECT substr(t, i, 2) AS p FROM generate_series(1, char_length(t) - 1) AS i) AS s
  WHERE strpos(p, ' ') = 0
$$"""


def postgres_pairs_sql(table: str) -> list[str]:
    return [
        POSTGRES_PAIRS_FUNCTION,
        f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS {PAIRS_COLUMN} text[] '
        f"GENERATED ALWAYS AS (guanxi_char_pairs(search_text)) STORED",
        f'CREATE INDEX IF NOT EXISTS "{table}_search_pairs" ON "{table}" USING gin ({PAIRS_COLUMN})',
    ]


def install_index(schema_editor, table: str, *, pairs: bool = False) -> None:
    """Used by migrations: the search index for the database in use (`pairs`: see `sqlite_fts_sql`,
    `postgres_pairs_sql`; the model then sets `search_pairs_indexed = True`)."""
    vendor = schema_editor.connection.vendor
    statements = []
    if vendor == "sqlite":
        statements = sqlite_fts_sql(table, pairs=pairs)
    elif vendor == "postgresql":
        statements = postgres_trgm_sql(table) + (postgres_pairs_sql(table) if pairs else [])
    for sql in statements:
        schema_editor.execute(sql)


def reinstall_index(schema_editor, model: type[models.Model], *, pairs: bool) -> None:
    """Used by migrations: `model`'s search index made again with or without the pair index, filled from the
    rows, and the table analysed (SQLite's planner has no statistics for a new index until ANALYZE)."""
    table = model._meta.db_table
    remove_index(schema_editor, table)
    install_index(schema_editor, table, pairs=pairs)
    if schema_editor.connection.vendor == "sqlite":
        rebuild_index(model)
    schema_editor.execute(f'ANALYZE "{table}"')


def remove_index(schema_editor, table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in sqlite_fts_drop_sql(table):
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_search_trgm"')
        schema_editor.execute(f'DROP INDEX IF EXISTS "{table}_search_pairs"')
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS {PAIRS_COLUMN}')


def rebuild_index(model: type[models.Model]) -> None:
    """After bulk loads that bypassed the triggers: rebuild the FTS5 table from its content table."""
    if connection.vendor == "sqlite":
        fts = model._meta.db_table + FTS_SUFFIX
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO \"{fts}\"(\"{fts}\") VALUES ('rebuild')")

"""The monthly summary of opportunities (summary_models.OpportunityMonth): kept by the database, rebuilt and checked.

Why triggers, not the services: opportunities change through more paths than sales/services.py — a hand-over
moves an account's open opportunities with one UPDATE, deleting an account or a user cascades in SQL, imports
and the demo insert in bulk. A trigger sees every one of them, in the same transaction as the change, so the
summary cannot drift from the opportunities whatever code writes them.

- SQLite: row triggers (insert, update of a summed column, delete) add the new row's contribution and take the
  old row's away, deleting a summary row when its count reaches 0.
- PostgreSQL: statement triggers with transition tables: one grouped upsert per statement, in key order (no
  deadlock between two statements), so a COPY of a million rows costs one aggregation.

A closing or creation time goes into its month in the company's time zone through `CompanyMonth` (month start
and end in UTC), the same bounds performance.py filters on. `rebuild()` makes both tables again from the
opportunities (the migration, `guanxi sales-summary --rebuild`, a changed TIME_ZONE); `differences()` compares
the table with a recomputation.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q, QuerySet

from guanxi.core.access import VisibleParts
from guanxi.core.models import User

from .summary_models import CompanyMonth, Measure, OpportunityMonth

TABLE = OpportunityMonth._meta.db_table
SOURCE = "sales_opportunity"
MONTHS = CompanyMonth._meta.db_table
FIRST_MONTH, LAST_MONTH = 197001, 219912  # the company months kept: closing and creation times outside count as 0
KEY = ("measure", "month", "owner_id", "team_id", "pipeline_id", "status", "currency")
SUMS = ("n", "amount", "weighted")
TRIGGERS = ("ai", "au", "ad", "at")
# The columns the summary reads: an update of other columns (name, description, stage within a status …) costs
# nothing on SQLite.
SUMMED = ("owner_id", "team_id", "pipeline_id", "status", "currency", "amount", "probability", "expected_close",
          "closed_at", "created_at")


def _cents(vendor: str, row: str) -> str:
    if vendor == "sqlite":  # amounts are stored as REAL there: round to whole cents, then sum integers
        return f"CAST(round({row}amount * 100) AS INTEGER)"
    return f"CAST({row}amount * 100 AS bigint)"


def _month(vendor: str, measure: int, row: str) -> str:
    if measure == Measure.EXPECTED:
        if vendor == "sqlite":  # dates are 'YYYY-MM-DD' text
            day = f"{row}expected_close"
            return f"coalesce(CAST(substr({day}, 1, 4) || substr({day}, 6, 2) AS INTEGER), 0)"
        return f"coalesce(CAST(to_char({row}expected_close, 'YYYYMM') AS integer), 0)"
    column = f"{row}{'closed_at' if measure == Measure.CLOSED else 'created_at'}"
    # The last month starting at or before the time, if the time is before its end: one step down the index.
    return (f"coalesce((SELECT CASE WHEN m.ends_at > {column} THEN m.month ELSE 0 END FROM {MONTHS} m "
            f"WHERE m.starts_at <= {column} ORDER BY m.starts_at DESC LIMIT 1), 0)")


def _keys(vendor: str, measure: int, row: str) -> list[str]:
    """The KEY expressions of one opportunity under `measure`. `row` is "NEW." or "OLD." in a SQLite trigger, "o."
    over a table."""
    return [str(measure), _month(vendor, measure, row), f"coalesce({row}owner_id, 0)", f"coalesce({row}team_id, 0)",
            f"{row}pipeline_id", f"{row}status", f"{row}currency"]


def _values(vendor: str, measure: int, row: str, sign: int = 1) -> str:
    """The select list of one opportunity's contribution under `measure`, named KEY then SUMS."""
    cents = _cents(vendor, row)
    minus = "" if sign == 1 else "-"
    sums = [str(sign), f"{minus}{cents}", f"{minus}{cents} * {row}probability"]
    return ", ".join(f"{e} AS {n}" for e, n in zip(_keys(vendor, measure, row) + sums, KEY + SUMS, strict=True))


def _contributions(vendor: str, source: str, sign: int = 1) -> str:
    """Every contribution of the rows of `source` (a table or a transition table), as KEY + SUMS columns."""
    parts = []
    for measure in (Measure.EXPECTED, Measure.CLOSED, Measure.CREATED):
        where = " WHERE o.closed_at IS NOT NULL" if measure == Measure.CLOSED else ""
        parts.append(f"SELECT {_values(vendor, measure, 'o.', sign)} FROM {source} o{where}")
    return " UNION ALL ".join(parts)


def _grouped(contributions: str, having: bool = False) -> str:
    keys = ", ".join(KEY)
    sql = f"SELECT {keys}, sum(n), sum(amount), sum(weighted) FROM ({contributions}) AS c GROUP BY {keys}"
    if having:
        sql += " HAVING sum(n) <> 0 OR sum(amount) <> 0 OR sum(weighted) <> 0"
    return sql


# ---------------------------------------------------------------- triggers

def _sqlite_change(measure: int, row: str, sign: int) -> str:
    """A SQLite trigger statement: this row's contribution added (sign 1, an upsert) or taken away (-1, an update
    of the row that must exist, then the row deleted if nothing is left in it)."""
    when = f"{row}closed_at IS NOT NULL" if measure == Measure.CLOSED else "1"
    if sign == 1:
        return (f"INSERT INTO {TABLE} ({', '.join(KEY + SUMS)}) SELECT {_values('sqlite', measure, row)} "
                f"WHERE {when} ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET n = n + excluded.n, "
                f"amount = amount + excluded.amount, weighted = weighted + excluded.weighted;")
    match = " AND ".join(f"{k} = {e}" for k, e in zip(KEY, _keys("sqlite", measure, row), strict=True))
    cents = _cents("sqlite", row)
    return (f"UPDATE {TABLE} SET n = n - 1, amount = amount - {cents}, weighted = weighted - {cents} * "
            f"{row}probability WHERE {when} AND {match}; "
            f"DELETE FROM {TABLE} WHERE {when} AND {match} AND n = 0;")


def sqlite_trigger_sql() -> list[str]:
    measures = (Measure.EXPECTED, Measure.CLOSED, Measure.CREATED)
    add = " ".join(_sqlite_change(m, "NEW.", 1) for m in measures)
    take = " ".join(_sqlite_change(m, "OLD.", -1) for m in measures)
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in SUMMED)
    return [
        f'CREATE TRIGGER "{TABLE}_ai" AFTER INSERT ON "{SOURCE}" BEGIN {add} END',
        f'CREATE TRIGGER "{TABLE}_au" AFTER UPDATE OF {", ".join(SUMMED)} ON "{SOURCE}" WHEN {changed} '
        f"BEGIN {take} {add} END",
        f'CREATE TRIGGER "{TABLE}_ad" AFTER DELETE ON "{SOURCE}" BEGIN {take} END',
    ]


def _pg_apply(contributions: str, having: bool) -> str:
    keys = ", ".join(KEY)
    return (f"WITH up AS (INSERT INTO {TABLE} ({keys}, {', '.join(SUMS)}) {_grouped(contributions, having)} "
            f"ORDER BY {keys} ON CONFLICT ({keys}) DO UPDATE SET n = {TABLE}.n + excluded.n, "
            f"amount = {TABLE}.amount + excluded.amount, weighted = {TABLE}.weighted + excluded.weighted "
            f"RETURNING id, n) SELECT array_agg(id) INTO gone FROM up WHERE n = 0;")


def postgresql_trigger_sql() -> list[str]:
    pg = "postgresql"
    inserted = _pg_apply(_contributions(pg, "new_rows"), False)
    deleted = _pg_apply(_contributions(pg, "old_rows", -1), False)
    updated = _pg_apply(f"{_contributions(pg, 'old_rows', -1)} UNION ALL {_contributions(pg, 'new_rows')}", True)
    function = f"""CREATE OR REPLACE FUNCTION {TABLE}_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE gone bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN {inserted}
  ELSIF TG_OP = 'DELETE' THEN {deleted}
  ELSE {updated}
  END IF;
  IF gone IS NOT NULL THEN DELETE FROM {TABLE} WHERE id = ANY(gone); END IF;
  RETURN NULL;
END $$"""
    truncate = f"""CREATE OR REPLACE FUNCTION {TABLE}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM {TABLE}; RETURN NULL; END $$"""
    run = f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_apply()"
    return [
        function,
        truncate,
        f'CREATE TRIGGER "{TABLE}_ai" AFTER INSERT ON "{SOURCE}" REFERENCING NEW TABLE AS new_rows {run}',
        f'CREATE TRIGGER "{TABLE}_au" AFTER UPDATE ON "{SOURCE}" REFERENCING OLD TABLE AS old_rows '
        f"NEW TABLE AS new_rows {run}",
        f'CREATE TRIGGER "{TABLE}_ad" AFTER DELETE ON "{SOURCE}" REFERENCING OLD TABLE AS old_rows {run}',
        f'CREATE TRIGGER "{TABLE}_at" AFTER TRUNCATE ON "{SOURCE}" FOR EACH STATEMENT EXECUTE FUNCTION '
        f"{TABLE}_truncate()",
    ]


def drop_trigger_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f'DROP TRIGGER IF EXISTS "{TABLE}_{t}"' for t in TRIGGERS]
    return [f'DROP TRIGGER IF EXISTS "{TABLE}_{t}" ON "{SOURCE}"' for t in TRIGGERS] + [
        f"DROP FUNCTION IF EXISTS {TABLE}_apply()", f"DROP FUNCTION IF EXISTS {TABLE}_truncate()"]


def install(schema_editor: Any) -> None:
    """Used by the migration: the triggers for the database in use, then the summary of what is there."""
    vendor = schema_editor.connection.vendor
    for sql in drop_trigger_sql(vendor) + (sqlite_trigger_sql() if vendor == "sqlite" else postgresql_trigger_sql()):
        schema_editor.execute(sql, params=None)
    rebuild(schema_editor.connection.alias)


def remove(schema_editor: Any) -> None:
    for sql in drop_trigger_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


# ---------------------------------------------------------------- rebuild and check

def _company_months(zone_name: str) -> list[CompanyMonth]:
    zone = ZoneInfo(zone_name)
    starts = [dt.datetime(y, m, 1, tzinfo=zone) for y in range(FIRST_MONTH // 100, LAST_MONTH // 100 + 1)
              for m in range(1, 13)]
    starts.append(dt.datetime(LAST_MONTH // 100 + 1, 1, 1, tzinfo=zone))
    return [CompanyMonth(month=s.year * 100 + s.month, starts_at=s, ends_at=e, zone=zone_name)
            for s, e in zip(starts, starts[1:], strict=False)]


def rebuild(using: str = DEFAULT_DB_ALIAS) -> int:
    """The company months for settings.TIME_ZONE and the summary, made again from the opportunities in one
    transaction (writers wait; readers see the old summary until the end). The number of summary rows."""
    db = connections[using]
    with transaction.atomic(using=using), db.cursor() as cursor:
        if db.vendor == "postgresql":  # no opportunity changes meanwhile (their triggers would race the rebuild)
            cursor.execute(f'LOCK TABLE "{SOURCE}" IN SHARE MODE')
        cursor.execute(f"DELETE FROM {MONTHS}")
        CompanyMonth.objects.using(using).bulk_create(_company_months(settings.TIME_ZONE), batch_size=500)
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(f"INSERT INTO {TABLE} ({', '.join(KEY + SUMS)}) "
                       f"{_grouped(_contributions(db.vendor, SOURCE))}")
        return cursor.rowcount


def _rows(sql: str) -> dict[tuple, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {tuple(r[:7]): tuple(int(v) for v in r[7:]) for r in cursor.fetchall()}


def differences() -> list[dict[str, Any]]:
    """Where the summary is not what the opportunities add up to (an empty list when it is): key, stored sums,
    recomputed sums. Also a company-months table made for another TIME_ZONE (the rebuild fixes both)."""
    vendor = connection.vendor
    out: list[dict[str, Any]] = []
    if not zone_ready():
        out.append({"key": "company months", "stored": CompanyMonth.objects.values_list("zone", flat=True).first(),
                    "recomputed": settings.TIME_ZONE})
    stored = _rows(f"SELECT {', '.join(KEY + SUMS)} FROM {TABLE}")
    recomputed = _rows(_grouped(_contributions(vendor, SOURCE)))
    for key in sorted(set(stored) | set(recomputed)):
        if stored.get(key) != recomputed.get(key):
            out.append({"key": dict(zip(KEY, key, strict=True)), "stored": stored.get(key),
                        "recomputed": recomputed.get(key)})
    return out


def zone_ready(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether closing and creation months are those of settings.TIME_ZONE (one query)."""
    zone = CompanyMonth.objects.using(using).filter(month=FIRST_MONTH).values_list("zone", flat=True).first()
    return zone == settings.TIME_ZONE


# ---------------------------------------------------------------- reading it

def month_key(day: dt.date) -> int:
    return day.year * 100 + day.month


def month_of(key: int) -> dt.date | None:
    return dt.date(key // 100, key % 100, 1) if key else None


def money(cents: Any) -> Decimal:
    """A summed amount in cents (an int on SQLite, a numeric on PostgreSQL) as currency units, exactly."""
    return Decimal(cents or 0) / 100


def covers(first: dt.date, last: dt.date) -> bool:
    """Whether closing and creation months from `first` to `last` are in the summary (the company months kept,
    made for the current TIME_ZONE): one query."""
    return FIRST_MONTH <= month_key(first) and month_key(last) <= LAST_MONTH and zone_ready()


def visible(parts: VisibleParts, measure: int, members_only: bool = False) -> QuerySet:
    """The summary rows under `measure` of the opportunities a user sees as their own or through their teams
    (`parts`: Opportunity.objects.visible_parts). `members_only` (a Performance scope): of those, only the user's
    own and those whose owner is a member of the teams."""
    qs = OpportunityMonth.objects.filter(measure=measure)
    if parts.everything:
        return qs
    if parts.owner_id is None:
        return qs.none()
    own = Q(owner_id=parts.owner_id)
    if not parts.team_ids:
        return qs.filter(own)
    if members_only:
        members = User.objects.filter(team_id__in=parts.team_ids).values("pk")
        return qs.filter(own | Q(owner_id__in=members, team_id__in=parts.team_ids))
    return qs.filter(own | Q(team_id__in=parts.team_ids))


def shared_beyond(parts: VisibleParts, members_only: bool = False) -> QuerySet:
    """The opportunities the user sees that `visible` leaves out: shared with them, neither their own nor filed
    under a team they see (`members_only`: and owned by a member of those teams). No query when none is shared."""
    if parts.everything or parts.owner_id is None:
        return parts.shared.none()
    qs = parts.shared.exclude(owner_id=parts.owner_id).exclude(team_id__in=parts.team_ids)
    if members_only:
        qs = qs.filter(owner__team_id__in=parts.team_ids) if parts.team_ids else qs.none()
    return qs


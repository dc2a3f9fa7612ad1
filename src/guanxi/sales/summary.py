"""The monthly summaries of opportunities and of orders, and the orders per account (summary_models): kept by the
database, rebuilt and checked.

Why triggers, not the services: opportunities change through more paths than sales/services.py — a hand-over
moves an account's open opportunities with one UPDATE, deleting an account or a user cascades in SQL, imports
and the demo insert in bulk. A trigger sees every one of them, in the same transaction as the change, so the
summary cannot drift from the opportunities whatever code writes them.

- SQLite: row triggers (insert, update of a summed column, delete) add the new row's contribution and take the
  old row's away, deleting a summary row when its count reaches 0.
- PostgreSQL: statement triggers with transition tables: one grouped upsert per statement, in key order (no
  deadlock between two statements), so a COPY of a million rows costs one aggregation.

A closing or creation time goes into its month in the company's time zone through `CompanyMonth` (month start
and end in UTC), the same bounds performance.py filters on; an order's month is that of its order date (a date: no
zone). `rebuild()` makes the tables again from the opportunities and orders (the migrations, `guanxi sales-summary
--rebuild`, a changed TIME_ZONE); `differences()` compares them with a recomputation. `Kept` describes one
monthly summary; the SQL of its triggers, rebuild and check is made from it.

The orders per account (`ACCOUNTS`, a `PerAccount`: first and last order day, order days, orders, total, repeat
total — what RFM and lifetime value read) are not sums: their triggers make the affected accounts' rows again
from those accounts' orders (see PerAccount). Same trigger names, rebuild, check and `guanxi sales-summary`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, migrations, transaction
from django.db.models import Q, QuerySet

from guanxi.core.access import VisibleParts
from guanxi.core.models import User

from .quote_models import OrderStatus
from .summary_models import AccountOrders, CompanyMonth, Measure, OpportunityMonth, OrderMonth

# A contribution of one source row: its key expressions, its sums expressions, and the condition under which the
# row contributes (None: always).
Part = tuple[list[str], list[str], str | None]


@dataclass(frozen=True)
class Kept:
    """A table of sums (`key` → `sums`, the first of them the count `n`) that triggers keep in step with `source`.
    `parts(vendor, row)`: the contributions of one source row, its columns read as `row` + name ("NEW.", "OLD.",
    "o."). `summed`: the source columns they read (on SQLite an update of no other column runs no trigger)."""

    table: str
    source: str
    key: tuple[str, ...]
    sums: tuple[str, ...]
    summed: tuple[str, ...]
    parts: Callable[[str, str], list[Part]]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.sums

    def recomputed(self, vendor: str) -> str:
        """The summary as it should be, made from the whole source table."""
        return _grouped(self, _contributions(self, vendor, self.source))

    def trigger_sql(self, vendor: str) -> list[str]:
        return sqlite_trigger_sql(self) if vendor == "sqlite" else postgresql_trigger_sql(self)


def _cents(vendor: str, column: str) -> str:
    if vendor == "sqlite":  # amounts are stored as REAL there: round to whole cents, then sum integers
        return f"CAST(round({column} * 100) AS INTEGER)"
    return f"CAST({column} * 100 AS bigint)"


def _date_month(vendor: str, day: str) -> str:
    """The yyyymm of a date column (0 for none): no time zone involved."""
    if vendor == "sqlite":  # dates are 'YYYY-MM-DD' text
        return f"coalesce(CAST(substr({day}, 1, 4) || substr({day}, 6, 2) AS INTEGER), 0)"
    return f"coalesce(CAST(to_char({day}, 'YYYYMM') AS integer), 0)"


def _month(vendor: str, measure: int, row: str) -> str:
    if measure == Measure.EXPECTED:
        return _date_month(vendor, f"{row}expected_close")
    column = f"{row}{'closed_at' if measure == Measure.CLOSED else 'created_at'}"
    # The last month starting at or before the time, if the time is before its end: one step down the index.
    return (f"coalesce((SELECT CASE WHEN m.ends_at > {column} THEN m.month ELSE 0 END FROM {MONTHS} m "
            f"WHERE m.starts_at <= {column} ORDER BY m.starts_at DESC LIMIT 1), 0)")


def _opportunity_parts(vendor: str, row: str) -> list[Part]:
    """Each opportunity counts once under each measure (under CLOSED only when it has a closing time)."""
    cents = _cents(vendor, f"{row}amount")
    return [([str(measure), _month(vendor, measure, row), f"coalesce({row}owner_id, 0)", f"coalesce({row}team_id, 0)",
              f"{row}pipeline_id", f"{row}status", f"{row}currency"], ["1", cents, f"{cents} * {row}probability"],
             f"{row}closed_at IS NOT NULL" if measure == Measure.CLOSED else None)
            for measure in (Measure.EXPECTED, Measure.CLOSED, Measure.CREATED)]


def _order_parts(vendor: str, row: str) -> list[Part]:
    """Each order counts once, under the month of its order date, with its net and gross totals."""
    return [([_date_month(vendor, f"{row}ordered_on"), f"coalesce({row}owner_id, 0)", f"coalesce({row}team_id, 0)",
              f"{row}status", f"{row}currency"],
             ["1", _cents(vendor, f"{row}net_total"), _cents(vendor, f"{row}gross_total")], None)]


MONTHS = CompanyMonth._meta.db_table
FIRST_MONTH, LAST_MONTH = 197001, 219912  # the company months kept: closing and creation times outside count as 0
OPPORTUNITIES = Kept(
    table=OpportunityMonth._meta.db_table, source="sales_opportunity",
    key=("measure", "month", "owner_id", "team_id", "pipeline_id", "status", "currency"),
    sums=("n", "amount", "weighted"),
    summed=("owner_id", "team_id", "pipeline_id", "status", "currency", "amount", "probability", "expected_close",
            "closed_at", "created_at"),
    parts=_opportunity_parts)
ORDERS = Kept(
    table=OrderMonth._meta.db_table, source="sales_order", key=("month", "owner_id", "team_id", "status", "currency"),
    sums=("n", "amount", "gross"),
    summed=("owner_id", "team_id", "status", "currency", "net_total", "gross_total", "ordered_on"),
    parts=_order_parts)
TABLE, SOURCE = OPPORTUNITIES.table, OPPORTUNITIES.source
TRIGGERS = ("ai", "au", "ad", "at")


# ---------------------------------------------------------------- per account: recomputed, not added up

CANCELLED = OrderStatus.CANCELLED.value
LOCK_CLASS = 47110  # pg_advisory_xact_lock's first key for the accounts' summary (the second: a bucket of accounts)
LOCK_BUCKETS = 1024


@dataclass(frozen=True)
class PerAccount:
    """A table of one row per account (`key`) made from that account's counted orders: first and last day and
    the repeat total are not sums a trigger can take an order away from, so on a change the triggers make the
    affected accounts' rows again from their orders (an account's orders are few, found through the account
    index) — on SQLite per row (an inserted order is added to its row: see _sqlite_add), on PostgreSQL once per
    statement for the accounts in its transition tables (a COPY of millions of orders makes the rows of their
    accounts in one grouped query)."""

    table: str
    source: str
    key: tuple[str, ...]
    sums: tuple[str, ...]
    watched: tuple[str, ...]  # the order columns the figures read

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.sums

    def recomputed(self, vendor: str, where: str = "") -> str:
        """The rows of the accounts whose orders match `where` (an extra condition on `o.`), or of every account:
        per account and day the count and amount, then per account (the first day's amount found by a window)."""
        cents = _cents(vendor, "o.gross_total")
        return f"""SELECT account_id, MIN(d) AS first_day, MAX(d) AS last_day, COUNT(*) AS order_days,
            SUM(n) AS orders, SUM(c) AS total, SUM(CASE WHEN d = first_d THEN 0 ELSE c END) AS repeat_total
            FROM (SELECT account_id, d, n, c, MIN(d) OVER (PARTITION BY account_id) AS first_d
                  FROM (SELECT o.account_id, o.ordered_on AS d, COUNT(*) AS n, SUM({cents}) AS c FROM {self.source} o
                        WHERE o.status <> '{CANCELLED}'{f" AND {where}" if where else ""}
                        GROUP BY o.account_id, o.ordered_on) AS days) AS marked
            GROUP BY account_id"""

    def _sqlite_recompute(self, account: str, when: str = "1") -> str:
        return (f"DELETE FROM {self.table} WHERE {when} AND account_id = {account}; "
                f"INSERT INTO {self.table} ({', '.join(self.columns)}) SELECT * FROM "
                f"({self.recomputed('sqlite', f'o.account_id = {account}')}) WHERE {when};")

    def _sqlite_add(self) -> str:
        """SQLite, a counted order inserted: its account's row updated from the new order alone (making the row
        again from all the account's orders, per row, made a bulk load of orders 3× slower). Every figure follows
        from the row before and the order, the order days from one look-up of another order that day."""
        t, cents = self.table, _cents("sqlite", "NEW.gross_total")
        # "+o.ordered_on": through the account's orders (a few), not the order-date index (that day's thousands)
        other_that_day = (f"SELECT 1 FROM {self.source} o WHERE o.account_id = NEW.account_id AND +o.ordered_on = "
                          f"NEW.ordered_on AND o.status <> '{CANCELLED}' AND o.id <> NEW.id")
        return (f"INSERT INTO {t} ({', '.join(self.columns)}) SELECT NEW.account_id, NEW.ordered_on, NEW.ordered_on, "
                f"1, 1, {cents}, 0 WHERE true ON CONFLICT (account_id) DO UPDATE SET "
                f"first_day = min(first_day, excluded.first_day), last_day = max(last_day, excluded.last_day), "
                f"order_days = order_days + NOT EXISTS ({other_that_day}), orders = orders + 1, "
                f"total = total + excluded.total, "
                # an earlier first day: the old first day's orders become repeat orders, the new one is not one
                f"repeat_total = CASE WHEN excluded.first_day < first_day THEN total "
                f"WHEN excluded.first_day = first_day THEN repeat_total ELSE repeat_total + excluded.total END;")

    def _changed(self, old: str, new: str) -> str:
        """Whether an update changes what the figures read: counted or not, or a watched column of a counted order."""
        columns = " OR ".join(f"{old}{c} IS DISTINCT FROM {new}{c}" for c in self.watched if c != "status")
        return (f"({old}status = '{CANCELLED}') IS DISTINCT FROM ({new}status = '{CANCELLED}') OR "
                f"({new}status <> '{CANCELLED}' AND ({columns}))")

    def trigger_sql(self, vendor: str) -> list[str]:
        table, source = self.table, self.source
        if vendor == "sqlite":
            changed = self._changed("OLD.", "NEW.").replace("IS DISTINCT FROM", "IS NOT")
            return [
                f'CREATE TRIGGER "{table}_ai" AFTER INSERT ON "{source}" WHEN NEW.status <> \'{CANCELLED}\' '
                f"BEGIN {self._sqlite_add()} END",
                f'CREATE TRIGGER "{table}_au" AFTER UPDATE OF {", ".join(self.watched)} ON "{source}" WHEN {changed} '
                f"BEGIN {self._sqlite_recompute('OLD.account_id')} "
                f"{self._sqlite_recompute('NEW.account_id', 'OLD.account_id IS NOT NEW.account_id')} END",
                f'CREATE TRIGGER "{table}_ad" AFTER DELETE ON "{source}" WHEN OLD.status <> \'{CANCELLED}\' '
                f"BEGIN {self._sqlite_recompute('OLD.account_id')} END",
            ]
        counted = f"status <> '{CANCELLED}'"
        affected = {
            "INSERT": f"SELECT account_id FROM new_rows WHERE {counted}",
            "DELETE": f"SELECT account_id FROM old_rows WHERE {counted}",
            "UPDATE": f"SELECT unnest(ARRAY[was.account_id, cur.account_id]) AS account_id FROM old_rows was "
                      f"JOIN new_rows cur ON cur.id = was.id WHERE {self._changed('was.', 'cur.')}",
        }
        apply = []
        for op, accounts in affected.items():
            within = f"o.account_id IN ({accounts})"
            # Writers of the same accounts take turns (a bucket lock, in bucket order: no deadlock between two
            # statements); each statement after it sees what the other committed, so the rows are made from every
            # committed order. Rows still the same are not rewritten.
            steps = [
                f"PERFORM pg_advisory_xact_lock({LOCK_CLASS}, b) FROM (SELECT DISTINCT CAST(account_id % "
                f"{LOCK_BUCKETS} AS integer) AS b FROM ({accounts}) AS a ORDER BY b) AS l;",
                f"INSERT INTO {table} ({', '.join(self.columns)}) {self.recomputed(vendor, within)} "
                f"ORDER BY account_id ON CONFLICT (account_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in self.sums)
                + f" WHERE ({', '.join(f'{table}.{c}' for c in self.sums)}) IS DISTINCT FROM "
                  f"({', '.join(f'excluded.{c}' for c in self.sums)});",
            ]
            if op != "INSERT":  # accounts left without a counted order
                steps.append(f"DELETE FROM {table} t WHERE t.account_id IN ({accounts}) AND NOT EXISTS "
                             f"(SELECT 1 FROM {source} o WHERE o.account_id = t.account_id AND o.{counted});")
            apply.append(f"IF TG_OP = '{op}' THEN " + " ".join(steps) + " END IF;")
        body = "\n  ".join(apply)
        return [
            f"""CREATE OR REPLACE FUNCTION {table}_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {body}
  RETURN NULL;
END $$""",
            f"""CREATE OR REPLACE FUNCTION {table}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM {table}; RETURN NULL; END $$""",
            *_pg_triggers(table, source),
        ]


ACCOUNTS = PerAccount(
    table=AccountOrders._meta.db_table, source="sales_order", key=("account_id",),
    sums=("first_day", "last_day", "order_days", "orders", "total", "repeat_total"),
    watched=("account_id", "status", "ordered_on", "gross_total"))
SUMMARIES: tuple[Kept | PerAccount, ...] = (OPPORTUNITIES, ORDERS, ACCOUNTS)


def _values(kept: Kept, part: Part, sign: int = 1) -> str:
    """The select list of one contribution, named as the key then the sums (the sums negated with `sign` -1)."""
    keys, sums, _when = part
    exprs = keys + (sums if sign == 1 else [f"-({e})" for e in sums])
    return ", ".join(f"{e} AS {n}" for e, n in zip(exprs, kept.key + kept.sums, strict=True))


def _contributions(kept: Kept, vendor: str, source: str, sign: int = 1) -> str:
    """Every contribution of the rows of `source` (a table or a transition table), named as the key then the sums."""
    parts = []
    for part in kept.parts(vendor, "o."):
        where = f" WHERE {part[2]}" if part[2] else ""
        parts.append(f"SELECT {_values(kept, part, sign)} FROM {source} o{where}")
    return " UNION ALL ".join(parts)


def _grouped(kept: Kept, contributions: str, having: bool = False) -> str:
    keys = ", ".join(kept.key)
    sql = (f"SELECT {keys}, {', '.join(f'sum({s})' for s in kept.sums)} FROM ({contributions}) AS c "
           f"GROUP BY {keys}")
    if having:
        sql += " HAVING " + " OR ".join(f"sum({s}) <> 0" for s in kept.sums)
    return sql


# ---------------------------------------------------------------- triggers

def _sqlite_change(kept: Kept, part: Part, sign: int) -> str:
    """A SQLite trigger statement: this row's contribution added (sign 1, an upsert) or taken away (-1, an update
    of the row that must exist, then the row deleted if nothing is left in it)."""
    keys, sums, when = part
    when = when or "1"
    if sign == 1:
        added = ", ".join(f"{s} = {s} + excluded.{s}" for s in kept.sums)
        return (f"INSERT INTO {kept.table} ({', '.join(kept.key + kept.sums)}) SELECT {_values(kept, part)} "
                f"WHERE {when} ON CONFLICT ({', '.join(kept.key)}) DO UPDATE SET {added};")
    match = " AND ".join(f"{k} = {e}" for k, e in zip(kept.key, keys, strict=True))
    taken = ", ".join(f"{s} = {s} - ({e})" for s, e in zip(kept.sums, sums, strict=True))
    return (f"UPDATE {kept.table} SET {taken} WHERE {when} AND {match}; "
            f"DELETE FROM {kept.table} WHERE {when} AND {match} AND {kept.sums[0]} = 0;")


def sqlite_trigger_sql(kept: Kept = OPPORTUNITIES) -> list[str]:
    add = " ".join(_sqlite_change(kept, part, 1) for part in kept.parts("sqlite", "NEW."))
    take = " ".join(_sqlite_change(kept, part, -1) for part in kept.parts("sqlite", "OLD."))
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in kept.summed)
    table, source = kept.table, kept.source
    return [
        f'CREATE TRIGGER "{table}_ai" AFTER INSERT ON "{source}" BEGIN {add} END',
        f'CREATE TRIGGER "{table}_au" AFTER UPDATE OF {", ".join(kept.summed)} ON "{source}" WHEN {changed} '
        f"BEGIN {take} {add} END",
        f'CREATE TRIGGER "{table}_ad" AFTER DELETE ON "{source}" BEGIN {take} END',
    ]


def _pg_apply(kept: Kept, contributions: str, having: bool) -> str:
    keys, table = ", ".join(kept.key), kept.table
    added = ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in kept.sums)
    return (f"WITH up AS (INSERT INTO {table} ({keys}, {', '.join(kept.sums)}) {_grouped(kept, contributions, having)} "
            f"ORDER BY {keys} ON CONFLICT ({keys}) DO UPDATE SET {added} "
            f"RETURNING id, {kept.sums[0]} AS n) SELECT array_agg(id) INTO gone FROM up WHERE n = 0;")


def postgresql_trigger_sql(kept: Kept = OPPORTUNITIES) -> list[str]:
    pg, table, source = "postgresql", kept.table, kept.source
    inserted = _pg_apply(kept, _contributions(kept, pg, "new_rows"), False)
    deleted = _pg_apply(kept, _contributions(kept, pg, "old_rows", -1), False)
    updated = _pg_apply(kept, f"{_contributions(kept, pg, 'old_rows', -1)} UNION ALL "
                              f"{_contributions(kept, pg, 'new_rows')}", True)
    function = f"""CREATE OR REPLACE FUNCTION {table}_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE gone bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN {inserted}
  ELSIF TG_OP = 'DELETE' THEN {deleted}
  ELSE {updated}
  END IF;
  IF gone IS NOT NULL THEN DELETE FROM {table} WHERE id = ANY(gone); END IF;
  RETURN NULL;
END $$"""
    truncate = f"""CREATE OR REPLACE FUNCTION {table}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM {table}; RETURN NULL; END $$"""
    return [function, truncate, *_pg_triggers(table, source)]


def _pg_triggers(table: str, source: str) -> list[str]:
    """The statement triggers that run {table}_apply() with the transition tables, and {table}_truncate()."""
    run = f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_apply()"
    return [
        f'CREATE TRIGGER "{table}_ai" AFTER INSERT ON "{source}" REFERENCING NEW TABLE AS new_rows {run}',
        f'CREATE TRIGGER "{table}_au" AFTER UPDATE ON "{source}" REFERENCING OLD TABLE AS old_rows '
        f"NEW TABLE AS new_rows {run}",
        f'CREATE TRIGGER "{table}_ad" AFTER DELETE ON "{source}" REFERENCING OLD TABLE AS old_rows {run}',
        f'CREATE TRIGGER "{table}_at" AFTER TRUNCATE ON "{source}" FOR EACH STATEMENT EXECUTE FUNCTION '
        f"{table}_truncate()",
    ]


def drop_trigger_sql(vendor: str, kept: Kept | PerAccount = OPPORTUNITIES) -> list[str]:
    table, source = kept.table, kept.source
    if vendor == "sqlite":
        return [f'DROP TRIGGER IF EXISTS "{table}_{t}"' for t in TRIGGERS]
    return [f'DROP TRIGGER IF EXISTS "{table}_{t}" ON "{source}"' for t in TRIGGERS] + [
        f"DROP FUNCTION IF EXISTS {table}_apply()", f"DROP FUNCTION IF EXISTS {table}_truncate()"]


def install(schema_editor: Any, kept: Kept | PerAccount = OPPORTUNITIES) -> None:
    """Used by the migrations: the triggers for the database in use, then the summary of what is there (of the
    opportunities: with the company months). A migration that makes SQLite rebuild the source table (which drops
    its triggers) calls this again for each summary of that table."""
    vendor = schema_editor.connection.vendor
    for sql in drop_trigger_sql(vendor, kept) + kept.trigger_sql(vendor):
        schema_editor.execute(sql, params=None)
    rebuild(schema_editor.connection.alias, (kept,))


def remove(schema_editor: Any, kept: Kept | PerAccount = OPPORTUNITIES) -> None:
    for sql in drop_trigger_sql(schema_editor.connection.vendor, kept):
        schema_editor.execute(sql, params=None)


def migration_step(kept: Kept | PerAccount) -> migrations.RunPython:
    """The migration operation that installs `kept` (its triggers, then its rows), and removes its triggers when
    migrated back."""
    return migrations.RunPython(lambda apps, schema_editor: install(schema_editor, kept),
                                lambda apps, schema_editor: remove(schema_editor, kept))


# ---------------------------------------------------------------- rebuild and check

def _company_months(zone_name: str) -> list[CompanyMonth]:
    zone = ZoneInfo(zone_name)
    starts = [dt.datetime(y, m, 1, tzinfo=zone) for y in range(FIRST_MONTH // 100, LAST_MONTH // 100 + 1)
              for m in range(1, 13)]
    starts.append(dt.datetime(LAST_MONTH // 100 + 1, 1, 1, tzinfo=zone))
    return [CompanyMonth(month=s.year * 100 + s.month, starts_at=s, ends_at=e, zone=zone_name)
            for s, e in zip(starts, starts[1:], strict=False)]


def rebuild(using: str = DEFAULT_DB_ALIAS, kept: tuple[Kept | PerAccount, ...] = SUMMARIES) -> int:
    """The summaries `kept` made again from their tables in one transaction (writers wait; readers see the old
    summary until the end), and with the opportunities' the company months for settings.TIME_ZONE. The number
    of summary rows."""
    db = connections[using]
    made = 0
    with transaction.atomic(using=using), db.cursor() as cursor:
        for one in kept:
            if db.vendor == "postgresql":  # no changes meanwhile (their triggers would race the rebuild)
                cursor.execute(f'LOCK TABLE "{one.source}" IN SHARE MODE')
            if one is OPPORTUNITIES:
                cursor.execute(f"DELETE FROM {MONTHS}")
                CompanyMonth.objects.using(using).bulk_create(_company_months(settings.TIME_ZONE), batch_size=500)
            cursor.execute(f"DELETE FROM {one.table}")
            cursor.execute(f"INSERT INTO {one.table} ({', '.join(one.columns)}) {one.recomputed(db.vendor)}")
            made += cursor.rowcount
    return made


def _rows(sql: str, width: int) -> dict[tuple, tuple]:
    """Key → figures, the figures as whole numbers or (dates: ISO text on SQLite, date objects on PostgreSQL) text."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {tuple(r[:width]): tuple(str(v) if isinstance(v, str | dt.date) else int(v) for v in r[width:])
                for r in cursor.fetchall()}


def differences() -> list[dict[str, Any]]:
    """Where a summary is not what its table adds up to (an empty list when none is): the summary, key, stored
    sums, recomputed sums. Also a company-months table made for another TIME_ZONE (the rebuild fixes both)."""
    vendor = connection.vendor
    out: list[dict[str, Any]] = []
    if not zone_ready():
        out.append({"key": "company months", "stored": CompanyMonth.objects.values_list("zone", flat=True).first(),
                    "recomputed": settings.TIME_ZONE})
    for kept in SUMMARIES:
        width = len(kept.key)
        stored = _rows(f"SELECT {', '.join(kept.columns)} FROM {kept.table}", width)
        recomputed = _rows(kept.recomputed(vendor), width)
        for key in sorted(set(stored) | set(recomputed)):
            if stored.get(key) != recomputed.get(key):
                out.append({"summary": kept.table, "key": dict(zip(kept.key, key, strict=True)),
                            "stored": stored.get(key), "recomputed": recomputed.get(key)})
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
    return visible_rows(OpportunityMonth.objects.filter(measure=measure), parts, members_only)


def visible_rows(qs: QuerySet, parts: VisibleParts, members_only: bool = False) -> QuerySet:
    """`visible` for any summary kept per owner and team (`qs`: its rows; `parts`: its source's visible_parts)."""
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


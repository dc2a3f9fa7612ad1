"""Demo data: a company with teams and users in every role, and bilingual customers in bulk.

The organisation (teams, users, tags, custom fields) is created only where missing. Customers are
generated only into a database without contacts (demo customers never mix with real ones), in
chunks (guanxi.core.demo_rows) inserted with executemany (SQLite) or COPY (PostgreSQL) in one
transaction: a million contacts load in under two minutes on two cores, and a failed load leaves
nothing behind. Bulk demo rows get no "create" audit entries: nobody created them.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain, count

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max, Model

from guanxi.activities.demo import create_demo_followup
from guanxi.activities.models import Note
from guanxi.analytics.demo import create_demo_history
from guanxi.analytics.score_services import score_customers
from guanxi.customers.models import Account, Address, Contact, ContactMethod
from guanxi.customers.pool_demo import create_demo_pool
from guanxi.knowledge.demo import create_demo_knowledge
from guanxi.portal.demo import create_demo_portal
from guanxi.quality.normalize import search_text
from guanxi.sales.demo import create_demo_opportunities
from guanxi.service.demo import create_demo_nps, create_demo_service

from . import demo_rows as R
from .demo_vocab import CHANNELS, TAGS
from .models import CustomField, FieldType, Role, Tag, Team, User
from .search import pairs_indexed, rebuild_index, sqlite_fts_drop_sql, sqlite_fts_sql

log = logging.getLogger(__name__)
DEMO_PASSWORD = "guanxi-demo"
SEARCH_TABLES = (Account, Contact)
# Up to this size the demo also gets two years of orders and is scored once (the analytics pages show them);
# a larger load (the 1M-contact benchmark) is customers only, left to the nightly scoring.
HISTORY_MAX_CONTACTS = 100_000

# (team, parent team)
TEAMS = (("公司", None), ("销售部", "公司"), ("华北销售", "销售部"), ("华东销售", "销售部"), ("华南销售", "销售部"),
         ("客服部", "公司"), ("市场部", "公司"))
# (username, full name, role, team)
USERS = (
    ("manager", "赵磊", Role.SALES_MANAGER, "销售部"),
    ("rep1", "王芳", Role.SALES_REP, "华北销售"),
    ("rep2", "李强", Role.SALES_REP, "华北销售"),
    ("rep3", "陈静", Role.SALES_REP, "华东销售"),
    ("rep4", "刘洋", Role.SALES_REP, "华东销售"),
    ("rep5", "黄丽", Role.SALES_REP, "华南销售"),
    ("rep6", "周杰", Role.SALES_REP, "华南销售"),
    ("service", "孙敏", Role.SERVICE_MANAGER, "客服部"),
    ("agent1", "吴婷", Role.SERVICE_AGENT, "客服部"),
    ("agent2", "郑浩", Role.SERVICE_AGENT, "客服部"),
    ("marketing", "林晓", Role.MARKETING, "市场部"),
    ("viewer", "何平", Role.READ_ONLY, "销售部"),
)
CUSTOM_FIELDS = (
    dict(model="account", key="channel", label_zh="客户来源渠道", label_en="Acquisition channel",
         field_type=FieldType.CHOICE, choices=list(CHANNELS), show_in_list=True, position=1),
    dict(model="account", key="annual_purchase", label_zh="年采购额", label_en="Annual purchases",
         field_type=FieldType.MONEY, currency="CNY", position=2),
    dict(model="contact", key="wechat", label_zh="微信号", label_en="WeChat ID", field_type=FieldType.TEXT,
         position=1),
)


@dataclass
class DemoResult:
    created: bool  # False: the database already had contacts, nothing was generated
    accounts: int
    contacts: int
    seconds: float = 0.0


def ensure_org() -> dict[str, list[tuple[int, int]]]:
    """Teams, users in every role, tags and custom fields (each only if missing); returns reps by region."""
    with transaction.atomic():
        teams: dict[str, Team] = {}
        for name, parent in TEAMS:
            teams[name], _created = Team.objects.get_or_create(name=name, defaults={"parent": teams.get(parent)})
        hashed = make_password(DEMO_PASSWORD)  # once: hashing is slow on purpose, the users share it
        for username, full_name, role, team in USERS:
            if not User.objects.filter(username=username).exists():
                User.objects.create(username=username, password=hashed, role=role, team=teams[team],
                                    first_name=full_name, email=f"{username}@example.com")
        for name, color in TAGS:
            Tag.objects.get_or_create(name=name, defaults={"color": color})
        for spec in CUSTOM_FIELDS:
            spec = dict(spec)
            CustomField.objects.get_or_create(model=spec.pop("model"), key=spec.pop("key"), defaults=spec)
    reps: dict[str, list[tuple[int, int]]] = {}
    for user in User.objects.filter(role=Role.SALES_REP, is_active=True, team__isnull=False).select_related("team"):
        reps.setdefault(user.team.name, []).append((user.pk, user.team_id))
    return {region: sorted(members) for region, members in sorted(reps.items())}


# ------------------------------------------------------------------ bulk insert

def _tables() -> list[tuple[str, str, type[Model], tuple[str, ...]]]:
    """(Rows attribute, table, model, columns) in insertion order."""
    return [
        ("accounts", Account._meta.db_table, Account, R.ACCOUNT_COLS),
        ("addresses", Address._meta.db_table, Address, R.ADDRESS_COLS),
        ("account_tags", Account.tags.through._meta.db_table, Account.tags.through, R.ACCOUNT_TAG_COLS),
        ("contacts", Contact._meta.db_table, Contact, R.CONTACT_COLS),
        ("methods", ContactMethod._meta.db_table, ContactMethod, R.METHOD_COLS),
        ("contact_accounts", Contact.accounts.through._meta.db_table, Contact.accounts.through,
         R.CONTACT_ACCOUNT_COLS),
        ("contact_tags", Contact.tags.through._meta.db_table, Contact.tags.through, R.CONTACT_TAG_COLS),
        ("notes", Note._meta.db_table, Note, R.NOTE_COLS),
    ]


def _extras(model: type[Model], columns: tuple[str, ...]) -> tuple[tuple[str, ...], tuple]:
    """Columns the generator does not fill (added to a model later) with their defaults."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in columns:
            continue
        names.append(f.column)
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return tuple(names), tuple(values)


class _Inserter:
    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.specs = []
        for attr, table, model, columns in _tables():
            extra_cols, extra_values = _extras(model, columns)
            cols = ", ".join(f'"{c}"' for c in columns + extra_cols)
            self.specs.append((attr, table, cols, len(columns + extra_cols), extra_values))

    def insert(self, rows: R.Rows) -> None:
        for attr, table, cols, width, extra in self.specs:
            data = getattr(rows, attr)
            if not data:
                continue
            if extra:
                data = [row + extra for row in data]
            if self.vendor == "postgresql":
                with connection.cursor() as cursor, cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in data:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * width)
                with connection.cursor() as cursor:
                    cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', data)


def _unique_names(rows: R.Rows, seen: set[str]) -> None:
    """Rename an account whose generated name is taken: a branch office (分公司) or a numbered one."""
    for i, row in enumerate(rows.accounts):
        name = row[R.ACCOUNT_NAME]
        if name not in seen:
            seen.add(name)
            continue
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in name)
        place = rows.districts[i].removesuffix("区").removesuffix("市")
        candidates = chain([f"{name}{place}分公司" if chinese else f"{name} ({place})"],
                           (f"{name}第{n}分公司" if chinese else f"{name} No. {n}" for n in count(2)))
        name = next(c for c in candidates if c not in seen)
        seen.add(name)
        text = search_text(names=[name], phones=[row[R.ACCOUNT_PHONE]], emails=[row[R.ACCOUNT_EMAIL]])
        row = list(row)
        row[R.ACCOUNT_NAME], row[R.ACCOUNT_SEARCH] = name, text
        rows.accounts[i] = tuple(row)


def _chunks(plan: R.Plan, workers: int) -> Iterator[R.Rows]:
    """Chunks in order; built by `workers` forked processes while this one inserts."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for k in range(plan.chunks):
            yield R.build_chunk(plan, k)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque = deque()
        submitted = 0
        while submitted < plan.chunks or pending:
            while submitted < plan.chunks and len(pending) < workers * 2:
                pending.append(pool.apply_async(R.build_chunk, (plan, submitted)))
                submitted += 1
            yield pending.popleft().get()


def _next_id(model: type[Model]) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _set_pragmas(loading: bool) -> None:
    """SQLite: no fsync and a big page cache while loading (a crash mid-load loses only the load)."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:  # not allowed inside one
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={'OFF' if loading else 'NORMAL'}")
            cursor.execute(f"PRAGMA cache_size={-500000 if loading else -64000}")
            if not loading:
                cursor.execute("PRAGMA optimize")


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the plain indexes on `tables`: not primary keys nor constraints."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           f"AND tbl_name IN ({marks}) ORDER BY name", tables)
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = ANY(%s) AND NOT x.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
                [tables])
        else:
            return []
        return [(name, sql) for name, sql in cursor.fetchall()]


def _before_load() -> list[tuple[str, str]]:
    """Inside the load's transaction (a failed load puts everything back): drop the search index and
    the other secondary indexes, which build far faster in one pass at the end than row by row."""
    indexes = _secondary_indexes([table for _a, table, _m, _c in _tables()])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # check foreign keys as rows arrive, not queued to the commit
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if connection.vendor == "sqlite":
            for model in SEARCH_TABLES:
                for sql in sqlite_fts_drop_sql(model._meta.db_table):
                    cursor.execute(sql)
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return indexes


def _after_load(indexes: list[tuple[str, str]]) -> None:
    with connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)
        log.info("demo: secondary indexes rebuilt")
        if connection.vendor == "sqlite":
            for model in SEARCH_TABLES:
                for sql in sqlite_fts_sql(model._meta.db_table,
                                          pairs=pairs_indexed(model, "sqlite")):
                    cursor.execute(sql)
                rebuild_index(model)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        from django.core.management.color import no_style

        for sql in connection.ops.sequence_reset_sql(no_style(), [Account, Contact]):
            cursor.execute(sql)


def load(size: int = 2000, seed: int = 1, *, workers: int | None = None,
         report: Callable[[int, int], None] | None = None) -> DemoResult:
    """Create the demo organisation and, unless the database already has contacts, `size` contacts
    and size/5 accounts. The same seed gives the same customers."""
    import time

    started = time.monotonic()
    if Contact.objects.exists():  # a demo database already, or real data: add neither customers nor demo logins
        return DemoResult(created=False, accounts=Account.objects.count(), contacts=Contact.objects.count())
    reps = ensure_org()
    if not reps:
        raise RuntimeError("no active sales reps to own the demo customers")
    size = int(size)
    if size <= 0:  # the organisation only
        return DemoResult(created=False, accounts=Account.objects.count(), contacts=0)
    plan = R.Plan(
        seed=int(seed), n_accounts=max(1, size // 5), n_contacts=size,
        account_base=_next_id(Account), contact_base=_next_id(Contact), reps=reps,
        tag_ids=sorted(Tag.objects.values_list("pk", flat=True)),
        anchor=dt.datetime.now(dt.UTC).replace(microsecond=0), sqlite=connection.vendor == "sqlite",
        chunk_accounts=1000,
    )
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if plan.chunks > 4 else 1
    inserter = _Inserter()
    seen: set[str] = set(Account.objects.values_list("name", flat=True))
    done = 0
    _set_pragmas(loading=True)
    try:
        with transaction.atomic():
            indexes = _before_load()
            for rows in _chunks(plan, workers):
                _unique_names(rows, seen)
                inserter.insert(rows)
                done += len(rows.contacts)
                if report:
                    report(done, plan.n_contacts)
            log.info("demo: rows inserted after %.1f s", time.monotonic() - started)
            _after_load(indexes)
            log.info("demo: indexes built after %.1f s", time.monotonic() - started)
            create_demo_opportunities(plan.seed, plan.account_base, plan.anchor.date())
            if plan.n_contacts <= HISTORY_MAX_CONTACTS:
                create_demo_history(plan.seed, plan.account_base, plan.anchor.date())
            create_demo_knowledge()
            create_demo_service(plan.seed, plan.account_base, plan.anchor)
            create_demo_nps(plan.seed, plan.account_base, plan.anchor)
            create_demo_portal(DEMO_PASSWORD)
            create_demo_pool(plan.seed, plan.account_base, plan.anchor)
            create_demo_followup(plan.seed, plan.account_base, plan.anchor)
        log.info("demo: committed after %.1f s", time.monotonic() - started)
    finally:
        _set_pragmas(loading=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for _attr, table, _model, _cols in _tables():  # fresh statistics, or the planner guesses
                cursor.execute(f'ANALYZE "{table}"')
    if plan.n_contacts <= HISTORY_MAX_CONTACTS:  # the analytics pages show the history at once
        run = score_customers()
        log.info("demo: customers scored (%s) after %.1f s", run.status, time.monotonic() - started)
    return DemoResult(created=True, accounts=plan.n_accounts, contacts=plan.n_contacts,
                      seconds=time.monotonic() - started)

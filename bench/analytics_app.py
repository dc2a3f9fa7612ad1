"""The scoring job on the database: `python -m bench.analytics_app --customers 100000 --database sqlite`.

Loads seeded orders from the BG/NBD process (guanxi.analytics.simulate, ~10 orders per customer, one order
line each) into a fresh database (SQLite in a temporary GUANXI_HOME, or PostgreSQL at --pg-url), then runs
`score_customers` (SQL aggregation → RFM, BG/NBD + Gamma-Gamma, churn windows, bulk writes, affinity, lifecycle
stages) and reports its steps, then target customers for one product (analytics.ptc_services, top 50, as an
administrator and as a rep who owns a tenth of the accounts) and the KPI dashboard for a quarter,
next to the in-memory path of bench.analytics_clv (RFM and the summary from a DataFrame)
on the same transactions. Prints a Markdown report with the load average; run it under
`flock /tmp/guanxi-bench.lock`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def _setup(database: str, pg_url: str, home: Path, fresh: bool = True) -> None:
    os.environ["GUANXI_HOME"] = str(home)
    os.environ.setdefault("GUANXI_SECRET_KEY", "bench-only-secret")
    if database == "postgresql":
        os.environ["GUANXI_DATABASE_URL"] = pg_url
    else:
        os.environ.pop("GUANXI_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if database == "postgresql" and fresh:  # start from an empty schema
        with connection.cursor() as c:
            c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)


def _insert(model, template, columns: dict[str, list]) -> None:
    """Rows of `model` like `template`, with `columns` (attname → one value per row, as text or numbers)
    varying: the rows are zipped from the columns (no per-row Python lists), COPY on PostgreSQL, one
    executemany on the sqlite3 connection itself."""
    from django.db import connection, transaction

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = [columns[f.attname] if f.attname in columns
              else itertools.repeat(f.get_db_prep_save(getattr(template, f.attname), connection)) for f in fields]
    names = ", ".join(f'"{f.column}"' for f in fields)
    table = model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in zip(*values, strict=False):  # the fixed columns repeat forever
                    copy.write_row(row)
        else:
            connection.connection.executemany(
                f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(["?"] * len(fields))})',
                zip(*values, strict=False))


@contextlib.contextmanager
def _bulk(model, took: dict[str, float], label: str):
    """A bulk load into `model`'s table as `guanxi demo` makes one: its secondary indexes and the summaries'
    triggers on it (sales.summary) dropped for the load, then the indexes built in one pass each and the
    summaries made again from the table (one grouped query each), every part timed into `took`."""
    from django.db import connection

    from guanxi.core.demo import _secondary_indexes
    from guanxi.sales import summary

    table = model._meta.db_table
    kept = tuple(k for k in summary.SUMMARIES if k.source == table)
    indexes = _secondary_indexes([table])
    with connection.cursor() as cursor:
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for one in kept:
            for sql in summary.drop_trigger_sql(connection.vendor, one):
                cursor.execute(sql)
    started = time.perf_counter()
    yield
    took[f"{label}: the rows"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)
    took[f"{label}: {len(indexes)} indexes built"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for one in kept:
            for sql in one.trigger_sql(connection.vendor):
                cursor.execute(sql)
    rows = summary.rebuild(kept=kept)
    took[f"{label}: {len(kept)} summaries made again ({rows:,} rows)"] = time.perf_counter() - started


LINES = 10_000_000  # order lines per million customers (the figure)
BUNDLED = 10  # products that sometimes come with the next one (at 10M lines: every 5th order of theirs)


def _insert_lines(n_customers: int, product_ids: list[int]) -> None:
    """The order lines by INSERT … SELECT over the orders: one line each with one of the products drawn by a
    hash of the order id, and a second line with the next product on every k-th order of the first BUNDLED
    products, k chosen for LINES lines per million customers (10 a customer), so affinity has pairs to find."""
    from django.db import connection, transaction

    from guanxi.sales.quote_models import Order, OrderLine

    assert product_ids == list(range(product_ids[0], product_ids[0] + len(product_ids))), "products not contiguous"
    n_orders = Order.objects.count()
    extra = max(LINES * n_customers // 1_000_000 - n_orders, 0)
    step = max(n_orders * BUNDLED // len(product_ids) // extra, 1) if extra else 0
    fixed = {f.column: f.get_db_prep_save(f.get_default(), connection)
             for f in OrderLine._meta.concrete_fields
             if not f.primary_key and f.column not in ("order_id", "product_id", "description", "quantity",
                                                       "unit_price")}
    names = ", ".join(f'"{c}"' for c in ("order_id", "product_id", "description", "quantity", "unit_price",
                                         *fixed))
    marks = ", ".join(["%s"] * len(fixed))
    code = f"(((CAST(o.id AS BIGINT) * 1103515245 + 12345) / 65536) %% {len(product_ids)})"
    table, orders = OrderLine._meta.db_table, Order._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{table}" ({names}) SELECT o.id, %s + {code}, %s, 1, o.gross_total, {marks} '
                       f'FROM "{orders}" o', [product_ids[0], "x", *fixed.values()])
        if step:
            cursor.execute(f'INSERT INTO "{table}" ({names}) SELECT o.id, %s + ({code} + 1) %% {len(product_ids)}, '
                           f'%s, 1, 0, {marks} FROM "{orders}" o WHERE {code} < %s AND o.id %% %s = 0',
                           [product_ids[0], "x", *fixed.values(), BUNDLED, step])


def load(n_customers: int, seed: int) -> tuple[object, dict[str, float]]:
    from django.db import connection
    from django.utils import timezone

    from guanxi.analytics.simulate import bgnbd_transactions
    from guanxi.customers.models import Account
    from guanxi.sales.catalog_models import Product
    from guanxi.sales.quote_models import Order, OrderLine

    took: dict[str, float] = {}
    started = time.perf_counter()
    tx = bgnbd_transactions(n_customers, seed=seed)
    took["generate the transactions (numpy)"] = time.perf_counter() - started
    started = time.perf_counter()
    now = timezone.now()
    _insert(Account, Account(name="x", created_at=now, updated_at=now, search_text=""),
            {"name": [f"客户{i}" for i in range(n_customers)]})
    account_ids = np.fromiter(Account.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    products = Product.objects.bulk_create([Product(code=f"B{k}", name=f"产品{k}") for k in range(50)])
    took["accounts"] = time.perf_counter() - started
    started = time.perf_counter()
    n = len(tx)
    amounts = np.char.mod("%.2f", tx["amount"].to_numpy()).tolist()
    columns = {"number": [f"B{i}" for i in range(n)], "account_id": account_ids[tx["customer"].to_numpy()].tolist(),
               "ordered_on": tx["date"].to_numpy().astype("datetime64[D]").astype(str).tolist(),
               "gross_total": amounts, "net_total": amounts}
    took["orders: the columns made"] = time.perf_counter() - started
    with _bulk(Order, took, "orders"):
        _insert(Order, Order(number="", account_id=int(account_ids[0]), ordered_on=dt.date(2024, 1, 1),
                             created_at=now, updated_at=now), columns)
    started = time.perf_counter()
    _insert_lines(n_customers, sorted(p.pk for p in products))
    took[f"order lines (INSERT … SELECT, {OrderLine.objects.count():,})"] = time.perf_counter() - started
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as c:
            c.execute("ANALYZE")
        took["ANALYZE"] = time.perf_counter() - started
    return tx, took


def _ptc_and_kpis(quarter: dt.date, kpis: bool = True) -> dict[str, float]:
    """Seconds of target customers for the most bought product (an administrator; a rep owning every tenth
    account) and of the KPI dashboard for a quarter against the year before."""
    from django.db.models import Count

    from guanxi.analytics import kpi_services
    from guanxi.analytics.ptc_services import target_customers
    from guanxi.core.models import Role, User
    from guanxi.customers.models import Account
    from guanxi.sales.catalog_models import Product
    from guanxi.sales.quota_math import Period
    from guanxi.sales.quote_models import OrderLine

    admin = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.ADMIN})[0]
    rep = User.objects.get_or_create(username="bench-rep", defaults={"role": Role.SALES_REP})[0]
    other = User.objects.get_or_create(username="bench-other", defaults={"role": Role.SALES_REP})[0]
    Account.objects.update(owner=other)  # no pool
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True)[::10])
    for start in range(0, len(ids), 10_000):
        Account.objects.filter(pk__in=ids[start:start + 10_000]).update(owner=rep)
    top = (OrderLine.objects.order_by().values("product").annotate(n=Count("id")).order_by("-n")
           .values_list("product", flat=True).first())
    product = Product.objects.get(pk=top)
    took: dict[str, float] = {}
    for label, user in (("administrator", admin), ("rep (a tenth of the accounts)", rep)):
        started = time.perf_counter()
        found = target_customers(user, product, 50)
        took[f"PTC: target customers, one product, top 50, {label} ({found.method})"] = time.perf_counter() - started
    period = Period("quarter", quarter)
    for label, user in (("administrator", admin), ("rep", rep)) if kpis else ():
        started = time.perf_counter()
        kpi_services.dashboard(user, period, kpi_services.default_baseline(period))
        took[f"KPI dashboard, a quarter and its 6-quarter trend, {label}"] = time.perf_counter() - started
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--try-index", action="store_true",
                        help="also time the aggregation with a covering index on (account, ordered_on, status, total)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/guanxi_bench_analytics")
    parser.add_argument("--keep", metavar="DIR", help="SQLite: keep the database in DIR (GUANXI_HOME), and with "
                        "--reuse measure again on the one loaded there before")
    parser.add_argument("--no-kpi", action="store_true", help="leave out the KPI dashboard")
    parser.add_argument("--no-memory", action="store_true", help="leave out the in-memory comparison")
    parser.add_argument("--reuse", action="store_true", help="skip the load: the database (--keep DIR, or --pg-url) "
                        "holds the same --customers and --seed already")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        home = args.keep or stack.enter_context(tempfile.TemporaryDirectory(prefix="guanxi-bench-analytics-"))
        Path(home).mkdir(parents=True, exist_ok=True)
        _setup(args.database, args.pg_url, Path(home), fresh=not args.reuse)
        from django.db import connection

        from bench.analytics_clv import ours
        from guanxi.analytics import queries
        from guanxi.analytics.score_services import score_customers

        load_before = os.getloadavg()
        if args.reuse:
            from guanxi.analytics.simulate import bgnbd_transactions

            tx, took = bgnbd_transactions(args.customers, seed=args.seed), {}
        else:
            tx, took = load(args.customers, args.seed)
        from guanxi.sales.quote_models import OrderLine

        lines = OrderLine.objects.count()
        as_of = dt.date(2025, 12, 31)
        started = time.perf_counter()
        summary = queries.customer_summary(as_of, "sql")
        sql_aggregate = time.perf_counter() - started
        started = time.perf_counter()
        queries.customer_summary(as_of, "read")
        read_aggregate = time.perf_counter() - started
        kept_read = None
        if hasattr(queries, "kept_covers"):  # the orders per account kept by the database (sales AccountOrders)
            started = time.perf_counter()
            kept = queries.customer_summary(as_of, "kept")
            kept_read = time.perf_counter() - started
            assert len(kept) == len(summary) and (kept.orders == summary.orders).all(), "kept rows differ"
        started = time.perf_counter()
        run = score_customers(as_of)
        job = time.perf_counter() - started
        ptc = _ptc_and_kpis(dt.date(2025, 10, 1), kpis=not args.no_kpi)
        with_index = None
        if args.try_index:  # what a covering index on the orders would save (it belongs to sales.Order)
            with connection.cursor() as c:
                c.execute('CREATE INDEX IF NOT EXISTS bench_order_account_day ON "sales_order" '
                          '("account_id", "ordered_on", "status", "gross_total")')
                c.execute("ANALYZE")
            started = time.perf_counter()
            queries.customer_summary(as_of, "sql")
            with_index = time.perf_counter() - started
            with connection.cursor() as c:  # a kept database stays as the app makes it
                c.execute("DROP INDEX bench_order_account_day")
        memory = {}
        if not args.no_memory:
            print("in-memory path (bench.analytics_clv) on the same transactions:", flush=True)
            memory = ours(tx)
        load_after = os.getloadavg()
    print(f"\n## Scoring job on {args.database}: {len(summary):,} customers, {len(tx):,} orders, {lines:,} order "
          f"lines; {run.details.get('affinity_rules', 0)} affinity rules\n")
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load average {load_before[0]:.2f} before / {load_after[0]:.2f} after; run {run.status}: {run.message}\n")
    print("| step | seconds |\n| --- | ---: |")
    for name, seconds in took.items():
        print(f"| load: {name} | {seconds:.1f} |")
    print(f"| customer_summary alone, one grouped query (\"sql\") | {sql_aggregate:.2f} |")
    print(f"| customer_summary alone, three columns read out and grouped in numpy (\"read\") | {read_aggregate:.2f} |")
    if kept_read is not None:
        print(f"| customer_summary alone, the kept rows per account read out (\"kept\") | {kept_read:.2f} |")
    if with_index is not None:
        print(f"| SQL aggregation with a covering index | {with_index:.2f} |")
    for name, seconds in run.details.get("timings", {}).items():
        print(f"| job: {name} | {seconds:.2f} |")
    print(f"| **job total** | **{job:.2f}** |")
    for name, seconds in ptc.items():
        print(f"| {name} | {seconds:.2f} |")
    for name, seconds in memory.items():
        print(f"| in memory: {name} | {seconds:.2f} |")
    if memory:
        print(f"\nSQL aggregation {sql_aggregate:.2f} s against the in-memory RFM + summary "
              f"{memory['RFM'] + memory['summary']:.2f} s (which needs the transactions loaded first).")


if __name__ == "__main__":
    main()

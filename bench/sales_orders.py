"""The forecast, quota attainment and year on year over 1,000,000 deals and 1,000,000 orders: bench.sales_orders.

Generates `--deals` opportunities (default 1,000,000) into a fresh database (SQLite in a temporary GUANXI_HOME, or
PostgreSQL at --pg-url, its schema emptied first), written in bulk (multi-row INSERT on SQLite, COPY on
PostgreSQL; the monthly summary's triggers run meanwhile, as in an import): 60 reps in 6 teams under one
company team; 30 % open (expected close over 2031–2032, the stage's probability), 30 % won and 40 % lost
(closed over 2030–2031); 90 % CNY, 7 % USD, 3 % EUR; monthly rep quotas and yearly team quotas in CNY,
exchange rates for USD and EUR. Then `--orders` orders (default 1,000,000; one INSERT … SELECT over a number
series) of the same reps and their accounts, ordered over 2030–2031, 5 % cancelled, 90 % CNY, 7 % USD, 3 % EUR.
Then the server time (Django's test client, in-process: p50 / p95 over BENCH_REPEAT requests) of the forecast
page and API, the leaderboard API (a month, a year), and the views that read orders: the Performance page and
the year-on-year API (orders against the same month last year), and analytics' Performance chart (revenue per
month against the same month last year: its window ends today, so it sums the bench's orders, all later than its
start, into months it does not show — the same work as orders in its window), as an administrator (everything),
a team's manager and a rep.

    flock /tmp/h/bench.lock .venv/bin/python -m bench.sales_orders --database sqlite
    flock /tmp/h/bench.lock .venv/bin/python -m bench.sales_orders --database postgresql

Prints one JSON object. Target (issue 4): every view under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

YEAR = 2031
ZONE = ZoneInfo("Asia/Shanghai")
TEAMS, PER_TEAM = 6, 10
BATCH = 50_000


def _moment(rng: random.Random, first_year: int) -> dt.datetime:
    start = dt.datetime(first_year, 1, 1, tzinfo=ZONE)
    return start + dt.timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))


def generate(deals: int, seed: int, orders: int) -> dict:
    from django.db import connection, transaction

    from guanxi.core.models import Role, Team, User
    from guanxi.customers.import_writer import insert_rows
    from guanxi.customers.models import Account
    from guanxi.sales.models import CurrencyRate, Opportunity, Quota, StageKind
    from guanxi.sales.services import default_pipeline

    company = Team.objects.create(name="sales-company")
    admin = User.objects.create(username="bench-admin", role=Role.ADMIN)
    teams, reps = [], []
    for t in range(TEAMS):
        team = Team.objects.create(name=f"sales-team-{t}", parent=company)
        teams.append(team)
        reps += [User.objects.create(username=f"bench-rep-{t}-{i}", role=Role.SALES_REP, team=team)
                 for i in range(PER_TEAM)]
    manager = User.objects.create(username="bench-manager", role=Role.SALES_MANAGER, team=teams[0])
    pipeline = default_pipeline()
    stages = {kind: list(pipeline.stages.filter(kind=kind)) for kind in StageKind.values}
    rng = random.Random(seed)
    started = time.perf_counter()
    sqlite = connection.vendor == "sqlite"

    def when(value):
        if value is None or not sqlite:
            return value
        return value.isoformat() if isinstance(value, dt.date) and not isinstance(value, dt.datetime) \
            else connection.ops.adapt_datetimefield_value(value)

    columns = ("created_at", "updated_at", "owner_id", "team_id", "version", "custom", "name", "account_id",
               "pipeline_id", "stage_id", "status", "amount", "currency", "expected_close", "probability",
               "lost_reason", "competitors", "description", "closed_at")
    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            [Account(name=f"预测客户 {i}", owner=reps[i % len(reps)], team=reps[i % len(reps)].team)
             for i in range(2000)])
        account_ids = [a.pk for a in accounts]
        rows = []
        for i in range(deals):
            rep = reps[rng.randrange(len(reps))]
            roll = rng.random()
            kind = StageKind.OPEN if roll < 0.3 else StageKind.WON if roll < 0.6 else StageKind.LOST
            stage = rng.choice(stages[kind])
            if kind == StageKind.OPEN:
                created = _moment(rng, YEAR - 1)
                close, closed = (created + dt.timedelta(days=rng.randrange(30, 400))).date(), None
            else:
                closed = _moment(rng, YEAR - 1)
                created, close = closed - dt.timedelta(days=rng.randrange(1, 200)), closed.date()
            c = rng.random()
            currency = "CNY" if c < 0.9 else "USD" if c < 0.97 else "EUR"
            rows.append((when(created), when(created), rep.pk, rep.team_id, 1, "{}", f"商机 {i}",
                         account_ids[i % len(account_ids)], pipeline.pk, stage.pk, kind,
                         Decimal(rng.randrange(1000, 5_000_000)) / 100, currency, when(close), stage.probability,
                         "价格" if kind == StageKind.LOST else "", "", "", when(closed)))
            if len(rows) == BATCH:
                insert_rows(Opportunity, columns, rows)
                rows = []
        insert_rows(Opportunity, columns, rows)
        quotas = [Quota(user=rep, kind="month", start=dt.date(YEAR, m, 1), amount=Decimal(300000), currency="CNY")
                  for rep in reps for m in range(1, 13)]
        quotas += [Quota(team=t, kind="year", start=dt.date(YEAR, 1, 1), amount=Decimal(30_000_000)) for t in teams]
        Quota.objects.bulk_create(quotas)
        CurrencyRate.objects.bulk_create([CurrencyRate(currency=c, rate=Decimal(r), valid_from=dt.date(2030, 1, 1))
                                          for c, r in (("USD", "7.1"), ("EUR", "7.8"))])
    took = time.perf_counter() - started
    orders_took = generate_orders(orders, reps) if orders else 0.0
    with connection.cursor() as cursor:  # what autovacuum does on PostgreSQL (index-only scans need it)
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"admin": admin, "manager": manager, "rep": reps[PER_TEAM + 3], "seconds": round(took, 1),
            "orders_seconds": round(orders_took, 1)}


def _orders_sql(orders: int, reps: list, first_account: int, accounts: int) -> str:
    """One INSERT … SELECT of `orders` orders over a number series: rep i / 3 (of `reps`, with their team), one of
    that rep's accounts (account j belongs to rep j % len(reps)), a day over 2030–2031, a status and a currency
    from other digits of i (not correlated with the rep), a net amount of 10.00–49,999.99."""
    from django.db import connection

    pg = connection.vendor == "postgresql"
    n = len(reps)
    series = (f"g(i) AS (SELECT generate_series(1::bigint, {orders}))" if pg else
              f"g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {orders})")
    team = ", ".join(f"({k}, {r.pk}, {r.team_id})" for k, r in enumerate(reps))
    day = ("(date '2030-01-01' + ((i * 7919) % 730)::int)" if pg else
           "date('2030-01-01', '+' || ((i * 7919) % 730) || ' days')")
    stamp = f"({day} + time '02:00')" if pg else f"({day} || ' 02:00:00')"
    net = "(((i * 104729) % 4999000) + 1000) / 100.0"
    tax = f"round({net} * 0.13, 2)"
    status = ("CASE WHEN (i / 7) % 20 = 0 THEN 'cancelled' WHEN (i / 7) % 20 < 9 THEN 'confirmed' "
              "WHEN (i / 7) % 20 < 11 THEN 'partial' ELSE 'delivered' END")  # 5 % cancelled
    currency = "CASE WHEN (i / 17) % 100 < 90 THEN 'CNY' WHEN (i / 17) % 100 < 97 THEN 'USD' ELSE 'EUR' END"
    account = f"{first_account} + r.k + {n} * ((i / {3 * n}) % {accounts // n})"
    return (f"WITH {'' if pg else 'RECURSIVE '}{series}, r(k, owner_id, team_id) AS (VALUES {team}) "
            "INSERT INTO sales_order (created_at, updated_at, owner_id, team_id, account_id, currency, net_total, "
            "tax_total, gross_total, number, status, ordered_on) "
            f"SELECT {stamp}, {stamp}, r.owner_id, r.team_id, {account}, {currency}, {net}, {tax}, {net} + {tax}, "
            f"'SO' || i, {status}, {day} FROM g JOIN r ON r.k = (i / 3) % {n}")


def generate_orders(orders: int, reps: list) -> float:
    """`orders` orders of `reps` (see _orders_sql) in one statement; the seconds it took."""
    from django.db import connection, transaction

    from guanxi.customers.models import Account

    ids = list(Account.objects.filter(name__startswith="预测客户 ").order_by("pk").values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + len(ids))), "the bench's accounts must have consecutive ids"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_orders_sql(orders, reps, ids[0], len(ids)))
    return time.perf_counter() - started


def measure(client, url: str) -> dict:
    """p50 / p95 of the wall time, and the p50 of this process's CPU time (on a loaded machine the wall time is
    mostly waiting for a core; on SQLite the query runs in this process, so its CPU time is the work done)."""
    import statistics

    from bench.kanban import REPEAT, percentile

    client.get(url)
    walls, cpus = [], []
    for _ in range(REPEAT):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return {"p50_ms": round(statistics.median(walls)), "p95_ms": round(percentile(walls, 95)),
            "cpu_p50_ms": round(statistics.median(cpus)), "n": len(walls)}


def baseline_orders_by_month(year: int) -> dict:
    """The baseline, in the same run: the year-on-year orders summed straight from the orders table by the ORM
    (per month and currency, cancelled left out, as an administrator sees them, no page around it) — what the
    views did before the monthly summary."""
    import statistics

    from django.db.models import Count, Sum
    from django.db.models.functions import TruncMonth

    from bench.kanban import REPEAT, percentile
    from guanxi.sales.quote_models import Order, OrderStatus

    def run() -> list:
        return list(Order.objects.exclude(status=OrderStatus.CANCELLED)
                    .filter(ordered_on__gte=dt.date(year - 1, 1, 1), ordered_on__lt=dt.date(year + 1, 1, 1))
                    .annotate(month=TruncMonth("ordered_on")).values("month", "currency")
                    .annotate(n=Count("id"), net=Sum("net_total")).order_by())

    run()
    walls = []
    for _ in range(REPEAT):
        wall = time.perf_counter()
        run()
        walls.append((time.perf_counter() - wall) * 1000)
    return {"p50_ms": round(statistics.median(walls)), "p95_ms": round(percentile(walls, 95)), "n": len(walls)}


def _setup_kept(home: Path, pg_url: str | None = None) -> None:
    os.environ["GUANXI_HOME"] = str(home)
    os.environ.setdefault("GUANXI_SECRET_KEY", "bench-only-secret")
    if pg_url:
        os.environ["GUANXI_DATABASE_URL"] = pg_url
    else:
        os.environ.pop("GUANXI_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def users() -> dict:
    from guanxi.core.models import User

    found = {u.username: u for u in User.objects.filter(username__startswith="bench-")}
    return {"admin": found["bench-admin"], "manager": found["bench-manager"], "rep": found["bench-rep-1-3"],
            "seconds": 0, "orders_seconds": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/guanxi_bench_sales")
    parser.add_argument("--keep", metavar="HOME", help="SQLite only: generate into this GUANXI_HOME once and keep it "
                                                       "(later runs measure again without generating)")
    parser.add_argument("--reuse", action="store_true", help="measure the database of an earlier run again without "
                                                             "generating (PostgreSQL: the one at --pg-url)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guanxi-bench-sales-") as home:
        from bench.analytics_app import _setup

        kept = bool(args.keep) and args.database == "sqlite" and (Path(args.keep) / "guanxi.sqlite3").exists()
        if kept or args.reuse:
            _setup_kept(Path(args.keep or home), args.pg_url if args.database == "postgresql" else None)
            kept = True
        else:
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
            _setup(args.database, args.pg_url, Path(args.keep or home))
        from django.db import connection
        from django.test import Client

        from guanxi.sales.models import Opportunity, Order

        made = users() if kept else generate(args.deals, args.seed, args.orders)
        result = {"database": connection.vendor, "deals": Opportunity.objects.count(), "orders": Order.objects.count(),
                  "generated_s": made["seconds"], "orders_generated_s": made["orders_seconds"],
                  "load_before": [round(x, 1) for x in os.getloadavg()]}
        for who in ("admin", "manager", "rep"):
            client = Client()
            client.force_login(made[who])
            for name, url in (
                ("forecast_page", "/sales/forecast/"),
                ("forecast_api", "/api/v1/forecast"),
                ("forecast_by_team", "/api/v1/forecast?by=team"),
                ("leaderboard_month", f"/api/v1/performance/leaderboard?period={YEAR}-03"),
                ("leaderboard_year", f"/api/v1/performance/leaderboard?period={YEAR}"),
                ("performance_page", f"/sales/performance/?period={YEAR}-03&year={YEAR}"),
                ("year_over_year_api", f"/api/v1/performance/year-over-year?year={YEAR}"),
                ("revenue_chart", "/analytics/charts/performance/"),
            ):
                result[f"{name}_{who}"] = measure(client, url)
        result["baseline_orders_by_month_orm"] = baseline_orders_by_month(YEAR)
        result["load_after"] = [round(x, 1) for x in os.getloadavg()]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

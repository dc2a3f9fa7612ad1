"""How reading the kept orders per account scales: `python -m bench.account_orders --rows 1000000 --database sqlite`.

Fills sales_accountorders (the table the triggers on sales_order keep, one row per account) with `--rows` made-up
rows by one INSERT … SELECT, no orders, in a fresh database (SQLite in a temporary GUANXI_HOME, or PostgreSQL at
--pg-url), then times what the scoring job does first: analytics' customer_summary (the order-date look-up, then
the rows read out into numpy) and the RFM scores from it. Run it under `flock /tmp/h/bench.lock`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.analytics_app import _setup


def fill(rows: int) -> None:
    from django.db import connection, transaction

    from guanxi.sales.summary_models import AccountOrders

    table = AccountOrders._meta.db_table
    if connection.vendor == "sqlite":
        sql = (f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
               f"INSERT INTO {table} SELECT i, date('2024-01-01', '+' || (i % 700) || ' days'), '2025-12-30', "
               f"1 + i % 7, 1 + i % 11, 1000 + i % 99999, i % 5000 FROM n")
    else:
        sql = (f"INSERT INTO {table} SELECT i, DATE '2024-01-01' + (i % 700), DATE '2025-12-30', 1 + i % 7, "
               f"1 + i % 11, 1000 + i % 99999, i % 5000 FROM generate_series(1, {rows}) AS i")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/guanxi_bench_analytics")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        home = stack.enter_context(tempfile.TemporaryDirectory(prefix="guanxi-bench-kept-"))
        _setup(args.database, args.pg_url, Path(home))
        from guanxi.analytics import queries, rfm

        load_before = os.getloadavg()
        started = time.perf_counter()
        fill(args.rows)
        filled = time.perf_counter() - started
        as_of = dt.date(2025, 12, 31)
        reads, scores = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            summary = queries.customer_summary(as_of)
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            rfm.rfm_from_summary(summary.account_ids, summary.as_of - summary.last_day, summary.orders, summary.total)
            scores.append(time.perf_counter() - started)
        assert len(summary) == args.rows
        load_after = os.getloadavg()
    print(f"\n## Kept orders per account read on {args.database}: {args.rows:,} rows\n")
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load average {load_before[0]:.2f} before / {load_after[0]:.2f} after\n")
    print("| step | seconds (each run) |\n| --- | ---: |")
    print(f"| fill the table (one INSERT … SELECT) | {filled:.2f} |")
    print(f"| customer_summary (look-up + rows read into numpy) | {' / '.join(f'{s:.2f}' for s in reads)} |")
    print(f"| RFM scores and segments from it | {' / '.join(f'{s:.2f}' for s in scores)} |")


if __name__ == "__main__":
    main()

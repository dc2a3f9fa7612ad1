"""The kanban board and the weighted forecast over a pipeline of 100,000 open opportunities.

Server time measured in-process with Django's test client (p50/p95 over BENCH_REPEAT requests), as an
administrator (sees everything) and as a rep (sees their own). The database is the environment's:
GUANXI_HOME for SQLite, GUANXI_DATABASE_URL for PostgreSQL. Data is generated once (bulk insert) and kept.

    flock /tmp/guanxi-bench.lock env GUANXI_HOME=/tmp/kanban-sqlite .venv/bin/python -m bench.kanban
    flock /tmp/guanxi-bench.lock env GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanxi_hd_bench \
        .venv/bin/python -m bench.kanban

Prints one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from guanxi.core.models import Role, Team, User  # noqa: E402
from guanxi.customers.models import Account  # noqa: E402
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageKind  # noqa: E402
from guanxi.sales.services import default_pipeline  # noqa: E402

N = int(os.environ.get("BENCH_OPPORTUNITIES", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
REPS = 20
ACCOUNTS = 5000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def generate() -> tuple[Pipeline, User, User]:
    team, _ = Team.objects.get_or_create(name="kanban-bench")
    admin, _ = User.objects.get_or_create(username="kanban-admin", defaults={"role": Role.ADMIN})
    reps = []
    for i in range(REPS):
        rep, _ = User.objects.get_or_create(username=f"kanban-rep-{i}", defaults={"role": Role.SALES_REP,
                                                                                  "team": team})
        reps.append(rep)
    pipeline = default_pipeline()
    have = Opportunity.objects.filter(pipeline=pipeline).count()
    if have >= N:
        return pipeline, admin, reps[0]
    rng = random.Random(7)
    started = time.perf_counter()
    with transaction.atomic():
        if Account.objects.count() < ACCOUNTS:
            Account.objects.bulk_create([Account(name=f"看板客户 {i}", owner=reps[i % REPS], team=team)
                                         for i in range(ACCOUNTS)], batch_size=2000)
        account_ids = list(Account.objects.values_list("pk", flat=True)[:ACCOUNTS])
        stages = list(pipeline.stages.filter(kind=StageKind.OPEN))
        today = dt.date.today()
        batch = []
        for i in range(have, N):
            stage = stages[i % len(stages)]
            rep = reps[rng.randrange(REPS)]
            batch.append(Opportunity(
                name=f"商机 {i}", account_id=account_ids[i % len(account_ids)], pipeline=pipeline, stage=stage,
                status=StageKind.OPEN, amount=Decimal(rng.randrange(1000, 5_000_000)) / 100, currency="CNY",
                expected_close=today + dt.timedelta(days=rng.randrange(0, 365)), probability=stage.probability,
                owner=rep, team=team))
            if len(batch) == 5000:
                Opportunity.objects.bulk_create(batch)
                batch = []
        if batch:
            Opportunity.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_opportunity")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"# generated {N - have} opportunities in {time.perf_counter() - started:.1f} s", flush=True)
    return pipeline, admin, reps[0]


def measure(client: Client, url: str) -> dict:
    for _ in range(3):
        client.get(url)
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(percentile(samples, 95), 1),
            "n": len(samples)}


def main() -> None:
    call_command("migrate", verbosity=0)
    pipeline, admin, rep = generate()
    stage = Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).first()
    result = {"database": connection.vendor, "opportunities": Opportunity.objects.filter(pipeline=pipeline).count(),
              "rep_opportunities": Opportunity.objects.filter(owner=rep).count(), "repeat": REPEAT}
    for who, user in (("admin", admin), ("rep", rep)):
        client = Client()
        client.force_login(user)
        board = f"/sales/pipelines/{pipeline.pk}/board/"
        html = client.get(board).content.decode()
        marker = f"/sales/pipelines/{pipeline.pk}/board/{stage.pk}/?cursor="
        cursor = html.split(marker)[1].split('"')[0] if marker in html else ""
        result[f"board_{who}"] = measure(client, board)
        if cursor:
            result[f"board_more_{who}"] = measure(client, marker + cursor)
        result[f"forecast_{who}"] = measure(client, "/sales/forecast/")
        result[f"forecast_team_{who}"] = measure(client, "/sales/forecast/?by=team")
        result[f"list_{who}"] = measure(client, "/sales/opportunities/")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

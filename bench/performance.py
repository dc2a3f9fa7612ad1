"""Performance against quota over a large book: the leaderboard, team attainment, lead funnel and year on year.

BENCH_OPPORTUNITIES closed opportunities (default 300,000; won or lost, closed over two years, two currencies)
and BENCH_LEADS leads (default 100,000) owned by 60 reps in 6 teams under one company team, with monthly quotas.
Server time measured in-process with Django's test client (p50/p95 over BENCH_REPEAT requests) for the API
endpoints and the page, as an administrator and as a team's manager. The database is the environment's.

    flock /tmp/guanxi-bench.lock env GUANXI_HOME=/tmp/perf-sqlite .venv/bin/python -m bench.performance
    flock /tmp/guanxi-bench.lock env GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanxi_perf_bench \
        .venv/bin/python -m bench.performance

Prints one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import Client  # noqa: E402

from bench.kanban import measure  # noqa: E402
from guanxi.core.models import Role, Team, User  # noqa: E402
from guanxi.customers.models import Account  # noqa: E402
from guanxi.sales.models import Lead, LeadStatus, Opportunity, Quota, StageKind  # noqa: E402
from guanxi.sales.services import default_pipeline  # noqa: E402

N = int(os.environ.get("BENCH_OPPORTUNITIES", "300000"))
LEADS = int(os.environ.get("BENCH_LEADS", "100000"))
TEAMS, PER_TEAM = 6, 10
YEAR = 2031
ZONE = ZoneInfo("Asia/Shanghai")


def _moment(rng: random.Random) -> dt.datetime:
    start = dt.datetime(YEAR - 1, 1, 1, tzinfo=ZONE)
    return start + dt.timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))


def generate() -> tuple[User, User]:
    company, _ = Team.objects.get_or_create(name="perf-company")
    admin, _ = User.objects.get_or_create(username="perf-admin", defaults={"role": Role.ADMIN})
    teams, reps = [], []
    for t in range(TEAMS):
        team, _ = Team.objects.get_or_create(name=f"perf-team-{t}", defaults={"parent": company})
        teams.append(team)
        for i in range(PER_TEAM):
            rep, _ = User.objects.get_or_create(
                username=f"perf-rep-{t}-{i}", defaults={"role": Role.SALES_REP, "team": team}
            )
            reps.append(rep)
    manager, _ = User.objects.get_or_create(
        username="perf-manager", defaults={"role": Role.SALES_MANAGER, "team": teams[0]}
    )
    if Opportunity.objects.filter(owner__in=reps).count() >= N:
        return admin, manager
    rng = random.Random(11)
    started = time.perf_counter()
    pipeline = default_pipeline()
    won = pipeline.stages.get(kind=StageKind.WON)
    lost = pipeline.stages.get(kind=StageKind.LOST)
    with transaction.atomic():
        owners = [reps[i % len(reps)] for i in range(2000)]
        accounts = Account.objects.bulk_create(
            [Account(name=f"业绩客户 {i}", owner=rep, team=rep.team) for i, rep in enumerate(owners)]
        )
        batch = []
        for i in range(N):
            rep = reps[rng.randrange(len(reps))]
            closed = _moment(rng)
            stage = won if rng.random() < 0.4 else lost
            batch.append(
                Opportunity(
                    name=f"商机 {i}",
                    account=accounts[i % len(accounts)],
                    pipeline=pipeline,
                    stage=stage,
                    status=stage.kind,
                    amount=Decimal(rng.randrange(1000, 5_000_000)) / 100,
                    currency="CNY" if rng.random() < 0.9 else "USD",
                    probability=stage.probability,
                    owner=rep,
                    team=rep.team,
                    closed_at=closed,
                    lost_reason="价格" if stage == lost else "",
                )
            )
            if len(batch) == 5000:
                Opportunity.objects.bulk_create(batch)
                batch = []
        Opportunity.objects.bulk_create(batch)
        # created_at is auto_now_add: spread it after the insert.
        Opportunity.objects.filter(owner__in=reps).update(created_at=F("closed_at"))
        statuses = list(LeadStatus.values)
        leads = []
        for i in range(LEADS):
            rep = reps[rng.randrange(len(reps))]
            leads.append(Lead(name=f"线索 {i}", owner=rep, team=rep.team, status=statuses[i % len(statuses)]))
        Lead.objects.bulk_create(leads, batch_size=5000)
        made = list(Lead.objects.filter(owner__in=reps).only("pk"))
        for lead in made:
            lead.created_at = _moment(rng)
        Lead.objects.bulk_update(made, ["created_at"], batch_size=5000)
        quotas = [
            Quota(user=rep, kind="month", start=dt.date(YEAR, m, 1), amount=Decimal(300000), currency="CNY")
            for rep in reps
            for m in range(1, 13)
        ]
        quotas += [Quota(team=t, kind="year", start=dt.date(YEAR, 1, 1), amount=Decimal(3e7)) for t in teams]
        Quota.objects.bulk_create(quotas, ignore_conflicts=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"# generated {N} opportunities and {LEADS} leads in {time.perf_counter() - started:.1f} s", flush=True)
    return admin, manager


def main() -> None:
    call_command("migrate", verbosity=0)
    admin, manager = generate()
    result = {
        "database": connection.vendor,
        "opportunities": Opportunity.objects.count(),
        "leads": Lead.objects.count(),
    }
    for who, user in (("admin", admin), ("manager", manager)):
        client = Client()
        client.force_login(user)
        for name, url in (
            ("leaderboard_month", f"/api/v1/performance/leaderboard?period={YEAR}-03"),
            ("leaderboard_year", f"/api/v1/performance/leaderboard?period={YEAR}"),
            ("funnel_quarter", f"/api/v1/performance/funnel?period={YEAR}-Q1"),
            ("year_over_year", f"/api/v1/performance/year-over-year?year={YEAR}"),
            ("page_month", f"/sales/performance/?period={YEAR}-03&year={YEAR}"),
        ):
            result[f"{name}_{who}"] = measure(client, url)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""The service desk's ticket list over BENCH_TICKETS tickets (default 100,000): the page and the API, as an
administrator (sees all), an agent (their two queues' tickets) and a sales rep (their accounts' tickets).

Server time in-process with Django's test client (p50/p95 over BENCH_REPEAT requests). The database is the
environment's (GUANXI_HOME for SQLite, GUANXI_DATABASE_URL for PostgreSQL); data is generated once and kept.

    flock /tmp/guanxi-bench.lock env GUANXI_HOME=/tmp/tickets-sqlite .venv/bin/python -m bench.tickets
    flock /tmp/guanxi-bench.lock env GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanxi_tk_bench \
        .venv/bin/python -m bench.tickets

Prints one JSON object.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time

from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from bench.kanban import REPEAT, measure  # sets Django up
from guanxi.core.models import Role, Team, User
from guanxi.customers.models import Account
from guanxi.service.models import AgentProfile, Queue, Ticket

N = int(os.environ.get("BENCH_TICKETS", "100000"))
QUEUES, AGENTS, REPS, ACCOUNTS = 10, 50, 20, 5000
STATUSES = ("new", "open", "open", "waiting", "resolved", "closed", "closed", "closed")


def generate() -> dict[str, User]:
    team, _ = Team.objects.get_or_create(name="tickets-bench")
    admin, _ = User.objects.get_or_create(username="tk-admin", defaults={"role": Role.ADMIN})
    reps = [User.objects.get_or_create(username=f"tk-rep-{i}", defaults={"role": Role.SALES_REP, "team": team})[0]
            for i in range(REPS)]
    agents = [User.objects.get_or_create(username=f"tk-agent-{i}", defaults={"role": Role.SERVICE_AGENT})[0]
              for i in range(AGENTS)]
    queues = [Queue.objects.get_or_create(name=f"tk-queue-{i}")[0] for i in range(QUEUES)]
    for i, agent in enumerate(agents):
        profile, created = AgentProfile.objects.get_or_create(user=agent, defaults={"availability": "online"})
        if created:
            profile.queues.set([queues[i % QUEUES], queues[(i + 1) % QUEUES]])
    have = Ticket.objects.count()
    if have < N:
        rng = random.Random(11)
        started = time.perf_counter()
        with transaction.atomic():
            if Account.objects.count() < ACCOUNTS:
                Account.objects.bulk_create([Account(name=f"工单客户 {i}", owner=reps[i % REPS], team=team)
                                             for i in range(ACCOUNTS)], batch_size=2000)
            account_ids = list(Account.objects.values_list("pk", flat=True)[:ACCOUNTS])
            now = dt.datetime.now(dt.UTC)
            batch = []
            for i in range(have, N):
                agent = agents[rng.randrange(AGENTS)]
                batch.append(Ticket(
                    number=f"B{i:08d}", subject=f"问题 {i}", queue=queues[i % QUEUES], owner=agent,
                    account_id=account_ids[rng.randrange(len(account_ids))], status=rng.choice(STATUSES),
                    priority=rng.choice(("low", "normal", "high", "urgent")),
                    resolution_due_at=now + dt.timedelta(minutes=rng.randrange(-5000, 5000))))
                if len(batch) == 5000:
                    Ticket.objects.bulk_create(batch)
                    batch = []
            if batch:
                Ticket.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE service_ticket" if connection.vendor == "postgresql" else "ANALYZE")
        print(f"# generated {N - have} tickets in {time.perf_counter() - started:.1f} s", flush=True)
    return {"admin": admin, "agent": agents[0], "rep": reps[0]}


def main() -> None:
    call_command("migrate", verbosity=0)
    users = generate()
    result = {"database": connection.vendor, "tickets": Ticket.objects.count(), "repeat": REPEAT}
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        result[f"visible_{who}"] = Ticket.objects.visible_to(user).count()
        result[f"list_{who}"] = measure(client, "/service/tickets/")
        result[f"list_open_{who}"] = measure(client, "/service/tickets/?status=open")
        result[f"api_{who}"] = measure(client, "/api/v1/tickets?limit=50")
    result["mine_agent"] = measure(_logged_in(users["agent"]), "/service/tickets/?mine=1")
    print(json.dumps(result, indent=1))


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


if __name__ == "__main__":
    main()

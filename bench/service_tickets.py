"""The service desk over BENCH_TICKETS tickets (default 1,000,000): the ticket list and search at the server.

Issue 5's target: "ticket lists and searches over 1,000,000 tickets under 50 ms at the server (p95), SQLite and
PostgreSQL". The tickets are written by one INSERT … SELECT over a number series (minutes, not hours of ORM
saves), spread over 10 queues, 50 agents, 5,000 accounts of 20 reps, 8 statuses and 4 priorities, with subjects
from a small bilingual vocabulary and a number each, so searches hit common words, rare words and one number.

Timed in-process with Django's test client (bench.server_time.measure: p50/p95/max over BENCH_REPEAT requests)
as an administrator (sees all), an agent (their two queues) and a sales rep (their accounts' tickets). The
database is the environment's (GUANXI_HOME for SQLite, GUANXI_DATABASE_URL for PostgreSQL); data is kept.

    flock /tmp/h/bench.lock env GUANXI_HOME=/tmp/svc-bench-sqlite .venv/bin/python -m bench.service_tickets
    flock /tmp/h/bench.lock env GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/svc_bench \\
        .venv/bin/python -m bench.service_tickets

Registered in bench.run as the "service_tickets" suite. Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import time
from urllib.parse import quote

from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

from bench.server_time import REPEAT, measure  # sets Django up (bench.settings)
from guanxi.core.models import Role, Team, User
from guanxi.core.search import rebuild_index
from guanxi.core.services import issue_token
from guanxi.customers.models import Account
from guanxi.service.models import AgentProfile, Queue, Ticket

N = int(os.environ.get("BENCH_TICKETS", "1000000"))
QUEUES, AGENTS, REPS, ACCOUNTS = 10, 50, 20, 5000
STATUSES = ("new", "open", "open", "waiting", "resolved", "closed", "closed", "closed")
PRIORITIES = ("low", "normal", "normal", "high")
# Subject words: i % len picks one of each list, so a word is in 1/len of the tickets.
TOPICS = ("打印机", "发票", "登录失败", "退款", "network outage", "password reset", "物流延迟", "账号锁定",
          "billing question", "安装问题", "数据导出", "api timeout", "合同续签", "报表错误", "shipping damage",
          "会员积分", "mobile app crash", "权限申请", "vpn access", "价格咨询")
DETAILS = ("紧急", "再次", "urgent", "follow-up", "北京分公司", "上海仓库", "广州门店", "after upgrade", "weekend",
           "批量")
SEARCHES = ["B00123457", "打印机", "password reset", "vpn", "北京分公司 发票", "crash", "物流延迟 紧急", "上海"]


def _case(expr: str, values: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE ({expr}) % {len(values)} {whens} END"


def _insert_sql(have: int, first_queue: int, first_agent: int, first_account: int) -> str:
    pg = connection.vendor == "postgresql"
    series = (f"generate_series({have + 1}::bigint, {N}) AS g(i)" if pg else "g")
    prefix = "" if pg else (f"WITH RECURSIVE g(i) AS (SELECT {have + 1} UNION ALL SELECT i + 1 FROM g "
                            f"WHERE i < {N}) ")
    ago = ("now() - make_interval(secs => ((i * 7919) % 31536000))" if pg else
           "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((i * 7919) % 31536000) || ' seconds')")
    number = "'B' || lpad(i::text, 8, '0')" if pg else "'B' || printf('%08d', i)"
    # Each column from other digits of i, so no two are correlated: a rep's accounts spread over every queue and
    # topic. (The first run took topic, queue and account all from i's last digits: an agent's queues held no
    # "vpn" ticket and a rep's accounts lay in one queue, so those searches and filters scanned every row.)
    subject = f"({_case('i / 10', TOPICS)}) || ' ' || ({_case('i / 200', DETAILS)}) || ' ' || i"
    true, false = ("true", "false") if pg else ("1", "0")
    return (
        f"{prefix}INSERT INTO service_ticket (number, subject, description, queue_id, owner_id, account_id, "
        "status, priority, channel, language, version, created_at, updated_at, lapsed_agents, response_warned, "
        "response_breached, resolution_warned, resolution_breached, paused_minutes, resolution_due_at, "
        f"search_text) SELECT {number}, {subject}, '', {first_queue} + (i + i / 60) % {QUEUES}, "
        f"{first_agent} + (i / 7) % {AGENTS}, {first_account} + (i / 3) % {ACCOUNTS}, "
        f"{_case('i / 11', STATUSES)}, {_case('i / 17', PRIORITIES)}, 'portal', '', 1, {ago}, {ago}, '[]', "
        f"{false}, {false}, {false}, {false}, 0, {ago}, "
        f"lower({number} || ' ' || {subject}) FROM {series}")


def _contiguous(ids: list[int]) -> int:
    assert ids == list(range(ids[0], ids[0] + len(ids))), "bench rows must have consecutive ids"
    return ids[0]


def generate() -> dict[str, User]:
    team, _ = Team.objects.get_or_create(name="service-tickets-bench")
    admin, _ = User.objects.get_or_create(username="st-admin", defaults={"role": Role.ADMIN})
    have = Ticket.objects.count()
    if have == 0:
        with transaction.atomic():
            User.objects.bulk_create([User(username=f"st-rep-{i}", role=Role.SALES_REP, team=team)
                                      for i in range(REPS)])
            User.objects.bulk_create([User(username=f"st-agent-{i}", role=Role.SERVICE_AGENT)
                                      for i in range(AGENTS)])
            Queue.objects.bulk_create([Queue(name=f"st-queue-{i}") for i in range(QUEUES)])
            reps = list(User.objects.filter(username__startswith="st-rep-").order_by("pk"))
            Account.objects.bulk_create([Account(name=f"工单客户 {i}", search_text=f"工单客户 {i}",
                                                 owner=reps[i % REPS], team=team) for i in range(ACCOUNTS)],
                                        batch_size=2000)
            queues = list(Queue.objects.filter(name__startswith="st-queue-").order_by("pk"))
            for i, agent in enumerate(User.objects.filter(username__startswith="st-agent-").order_by("pk")):
                profile = AgentProfile.objects.create(user=agent, availability="online")
                profile.queues.set([queues[i % QUEUES], queues[(i + 1) % QUEUES]])
    if have < N:
        started = time.perf_counter()
        first_queue = _contiguous(list(Queue.objects.filter(name__startswith="st-queue-")
                                       .order_by("pk").values_list("pk", flat=True)))
        first_agent = _contiguous(list(User.objects.filter(username__startswith="st-agent-")
                                       .order_by("pk").values_list("pk", flat=True)))
        first_account = _contiguous(list(Account.objects.filter(name__startswith="工单客户 ")
                                         .order_by("pk").values_list("pk", flat=True)))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_insert_sql(have, first_queue, first_agent, first_account))
        rebuild_index(Ticket)
        with connection.cursor() as cursor:  # PostgreSQL: the visibility map too, as autovacuum would keep it
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        print(f"# generated {N - have:,} tickets in {time.perf_counter() - started:.1f} s", flush=True)
    return {"admin": admin, "agent": User.objects.get(username="st-agent-0"),
            "rep": User.objects.get(username="st-rep-0")}


def main() -> None:
    call_command("migrate", verbosity=0)
    users = generate()
    queue = Queue.objects.get(name="st-queue-1").pk
    result: dict = {"database": connection.vendor, "tickets": Ticket.objects.count(), "repeat": REPEAT}
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user, 'bench')}"}
        result[f"{who}: tickets visible"] = Ticket.objects.visible_to(user).count()
        result[f"{who}: list page 1 (UI)"] = measure(client, ["/service/tickets/"])
        result[f"{who}: queue + status=open (UI)"] = measure(client, [f"/service/tickets/?queue={queue}&status=open"])
        result[f"{who}: API page 1"] = measure(client, ["/api/v1/tickets?limit=50"], **auth)
        result[f"{who}: API status=waiting, priority=high, oldest first"] = measure(
            client, ["/api/v1/tickets?limit=50&status=waiting&priority=high&sort=updated_at"], **auth)
        result[f"{who}: API search"] = measure(client, [f"/api/v1/tickets?limit=50&q={quote(q)}" for q in SEARCHES],
                                               **auth)
        result[f"{who}: search (UI)"] = measure(client, [f"/service/tickets/?q={quote(q)}" for q in SEARCHES])
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

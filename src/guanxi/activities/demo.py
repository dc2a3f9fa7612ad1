"""Demo follow-up: a few logged calls, visits and emails and some open tasks and appointments (overdue, today,
this week) on the first demo accounts, owned by each account's owner so every demo rep has an agenda.

Called by `guanxi.core.demo.load` inside its transaction after the opportunities. Capped at ACCOUNTS accounts
whatever the demo's size, so it stays a fraction of a second; bulk rows, no audit entries (nobody made them).
"""

from __future__ import annotations

import datetime as dt
import random

from guanxi.customers.models import Account

from .models import Activity, ActivityKind, Direction, Priority, Task, TaskKind

ACCOUNTS = 300
CALLS = ("电话沟通需求", "确认报价细节", "回访使用情况", "Follow-up call on the quote", "Check-in call")
VISITS = ("上门拜访采购部", "产品演示", "Site visit and demo", "季度业务回顾")
EMAILS = ("发送产品资料", "报价邮件", "Sent the proposal", "会议纪要")
TASKS = ("准备报价单", "回访客户", "安排产品演示", "Send the contract draft", "Call back about pricing", "催收回款")
PLACES = ("客户办公室", "公司会议室", "Online (Tencent Meeting)", "上海浦东")


def create_demo_followup(seed: int, first_account_id: int, now: dt.datetime, *, limit: int = ACCOUNTS) -> int:
    """Activities and tasks for up to `limit` accounts from `first_account_id` on; the same seed gives the same
    rows. Returns how many rows were made."""
    rng = random.Random(f"followup-{seed}")
    accounts = list(
        Account.objects.filter(pk__gte=first_account_id, owner__isnull=False)
        .order_by("pk")
        .values_list("pk", "owner_id", "team_id")[:limit]
    )
    now = now.replace(second=0, microsecond=0)
    activities, tasks = [], []
    for pk, owner_id, team_id in accounts:
        for _i in range(rng.randint(0, 3)):
            kind = rng.choice((ActivityKind.CALL, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL))
            subject = rng.choice({ActivityKind.CALL: CALLS, ActivityKind.MEETING: VISITS}.get(kind, EMAILS))
            activities.append(
                Activity(
                    kind=kind,
                    subject=subject,
                    account_id=pk,
                    author_id=owner_id,
                    occurred_at=now - dt.timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600)),
                    direction=rng.choice(Direction.values) if kind == ActivityKind.CALL else "",
                    duration_seconds=rng.randint(60, 1800) if kind == ActivityKind.CALL else None,
                )
            )
        if rng.random() < 0.5:
            at = now + dt.timedelta(days=rng.randint(-3, 10), hours=rng.randint(-4, 4))
            task = Task(
                title=rng.choice(TASKS),
                account_id=pk,
                owner_id=owner_id,
                team_id=team_id,
                created_by_id=owner_id,
                priority=rng.choice(Priority.values),
                due_at=at,
            )
            if rng.random() < 0.3:
                task.kind, task.start_at, task.due_at = TaskKind.APPOINTMENT, at, None
                task.end_at, task.location, task.title = (
                    at + dt.timedelta(hours=1),
                    rng.choice(PLACES),
                    rng.choice(VISITS),
                )
            task.at = task.start_at or task.due_at  # bulk_create skips save()
            tasks.append(task)
    Activity.objects.bulk_create(activities, batch_size=1000)
    Task.objects.bulk_create(tasks, batch_size=1000)
    return len(activities) + len(tasks)

"""Demo public pool: rules per classification, a default claim limit, one demo account in eight (without
opportunities) in the pool, and staggered last follow-ups so some owners are warned and a few accounts go
back to the pool on the first sweeps.

Called by `guanxi.core.demo.load` inside its transaction after the opportunities; set-based updates only,
so a 200,000-account demo takes a few dozen statements.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db.models.functions import Mod

from .models import Account
from .pool_models import DEFAULT_CLAIM_LIMIT, ClaimLimit, PoolRule
from .pool_services import recompute_due, rules

# classification: (days without follow-up, warn days before, cool-down days) — what 纷享销客 users set.
RULES = {"A": (90, 7, 14), "B": (60, 7, 7), "C": (30, 5, 7), "D": (15, 3, 7), "": (30, 5, 7)}
POOL_SHARE = 8  # one account in eight
FOLLOW_UP_DAYS = (0, 2, 4, 7, 10, 13, 18, 24)  # how long ago each eighth of the owned accounts was followed up
REASONS = ("客户暂无采购计划", "联系人已离职", "No budget this year", "重复客户，已合并跟进", "Not our target market")
BATCH = 5000


def create_demo_pool(seed: int, account_base: int, anchor: dt.datetime) -> int:
    """Put demo accounts (ids from `account_base`) in the pool; returns how many."""
    if not PoolRule.objects.exists():
        for classification, (days, warn, cooldown) in RULES.items():
            PoolRule.objects.create(
                classification=classification, return_days=days, warn_days=warn, cooldown_days=cooldown
            )
    ClaimLimit.objects.get_or_create(user=None, role="", defaults={"max_claimed": DEFAULT_CLAIM_LIMIT})
    demo = Account.objects.filter(pk__gte=account_base)
    ids = list(demo.filter(opportunities__isnull=True).order_by("pk").values_list("pk", flat=True))
    rng = random.Random(seed)
    pooled = sorted(rng.sample(ids, len(ids) // POOL_SHARE))
    buckets: dict[int, list[int]] = {}
    for pk in pooled:
        buckets.setdefault(rng.randrange(len(REASONS)), []).append(pk)
    for index, pks in buckets.items():
        for start in range(0, len(pks), BATCH):
            Account.objects.filter(pk__in=pks[start : start + BATCH]).update(
                owner=None,
                team=None,
                pool_entered_at=anchor - dt.timedelta(days=3 + 11 * index),
                release_reason=REASONS[index],
                last_follow_up_at=anchor - dt.timedelta(days=40 + 11 * index),
            )
    step = len(FOLLOW_UP_DAYS)
    for k, days in enumerate(FOLLOW_UP_DAYS):
        demo.filter(owner__isnull=False).alias(m=Mod("id", step)).filter(m=k).update(
            last_follow_up_at=anchor - dt.timedelta(days=days)
        )
    for classification, rule in rules().items():
        recompute_due(classification, rule)
    return len(pooled)

"""Setting each account's lifecycle stage from its behaviour (the rules of analytics.lifecycle), as a step of
the scoring job: only accounts whose stage changes are written, each change with an audit entry (no actor:
the scoring job), which the account's timeline shows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F

from guanxi.activities.models import Activity
from guanxi.core.models import AuditAction, AuditEntry
from guanxi.customers.models import Account

from . import lifecycle, queries

BATCH = 5000


def thresholds() -> lifecycle.Thresholds:
    return lifecycle.Thresholds.from_settings(getattr(settings, "ANALYTICS_LIFECYCLE", None))


def behaviour(as_of: dt.date, churn_risk: pd.Series | None = None, p_alive: pd.Series | None = None,
              th: lifecycle.Thresholds | None = None) -> pd.DataFrame:
    """lifecycle.FEATURES per account with a counted order on or before `as_of` or an activity, by account id:
    the order aggregates of queries.churn_features over windows of th.window_days, and the scores given."""
    th = th or thresholds()
    # churn_features counts orders before its date: the day after as_of counts the orders of as_of too.
    orders = queries.churn_features(as_of + dt.timedelta(days=1), None, int(th.window_days), service=False)
    frame = pd.DataFrame(index=orders.index)
    frame["orders_total"] = orders["orders_total"]
    frame["recency_days"] = orders["recency_days"] - 1
    frame["tenure_days"] = orders["tenure_days"] - 1
    frame["orders_recent"] = orders["orders_recent"]
    frame["orders_before"] = orders["orders_recent"] - orders["orders_trend"]
    frame["spend_recent"] = orders["spend_recent"]
    frame["spend_before"] = orders["spend_recent"] - orders["spend_trend"]
    talked = pd.Index(Activity.objects.filter(account__isnull=False).order_by().values_list("account_id", flat=True)
                      .distinct(), dtype=np.int64)
    frame = frame.reindex(frame.index.union(talked))
    frame["orders_total"] = frame["orders_total"].fillna(0)
    frame["activities"] = frame.index.isin(talked).astype(np.int64)
    frame["churn_risk"] = churn_risk.reindex(frame.index) if churn_risk is not None else np.nan
    frame["p_alive"] = p_alive.reindex(frame.index) if p_alive is not None else np.nan
    return frame


def update_stages(as_of: dt.date, churn_risk: pd.Series | None = None, p_alive: pd.Series | None = None) -> int:
    """Compute every account's stage as of `as_of` and store the changed ones (their version goes up, so an
    edit started before does not silently undo it), each with an audit entry; returns how many changed.
    A few queries per stage changed to, whatever the number of accounts."""
    th = thresholds()
    computed = lifecycle.stages(behaviour(as_of, churn_risk, p_alive, th), th)
    computed = computed[computed["stage"].notna()]
    if computed.empty:
        return 0
    wanted = dict(zip(computed.index.tolist(), computed["stage"].tolist(), strict=True))
    moves: dict[str, list[tuple[int, str, str, int]]] = defaultdict(list)
    ids = list(wanted)
    for start in range(0, len(ids), BATCH):
        for pk, stage, name, version in (Account.objects.filter(pk__in=ids[start:start + BATCH]).order_by()
                                         .values_list("pk", "lifecycle_stage", "name", "version")):
            if wanted[pk] != stage:
                moves[wanted[pk]].append((pk, stage, name, version))
    if not moves:
        return 0
    kind = ContentType.objects.get_for_model(Account)
    changed = 0
    with transaction.atomic():
        for stage, rows in moves.items():
            for start in range(0, len(rows), BATCH):
                chunk = rows[start:start + BATCH]
                Account.objects.filter(pk__in=[r[0] for r in chunk]).update(lifecycle_stage=stage,
                                                                           version=F("version") + 1)
            AuditEntry.objects.bulk_create(
                [AuditEntry(content_type=kind, object_id=pk, object_repr=name[:200], action=AuditAction.UPDATE,
                            changes={"lifecycle_stage": [old, stage]}, version=version + 1)
                 for pk, old, name, version in rows],
                batch_size=BATCH)
            changed += len(rows)
    return changed

"""Queue metrics of the phone channel over a period, per PBX queue, per agent or for the whole desk — for the
service KPI page and its API, and for the analytics dashboard (`call_queue_metrics` is plain to call):

- calls: inbound calls that started in the period; answered, abandoned and missed among them (by outcome);
- average wait: the mean time queued callers waited, until an agent answered or they gave up (seconds);
- abandonment rate: of the calls that were queued, the share whose caller hung up before an answer (percent);
- calls per resolution: answered inbound calls per ticket resolved in the period (both as the user may see).

One grouped query for the calls and one count of resolved tickets, however many calls there are.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Q

from guanxi.core.models import User
from guanxi.sales.quota_math import average, percent

from .call_models import Call, Outcome

GROUP_KEYS = {"queue": "queue", "agent": "owner_id", "desk": None}
HUNDREDTH = Decimal("0.01")


def _figures(agg: dict[str, Any], resolved: int) -> dict[str, Any]:
    wait = agg["wait"]
    return {
        "calls": agg["calls"], "answered": agg["answered"], "abandoned": agg["abandoned"], "missed": agg["missed"],
        "queued": agg["queued"],
        "average_wait_seconds": None if wait is None else Decimal(str(wait)).quantize(HUNDREDTH, ROUND_HALF_UP),
        "abandonment_rate": percent(agg["queued_abandoned"], agg["queued"]),
        "resolved": resolved,
        "calls_per_resolution": average(agg["answered"], resolved),
    }


def call_queue_metrics(user: User, start: dt.datetime, end: dt.datetime, by: str = "desk") -> dict[Any, dict]:
    """The phone figures of [start, end) per group (PBX queue name, agent id, or None for the desk) over the calls
    and tickets `user` may see. Calls per resolution is computed against the desk's resolved tickets for the desk,
    and against each agent's for `by="agent"` (queues have no tickets of their own: None)."""
    from guanxi.service.ticket_models import Ticket

    key = GROUP_KEYS[by]
    calls = Call.objects.visible_to(user).filter(direction="in", started_at__gte=start, started_at__lt=end)
    aggregates = {
        "calls": Count("id"),
        "answered": Count("id", filter=Q(outcome=Outcome.ANSWERED)),
        "abandoned": Count("id", filter=Q(outcome=Outcome.ABANDONED)),
        "missed": Count("id", filter=Q(outcome__in=[Outcome.MISSED, Outcome.VOICEMAIL])),
        "queued": Count("id", filter=Q(queued_at__isnull=False, outcome__in=[Outcome.ANSWERED, Outcome.ABANDONED])),
        "queued_abandoned": Count("id", filter=Q(queued_at__isnull=False, outcome=Outcome.ABANDONED)),
        "wait": Avg("wait_seconds", filter=Q(queued_at__isnull=False, wait_seconds__isnull=False)),
    }
    resolved = Ticket.objects.visible_to(user).filter(resolved_at__gte=start, resolved_at__lt=end)
    if key is None:
        agg = calls.aggregate(**aggregates)
        return {None: _figures(agg, resolved.count())} if agg["calls"] else {}
    per_agent = {}
    if by == "agent":
        per_agent = {r["owner_id"]: r["n"] for r in resolved.order_by().values("owner_id").annotate(n=Count("id"))}
    out: dict[Any, dict] = {}
    for row in calls.order_by().values(key).annotate(**aggregates):
        figures = _figures(row, per_agent.get(row[key], 0))
        if by == "queue":
            figures["resolved"] = figures["calls_per_resolution"] = None
        out[row[key]] = figures
    return out


def labels() -> list[tuple[str, str]]:
    """The phone table's columns: (key of the figures, heading)."""
    from django.utils.translation import gettext as _

    return [("calls", _("Inbound calls")), ("answered", _("Answered")), ("abandoned", _("Abandoned")),
            ("missed", _("Missed")), ("average_wait_seconds", _("Average wait (s)")),
            ("abandonment_rate", _("Abandonment rate (%)")), ("calls_per_resolution", _("Calls per resolution"))]


def phone_report(user: User, period, baseline) -> list[dict[str, Any]]:
    """The service KPI page's phone table: each PBX queue (and calls that were never queued), then the desk total,
    with the period's figures beside the baseline's."""
    from django.utils.translation import gettext as _

    from guanxi.sales.performance import bounds

    now = call_queue_metrics(user, *bounds(period), by="queue")
    before = call_queue_metrics(user, *bounds(baseline), by="queue")
    totals = [call_queue_metrics(user, *bounds(p)).get(None) for p in (period, baseline)]
    rows = []
    for queue in sorted(set(now) | set(before), key=lambda q: (q == "", q)):
        rows.append({"group": queue, "label": queue or _("Not queued"), "current": now.get(queue),
                     "baseline": before.get(queue)})
    if rows:
        rows.append({"group": "total", "label": _("All calls"), "current": totals[0], "baseline": totals[1]})
    return rows

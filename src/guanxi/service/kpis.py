"""Service KPIs per agent, per queue or for the whole desk over a period, beside a baseline period.

Each measure is one grouped query over the tickets the user may see (core's `visible_to`), so the page costs a
constant number of queries however many tickets there are:

- first response: tickets first answered in the period, and the mean wall-clock time to that answer;
- resolution: tickets resolved in the period, the mean time from creation, the agents' public replies per
  resolution (contacts per resolution) and the share resolved with at most one reply (first-contact resolution);
- SLA compliance: of the tickets created in the period under an SLA policy, the share that breached neither
  target (the breach flags are set in business time by the sweep);
- reopen rate: reopenings (resolved → open) in the period per ticket resolved in the period;
- backlog: tickets open at the end of the period (created before it, neither resolved nor closed by then);
- satisfaction (CSAT): the survey answers given in the period, their mean score (1–5) and the share of 4 and 5.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)

from guanxi.core.models import User
from guanxi.sales.performance import bounds
from guanxi.sales.quota_math import Period, change, percent

from .csat_models import SatisfactionResponse
from .ticket_models import EventKind, MessageKind, Ticket, TicketEvent, TicketMessage, TicketStatus

GROUPINGS = {"agent": "owner_id", "queue": "queue_id", "desk": None}


@dataclass
class Figures:
    """One row of the KPI table (an agent, a queue, or the desk)."""

    created: int = 0
    responded: int = 0
    response_hours: float | None = None
    resolved: int = 0
    resolution_hours: float | None = None
    replies: int = 0
    first_contact: int = 0
    with_sla: int = 0
    breached: int = 0
    reopened: int = 0
    backlog: int = 0
    rated: int = 0
    score_total: int = 0
    satisfied: int = 0

    @property
    def sla_compliance(self) -> Decimal | None:
        return percent(self.with_sla - self.breached, self.with_sla)

    @property
    def contacts_per_resolution(self) -> Decimal | None:
        return (Decimal(self.replies) / self.resolved).quantize(Decimal("0.01")) if self.resolved else None

    @property
    def first_contact_resolution(self) -> Decimal | None:
        return percent(self.first_contact, self.resolved)

    @property
    def reopen_rate(self) -> Decimal | None:
        return percent(self.reopened, self.resolved)

    @property
    def csat_average(self) -> Decimal | None:
        return (Decimal(self.score_total) / self.rated).quantize(Decimal("0.01")) if self.rated else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "responded": self.responded,
            "first_response_hours": _round(self.response_hours),
            "resolved": self.resolved,
            "resolution_hours": _round(self.resolution_hours),
            "contacts_per_resolution": self.contacts_per_resolution,
            "first_contact_resolution": self.first_contact_resolution,
            "sla_compliance": self.sla_compliance,
            "reopen_rate": self.reopen_rate,
            "backlog": self.backlog,
            "csat_responses": self.rated,
            "csat_average": self.csat_average,
            "csat_satisfied": percent(self.satisfied, self.rated),
        }


def _round(hours: float | None) -> Decimal | None:
    return None if hours is None else Decimal(str(round(hours, 2)))


def _hours(value: Any) -> float | None:
    """A mean duration as hours; SQLite's mean of a duration comes back as microseconds."""
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 3600
    return float(value) / 3_600_000_000


def _since(later: str, earlier: str = "created_at") -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _grouped(qs: QuerySet, key: str | None, **aggregates: Any) -> Iterable[tuple[Any, dict[str, Any]]]:
    if key is None:
        yield None, qs.aggregate(**aggregates)
        return
    for row in qs.order_by().values(key).annotate(**aggregates):
        yield row[key], row


def figures(user: User, period: Period, grouping: str = "agent") -> dict[Any, Figures]:
    """The KPIs of `period` per group (owner id, queue id, or None for the desk) over the visible tickets."""
    key = GROUPINGS[grouping]
    start, end = bounds(period)
    tickets = Ticket.objects.visible_to(user)
    rows: dict[Any, Figures] = {}

    def row(group: Any) -> Figures:
        return rows.setdefault(group, Figures())

    created = tickets.filter(created_at__gte=start, created_at__lt=end)
    for group, agg in _grouped(created, key, n=Count("id"), sla=Count("id", filter=Q(sla_policy__isnull=False)),
                               breached=Count("id", filter=Q(sla_policy__isnull=False) & (
                                   Q(response_breached=True) | Q(resolution_breached=True)))):
        if agg["n"]:
            r = row(group)
            r.created, r.with_sla, r.breached = agg["n"], agg["sla"], agg["breached"]

    responded = tickets.filter(first_response_at__gte=start, first_response_at__lt=end)
    for group, agg in _grouped(responded, key, n=Count("id"), mean=Avg(_since("first_response_at"))):
        if agg["n"]:
            row(group).responded, row(group).response_hours = agg["n"], _hours(agg["mean"])

    resolved = tickets.filter(resolved_at__gte=start, resolved_at__lt=end)
    agent_replies = TicketMessage.objects.filter(kind=MessageKind.REPLY, author__isnull=False).exclude(
        author=F("ticket__requester"))
    repeated = agent_replies.order_by().values("ticket").annotate(n=Count("id")).filter(n__gte=2).values("ticket")
    for group, agg in _grouped(resolved, key, n=Count("id"), mean=Avg(_since("resolved_at")),
                               repeated=Count("id", filter=Q(pk__in=repeated))):
        if agg["n"]:
            r = row(group)
            r.resolved, r.resolution_hours = agg["n"], _hours(agg["mean"])
            r.first_contact = agg["n"] - agg["repeated"]
    related_key = None if key is None else f"ticket__{key}"
    for group, agg in _grouped(agent_replies.filter(ticket__in=resolved.values("pk")), related_key, n=Count("id")):
        if agg["n"]:
            row(group).replies = agg["n"]

    reopens = TicketEvent.objects.filter(
        ticket__in=tickets.values("pk"), kind=EventKind.STATUS, created_at__gte=start, created_at__lt=end,
        data__old=TicketStatus.RESOLVED, data__new=TicketStatus.OPEN)
    for group, agg in _grouped(reopens, related_key, n=Count("id")):
        if agg["n"]:
            row(group).reopened = agg["n"]

    backlog = tickets.filter(created_at__lt=end).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=end)).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))
    for group, agg in _grouped(backlog, key, n=Count("id")):
        if agg["n"]:
            row(group).backlog = agg["n"]

    # Satisfaction: answers given in the period, under the agent and queue the ticket had when it was rated.
    rated_key = {"owner_id": "agent_id", "queue_id": "queue_id"}.get(key) if key else None
    answers = SatisfactionResponse.objects.filter(ticket__in=tickets.values("pk"), at__gte=start, at__lt=end)
    for group, agg in _grouped(answers, rated_key, n=Count("id"), total=Sum("score"),
                               satisfied=Count("id", filter=Q(score__gte=4))):
        if agg["n"]:
            r = row(group)
            r.rated, r.score_total, r.satisfied = agg["n"], agg["total"], agg["satisfied"]
    return rows


COMPARED = ("first_response_hours", "resolution_hours", "contacts_per_resolution", "first_contact_resolution",
            "sla_compliance", "reopen_rate", "backlog", "csat_average", "csat_satisfied")


def report(user: User, period: Period, baseline: Period, grouping: str = "agent") -> list[dict[str, Any]]:
    """Rows of `period` beside `baseline`: each group's figures, the baseline's, and the change in percent of
    the compared measures. Groups seen in either period appear; the desk total row is last."""
    now, before = figures(user, period, grouping), figures(user, baseline, grouping)
    totals = figures(user, period, "desk").get(None, Figures()), figures(user, baseline, "desk").get(None, Figures())
    out = []
    groups = sorted(set(now) | set(before), key=lambda g: (g is None, g or 0))
    for group in [*groups, "total"]:
        current, base = (totals if group == "total" else (now.get(group, Figures()), before.get(group, Figures())))
        a, b = current.as_dict(), base.as_dict()
        out.append({
            "group": group,
            "current": a,
            "baseline": b,
            "change": {k: change(Decimal(a[k]), Decimal(b[k])) if a.get(k) is not None and b.get(k) is not None
                       else None for k in COMPARED},
        })
    return out


def measure_labels() -> list[tuple[str, str]]:
    """The table's columns in order: (key in `Figures.as_dict`, heading)."""
    from django.utils.translation import gettext as _

    return [
        ("created", _("Created")),
        ("first_response_hours", _("First response (h)")),
        ("resolved", _("Resolved")),
        ("resolution_hours", _("Resolution (h)")),
        ("contacts_per_resolution", _("Contacts per resolution")),
        ("first_contact_resolution", _("First-contact resolution (%)")),
        ("sla_compliance", _("SLA compliance (%)")),
        ("reopen_rate", _("Reopen rate (%)")),
        ("backlog", _("Backlog at end")),
        ("csat_average", _("CSAT (1–5)")),
        ("csat_satisfied", _("Satisfied (4–5, %)")),
    ]


def grouping_choices() -> list[tuple[str, str]]:
    from django.utils.translation import gettext as _

    return [("agent", _("Per agent")), ("queue", _("Per queue")), ("desk", _("Whole desk"))]


def parse_request(period: str | None, baseline: str | None, by: str | None) -> tuple[Period, Period, str]:
    """The period (default this month), the baseline (default the period before) and the grouping from a request;
    one ValidationError naming every bad field."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from guanxi.sales.performance import period_param

    errors: dict[str, list[str]] = {}
    current = base = None
    try:
        current = period_param(period)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        base = period_param(baseline, "baseline") if baseline else None
    except ValidationError as exc:
        errors.update(exc.message_dict)
    grouping = by or "agent"
    if grouping not in GROUPINGS:
        errors["by"] = [_("Group by agent, queue or desk.")]
    if errors:
        raise ValidationError(errors)
    return current, base or current.shifted(-1), grouping


def label_groups(rows: list[dict[str, Any]], grouping: str) -> None:
    """Names for the groups of `rows` (one query): the agent's name or the queue's, "Unassigned" for none."""
    from django.utils.translation import gettext as _

    from .models import Queue

    ids = [r["group"] for r in rows if isinstance(r["group"], int)]
    if grouping == "agent":
        names = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=ids)}
    elif grouping == "queue":
        names = {q.pk: q.name for q in Queue.objects.filter(pk__in=ids)}
    else:
        names = {}
    for r in rows:
        g = r["group"]
        r["label"] = _("All tickets") if g == "total" else names.get(g, _("Unassigned") if g is None else str(g))

"""Read-side queries of the sales app: the board's columns and the weighted forecast.

Both start from `Opportunity.objects.visible_to(user)`: a rep's board and forecast hold their own
opportunities only, a manager's their team's, an administrator's everyone's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum

from guanxi.core.models import User
from guanxi.core.paging import Page, paginate

from .models import Opportunity, Pipeline, Stage, StageKind

CARD_SORT = "-updated_at"
CARDS_PER_COLUMN = 25
CENT = Decimal("0.01")


@dataclass
class Column:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal(0)
    page: Page | None = None
    cards: list = field(default_factory=list)


def board_queryset(user: User, pipeline: Pipeline) -> QuerySet:
    return Opportunity.objects.visible_to(user).filter(pipeline=pipeline)


def card_page(user: User, stage: Stage, cursor: str | None = None, limit: int = CARDS_PER_COLUMN) -> Page:
    """One page of a column's cards, newest change first; account and owner names joined, not queried per card.
    Filtered on the stage alone (it implies the pipeline): with the pipeline too, SQLite prefers the
    (pipeline, stage, amount) index and sorts the whole column instead of walking (stage, updated_at, id)."""
    cards = Opportunity.objects.visible_to(user).filter(stage=stage).select_related(
        "account", "contact", "owner", "team", "stage", "pipeline")
    return paginate(cards, sort=CARD_SORT, allowed=[CARD_SORT], cursor=cursor, limit=limit)


def board(user: User, pipeline: Pipeline, limit: int = CARDS_PER_COLUMN) -> list[Column]:
    """Every stage with its count and sum (one grouped query) and its first page of cards (one query each):
    the number of queries depends on the stages, never on the cards."""
    stages = list(pipeline.stages.order_by("position", "id"))
    qs = board_queryset(user, pipeline)
    totals = {row["stage_id"]: row for row in
              qs.order_by().values("stage_id").annotate(n=Count("id"), total=Sum("amount"))}
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        page = card_page(user, stage, limit=limit)
        columns.append(Column(stage=stage, count=row.get("n", 0), total=row.get("total") or Decimal(0),
                              page=page, cards=page.items))
    return columns


FORECAST_GROUPS = ("owner", "team")


def forecast(user: User, *, by: str = "owner", pipeline: Pipeline | None = None,
             start: dt.date | None = None, end: dt.date | None = None) -> list[dict[str, Any]]:
    """Per `by` (owner or team), month of expected close and currency: how many opportunities, their amount,
    the amount weighted by probability, and what is won already. Lost ones are left out. One grouped query.

    Weighted = Σ amount × probability / 100, rounded half up to the cent once per row of the result.
    """
    key = "owner" if by not in FORECAST_GROUPS else by
    qs = Opportunity.objects.visible_to(user).exclude(status=StageKind.LOST)
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    if start is not None:
        qs = qs.filter(expected_close__gte=start)
    if end is not None:
        qs = qs.filter(expected_close__lt=end)
    money = DecimalField(max_digits=20, decimal_places=4)
    names = ["owner__username", "owner__first_name", "owner__last_name"] if key == "owner" else ["team__name"]
    # Grouped by day in SQL and folded into months here: a month function runs in Python per row on SQLite
    # (5x slower over 100,000 rows); the days of a year are few.
    rows = (
        qs.order_by()
        .values(f"{key}_id", *names, "expected_close", "currency")
        .annotate(
            # Names that are not fields: an annotation called "amount" would shadow F("amount").
            n=Count("id"),
            amount_sum=Sum("amount"),
            weighted_sum=Sum(ExpressionWrapper(F("amount") * F("probability"), output_field=money)),
            won_sum=Sum("amount", filter=Q(status=StageKind.WON)),
        )
    )
    months: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        if key == "owner":
            full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
            name = full or row["owner__username"] or ""
        else:
            name = row["team__name"] or ""
        day = row["expected_close"]
        month = day.replace(day=1) if day else None
        acc = months.setdefault((row[f"{key}_id"], month, row["currency"]), {
            "group_id": row[f"{key}_id"], "group": name, "month": month, "currency": row["currency"],
            "count": 0, "amount": Decimal(0), "weighted": Decimal(0), "won": Decimal(0)})
        acc["count"] += row["n"]
        acc["amount"] += Decimal(row["amount_sum"] or 0)
        acc["weighted"] += Decimal(row["weighted_sum"] or 0)
        acc["won"] += Decimal(row["won_sum"] or 0)
    out = []
    for acc in months.values():
        out.append({**acc, "amount": _cents(acc["amount"]), "weighted": _cents(acc["weighted"] / 100),
                    "won": _cents(acc["won"])})
    out.sort(key=lambda r: (r["month"] is None, r["month"] or dt.date.min, r["group"], r["group_id"] or 0,
                            r["currency"]))
    return out


def _cents(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def forecast_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per month and currency, the sums of the rows (computed here: the rows are few)."""
    totals: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        t = totals.setdefault((row["month"], row["currency"]), {
            "month": row["month"], "currency": row["currency"], "count": 0, "amount": Decimal(0),
            "weighted": Decimal(0), "won": Decimal(0)})
        for k in ("count", "amount", "weighted", "won"):
            t[k] += row[k]
    return list(totals.values())


@dataclass
class AccountOpportunities:
    items: list[Opportunity]
    more: bool  # there are more than `items`: the card links to the full list


def account_opportunities(user: User, account: Any, limit: int = 20) -> AccountOpportunities:
    """The account's open opportunities the user may see, soonest expected close first: one query."""
    qs = (Opportunity.objects.visible_to(user).filter(account=account, status=StageKind.OPEN)
          .select_related("stage").order_by(F("expected_close").asc(nulls_last=True), "pk"))
    rows = list(qs[:limit + 1])
    return AccountOpportunities(items=rows[:limit], more=len(rows) > limit)

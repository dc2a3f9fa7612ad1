"""Read-side queries of the sales app: the board's columns and the weighted forecast.

Both start from `Opportunity.objects.visible_to(user)`: a rep's board and forecast hold their own
opportunities only, a manager's their team's, an administrator's everyone's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import CharField, Count, DecimalField, ExpressionWrapper, F, Func, Q, QuerySet, Sum

from guanxi.core.models import Team, User
from guanxi.core.paging import Page, paginate

from . import summary
from .models import Opportunity, Pipeline, Stage, StageKind
from .quote_models import OPEN_ORDER_STATUSES, Order
from .summary_models import Measure

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


class MonthOf(Func):
    """A date column's month as "YYYY-MM", computed by the database itself: Django's TruncMonth is a Python
    function called per row on SQLite (5x slower over 100,000 rows)."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 7)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM')", **extra)


def _group_names(key: str, ids: set[int]) -> dict[int, str]:
    """Display names of the forecast's owners or teams: one query for the few ids of the result."""
    if key == "team":
        return dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    names = {}
    for pk, username, first, last in User.objects.filter(pk__in=ids).values_list("pk", "username", "first_name",
                                                                                "last_name"):
        names[pk] = f"{first} {last}".strip() or username
    return names


def forecast(user: User, *, by: str = "owner", pipeline: Pipeline | None = None,
             start: dt.date | None = None, end: dt.date | None = None, recompute: bool = False) -> list[dict[str, Any]]:
    """Per `by` (owner or team), month of expected close and currency: how many opportunities, their amount,
    the amount weighted by probability, and what is won already. Lost ones are left out.

    Read from the monthly summary (sales/summary.py: one grouped query over a few thousand rows, whatever the
    number of opportunities), plus the opportunities shared with the user from outside their own rows and teams
    (the summary is kept per owner and team); `recompute` (and a `start` or `end` that is not a month's first
    day) reads the opportunities instead: one grouped query by month in SQL. Then one query for the names.

    Weighted = Σ amount × probability / 100, rounded half up to the cent once per row of the result.
    """
    key = "owner" if by not in FORECAST_GROUPS else by
    groups: dict[tuple, list] = {}
    if recompute or any(d is not None and d.day != 1 for d in (start, end)):
        _add_groups(groups, _forecast_opportunities(Opportunity.objects.visible_to(user), key, pipeline, start, end))
    else:
        parts = Opportunity.objects.visible_parts(user)
        _add_groups(groups, _forecast_summary(summary.visible(parts, Measure.EXPECTED), key, pipeline, start, end))
        _add_groups(groups, _forecast_opportunities(summary.shared_beyond(parts), key, pipeline, start, end))
    names = _group_names(key, {group_id for group_id, _month, _currency in groups if group_id is not None})
    out = []
    for (group_id, month, currency), (n, amount, weighted, won) in groups.items():
        out.append({"group_id": group_id, "group": names.get(group_id, ""), "month": month, "currency": currency,
                    "count": n, "amount": _cents(amount), "weighted": _cents(weighted / 100), "won": _cents(won)})
    out.sort(key=lambda r: (r["month"] is None, r["month"] or dt.date.min, r["group"], r["group_id"] or 0,
                            r["currency"]))
    return out


def _add_groups(groups: dict[tuple, list], rows: Any) -> None:
    """Sum (group id, month, currency) → [count, amount, Σ amount × probability, won] rows into `groups`."""
    for group_key, *sums in rows:
        acc = groups.setdefault(group_key, [0, Decimal(0), Decimal(0), Decimal(0)])
        for i, value in enumerate(sums):
            acc[i] += value


def _forecast_opportunities(qs: QuerySet, key: str, pipeline: Pipeline | None, start: dt.date | None,
                            end: dt.date | None) -> Any:
    # status IN (open, won) rather than != lost: a range on the covering (status, expected_close, …) index.
    qs = qs.filter(status__in=[StageKind.OPEN, StageKind.WON])
    if pipeline is not None:
        qs = qs.filter(pipeline=pipeline)
    if start is not None:
        qs = qs.filter(expected_close__gte=start)
    if end is not None:
        qs = qs.filter(expected_close__lt=end)
    money = DecimalField(max_digits=20, decimal_places=4)
    rows = (
        qs.order_by()
        .annotate(close_month=MonthOf("expected_close"))
        .values(f"{key}_id", "close_month", "currency")
        .annotate(
            # Names that are not fields: an annotation called "amount" would shadow F("amount").
            n=Count("id"),
            amount_sum=Sum("amount"),
            weighted_sum=Sum(ExpressionWrapper(F("amount") * F("probability"), output_field=money)),
            won_sum=Sum("amount", filter=Q(status=StageKind.WON)),
        )
    )
    for row in rows:
        text = row["close_month"]
        month = dt.date(int(text[:4]), int(text[5:7]), 1) if text else None
        yield ((row[f"{key}_id"], month, row["currency"]), row["n"], Decimal(row["amount_sum"] or 0),
               Decimal(row["weighted_sum"] or 0), Decimal(row["won_sum"] or 0))


def _forecast_summary(qs: QuerySet, key: str, pipeline: Pipeline | None, start: dt.date | None,
                      end: dt.date | None) -> Any:
    qs = qs.filter(status__in=[StageKind.OPEN, StageKind.WON])
    if pipeline is not None:
        qs = qs.filter(pipeline_id=pipeline.pk)
    if start is not None or end is not None:
        qs = qs.filter(month__gt=0)  # no expected close is before or after nothing
    if start is not None:
        qs = qs.filter(month__gte=summary.month_key(start))
    if end is not None:
        qs = qs.filter(month__lt=summary.month_key(end))
    rows = qs.values(f"{key}_id", "month", "currency").annotate(
        count=Sum("n"), cents=Sum("amount"), weighted_cents=Sum("weighted"),
        won_cents=Sum("amount", filter=Q(status=StageKind.WON)))
    for row in rows:
        yield ((row[f"{key}_id"] or None, summary.month_of(row["month"]), row["currency"]), int(row["count"]),
               summary.money(row["cents"]), summary.money(row["weighted_cents"]), summary.money(row["won_cents"]))


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


def account_open_orders(user: User, account: Any, limit: int = 5) -> list[Order]:
    """The account's orders still being fulfilled (OPEN_ORDER_STATUSES) that the user may see through the
    orders' own visibility, newest first: one query. A user who sees the account but none of its orders
    gets none."""
    return list(Order.objects.visible_to(user).filter(account=account, status__in=OPEN_ORDER_STATUSES)
                .order_by("-ordered_on", "-id")[:limit])

"""REST resources for quotas and performance: /quotas (list, create, read, change, delete, a year of monthly
quotas at once) and /performance/leaderboard, /performance/funnel, /performance/year-over-year.
See sales/performance.py for who sees which figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import CURSOR, ERRORS, LIMIT, READ_ONE, WRITE, WRITE_ONE, Id, Ref, actor, page_out, ref
from guanxi.core.paging import paginate

from . import performance, quota_services
from .quota_math import KINDS
from .quota_models import Quota

router = Router()
TAG = ["performance"]
QUOTA_SORTS = ["start", "-start", "id", "-id"]
PERIOD = Field(
    None, max_length=20, description="A month `2031-03`, a quarter `2031-Q1` or a year `2031`; default: this month."
)


class QuotaIn(Schema):
    user_id: Id | None = Field(None, description="The rep; give this or `team_id`.")
    team_id: Id | None = Field(None, description="The team; give this or `user_id`.")
    kind: str = Field("month", json_schema_extra={"enum": list(KINDS)})
    start: dt.date = Field(..., description="The period's first day.")
    amount: Decimal
    currency: str = Field("CNY", max_length=3)


class QuotaPatch(Schema):
    user_id: Id | None = None
    team_id: Id | None = None
    kind: str | None = Field(None, json_schema_extra={"enum": list(KINDS)})
    start: dt.date | None = None
    amount: Decimal | None = None
    currency: str | None = Field(None, max_length=3)


class MonthlyIn(Schema):
    user_ids: list[Id] = Field(..., max_length=500)
    year: int = Field(..., ge=1900, le=9998)
    amount: Decimal = Field(..., description="Each month's quota.")
    currency: str = Field("CNY", max_length=3)


class WrittenOut(Schema):
    written: int


class QuotaOut(Schema):
    id: int
    user: Ref | None
    team: Ref | None
    kind: str
    start: dt.date
    period: str
    amount: Decimal
    currency: str


class QuotaPage(Schema):
    items: list[QuotaOut]
    next: str | None


class QuotaQuery(Schema):
    period: str | None = Field(
        None, max_length=20, description="Only quotas of this period (`2031-03`, `2031-Q1`, `2031`)."
    )
    year: int | None = Field(None, ge=1900, le=9998, description="Quotas of any period starting in this year.")
    user: Id | None = None
    team: Id | None = None
    sort: str = Field("start", json_schema_extra={"enum": QUOTA_SORTS})
    limit: int = LIMIT
    cursor: str | None = CURSOR


def quota_item(q: Quota) -> dict[str, Any]:
    return {
        "id": q.pk,
        "user": ref(q.user),
        "team": ref(q.team),
        "kind": q.kind,
        "start": q.start,
        "period": performance.Period(q.kind, q.start).label,
        "amount": q.amount,
        "currency": q.currency,
    }


def _visible(request: HttpRequest, id: int) -> Quota:
    return get_object_or_404(Quota.objects.visible_to(actor(request)).select_related("user", "team"), pk=id)


@router.get("/quotas", response={200: QuotaPage, **ERRORS}, tags=TAG)
def list_quotas(request: HttpRequest, params: Query[QuotaQuery]):
    """Quotas you may see: your own and your team's; a manager's teams' and their members'; all for admins."""
    qs = Quota.objects.visible_to(actor(request)).select_related("user", "team")
    if params.period:
        period = performance.period_param(params.period)
        qs = qs.filter(kind=period.kind, start=period.start)
    if params.year:
        qs = qs.filter(start__year=params.year)
    if params.user:
        qs = qs.filter(user_id=params.user)
    if params.team:
        qs = qs.filter(team_id=params.team)
    page = paginate(qs, sort=params.sort, allowed=QUOTA_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([quota_item(q) for q in page.items], page.next_cursor)


@router.post("/quotas", response={201: QuotaOut, **WRITE}, tags=TAG)
def create_quota(request: HttpRequest, payload: QuotaIn):
    """A quota for a rep or a team (managers: their teams and members; administrators: anyone)."""
    quota = quota_services.create_quota(actor(request), payload.model_dump())
    return Status(201, quota_item(quota))


@router.post("/quotas/monthly", response={200: WrittenOut, **WRITE}, tags=TAG)
def set_monthly_quotas(request: HttpRequest, payload: MonthlyIn):
    """The same quota for each of these reps in every month of `year`; returns how many quotas changed."""
    written = quota_services.set_monthly_quotas(
        actor(request), payload.user_ids, payload.year, payload.amount, payload.currency
    )
    return {"written": written}


@router.get("/quotas/{id}", response={200: QuotaOut, **READ_ONE}, tags=TAG)
def get_quota(request: HttpRequest, id: Id):
    return quota_item(_visible(request, id))


@router.patch("/quotas/{id}", response={200: QuotaOut, **WRITE_ONE}, tags=TAG)
def update_quota(request: HttpRequest, id: Id, payload: QuotaPatch):
    quota = quota_services.update_quota(actor(request), _visible(request, id), payload.model_dump(exclude_unset=True))
    return quota_item(Quota.objects.select_related("user", "team").get(pk=quota.pk))


@router.delete("/quotas/{id}", response={204: None, **WRITE_ONE}, tags=TAG)
def delete_quota(request: HttpRequest, id: Id):
    quota_services.delete_quota(actor(request), _visible(request, id))
    return Status(204, None)


# ------------------------------------------------------------------ performance


class MoneyOut(Schema):
    currency: str
    amount: Decimal


class LeaderRow(Schema):
    rank: int
    user_id: int
    name: str
    won_amount: Decimal = Field(..., description="Won in the leaderboard's `currency`.")
    won_count: int = Field(..., description="Won in any currency.")
    lost_count: int
    win_rate: Decimal | None = Field(..., description="Won / (won + lost), percent.")
    average_deal: Decimal | None
    quota: Decimal | None
    quota_currency: str | None
    quota_won: Decimal = Field(..., description="Won in every currency, converted into the quota's currency at the "
                                                 "exchange rates in force on the period's last day (or today).")
    attainment: Decimal | None = Field(..., description="quota_won / quota, percent.")
    other_currencies: list[MoneyOut]
    unconverted: list[MoneyOut] = Field(..., description="Won amounts left out of quota_won: no exchange rate for "
                                                         "their currency (or the quota's).")


class TeamRow(Schema):
    team_id: int
    name: str
    quota: Decimal
    currency: str
    won_amount: Decimal = Field(..., description="Won by the team and the teams below it, in the quota's currency "
                                                 "(other currencies converted; see unconverted).")
    attainment: Decimal | None
    other_currencies: list[MoneyOut]
    unconverted: list[MoneyOut]


class LeaderboardOut(Schema):
    period: str
    start: dt.date
    end: dt.date
    currency: str
    rows: list[LeaderRow]
    teams: list[TeamRow]


class LeaderboardQuery(Schema):
    period: str | None = PERIOD
    currency: str = Field("CNY", min_length=3, max_length=3, description="Rank by won amounts in this currency.")


class FunnelStep(Schema):
    step: str = Field(..., json_schema_extra={"enum": ["created", "qualified", "converted", "won"]})
    count: int
    rate: Decimal | None = Field(..., description="Of the step before, percent.")
    share: Decimal | None = Field(..., description="Of the leads created, percent.")


class FunnelOut(Schema):
    period: str
    start: dt.date
    end: dt.date
    owner_id: int | None
    steps: list[FunnelStep]
    overall_rate: Decimal | None


class FunnelQuery(Schema):
    period: str | None = PERIOD
    owner: Id | None = Field(None, description="Only this owner's leads.")


class YearCell(Schema):
    count: int
    amount: Decimal
    previous_count: int
    previous_amount: Decimal
    amount_change: Decimal | None


class YearMonth(Schema):
    month: int
    opportunities_created: YearCell
    opportunities_won: YearCell
    orders: YearCell


class YearTotals(Schema):
    opportunities_created: YearCell
    opportunities_won: YearCell
    orders: YearCell


class YearCurrency(Schema):
    currency: str
    months: list[YearMonth]
    totals: YearTotals


class YearOut(Schema):
    year: int
    currencies: list[YearCurrency]


class YearQuery(Schema):
    year: int | None = Field(None, ge=1901, le=9998, description="Default: this year.")


def _period_out(period: performance.Period) -> dict[str, Any]:
    return {"period": period.label, "start": period.start, "end": period.end}


@router.get("/performance/leaderboard", response={200: LeaderboardOut, **ERRORS}, tags=TAG)
def get_leaderboard(request: HttpRequest, params: Query[LeaderboardQuery]):
    """Reps ranked by won amount in the period, with quota and attainment, and the teams' attainment."""
    period = performance.period_param(params.period)
    board = performance.leaderboard(actor(request), period, params.currency.upper())
    return {**board, **_period_out(period)}


@router.get("/performance/funnel", response={200: FunnelOut, **ERRORS}, tags=TAG)
def get_funnel(request: HttpRequest, params: Query[FunnelQuery]):
    """Leads created in the period → qualified → converted → won, with the rate of each step."""
    period = performance.period_param(params.period)
    return {**performance.funnel(actor(request), period, params.owner), **_period_out(period)}


@router.get("/performance/year-over-year", response={200: YearOut, **ERRORS}, tags=TAG)
def get_year_over_year(request: HttpRequest, params: Query[YearQuery]):
    """Opportunities created and won per month of the year against the same month of the year before."""
    year = params.year or dt.date.today().year
    return {"year": year, "currencies": performance.year_over_year(actor(request), year)}

"""Performance against quota: attainment, the leaderboard, the lead funnel and year-on-year comparisons.

Who sees what (one rule, from `Opportunity.objects.visible_to`): a figure is computed only from records the
user may see, so no amount of an opportunity they could not open ever reaches them. An administrator sees
every rep and team; a manager the reps and teams of the subtree they head; a rep only their own row (their
colleagues' opportunities are not theirs to see, and neither are totals made of them). Rows are limited to
reps in that scope, so an opportunity shared with the user does not create a partial row for its owner.

Periods are the company's (settings.TIME_ZONE): March in Beijing is March, whatever the reader's zone.
Each figure is one grouped query; the number of queries never depends on the number of reps or deals.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.access import VisibleParts
from guanxi.core.models import Team, User

from . import summary
from .lead_models import Lead, LeadStatus
from .models import Opportunity, StageKind
from .quota_math import Period, attainment, average, cents, change, parse_period, percent, win_rate
from .quota_models import Quota
from .quote_models import Order, OrderStatus
from .receivables import sum_in
from .summary_models import Measure, OrderMonth


def period_param(value: str | None, field: str = "period", default: Period | None = None) -> Period:
    """A period from a request ("2031-03", "2031-Q1", "2031"); the current month when empty and no default;
    ValidationError under `field` when it is not one."""
    if not value:
        return default or Period("month", timezone.localdate(timezone=timezone.get_default_timezone()).replace(day=1))
    try:
        return parse_period(value)
    except ValueError:
        raise ValidationError(
            {field: [_("Enter a period as a month (2031-03), a quarter (2031-Q1) or a year (2031).")]}
        ) from None


def bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period as aware datetimes [start, end) in the company's time zone."""
    zone = timezone.get_default_timezone()
    return (dt.datetime.combine(period.start, dt.time(), zone), dt.datetime.combine(period.end, dt.time(), zone))


def _name(row: dict[str, Any], prefix: str = "") -> str:
    full = f"{row[prefix + 'first_name']} {row[prefix + 'last_name']}".strip()
    return full or row[prefix + "username"]


class Scope:
    """The reps and teams whose figures a user sees; the team subtree is read once."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.all = user.is_administrator
        self.team_ids = [] if self.all else user.visible_team_ids()

    @cached_property
    def _opportunities(self) -> QuerySet:
        qs = Opportunity.objects.visible_to(self.user)
        return qs if self.all else qs.filter(Q(owner_id=self.user.pk) | Q(owner__team_id__in=self.team_ids))

    def opportunities(self) -> QuerySet:
        return self._opportunities.all()  # visible_to's look-ups run once per scope

    @cached_property
    def _parts(self) -> VisibleParts:
        return Opportunity.objects.visible_parts(self.user, None if self.all else self.team_ids)

    def summary(self, measure: int) -> QuerySet:
        """The monthly summary rows of `opportunities()`, but for those in `shared_beyond()` (the summary is kept
        per owner and team; those are the few shared from elsewhere)."""
        return summary.visible(self._parts, measure, members_only=True)

    def shared_beyond(self) -> QuerySet:
        return summary.shared_beyond(self._parts, members_only=True)

    @cached_property
    def _orders(self) -> QuerySet:
        qs = Order.objects.visible_to(self.user).exclude(status=OrderStatus.CANCELLED)
        return qs if self.all else qs.filter(Q(owner_id=self.user.pk) | Q(owner__team_id__in=self.team_ids))

    def orders(self) -> QuerySet:
        """Orders not cancelled, of the same reps as `opportunities`."""
        return self._orders.all()

    @cached_property
    def _order_parts(self) -> VisibleParts:
        return Order.objects.visible_parts(self.user, None if self.all else self.team_ids)

    def order_summary(self) -> QuerySet:
        """The monthly summary rows of `orders()`, but for those in `orders_shared_beyond()`."""
        return summary.visible_rows(OrderMonth.objects.exclude(status=OrderStatus.CANCELLED), self._order_parts,
                                    members_only=True)

    def orders_shared_beyond(self) -> QuerySet:
        return summary.shared_beyond(self._order_parts, members_only=True).exclude(status=OrderStatus.CANCELLED)

    def quotas(self, period: Period) -> QuerySet:
        qs = Quota.objects.visible_to(self.user).filter(kind=period.kind, start=period.start)
        if self.all:
            return qs
        return qs.filter(Q(user_id=self.user.pk) | Q(user__team_id__in=self.team_ids) | Q(team_id__in=self.team_ids))


def leaderboard(user: User, period: Period, currency: str = "CNY", recompute: bool = False) -> dict[str, Any]:
    """Reps ranked by won amount in `currency` (won amounts in other currencies are listed beside, never
    added), with their quota, attainment, won and lost counts, win rate and average deal; and each team with
    a quota for the period, its attainment over the opportunities of the team and the teams below it.

    Won and lost: closed (closed_at) inside the period. Attainment counts won amounts in every currency, converted
    into the quota's currency at the rates in force on the period's last day (or today, for a period not over);
    a currency without a rate is listed under `unconverted` and not counted.

    The won and lost figures come from the monthly summary (`recompute`: from the opportunities; see `_closed`).
    """
    scope = Scope(user)
    money = Converter(period)
    closed = _closed(scope, period, recompute)
    per_rep: dict[int, dict[str, Any]] = {}

    def rep(pk: int) -> dict[str, Any]:
        return per_rep.setdefault(
            pk,
            {
                "won": defaultdict(Decimal),
                "won_counts": defaultdict(int),
                "won_count": 0,
                "lost_count": 0,
                "quota": None,
            },
        )

    for (owner_id, _team_id, status, code), (n, total) in closed.items():
        if owner_id is None:
            continue
        acc = rep(owner_id)
        if status == StageKind.WON:
            acc["won"][code] += total
            acc["won_counts"][code] += n
            acc["won_count"] += n
        else:
            acc["lost_count"] += n
    team_quotas = []
    for quota in scope.quotas(period).select_related("team"):
        if quota.user_id:
            rep(quota.user_id)["quota"] = quota
        else:
            team_quotas.append(quota)
    if not scope.all and not scope.team_ids:  # a rep always sees their own row, even an empty one
        rep(user.pk)
    names = {
        u["pk"]: u for u in User.objects.filter(pk__in=per_rep).values("pk", "username", "first_name", "last_name")
    }
    rows = []
    for pk, acc in per_rep.items():
        quota = acc["quota"]
        won = dict(acc["won"])
        in_currency = won.get(currency, cents(0))
        quota_won, missing = money.sum_in(won, quota.currency) if quota else (cents(0), {})
        rows.append(
            {
                "user_id": pk,
                "name": _name(names[pk]) if pk in names else str(pk),
                "currency": currency,
                "won_amount": in_currency,
                "won_count": acc["won_count"],
                "lost_count": acc["lost_count"],
                "win_rate": win_rate(acc["won_count"], acc["lost_count"]),
                "average_deal": average(in_currency, acc["won_counts"].get(currency, 0)),
                "quota": quota.amount if quota else None,
                "quota_currency": quota.currency if quota else None,
                "quota_id": quota.pk if quota else None,
                "quota_won": quota_won,
                "attainment": attainment(quota_won, quota.amount) if quota else None,
                "other_currencies": [{"currency": c, "amount": a} for c, a in sorted(won.items()) if c != currency],
                "unconverted": _listed(missing),
            }
        )
    rows.sort(key=lambda r: (-r["won_amount"], -(r["attainment"] or Decimal(-1)), r["name"], r["user_id"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return {"period": period, "currency": currency, "rows": rows,
            "teams": _team_attainment(scope, closed, team_quotas, money)}


# (owner id, team id, status, currency) → (count, amount): won and lost opportunities closed in a period.
Closed = dict[tuple[int | None, int | None, str, str], tuple[int, Decimal]]


def _closed(scope: Scope, period: Period, recompute: bool = False) -> Closed:
    """Won and lost in the period, per owner, team, status and currency: from the monthly summary (a period is
    whole months; one grouped query over a few thousand rows at most) plus the opportunities shared with the user from
    beyond their rows and teams; from the opportunities themselves with `recompute`, or when the summary's
    company months do not cover the period or were made for another time zone."""
    statuses = [StageKind.WON, StageKind.LOST]
    out: Closed = {}

    def add(key: tuple, n: int, total: Decimal) -> None:
        count, amount = out.get(key, (0, cents(0)))
        out[key] = (count + n, amount + total)

    start, end = bounds(period)
    if recompute or not summary.covers(period.start, period.end - dt.timedelta(days=1)):
        opportunities = scope.opportunities()
    else:
        rows = (scope.summary(Measure.CLOSED)
                .filter(status__in=statuses, month__gte=summary.month_key(period.start),
                        month__lt=summary.month_key(period.end))
                .values("owner_id", "team_id", "status", "currency").annotate(count=Sum("n"), cents=Sum("amount")))
        for row in rows:
            add((row["owner_id"] or None, row["team_id"] or None, row["status"], row["currency"]),
                int(row["count"]), cents(summary.money(row["cents"])))
        opportunities = scope.shared_beyond()
    for row in (opportunities.filter(status__in=statuses, closed_at__gte=start, closed_at__lt=end).order_by()
                .values("owner_id", "team_id", "status", "currency").annotate(n=Count("id"), total=Sum("amount"))):
        add((row["owner_id"], row["team_id"], row["status"], row["currency"]), row["n"], cents(row["total"]))
    return out


class Converter:
    """Won amounts into a quota's currency through the stored exchange rates (sales.payment_services), read once
    and only when some amount is in another currency."""

    def __init__(self, period: Period) -> None:
        today = timezone.localdate(timezone=timezone.get_default_timezone())
        self.day = min(period.end - dt.timedelta(days=1), today)

    @cached_property
    def _rates(self) -> tuple[str, dict[str, Decimal]]:
        from .payment_services import base_currency, rates_on

        return base_currency(), rates_on(self.day)

    def sum_in(self, amounts: dict[str, Decimal], target: str) -> tuple[Decimal, dict[str, Decimal]]:
        if all(code == target for code in amounts):
            return amounts.get(target, cents(0)), {}
        base, rates = self._rates
        total, missing = sum_in(amounts, target, base, rates)
        return cents(total), missing


def _listed(amounts: dict[str, Decimal]) -> list[dict[str, Any]]:
    return [{"currency": c, "amount": a} for c, a in sorted(amounts.items())]


def _team_attainment(scope: Scope, closed: Closed, quotas: list[Quota], money: Converter) -> list[dict[str, Any]]:
    """Each team quota against the won amounts of the team and its sub-teams, in the quota's currency.
    A team is shown only to those who see all of it: administrators and the managers heading it."""
    quotas = [q for q in quotas if scope.all or q.team_id in scope.team_ids]
    if not quotas:
        return []
    won: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for (_owner_id, team_id, status, code), (_n, total) in closed.items():
        if status == StageKind.WON and team_id is not None:
            won[(team_id, code)] += total
    paths = dict(Team.objects.values_list("pk", "path"))
    out = []
    for quota in quotas:
        prefix = quota.team.path
        in_team: dict[str, Decimal] = defaultdict(Decimal)
        for (team_id, code), amount in won.items():
            if paths.get(team_id, "").startswith(prefix):
                in_team[code] += amount
        total, missing = money.sum_in(dict(in_team), quota.currency)
        other = {code: amount for code, amount in in_team.items() if code != quota.currency}
        out.append(
            {
                "team_id": quota.team_id,
                "name": quota.team.name,
                "quota": quota.amount,
                "currency": quota.currency,
                "quota_id": quota.pk,
                "won_amount": total,
                "attainment": attainment(total, quota.amount),
                "other_currencies": _listed(other),
                "unconverted": _listed(missing),
            }
        )
    out.sort(key=lambda t: (paths.get(t["team_id"], ""), t["team_id"]))
    return out


def funnel(user: User, period: Period, owner_id: int | None = None) -> dict[str, Any]:
    """Leads created in the period → of them qualified (qualified or converted since) → converted → won
    (the opportunity they became is won), with the conversion rate of each step and overall. One query."""
    scope = Scope(user)
    start, end = bounds(period)
    leads = Lead.objects.visible_to(user).filter(created_at__gte=start, created_at__lt=end)
    if not scope.all:
        leads = leads.filter(Q(owner_id=user.pk) | Q(owner__team_id__in=scope.team_ids))
    if owner_id is not None:
        leads = leads.filter(owner_id=owner_id)
    counts = leads.order_by().aggregate(
        created=Count("id"),
        qualified=Count("id", filter=Q(status__in=[LeadStatus.QUALIFIED, LeadStatus.CONVERTED])),
        converted=Count("id", filter=Q(status=LeadStatus.CONVERTED)),
        won=Count("id", filter=Q(status=LeadStatus.CONVERTED, converted_opportunity__status=StageKind.WON)),
    )
    names = ["created", "qualified", "converted", "won"]
    steps = []
    for i, name in enumerate(names):
        steps.append(
            {
                "step": name,
                "count": counts[name],
                "rate": percent(counts[name], counts[names[i - 1]]) if i else None,
                "share": percent(counts[name], counts["created"]),
            }
        )
    return {
        "period": period,
        "owner_id": owner_id,
        "steps": steps,
        "overall_rate": percent(counts["won"], counts["created"]),
    }


# ---------------------------------------------------------------- year on year

Month = tuple[dt.date, dt.datetime, dt.datetime]  # first day, and its [start, end) in the company's zone
Series = Callable[[Scope, list[Month], bool], Iterable[dict[str, Any]]]


def monthly_sums(qs: QuerySet, field: str, months: list[Month], amount: str = "amount") -> Iterable[dict[str, Any]]:
    """Per currency and month: how many rows have `field` in the month, and the sum of `amount`. One grouped
    query on a CASE of range conditions (a month function would run in Python per row on SQLite)."""
    index = Case(
        *[When(**{f"{field}__lt": end}, then=Value(i)) for i, (_day, _start, end) in enumerate(months)],
        output_field=IntegerField(),
    )
    window = {f"{field}__gte": months[0][1], f"{field}__lt": months[-1][2]}
    rows = (
        qs.filter(**window)
        .order_by()
        .annotate(month_index=index)
        .values("currency", "month_index")
        .annotate(n=Count("id"), total=Sum(amount))
    )
    for row in rows:
        yield {
            "month": months[row["month_index"]][0],
            "currency": row["currency"],
            "n": row["n"],
            "total": row["total"],
        }


def _summed(rows: QuerySet, months: list[Month], shared: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """`monthly_sums` read from a monthly summary's `rows` (summed per month and currency), then `shared` (the few
    rows shared with the user from beyond their rows and teams, summed from the table itself)."""
    rows = (rows.filter(month__gte=summary.month_key(months[0][0]), month__lte=summary.month_key(months[-1][0]))
            .values("month", "currency").annotate(count=Sum("n"), cents=Sum("amount")))
    for row in rows:
        yield {"month": summary.month_of(row["month"]), "currency": row["currency"], "n": int(row["count"]),
               "total": summary.money(row["cents"])}
    yield from shared


def _created(scope: Scope, months: list[Month], from_summary: bool) -> Iterable[dict[str, Any]]:
    if from_summary:
        return _summed(scope.summary(Measure.CREATED), months,
                       monthly_sums(scope.shared_beyond(), "created_at", months))
    return monthly_sums(scope.opportunities(), "created_at", months)


def _won(scope: Scope, months: list[Month], from_summary: bool) -> Iterable[dict[str, Any]]:
    if from_summary:
        won = Q(status=StageKind.WON)
        return _summed(scope.summary(Measure.CLOSED).filter(won), months,
                       monthly_sums(scope.shared_beyond().filter(won), "closed_at", months))
    return monthly_sums(scope.opportunities().filter(status=StageKind.WON), "closed_at", months)


def _orders(scope: Scope, months: list[Month], from_summary: bool) -> Iterable[dict[str, Any]]:
    # `ordered_on` is a date: the month bounds (midnight in the company's zone) compare as their dates.
    if from_summary:
        return _summed(scope.order_summary(), months,
                       monthly_sums(scope.orders_shared_beyond(), "ordered_on", months, amount="net_total"))
    return monthly_sums(scope.orders(), "ordered_on", months, amount="net_total")


def gross_by_month(user: User, since: dt.date) -> dict[dt.date, Decimal]:
    """Gross order totals per month of the order date (every currency added, as analytics' revenue chart shows
    them), from the month of `since` on, of the orders the user may see, cancelled ones left out: from the monthly
    summary, and the few orders shared with the user from beyond their own and their teams' from the orders."""
    parts = Order.objects.visible_parts(user)
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    rows = (summary.visible_rows(OrderMonth.objects.exclude(status=OrderStatus.CANCELLED), parts)
            .filter(month__gte=summary.month_key(since)).values("month").annotate(cents=Sum("gross")))
    for row in rows:
        out[summary.month_of(row["month"])] += summary.money(row["cents"])
    shared = summary.shared_beyond(parts).exclude(status=OrderStatus.CANCELLED).filter(ordered_on__gte=since)
    for day, total in shared.order_by().values_list("ordered_on", "gross_total"):  # a few rows
        out[day.replace(day=1)] += total
    return dict(out)


# The measures compared year on year; each is one grouped query giving (month, currency, n, total).
YEAR_OVER_YEAR: dict[str, Series] = {"opportunities_created": _created, "opportunities_won": _won, "orders": _orders}


def year_over_year(user: User, year: int, recompute: bool = False) -> list[dict[str, Any]]:
    """Per currency and month of `year`: each measure's count and amount, the same month of the year before,
    and the change in percent (None when the year before had nothing). Opportunities created and won, and orders,
    are read from the monthly summaries (see `_closed`; `recompute`: from the opportunities and orders)."""
    months = []
    for first in Period("year", dt.date(year - 1, 1, 1)).months() + Period("year", dt.date(year, 1, 1)).months():
        months.append((first, *bounds(Period("month", first))))
    scope = Scope(user)
    from_summary = not recompute and summary.covers(months[0][0], months[-1][0])
    cells: dict[tuple[str, str, int, int], tuple[int, Decimal]] = {}
    currencies: set[str] = set()
    for measure, series in YEAR_OVER_YEAR.items():
        for row in series(scope, months, from_summary):
            month = row["month"]
            n, total = cells.get((measure, row["currency"], month.year, month.month), (0, cents(0)))
            cells[(measure, row["currency"], month.year, month.month)] = (n + row["n"], total + cents(row["total"]))
            currencies.add(row["currency"])
    out = []
    for code in sorted(currencies):
        months = []
        for m in range(1, 13):
            entry: dict[str, Any] = {"month": m}
            for measure in YEAR_OVER_YEAR:
                n, total = cells.get((measure, code, year, m), (0, cents(0)))
                n0, total0 = cells.get((measure, code, year - 1, m), (0, cents(0)))
                entry[measure] = {
                    "count": n,
                    "amount": total,
                    "previous_count": n0,
                    "previous_amount": total0,
                    "amount_change": change(total, total0),
                }
            months.append(entry)
        totals = {
            measure: {
                k: sum(e[measure][k] for e in months) for k in ("count", "amount", "previous_count", "previous_amount")
            }
            for measure in YEAR_OVER_YEAR
        }
        for t in totals.values():
            t["amount_change"] = change(t["amount"], t["previous_amount"])
        out.append({"currency": code, "months": months, "totals": totals})
    return out

"""The database side of the analytics: per-customer aggregates computed in SQL and handed to the plain
modules (rfm, clv, churn, affinity) as arrays, so scoring a million customers never loads their orders.

Orders count when they are not cancelled; amounts are the orders' totals (gross, as on the order list). The churn
features add, for the same accounts, their tickets, satisfaction answers and activities (one grouped query each).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Avg, Count, Max, Min, Q, Sum

from guanxi.activities.models import Activity, ActivityKind
from guanxi.sales.quote_models import Order, OrderLine, OrderStatus
from guanxi.sales.summary import ACCOUNTS
from guanxi.sales.summary_models import AccountOrders
from guanxi.service.csat_models import SatisfactionResponse
from guanxi.service.ticket_models import Priority, Ticket

EPOCH = dt.date(1970, 1, 1)


def day_numbers(values: list) -> np.ndarray:
    """Dates as the database returns them (date objects, or ISO text from SQLite) → days since 1970-01-01."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


@dataclass
class CustomerSummary:
    """One entry per account with a counted order on or before `as_of`, in account id order."""

    account_ids: np.ndarray
    first_day: np.ndarray  # day numbers
    last_day: np.ndarray
    order_days: np.ndarray  # distinct days with an order
    orders: np.ndarray  # counted orders
    total: np.ndarray  # their total amount
    repeat_total: np.ndarray  # the amount ordered after the first order day
    as_of: int  # day number

    def __len__(self) -> int:
        return len(self.account_ids)

    @property
    def frequency(self) -> np.ndarray:
        """Repeat purchase days, as BG/NBD counts them."""
        return self.order_days - 1

    @property
    def recency(self) -> np.ndarray:
        """Days from the first to the last order (BG/NBD's t_x)."""
        return (self.last_day - self.first_day).astype(np.float64)

    @property
    def age(self) -> np.ndarray:
        """Days from the first order to the as-of date (BG/NBD's T)."""
        return (self.as_of - self.first_day).astype(np.float64)

    @property
    def monetary_value(self) -> np.ndarray:
        """Mean spend of the repeat order days (0 without any), as Gamma-Gamma takes it."""
        f = self.frequency
        return np.divide(self.repeat_total, f, out=np.zeros(len(f)), where=f > 0)


def customer_summary(as_of: dt.date, method: str | None = None) -> CustomerSummary:
    """The counted orders up to `as_of` per account. `method` "kept": the orders per account the database keeps
    (sales AccountOrders, one row per account read out), only when no counted order is dated after `as_of`;
    "sql": one grouped query over the orders (by account and day, then by account, the first day's total found
    by a window); "read": the three columns read out (account, day number, amount; one scan, streamed into
    numpy) and grouped by one sort in numpy. By default "kept" when it holds (one indexed look-up says so), else
    "read" on SQLite, where it takes a quarter of the grouped query's time (SQLite sorts the whole table into a
    temporary B-tree for each GROUP BY), and "sql" on PostgreSQL (hash aggregation, parallel workers)."""
    if method in (None, "kept"):
        if kept_covers(as_of):
            return _summary_kept(as_of)
        if method == "kept":
            raise ValueError(f"orders are dated after {as_of}: the kept summary does not apply")
        method = "read" if connection.vendor == "sqlite" else "sql"
    return _summary_sql(as_of) if method == "sql" else _summary_read(as_of)


def kept_covers(as_of: dt.date) -> bool:
    """Whether the kept orders per account are those up to `as_of`: no counted order is dated after it (a walk
    up the order-date index from `as_of`)."""
    return not Order.objects.filter(ordered_on__gt=as_of).exclude(status=OrderStatus.CANCELLED).exists()


def _summary_kept(as_of: dt.date) -> CustomerSummary:
    if connection.vendor == "sqlite":
        days = [f"CAST(julianday({c}) - 2440587.5 AS INTEGER)" for c in ("first_day", "last_day")]
    else:
        days = [f"({c} - DATE '1970-01-01')" for c in ("first_day", "last_day")]
    sql = (f"SELECT account_id, {days[0]}, {days[1]}, order_days, orders, total, repeat_total "
           f'FROM "{AccountOrders._meta.db_table}" ORDER BY account_id')
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = np.fromiter(cursor, dtype=[(n, np.int64) for n in (
            "account", "first", "last", "days", "orders", "total", "repeat")])
    return CustomerSummary(
        account_ids=rows["account"], first_day=rows["first"], last_day=rows["last"], order_days=rows["days"],
        orders=rows["orders"], total=rows["total"] / 100, repeat_total=rows["repeat"] / 100,
        as_of=int((as_of - EPOCH).days))


def _summary_sql(as_of: dt.date) -> CustomerSummary:
    """The grouped query the database keeps its orders per account with (sales.summary.ACCOUNTS), limited to
    the orders up to `as_of`; amounts in cents there."""
    sql = ACCOUNTS.recomputed(connection.vendor, "o.ordered_on <= %s") + " ORDER BY account_id"
    with connection.cursor() as cursor:
        cursor.execute(sql, [as_of])
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    return CustomerSummary(
        account_ids=np.asarray(columns[0], dtype=np.int64),
        first_day=day_numbers(list(columns[1])),
        last_day=day_numbers(list(columns[2])),
        order_days=np.asarray(columns[3], dtype=np.int64),
        orders=np.asarray(columns[4], dtype=np.int64),
        total=np.asarray(columns[5], dtype=np.float64) / 100,
        repeat_total=np.asarray(columns[6], dtype=np.float64) / 100,
        as_of=int((as_of - EPOCH).days),
    )


def _summary_read(as_of: dt.date) -> CustomerSummary:
    day = ("CAST(julianday(ordered_on) - 2440587.5 AS INTEGER)" if connection.vendor == "sqlite"
           else "(ordered_on - DATE '1970-01-01')")
    scan = " NOT INDEXED" if connection.vendor == "sqlite" else ""  # not the account index: random reads
    sql = (f'SELECT account_id, {day}, CAST(gross_total AS DOUBLE PRECISION) FROM "{Order._meta.db_table}"{scan} '
           f"WHERE status <> %s AND ordered_on <= %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [OrderStatus.CANCELLED, as_of])
        rows = np.fromiter(cursor, dtype=[("account", np.int64), ("day", np.int64), ("amount", np.float64)])
    order = np.lexsort((rows["day"], rows["account"]))
    account, day_of, amount = rows["account"][order], rows["day"][order], rows["amount"][order]
    del rows, order
    n = len(account)
    starts = np.ones(n, dtype=bool)  # the first order of each account
    starts[1:] = account[1:] != account[:-1]
    new_day = starts.copy()
    new_day[1:] |= day_of[1:] != day_of[:-1]
    group = np.cumsum(starts) - 1
    first = day_of[starts]
    ends = np.flatnonzero(np.append(starts[1:], True)) if n else np.zeros(0, dtype=np.int64)
    repeat = np.where(day_of == first[group], 0.0, amount)
    k = len(first)
    return CustomerSummary(
        account_ids=account[starts],
        first_day=first,
        last_day=day_of[ends],
        order_days=np.bincount(group, weights=new_day, minlength=k).astype(np.int64),
        orders=np.bincount(group, minlength=k).astype(np.int64),
        total=np.bincount(group, weights=amount, minlength=k),
        repeat_total=np.bincount(group, weights=repeat, minlength=k),
        as_of=int((as_of - EPOCH).days),
    )


ORDER_FEATURES = ["tenure_days", "recency_days", "orders_total", "orders_recent", "orders_trend", "spend_recent",
                  "spend_trend"]
SERVICE_FEATURES = ["tickets_recent", "complaints_recent", "satisfaction_recent", "engagement_recent",
                    "engagement_trend"]
FEATURES = ORDER_FEATURES + SERVICE_FEATURES
# A complaint: tickets have no type or category of their own (the question group is a topic, not a tone), so a
# complaint is a ticket raised at high or urgent priority — by the customer, an agent, or the SLA escalation.
COMPLAINT = (Priority.HIGH, Priority.URGENT)
# Engagement: every activity with the customer (calls, visits, e-mails, notes, documents, tasks done) — calls of
# the contact center and logged e-mails are activities too —, but not a hand-over between reps.
NOT_ENGAGEMENT = (ActivityKind.HANDOVER,)


def churn_features(as_of: dt.date, until: dt.date | None = None, period_days: int = 90,
                   service: bool = True) -> pd.DataFrame:
    """Per account that had ordered before `as_of`: the features churn.customer_features makes from an
    event log (tenure, recency, order and spend counts and their trends over the last `period_days`
    against the period before), by one aggregate query over the orders; with `until`, `churned` says
    whether the account placed no order in [as_of, until). With `service` also SERVICE_FEATURES over the
    last `period_days` before `as_of` (midnight UTC, as every window here), one grouped query per source
    whatever the number of accounts: tickets opened and complaints among them (`COMPLAINT`), the mean
    satisfaction score (1–5) of the survey answers given — NaN without any, which the churn model fills
    with the median as every missing number —, and activities (`NOT_ENGAGEMENT` left out) with their
    change against the period before. Only what happened before `as_of` counts, so a model trained as of
    an earlier date never sees its own future."""
    period = dt.timedelta(days=period_days)
    recent, before = Q(ordered_on__gte=as_of - period), Q(ordered_on__lt=as_of - period,
                                                          ordered_on__gte=as_of - 2 * period)
    past = Q(ordered_on__lt=as_of)
    aggregates = {
        "first": Min("ordered_on", filter=past),
        "last": Max("ordered_on", filter=past),
        "orders_total": Count("id", filter=past),
        "orders_recent": Count("id", filter=past & recent),
        "orders_before": Count("id", filter=before),
        "spend_recent": Sum("gross_total", filter=past & recent),
        "spend_before": Sum("gross_total", filter=before),
    }
    counted = Order.objects.exclude(status=OrderStatus.CANCELLED)
    if until is not None:
        aggregates["future"] = Count("id", filter=Q(ordered_on__gte=as_of))
        counted = counted.filter(ordered_on__lt=until)
    else:
        counted = counted.filter(past)
    rows = list(counted.order_by().values("account_id").annotate(**aggregates).filter(orders_total__gt=0)
                .order_by("account_id").values_list("account_id", *aggregates))
    names = ["account", *aggregates]
    frame = pd.DataFrame.from_records(rows, columns=names).set_index("account")
    as_of_day = (as_of - EPOCH).days
    out = pd.DataFrame(index=frame.index)
    out["tenure_days"] = as_of_day - day_numbers(list(frame["first"]))
    out["recency_days"] = as_of_day - day_numbers(list(frame["last"]))
    out["orders_total"] = frame["orders_total"].astype(np.int64)
    out["orders_recent"] = frame["orders_recent"].astype(np.int64)
    out["orders_trend"] = out["orders_recent"] - frame["orders_before"].astype(np.int64)
    out["spend_recent"] = frame["spend_recent"].astype(np.float64).fillna(0)
    out["spend_trend"] = out["spend_recent"] - frame["spend_before"].astype(np.float64).fillna(0)
    if service:
        _service_features(out, as_of, period)
    if until is not None:
        out["churned"] = np.where(frame["future"].to_numpy() > 0, "no", "yes")
    return out


def _per_account(queryset: Any, key: str, index: pd.Index, **aggregates: Any) -> pd.DataFrame:
    """`aggregates` per account (`key`: the account id column) of `queryset` in one grouped query, as float
    columns over `index` (other accounts dropped; NaN for an account without a row)."""
    rows = list(queryset.order_by().values(key).annotate(**aggregates).values_list(key, *aggregates))
    frame = pd.DataFrame.from_records(rows, columns=["account", *aggregates]).set_index("account")
    return frame.astype(np.float64).reindex(index)


def _service_features(out: pd.DataFrame, as_of: dt.date, period: dt.timedelta) -> None:
    """SERVICE_FEATURES (see churn_features) added to `out`, by account."""
    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)

    start, end, earlier = midnight(as_of - period), midnight(as_of), midnight(as_of - 2 * period)
    tickets = _per_account(
        Ticket.objects.filter(account_id__isnull=False, created_at__gte=start, created_at__lt=end), "account_id",
        out.index, tickets=Count("id"), complaints=Count("id", filter=Q(priority__in=COMPLAINT)))
    out["tickets_recent"] = tickets["tickets"].fillna(0).astype(np.int64)
    out["complaints_recent"] = tickets["complaints"].fillna(0).astype(np.int64)
    answers = _per_account(
        SatisfactionResponse.objects.filter(ticket__account__isnull=False, at__gte=start, at__lt=end),
        "ticket__account", out.index, score=Avg("score"))
    out["satisfaction_recent"] = answers["score"]
    activities = _per_account(
        Activity.objects.filter(account_id__isnull=False, occurred_at__gte=earlier, occurred_at__lt=end)
        .exclude(kind__in=NOT_ENGAGEMENT), "account_id", out.index,
        recent=Count("id", filter=Q(occurred_at__gte=start)), before=Count("id", filter=Q(occurred_at__lt=start)))
    out["engagement_recent"] = activities["recent"].fillna(0).astype(np.int64)
    out["engagement_trend"] = out["engagement_recent"] - activities["before"].fillna(0).astype(np.int64)


def _line_pairs(key: str) -> tuple[np.ndarray, np.ndarray]:
    """(`key` — "order_id" or "account_id" — , product id) of the product lines of counted orders, each pair
    once: one join streamed from the cursor into a numpy array (no Python row list), the repeats dropped in
    pandas rather than by a DISTINCT over every line in the database."""
    line, order = OrderLine._meta.db_table, Order._meta.db_table
    column = {"order_id": 'l."order_id"', "account_id": 'o."account_id"'}[key]
    sql = (f'SELECT {column}, l."product_id" FROM "{line}" l JOIN "{order}" o ON o."id" = l."order_id" '
           f'WHERE l."product_id" IS NOT NULL AND o."status" <> %s')
    with connection.cursor() as cursor:
        cursor.execute(sql, [OrderStatus.CANCELLED])
        pairs = np.fromiter(cursor, dtype=[("key", np.int64), ("product", np.int64)])
    if not len(pairs):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    unique = pd.DataFrame({"key": pairs["key"], "product": pairs["product"]}).drop_duplicates()
    return unique["key"].to_numpy(), unique["product"].to_numpy()


def order_baskets() -> tuple[np.ndarray, np.ndarray]:
    """(order id, product id) of every product line of a counted order, for the affinity rules."""
    return _line_pairs("order_id")


def account_products() -> tuple[np.ndarray, np.ndarray]:
    """(account id, product id) of every product an account has ordered (counted orders), once each."""
    return _line_pairs("account_id")


# ------------------------------------------------------------------ the account card and cross-selling

SUGGESTIONS = 5


def suggestions_for(product_ids: Any, limit: int = SUGGESTIONS) -> list:
    """"Customers who bought this also bought": the stored affinity rules from `product_ids` (a list or a
    values() subquery) to other products, best confidence then lift first, each product once; one query."""
    from .score_models import AffinityRule

    rules = (AffinityRule.objects.filter(product__in=product_ids).exclude(suggested__in=product_ids)
             .select_related("suggested").order_by("-confidence", "-lift", "suggested_id")[: limit * 10])
    picked: dict[int, Any] = {}
    for rule in rules:
        if rule.suggested_id not in picked and len(picked) < limit:
            picked[rule.suggested_id] = rule
    return list(picked.values())


def account_insights(account: Any) -> dict[str, Any]:
    """The account page's analytics card: its score (or None) and cross-sell suggestions from the products
    it has ordered; two queries."""
    from .score_models import CustomerScore

    bought = OrderLine.objects.filter(order__account=account, product__isnull=False).exclude(
        order__status=OrderStatus.CANCELLED).values("product_id")
    return {"score": CustomerScore.objects.filter(account=account).first(), "suggestions": suggestions_for(bought)}

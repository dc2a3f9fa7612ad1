"""The receivables aging report: what is still owed on the instalments a user may see, per owner or account, in
five buckets of days overdue, summed in the base currency. Two queries: one grouped sum, and the rates."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, F, Q, Sum, When

from guanxi.core.models import User

from .payment_models import Instalment, PaymentPlan
from .payment_services import base_currency, missing_rate_error, rates_on
from .receivables import BUCKETS, ReceivablesError, bucket_bounds, convert, convert_all

GROUPS = {"owner": ("plan__owner_id", "plan__owner__username"),
          "account": ("plan__account_id", "plan__account__name")}


def open_instalments(user: User):
    """Instalments with something still owed, on plans the user may see."""
    return Instalment.objects.filter(plan__in=PaymentPlan.objects.visible_to(user).values("pk"),
                                     paid_amount__lt=F("amount"))


def _bucket_sums(today: dt.date) -> dict[str, Sum]:
    owed = F("amount") - F("paid_amount")
    out = {}
    for name, earliest, latest in bucket_bounds(today):
        cond = Q()
        if earliest is not None:
            cond &= Q(due_date__gte=earliest)
        if latest is not None:
            cond &= Q(due_date__lte=latest)
        out[name] = Sum(Case(When(cond, then=owed), default=Decimal(0),
                             output_field=DecimalField(max_digits=18, decimal_places=2)))
    return out


def aging(user: User, today: dt.date, group: str = "owner", account_id: int | None = None) -> dict[str, Any]:
    """{"base", "rows": [{"id", "name", "buckets": {bucket: amount}, "total"}], "totals": {...}, "total"}; amounts in
    the base currency at today's rates. A currency without a rate raises ValidationError naming it."""
    key, name = GROUPS[group]
    rows_qs = open_instalments(user)
    if account_id is not None:
        rows_qs = rows_qs.filter(plan__account_id=account_id)
    grouped = list(rows_qs.values(key, name, "plan__currency").annotate(**_bucket_sums(today)).order_by(name, key))
    per_currency: dict[str, Decimal] = defaultdict(Decimal)
    for row in grouped:
        for b in BUCKETS:
            per_currency[row["plan__currency"]] += row[b] or 0
    base, rates = base_currency(), rates_on(today)
    try:  # refuse the whole report when a rate is missing, naming the currency
        convert_all(per_currency, base, rates)
    except ReceivablesError as exc:
        raise missing_rate_error(exc.currency) from None
    rows: dict[Any, dict[str, Any]] = {}
    for row in grouped:
        out = rows.setdefault(row[key], {"id": row[key], "name": row[name] or "—",
                                         "buckets": dict.fromkeys(BUCKETS, Decimal("0.00")), "total": Decimal("0.00")})
        for b in BUCKETS:
            amount = convert(row[b] or Decimal(0), row["plan__currency"], base, rates)
            out["buckets"][b] += amount
            out["total"] += amount
    totals = {b: sum((r["buckets"][b] for r in rows.values()), Decimal("0.00")) for b in BUCKETS}
    return {"base": base, "group": group, "today": today, "rows": list(rows.values()), "totals": totals,
            "total": sum(totals.values(), Decimal("0.00"))}


def account_outstanding(user: User, account_id: int, today: dt.date) -> dict[str, Any]:
    """The account card: what is owed and what is overdue, per currency (one query)."""
    rows = (open_instalments(user).filter(plan__account_id=account_id).values("plan__currency")
            .annotate(owed=Sum(F("amount") - F("paid_amount")),
                      overdue=Sum(Case(When(due_date__lt=today, then=F("amount") - F("paid_amount")),
                                       default=Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2))))
            .order_by("plan__currency"))
    return {"rows": [{"currency": r["plan__currency"], "owed": r["owed"], "overdue": r["overdue"]} for r in rows]}

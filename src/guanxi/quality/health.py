"""Data health: completeness and validity per field, duplicates waiting, decay, bounced emails.

Every figure is counted on `visible_to(user)`, so each user sees the health of the records they may see, and
with the same rule as the list filter its link opens (guanxi.customers.filters), so the list's count is the
figure. One conditional-aggregate query per model plus one for duplicates, whatever the number of records.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.customers.filters import invalid_rules, missing_rules
from guanxi.customers.models import Account, Contact

from .models import RecordKind
from .services import visible_pairs

DECAY_MONTHS = (6, 12, 24)
MAX_MONTHS = 240
# Contact data goes stale at roughly 2–3 % a month (job changes, new numbers); the midpoint, as an estimate.
MONTHLY_DECAY_RATE = 0.025
MODELS = {RecordKind.CONTACT: Contact, RecordKind.ACCOUNT: Account}


@dataclass
class Figure:
    key: str
    count: int
    total: int
    params: dict[str, str] = field(default_factory=dict)  # the list filter that shows the records behind it

    @property
    def share(self) -> float | None:
        return round(self.count / self.total, 4) if self.total else None


@dataclass
class KindHealth:
    kind: str
    total: int
    completeness: list[Figure]  # count = records WITH a value; params list those without
    invalid: list[Figure]
    decay: list[Figure]
    duplicates_waiting: int


@dataclass
class Health:
    months: list[int]
    cutoffs: dict[int, dt.date]
    kinds: dict[str, KindHealth]
    expected_monthly_decay: float  # contacts expected to go stale this month: an estimate, not a count
    monthly_decay_rate: float = MONTHLY_DECAY_RATE
    bounced_emails: int = 0  # contacts with an email address mail bounced from (the email channel marks it)


def parse_months(value: Any) -> int | None:
    """`?months=`: a whole number of months 1–240, or None when not given; ValidationError naming `months`."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        months = int(text)
    except ValueError:
        raise ValidationError({"months": [_("Enter a whole number.")]})
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationError({"months": [_("Enter a number of months from 1 to %(max)s.") % {"max": MAX_MONTHS}]})
    return months


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (31 March − 1 month = 28/29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def data_health(user: User, months: int | None = None, today: dt.date | None = None) -> Health:
    """The figures for the records `user` may see; `months` adds a decay threshold to 6, 12 and 24."""
    today = today or timezone.localdate()
    thresholds = sorted(set(DECAY_MONTHS) | ({months} if months else set()))
    cutoffs = {n: months_before(today, n) for n in thresholds}
    pending = {row["kind"]: row["n"] for row in
               visible_pairs(user).values("kind").annotate(n=Count("pk")).order_by()}
    kinds: dict[str, KindHealth] = {}
    for kind, model in MODELS.items():
        missing = missing_rules(model)
        invalid = invalid_rules() if model is Contact else {}
        aggregates = {"total": Count("pk")}
        aggregates.update({f"missing_{k}": Count("pk", filter=rule) for k, rule in missing.items()})
        aggregates.update({f"invalid_{k}": Count("pk", filter=rule) for k, rule in invalid.items()})
        aggregates.update({f"stale_{n}": Count("pk", filter=Q(updated_at__date__lt=day)) for n, day in cutoffs.items()})
        row = model.objects.visible_to(user).aggregate(**aggregates)
        total = row["total"]
        kinds[kind] = KindHealth(
            kind=kind, total=total,
            completeness=[Figure(k, total - row[f"missing_{k}"], total, {"missing": k}) for k in missing],
            invalid=[Figure(k, row[f"invalid_{k}"], total, {"invalid": k}) for k in invalid],
            decay=[Figure(str(n), row[f"stale_{n}"], total, {"updated_before": day.isoformat()})
                   for n, day in cutoffs.items()],
            duplicates_waiting=pending.get(kind, 0),
        )
    contacts = kinds[RecordKind.CONTACT].total
    bounced = next(f.count for f in kinds[RecordKind.CONTACT].invalid if f.key == "bounced")
    return Health(months=thresholds, cutoffs=cutoffs, kinds=kinds,
                  expected_monthly_decay=round(contacts * MONTHLY_DECAY_RATE, 1), bounced_emails=bounced)

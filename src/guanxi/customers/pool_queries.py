"""The pool list: accounts without an owner, filtered and keyset-paged, in a fixed number of queries
(the UI page and the API share it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.paging import Page, paginate
from guanxi.core.search import matching

from .models import Account, Address, Classification, Industry

POOL_SORTS = ["-pool_entered_at", "pool_entered_at", "name", "-name"]
MAX_DAYS = 3650


@dataclass
class PoolFilters:
    classification: str = ""
    industry: str = ""
    province: str = ""
    min_days: int | None = None
    q: str = ""

    @classmethod
    def from_params(cls, params: Any) -> PoolFilters:
        """From a query dict (the UI); bad values are a ValidationError naming the field."""
        errors: dict[str, list[str]] = {}
        days_text = (params.get("min_days") or "").strip()
        min_days = None
        if days_text:
            if days_text.isdigit() and int(days_text) <= MAX_DAYS:
                min_days = int(days_text)
            else:
                errors["min_days"] = [_("Between 0 and %(max)d.") % {"max": MAX_DAYS}]
        filters = cls(
            classification=params.get("classification") or "",
            industry=params.get("industry") or "",
            province=(params.get("province") or "")[:50],
            min_days=min_days,
            q=(params.get("q") or "")[:200],
        )
        errors.update(filters.errors())
        if errors:
            raise ValidationError(errors)
        return filters

    def errors(self) -> dict[str, list[str]]:
        errors = {}
        for name, choices in (("classification", Classification), ("industry", Industry)):
            value = getattr(self, name)
            if value and value not in choices.values:
                errors[name] = [_("Not a choice: %(bad)s.") % {"bad": value}]
        return errors


def pool_queryset(user: User, filters: PoolFilters, now: dt.datetime | None = None) -> QuerySet[Account]:
    qs = Account.objects.visible_to(user).filter(owner__isnull=True, pool_entered_at__isnull=False)
    if filters.classification:
        qs = qs.filter(classification=filters.classification)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.province:
        qs = qs.filter(Exists(Address.objects.filter(account=OuterRef("pk"), province__startswith=filters.province)))
    if filters.min_days:
        qs = qs.filter(pool_entered_at__lte=(now or timezone.now()) - dt.timedelta(days=filters.min_days))
    if filters.q:
        qs = matching(qs, filters.q)
    return qs


def pool_page(
    user: User, filters: PoolFilters, *, sort: str = "-pool_entered_at", cursor: str | None = None, limit: int = 50
) -> Page:
    """One page of the pool; each row carries its first address's province and its last owner."""
    province = Address.objects.filter(account=OuterRef("pk")).exclude(province="").order_by("id").values("province")
    qs = pool_queryset(user, filters).select_related("released_by").annotate(province=Subquery(province[:1]))
    return paginate(qs, sort=sort, allowed=POOL_SORTS, cursor=cursor, limit=limit)


def days_in_pool(account: Account, now: dt.datetime | None = None) -> int:
    return max(0, ((now or timezone.now()) - account.pool_entered_at).days) if account.pool_entered_at else 0

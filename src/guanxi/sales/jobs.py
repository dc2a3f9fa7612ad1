"""Sales deadlines on the minute sweep: sent quotes past their validity expire, contracts remind their owner
before renewal and expire after their end, overdue instalments are reported to their owner once."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from guanxi.core import sweep

from .quote_services import expire_quotes


@sweep.register("sales.expire_quotes")
def expire(now: datetime) -> int:
    return expire_quotes(timezone.localdate(now))


@sweep.register("sales.contract_renewals")
def contract_renewals(now: datetime) -> int:
    from .contract_services import expire_contracts, remind_renewals

    return remind_renewals(now) + expire_contracts(timezone.localdate(now))


@sweep.register("sales.overdue_instalments")
def overdue_instalments(now: datetime) -> int:
    from .payment_services import notify_overdue

    return notify_overdue(now)

"""Sales deadlines on the minute sweep: sent quotes past their validity expire."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from guanxi.core import sweep

from .quote_services import expire_quotes


@sweep.register("sales.expire_quotes")
def expire(now: datetime) -> int:
    return expire_quotes(timezone.localdate(now))

"""Knowledge deadlines on the minute sweep: portal searches left idle count as ended without a ticket."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from guanxi.core import sweep

from .services import end_idle_searches


@sweep.register("knowledge.idle_searches")
def idle_searches(now: dt.datetime) -> int:
    return end_idle_searches(now, dt.timedelta(minutes=settings.PORTAL_SEARCH_IDLE_MINUTES))

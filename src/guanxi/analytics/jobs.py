"""The analytics handlers on the once-a-minute sweep: the nightly scoring at ANALYTICS_SCORE_HOUR."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from guanxi.core import sweep
from guanxi.core.models import JobProgress

from .score_jobs import KIND, start_scoring


@sweep.register("analytics.nightly_scoring")
def nightly_scoring(now: datetime) -> int:
    """At the configured local hour, start scoring unless a scoring job was already started today."""
    hour = getattr(settings, "ANALYTICS_SCORE_HOUR", -1)
    local = timezone.localtime(now)
    if hour < 0 or local.hour != hour:
        return 0
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if JobProgress.objects.filter(kind=KIND, created_at__gte=midnight).exists():
        return 0
    start_scoring(None, local.date())
    return 1

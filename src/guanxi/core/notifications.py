"""In-app notifications: `notify` is what other apps call (reminders, pool warnings, SLA escalations)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Notification, User


def notify(user: User, text: str, link: str = "", key: str = "") -> Notification | None:
    """Send `text` to `user`. With a `key`, a second call with the same key sends nothing and returns None,
    so sweep handlers that run twice notify once."""
    if not link.startswith("/") or link.startswith("//"):
        link = ""  # only links inside Guanxi: never a javascript: or off-site address
    if key and Notification.objects.filter(user=user, key=key).exists():
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(user=user, text=text[:500], link=link[:500], key=key[:200])
    except IntegrityError:  # a concurrent sender with the same key won
        return None


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None); returns how many."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())

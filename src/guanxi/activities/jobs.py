"""Task reminders, acted on by core's once-a-minute sweep: an in-app notification and an email each."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core import sweep
from guanxi.core.notifications import notify

from .models import Task, TaskStatus

logger = logging.getLogger(__name__)
BATCH = 500  # per minute; the rest are picked up by the next sweep


def _zone(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _text(task: Task) -> tuple[str, str]:
    when = timezone.localtime(task.at).strftime("%Y-%m-%d %H:%M") if task.at else ""
    subject = _("Reminder: %(title)s") % {"title": task.title}
    lines = [task.title, when, task.location, task.description]
    return subject, "\n".join(line for line in lines if line)


@sweep.register("activities.reminders")
def send_reminders(now: dt.datetime) -> int:
    """Remind the assignee of every open task whose remind_at has come and who was not reminded yet.
    Each task is claimed by setting reminded_at first, so two runs remind once; the notification's key
    carries the reminder time, so a task rescheduled with a new reminder reminds again."""
    due = list(
        Task.objects.filter(status=TaskStatus.OPEN, reminded_at__isnull=True, remind_at__lte=now)
        .select_related("owner")
        .order_by("remind_at", "pk")[:BATCH]
    )
    sent = 0
    for task in due:
        if not Task.objects.filter(pk=task.pk, reminded_at__isnull=True).update(reminded_at=now):
            continue  # another worker claimed it
        user = task.owner
        if user is None or not user.is_active:
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE), timezone.override(_zone(user)):
            subject, body = _text(task)
        date = timezone.localdate(task.at).isoformat() if task.at else ""
        notify(user, subject, f"/agenda/?date={date}", key=f"task-reminder:{task.pk}:{task.remind_at.isoformat()}")
        if user.email:
            try:
                send_mail(subject, body, None, [user.email])
            except Exception:  # the SMTP server is down: the in-app reminder stands, the mail is not retried
                logger.exception("reminder email for task %s failed", task.pk)
        sent += 1
    return sent

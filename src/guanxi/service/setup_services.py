"""The service desk's set-up, edited by administrators in the app's own pages (Settings ▾): queues, question
groups (a tree), SLA policies and business calendars. One function saves any of them: the administrator check,
Django's field validation, the rules across fields and records below, the save and the audit entry, in one
transaction. Bad input raises ValidationError keyed by field and changes nothing."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from guanxi.core import access
from guanxi.core.models import AuditAction, User
from guanxi.core.records import diff, snapshot, write_audit

from .business_time import Calendar
from .models import BusinessCalendar, QuestionGroup, Queue, SlaPolicy

AUDITED: dict[type[models.Model], list[str]] = {
    Queue: ["name", "strategy", "is_senior", "senior_queue_id", "senior_for", "senior_from_value", "required_skills",
            "reroute_after_minutes", "reassign_on_breach", "supervisor_id", "calendar_id"],
    QuestionGroup: ["name", "parent_id", "queue_id", "skills", "active", "public"],
    SlaPolicy: ["name", "priority", "classification", "first_response_minutes", "resolution_minutes", "calendar_id"],
    BusinessCalendar: ["name", "timezone", "hours", "makeup_hours", "holidays", "workdays", "is_default"],
}


def require_admin(actor: User) -> None:
    access.require_admin(actor, _("Only administrators may change the service desk's settings."))


def _queue_rules(queue: Queue) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if queue.senior_queue_id is not None:
        if queue.pk is not None and queue.senior_queue_id == queue.pk:
            errors["senior_queue"] = [_("A queue cannot be its own senior queue.")]
        elif not queue.senior_queue.is_senior:
            errors["senior_queue"] = [_("Choose a queue marked as a senior queue.")]
    if queue.senior_for and not queue.senior_queue_id:
        errors["senior_for"] = [_("Choose the senior queue these customers go to.")]
    if queue.senior_from_value is not None and not queue.senior_queue_id:
        errors["senior_from_value"] = [_("Choose the senior queue these customers go to.")]
    if queue.pk is not None and not queue.is_senior and Queue.objects.filter(senior_queue_id=queue.pk).exists():
        errors["is_senior"] = [_("Other queues send their senior customers here; change them first.")]
    return errors


def _group_rules(group: QuestionGroup) -> dict[str, list[str]]:
    parent, seen = group.parent, set()
    while parent is not None and parent.pk not in seen:
        if group.pk is not None and parent.pk == group.pk:
            return {"parent": [_("A group cannot be placed under itself or one of its subgroups.")]}
        seen.add(parent.pk)
        parent = parent.parent
    return {}


def _calendar_rules(calendar: BusinessCalendar) -> dict[str, list[str]]:
    try:
        zoneinfo.ZoneInfo(calendar.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return {"timezone": [_("Unknown time zone (use a name such as Asia/Shanghai).")]}
    both = set(calendar.holidays or {}) & set(calendar.workdays or {})
    if both:
        return {"workdays": [_("A day cannot be both a holiday and a make-up working day: %(days)s")
                             % {"days": ", ".join(sorted(both))}]}
    data = {"timezone": calendar.timezone, "hours": calendar.hours or {}, "holidays": calendar.holidays or {},
            "workdays": calendar.workdays or {}}
    if calendar.makeup_hours is not None:
        data["makeup_hours"] = calendar.makeup_hours
    try:
        Calendar.from_dict(data)
    except (TypeError, ValueError) as exc:
        return {"hours": [_("These hours cannot be read: %(error)s") % {"error": exc}]}
    return {}


RULES = {Queue: _queue_rules, QuestionGroup: _group_rules, BusinessCalendar: _calendar_rules}


@transaction.atomic
def save_setting(actor: User, obj: models.Model) -> models.Model:
    """Create or update a queue, question group, SLA policy or business calendar from a filled-in instance."""
    require_admin(actor)
    model = type(obj)
    fields = AUDITED[model]
    before = snapshot(model.objects.get(pk=obj.pk), fields) if obj.pk else {}
    obj.full_clean()
    errors = RULES.get(model, lambda o: {})(obj)
    if errors:
        raise ValidationError(errors)
    if isinstance(obj, BusinessCalendar) and obj.is_default:
        BusinessCalendar.objects.exclude(pk=obj.pk).filter(is_default=True).update(is_default=False)
    creating = obj.pk is None
    obj.save()
    changes = diff(before, snapshot(obj, fields))
    if creating or changes:
        write_audit(obj, actor, AuditAction.CREATE if creating else AuditAction.UPDATE, changes)
    return obj


def parse_dated_lines(text: str, field: str) -> dict[str, str]:
    """Lines "2026-10-01 National Day" → {"2026-10-01": "National Day"}; a bad date is an error under `field`."""
    out: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        day, _sep, name = line.partition(" ")
        try:
            out[dt.date.fromisoformat(day).isoformat()] = name.strip()[:100]
        except ValueError:
            raise ValidationError({field: [_("Line %(n)s: “%(day)s” is not a date (YYYY-MM-DD).")
                                           % {"n": number, "day": day[:20]}]}) from None
    return out

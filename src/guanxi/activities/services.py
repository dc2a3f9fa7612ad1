"""Follow-up use cases: notes, activities logged on customers, tasks and appointments, the calendar feed's
token, and the hand-over of accounts from one rep to another. One function per user action, each in one
transaction and audited; bad input raises ValidationError keyed by field and changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.access import require_editor
from guanxi.core.models import AuditAction, AuditEntry, User
from guanxi.core.notifications import notify
from guanxi.core.records import check_version, clean_fields, diff, fail, int_or_none, snapshot, write_audit
from guanxi.core.services import visible_users
from guanxi.customers.models import Account, Contact
from guanxi.customers.pool_services import record_follow_up
from guanxi.sales.models import Lead, LeadStatus, Opportunity, StageKind

from .models import Activity, ActivityKind, CalendarFeed, Note, Task, TaskKind, TaskStatus

DOCUMENT_MAX_BYTES = getattr(settings, "ACTIVITY_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
ACTIVITY_FIELDS = ["kind", "subject", "body", "direction", "document_name", "document_to"]
ACTIVITY_AUDITED = ACTIVITY_FIELDS + [
    "occurred_at",
    "duration_seconds",
    "account_id",
    "contact_id",
    "opportunity_id",
    "lead_id",
    "document_size",
]
TASK_FIELDS = ["kind", "title", "description", "priority", "location", "all_day"]
TASK_TIMES = ["due_at", "start_at", "end_at", "remind_at"]
TASK_AUDITED = (
    TASK_FIELDS
    + TASK_TIMES
    + ["status", "owner_id", "account_id", "contact_id", "opportunity_id", "lead_id", "completed_at"]
)


# ------------------------------------------------------------------ notes (the first issue)


@transaction.atomic
def add_note(actor: User, subject: Account | Contact, body: str) -> Note:
    require_editor(actor)
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise ValidationError({"body": [_("Write the note first.")]})
    if len(body) > 20000:
        raise ValidationError({"body": [_("At most 20,000 characters.")]})
    link = {"account": subject} if isinstance(subject, Account) else {"contact": subject}
    note = Note.objects.create(author=actor, body=body, **link)
    # A note is a follow-up: it pushes back the account's return to the public pool.
    account_ids = [subject.pk] if isinstance(subject, Account) else list(subject.accounts.values_list("pk", flat=True))
    follow_up_recorded(account_ids, note.created_at)
    return note


# ------------------------------------------------------------------ shared cleaning


def follow_up_recorded(account_ids: Iterable[int], when: dt.datetime) -> None:
    """The accounts were followed up at `when`: every activity logged on an account (log_activity, add_note)
    pushes back its return to the public pool (公海)."""
    record_follow_up(list(account_ids), when)


def _when(value: Any, field: str, errors: dict, *, required: bool = False) -> dt.datetime | None:
    """An aware datetime from a datetime or ISO text; naive times are in the user's (current) zone."""
    if value in (None, ""):
        if required:
            errors[field] = [_("This field is required.")]
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            errors[field] = [_("Enter a date and time in ISO 8601.")]
            return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        errors[field] = [_("Enter a date and time in ISO 8601.")]
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    if not 1900 <= value.year <= 9000:
        errors[field] = [_("Enter a date and time in ISO 8601.")]
        return None
    return value


LINKS = (("account_id", Account), ("contact_id", Contact), ("opportunity_id", Opportunity), ("lead_id", Lead))
LINK_FIELDS = {field for field, _model in LINKS}


def _links(actor: User, data: dict, errors: dict, current: Any = None) -> dict[str, Any]:
    """The account, contact, opportunity and lead given (ids the actor may see); an opportunity brings its
    account. A converted lead takes nothing new: its follow-up goes on what it became."""
    out: dict[str, Any] = {}
    for field, model in LINKS:
        if field not in data:
            continue
        if data[field] in (None, ""):
            out[field[:-3]] = None
            continue
        pk = int_or_none(data[field])
        obj = model.objects.visible_to(actor).filter(pk=pk).first() if pk else None
        if obj is None:
            errors[field] = [_("Choose a record you can see.")]
        elif model is Lead and obj.status == LeadStatus.CONVERTED and getattr(current, "lead_id", None) != obj.pk:
            errors[field] = [_("This lead was converted: log it on the account, contact or opportunity instead.")]
        out[field[:-3]] = obj
    opp = out.get("opportunity")
    if opp is not None and out.get("account") is None and not (current and current.account_id):
        out["account"] = opp.account
    return out


def _apply(obj: Any, cleaned: dict) -> None:
    for key, value in cleaned.items():
        setattr(obj, key, value)


# ------------------------------------------------------------------ activities


def _clean_document(upload: UploadedFile | None, errors: dict) -> None:
    if upload is not None and upload.size is not None and upload.size > DOCUMENT_MAX_BYTES:
        errors["document_file"] = [
            _("The file is too large: at most %(size)s MB.") % {"size": DOCUMENT_MAX_BYTES // (1024 * 1024)}
        ]


@transaction.atomic
def log_activity(actor: User, data: dict[str, Any], upload: UploadedFile | None = None) -> Activity:
    """Record a call, visit, email, document sent … on an account, contact, opportunity and/or lead."""
    require_editor(actor)
    cleaned, errors = clean_fields(Activity, data, ACTIVITY_FIELDS, partial=False)
    if not data.get("kind"):
        errors["kind"] = [_("This field is required.")]
    links = _links(actor, data, errors)
    if not any(links.values()) and not errors.keys() & LINK_FIELDS:
        errors["account_id"] = [_("Say which account, contact, opportunity or lead this was with.")]
    occurred = _when(data.get("occurred_at"), "occurred_at", errors) or timezone.now()
    duration = data.get("duration_seconds")
    if duration not in (None, ""):
        duration = int_or_none(duration) if duration not in (0, "0") else 0
        if duration is None or duration > 7 * 24 * 3600:
            errors["duration_seconds"] = [_("A duration is a whole number of seconds, at most a week.")]
    else:
        duration = None
    kind = cleaned.get("kind")
    if kind == ActivityKind.HANDOVER:
        errors["kind"] = [_("Hand-overs are written by the hand-over itself.")]
    if kind != ActivityKind.CALL:
        cleaned["direction"] = ""
    if kind == ActivityKind.DOCUMENT and not cleaned.get("document_name") and upload is None:
        errors["document_name"] = [_("Say which document was sent.")]
    if not cleaned.get("subject") and not cleaned.get("body") and kind not in (ActivityKind.DOCUMENT,):
        errors["subject"] = [_("Write a subject or what came of it.")]
    _clean_document(upload, errors)
    fail(errors)
    activity = Activity(author=actor, occurred_at=occurred, duration_seconds=duration)
    _apply(activity, {**cleaned, **links})
    if upload is not None:
        activity.document_name = activity.document_name or upload.name[:200]
        activity.document_size = upload.size
        activity.document_file.save(upload.name, upload, save=False)
    activity.save()
    after = snapshot(activity, ACTIVITY_AUDITED)
    write_audit(activity, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    if activity.account_id:
        follow_up_recorded([activity.account_id], occurred)
    return activity


# ------------------------------------------------------------------ tasks and appointments


def _clean_task(actor: User, data: dict, task: Task | None) -> dict[str, Any]:
    partial = task is not None
    cleaned, errors = clean_fields(Task, data, TASK_FIELDS, partial=partial)
    for name in TASK_TIMES:
        if name in data:
            cleaned[name] = _when(data[name], name, errors)
    cleaned.update(_links(actor, data, errors, task))
    if "owner_id" in data and data["owner_id"] not in (None, ""):
        pk = int_or_none(data["owner_id"])
        owner = visible_users(actor).filter(pk=pk).first() if pk else None
        if owner is None:
            errors["owner_id"] = [_("Choose a colleague you can see.")]
        cleaned["owner"] = owner
    elif task is None:
        cleaned["owner"] = actor
    kind = cleaned.get("kind", task.kind if task else TaskKind.TASK)
    start = cleaned.get("start_at", task.start_at if task else None)
    end = cleaned.get("end_at", task.end_at if task else None)
    due = cleaned.get("due_at", task.due_at if task else None)
    if kind == TaskKind.APPOINTMENT and start is None and "start_at" not in errors:
        errors["start_at"] = [_("An appointment needs a start.")]
    if kind == TaskKind.TASK and due is None and start is not None and "due_at" not in data:
        cleaned["due_at"] = start  # a task given only a start is due then
    if start and end and end < start and "end_at" not in errors:
        errors["end_at"] = [_("The end is before the start.")]
    fail(errors)
    return cleaned


def _set_task(task: Task, cleaned: dict) -> None:
    for key, value in cleaned.items():
        if key == "owner":
            task.set_owner(value)
        else:
            setattr(task, key, value)
    if "remind_at" in cleaned:
        task.reminded_at = None  # a new reminder time reminds again


def _editable_task(actor: User, task: Task) -> Task:
    require_editor(actor)
    current = Task.objects.editable_by(actor).select_for_update().filter(pk=task.pk).first()
    if current is None:
        raise PermissionDenied(_("You may not change this task."))
    return current


def _save_task(actor: User, task: Task, before: dict, action: str = AuditAction.UPDATE) -> Task:
    task.version += 1
    task.save()
    changes = diff(before, snapshot(task, TASK_AUDITED))
    if changes:
        write_audit(task, actor, action, changes)
    return task


@transaction.atomic
def create_task(actor: User, data: dict[str, Any]) -> Task:
    """A task (due at) or an appointment (start to end) for the actor or a colleague they can see."""
    require_editor(actor)
    cleaned = _clean_task(actor, data, None)
    task = Task(created_by=actor)
    _set_task(task, cleaned)
    task.save()
    after = snapshot(task, TASK_AUDITED)
    write_audit(task, actor, AuditAction.CREATE, {k: [None, v] for k, v in after.items() if v not in ("", None)})
    if task.owner_id and task.owner_id != actor.pk:
        notify(
            task.owner,
            _("%(who)s gave you a task: %(title)s") % {"who": actor, "title": task.title},
            f"/agenda/?date={timezone.localdate(task.at).isoformat() if task.at else ''}",
            key=f"task-assigned:{task.pk}:{task.owner_id}",
        )
    return task


@transaction.atomic
def update_task(actor: User, task: Task, data: dict[str, Any], version: Any) -> Task:
    """Change the fields given; `version` must be the one the editor read."""
    current = _editable_task(actor, task)
    check_version(current, version, data)
    cleaned = _clean_task(actor, data, current)
    before = snapshot(current, TASK_AUDITED)
    _set_task(current, cleaned)
    return _save_task(actor, current, before)


def _close(actor: User, task: Task, status: str, version: Any) -> Task:
    current = _editable_task(actor, task)
    if version is not None:
        check_version(current, version)
    if current.status == status:
        return current  # completing twice (two clicks, a retried request) changes nothing
    before = snapshot(current, TASK_AUDITED)
    current.status = status
    current.completed_at = timezone.now() if status == TaskStatus.DONE else None
    return _save_task(actor, current, before)


@transaction.atomic
def complete_task(actor: User, task: Task, version: Any = None) -> Task:
    return _close(actor, task, TaskStatus.DONE, version)


@transaction.atomic
def cancel_task(actor: User, task: Task, version: Any = None) -> Task:
    return _close(actor, task, TaskStatus.CANCELLED, version)


@transaction.atomic
def reopen_task(actor: User, task: Task, version: Any = None) -> Task:
    return _close(actor, task, TaskStatus.OPEN, version)


@transaction.atomic
def reschedule_task(actor: User, task: Task, when: Any, version: Any = None) -> Task:
    """Move a task's due time (or an appointment's start, keeping its length); a reminder moves with it."""
    current = _editable_task(actor, task)
    if version is not None:
        check_version(current, version)
    errors: dict[str, list[str]] = {}
    new = _when(when, "at", errors, required=True)
    fail(errors)
    before = snapshot(current, TASK_AUDITED)
    old = current.at
    if current.kind == TaskKind.APPOINTMENT:
        length = (current.end_at - current.start_at) if current.end_at and current.start_at else None
        current.start_at = new
        current.end_at = new + length if length is not None else None
    else:
        current.due_at = new
    if current.remind_at and old:
        current.remind_at = current.remind_at + (new - old)
        current.reminded_at = None
    return _save_task(actor, current, before)


# ------------------------------------------------------------------ leads' follow-up (called by the lead services)


def carry_lead_follow_up(
    actor: User, lead: Lead, account: Account, contact: Contact | None, opportunity: Opportunity | None
) -> tuple[int, int]:
    """On conversion, the lead's activities and tasks (open or closed: they are its history) also go on the
    account, contact and opportunity it became, where they name none, so those timelines show what happened
    before; the lead keeps them. Run inside the conversion's transaction; audited. Returns (activities, tasks)."""
    now = timezone.now()
    moved = []
    for model in (Activity, Task):
        rows = list(model.objects.select_for_update().filter(lead=lead).order_by("pk"))
        audits = []
        for row in rows:
            changes = {}
            for name, target in (("account", account), ("contact", contact), ("opportunity", opportunity)):
                if target is not None and getattr(row, f"{name}_id") is None:
                    changes[f"{name}_id"] = [None, target.pk]
            if changes:
                version = getattr(row, "version", 0) + (1 if model is Task else 0)
                audits.append((row, changes, version))
        for name, target in (("account", account), ("contact", contact), ("opportunity", opportunity)):
            if target is not None:
                model.objects.filter(lead=lead, **{f"{name}__isnull": True}).update(**{name: target})
        if model is Task and audits:  # a changed task is a new version: an editor holding the old one gets a 409
            Task.objects.filter(pk__in=[r.pk for r, _c, _v in audits]).update(version=F("version") + 1, updated_at=now)
        ct = ContentType.objects.get_for_model(model)
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    content_type=ct,
                    object_id=row.pk,
                    object_repr=str(row)[:200],
                    actor=actor,
                    action=AuditAction.UPDATE,
                    changes=changes,
                    version=version,
                )
                for row, changes, version in audits
            ]
        )
        moved.append(len(audits))
    latest = Activity.objects.filter(lead=lead).aggregate(at=Max("occurred_at"))["at"]
    if latest is not None:
        follow_up_recorded([account.pk], latest)  # the account was followed up, as a lead, then
    return moved[0], moved[1]


def detach_leads(leads: Iterable[Lead] | Any) -> None:
    """Before leads (a list, or a queryset) are deleted: their activities and tasks that are also on an account,
    contact or opportunity (a converted lead's history) stay there; the ones on a lead alone go with it."""
    elsewhere = Q(account__isnull=False) | Q(contact__isnull=False) | Q(opportunity__isnull=False)
    for model in (Activity, Task):
        model.objects.filter(elsewhere, lead__in=leads).update(lead=None)


# ------------------------------------------------------------------ calendar feed


def _feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def new_calendar_token(user: User) -> str:
    """A new secret feed address for the user (any previous one stops working); shown once."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.filter(user=user).delete()
    CalendarFeed.objects.create(user=user, prefix=token[:8], digest=_feed_digest(token))
    return token


def revoke_calendar_token(user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def user_for_calendar_token(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.filter(digest=_feed_digest(token), user__is_active=True).select_related("user").first()
    if feed is None:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed.user


# ------------------------------------------------------------------ hand-over


@dataclass
class HandOver:
    accounts: int
    tasks: int
    opportunities: int


def _may_hand_over(actor: User, owner_ids: set[int | None], to_user: User) -> None:
    """Administrators: anyone's. Managers: their team subtree's. Everyone else: only their own."""
    if actor.is_administrator:
        return
    team_ids = set(actor.visible_team_ids()) if actor.role in ("sales_manager", "service_manager") else set()
    owners = {u.pk: u.team_id for u in User.objects.filter(pk__in=[o for o in owner_ids if o])}
    for owner_id in owner_ids:
        if owner_id != actor.pk and owners.get(owner_id) not in team_ids:
            raise PermissionDenied(_("You may hand over only your own accounts or your team's."))
    if to_user.pk != actor.pk and team_ids and to_user.team_id not in team_ids:
        raise PermissionDenied(_("Hand over to someone in your team."))


@transaction.atomic
def hand_over(
    actor: User, to_user: Any, *, from_user: Any = None, accounts: Iterable[Any] | None = None, note: str = ""
) -> HandOver:
    """Move accounts (the ones given, or all of `from_user`'s) to `to_user` with the open tasks and open
    opportunities the previous owner had on them, and write a hand-over note on each account's timeline —
    all or nothing, audited. Bypasses owner-change approvals: it is a manager's or administrator's act."""
    require_editor(actor)
    errors: dict[str, list[str]] = {}
    target = _user(to_user)
    if target is None or not target.is_active:
        errors["to_user_id"] = [_("Choose an active colleague to hand over to.")]
    source = _user(from_user) if from_user not in (None, "") else None
    if from_user not in (None, "") and source is None:
        errors["from_user_id"] = [_("No such user.")]
    if source is None and not accounts:
        errors["account_ids"] = [_("Choose the accounts to hand over, or the colleague whose accounts they are.")]
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > 2000:
        errors["note"] = [_("At most 2,000 characters.")]
    fail(errors)
    rows = Account.objects.select_for_update()
    if source is not None:
        rows = rows.filter(owner=source)
    if accounts:
        ids = [int_or_none(getattr(a, "pk", a)) for a in accounts]
        if None in ids:
            raise ValidationError({"account_ids": [_("Not a valid id.")]})
        visible = set(Account.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
        if visible != set(ids):
            raise ValidationError({"account_ids": [_("Choose accounts you can see.")]})
        rows = rows.filter(pk__in=ids)
    found = list(rows.order_by("pk"))
    _may_hand_over(actor, {a.owner_id for a in found}, target)
    moving = [a for a in found if a.owner_id != target.pk]
    if not moving:
        return HandOver(0, 0, 0)
    now = timezone.now()
    previous = {a.pk: a.owner_id for a in moving}
    ids = list(previous)
    text = _("Handed over to %(to)s") % {"to": target}
    tasks = list(Task.objects.select_for_update().filter(account_id__in=ids, status=TaskStatus.OPEN))
    tasks = [t for t in tasks if t.owner_id == previous[t.account_id] and t.owner_id != target.pk]
    opps = list(Opportunity.objects.select_for_update().filter(account_id__in=ids, status=StageKind.OPEN))
    opps = [o for o in opps if o.owner_id == previous[o.account_id] and o.owner_id != target.pk]
    for group in (moving, tasks, opps):
        model = type(group[0]) if group else None
        if model is None:
            continue
        model.objects.filter(pk__in=[r.pk for r in group]).update(
            owner=target, team_id=target.team_id, version=F("version") + 1, updated_at=now
        )
        for row in group:
            old = row.owner_id
            row.set_owner(target)
            row.version += 1
            changes = {"owner_id": [old, target.pk], **({"hand_over_note": [None, note]} if note else {})}
            write_audit(row, actor, AuditAction.ASSIGN, changes)
    Activity.objects.bulk_create(
        [
            Activity(
                kind=ActivityKind.HANDOVER,
                subject=text[:200],
                body=note,
                account_id=a.pk,
                author=actor,
                occurred_at=now,
            )
            for a in moving
        ],
        batch_size=500,
    )
    notify(
        target,
        _("%(count)s accounts were handed over to you.") % {"count": len(moving)},
        "/accounts/?owner=me",
        key=f"handover:{target.pk}:{now.isoformat()}",
    )
    return HandOver(accounts=len(moving), tasks=len(tasks), opportunities=len(opps))


def _user(value: Any) -> User | None:
    if isinstance(value, User):
        return value
    pk = int_or_none(value)
    return User.objects.filter(pk=pk).first() if pk else None


__all__ = [
    "HandOver",
    "add_note",
    "cancel_task",
    "carry_lead_follow_up",
    "complete_task",
    "create_task",
    "detach_leads",
    "follow_up_recorded",
    "hand_over",
    "log_activity",
    "new_calendar_token",
    "reopen_task",
    "reschedule_task",
    "revoke_calendar_token",
    "update_task",
    "user_for_calendar_token",
]

"""Mailbox administration (administrators only): create and edit, sync now, reconcile, health figures.

Passwords are write-only: given, they are encrypted onto the row; blank or absent, the stored one is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, User
from guanxi.core.records import clean_fields, creation_changes, diff, fail, int_or_none, snapshot, write_audit
from guanxi.quality.normalize import NormalizationError, normalize_email
from guanxi.service.models import QuestionGroup, Queue

from .email_imap import SyncResult, sync
from .email_kb_models import EmailAutoResponse
from .email_models import InboundEmail, InboundStatus, Mailbox, OutboundEmail

FIELDS = ["name", "address", "active", "imap_host", "imap_port", "imap_security", "imap_user", "imap_folder",
          "smtp_host", "smtp_port", "smtp_security", "smtp_user", "auto_acknowledge", "mode", "use_idle"]
AUDITED = FIELDS + ["question_group_id", "queue_id"]
SECRETS = ("imap_password", "smtp_password")
MAX_RECONCILE_DAYS = 90
AUTO_FIELDS = ["enabled", "min_score", "max_articles", "template"]


def require_admin(user: User) -> None:
    if not getattr(user, "is_administrator", False):
        raise PermissionDenied(_("Only an administrator may manage mailboxes."))


def _clean(data: dict[str, Any], mailbox: Mailbox | None) -> dict[str, Any]:
    partial = mailbox is not None
    data = dict(data)
    unusable = False
    if isinstance(data.get("address"), str):
        try:
            data["address"] = normalize_email(data["address"]) if "@" in data["address"] else data["address"].strip()
        except NormalizationError:  # "@x", "a@": a 400 under `address`, never a 500
            data["address"], unusable = data["address"].strip(), True
    cleaned, errors = clean_fields(Mailbox, data, FIELDS, partial=partial)
    address = cleaned.get("address")
    if unusable or (address and "@" not in address):
        errors["address"] = [_("Enter an email address.")]
    elif address and Mailbox.objects.filter(address=address).exclude(pk=getattr(mailbox, "pk", None)).exists():
        errors["address"] = [_("Another mailbox has this address.")]
    for port in ("imap_port", "smtp_port"):
        if port in cleaned and not 0 < (cleaned[port] or 0) < 65536:
            errors[port] = [_("Enter a port from 1 to 65535.")]
    for key, model in (("question_group_id", QuestionGroup), ("queue_id", Queue)):
        if data.get(key) not in (None, ""):
            obj = model.objects.filter(pk=int_or_none(data[key])).first()
            if obj is None:
                errors[key] = [_("No such one.")]
            cleaned[key[:-3]] = obj
        elif key in data:
            cleaned[key[:-3]] = None
    for secret in SECRETS:
        value = data.get(secret)
        if value not in (None, "") and not isinstance(value, str):
            errors[secret] = [_("Enter text.")]
        elif isinstance(value, str) and len(value) > 500:
            errors[secret] = [_("At most %(max)s characters.") % {"max": 500}]
    fail(errors)
    return cleaned


def _set_secrets(mailbox: Mailbox, data: dict[str, Any]) -> list[str]:
    changed = []
    for secret in SECRETS:
        if isinstance(data.get(secret), str) and data[secret]:
            setattr(mailbox, secret, data[secret])
            changed.append(secret)
    return changed


@transaction.atomic
def create_mailbox(actor: User, data: dict[str, Any]) -> Mailbox:
    require_admin(actor)
    mailbox = Mailbox(**_clean(data, None))
    _set_secrets(mailbox, data)
    mailbox.save()
    write_audit(mailbox, actor, AuditAction.CREATE,
                creation_changes(mailbox, AUDITED))
    return mailbox


@transaction.atomic
def update_mailbox(actor: User, mailbox: Mailbox, data: dict[str, Any]) -> Mailbox:
    require_admin(actor)
    current = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    cleaned = _clean(data, current)
    before = snapshot(current, AUDITED)
    for key, value in cleaned.items():
        setattr(current, key, value)
    secrets = _set_secrets(current, data)
    if "imap_host" in cleaned or "imap_folder" in cleaned or "imap_user" in cleaned:
        if (before["imap_host"], before["imap_folder"], before["imap_user"]) != (
                current.imap_host, current.imap_folder, current.imap_user):
            current.uidvalidity, current.last_uid = None, 0  # another folder: read it from the start
    current.save()
    changes = diff(before, snapshot(current, AUDITED))
    changes.update({s: ["•••", "•••"] for s in secrets})  # that it changed, never the value
    if changes:
        write_audit(current, actor, AuditAction.UPDATE, changes)
    return current


def sync_now(actor: User, mailbox: Mailbox) -> SyncResult:
    """Poll now (outside any transaction: each message commits on its own)."""
    require_admin(actor)
    return sync(mailbox)


def reconcile(actor: User, mailbox: Mailbox, days: Any) -> SyncResult:
    """Read the last `days` days again; what is already stored is skipped by the ingest."""
    require_admin(actor)
    number = int_or_none(days)
    if number is None or number > MAX_RECONCILE_DAYS:
        fail({"days": [_("Enter a number of days from 1 to %(max)s.") % {"max": MAX_RECONCILE_DAYS}]})
    return sync(mailbox, since_days=number)


def health(mailbox: Mailbox, now: dt.datetime | None = None) -> dict[str, Any]:
    """Figures of the sync-health page and API: counts by status, last day, unsent mail, quarantined rows."""
    now = now or timezone.now()
    counts = dict(InboundEmail.objects.filter(mailbox=mailbox).values_list("status").annotate(n=Count("id"))
                  .values_list("status", "n"))
    day = InboundEmail.objects.filter(mailbox=mailbox, received_at__gte=now - dt.timedelta(days=1)).count()
    unsent = OutboundEmail.objects.filter(mailbox=mailbox, sent_at__isnull=True)
    return {
        "counts": {status: counts.get(status, 0) for status in InboundStatus.values},
        "total": sum(counts.values()),
        "last_day": day,
        "unsent": unsent.count(),
        "last_send_error": unsent.exclude(error="").order_by("-pk").values_list("error", flat=True).first() or "",
        "quarantined": list(InboundEmail.objects.filter(mailbox=mailbox, status=InboundStatus.QUARANTINED)
                            .order_by("-id").only("id", "message_id", "uid", "reason", "received_at", "raw")[:50]),
        # A logging address: mail whose people (or some of them) match no contact, so it is on no timeline.
        "unmatched": list(InboundEmail.objects.filter(mailbox=mailbox).exclude(unmatched="").order_by("-id")
                          .only("id", "message_id", "from_address", "subject", "unmatched", "received_at")[:50]),
    }


# ------------------------------------------------------------------ the setting, per question group


def auto_response(group: QuestionGroup) -> EmailAutoResponse:
    """The group's setting (not saved when the group has none yet: off, with the defaults)."""
    return EmailAutoResponse.objects.filter(question_group=group).first() or EmailAutoResponse(question_group=group)


@transaction.atomic
def set_auto_response(actor: User, group: QuestionGroup, data: dict[str, Any]) -> EmailAutoResponse:
    require_admin(actor)
    current = (EmailAutoResponse.objects.select_for_update().filter(question_group=group).first()
               or EmailAutoResponse(question_group=group))
    cleaned, errors = clean_fields(EmailAutoResponse, data, AUTO_FIELDS, partial=True)
    if len(cleaned.get("template") or "") > 5000:
        errors["template"] = [_("At most %(max)s characters.") % {"max": 5000}]
    fail(errors)
    before = snapshot(current, AUTO_FIELDS) if current.pk else {k: None for k in AUTO_FIELDS}
    for key, value in cleaned.items():
        setattr(current, key, value)
    current.save()
    changes = diff(before, snapshot(current, AUTO_FIELDS))
    if changes:
        write_audit(group, actor, AuditAction.UPDATE, {f"email_auto_response.{k}": v for k, v in changes.items()})
    return current

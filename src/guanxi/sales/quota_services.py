"""Quota use cases: set, change, delete one quota, and give reps the same monthly quota for a whole year.

Administrators set any quota; sales and service managers those of the teams they head (and the teams below)
and of those teams' members other than themselves; nobody else. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core.models import MANAGER_ROLES, AuditAction, Team, User
from guanxi.core.records import diff, fail, int_or_none, snapshot, write_audit
from guanxi.core.services import assignable_users

from .quota_math import KINDS, MONTH, is_period_start
from .quota_models import Quota
from .services import _clean_currency

AUDITED = ["user_id", "team_id", "kind", "start", "amount", "currency"]
MAX_AMOUNT = Decimal("999999999999.99")


def may_set_quotas(actor: User) -> bool:
    return actor.is_active and (actor.is_administrator or (actor.role in MANAGER_ROLES and actor.can_edit))


def _require_setter(actor: User) -> None:
    if not may_set_quotas(actor):
        raise PermissionDenied(_("Only managers and administrators may set quotas."))


def quota_users(actor: User) -> QuerySet[User]:
    """The reps whose quotas the actor may set."""
    users = assignable_users(actor)
    return users if actor.is_administrator else users.exclude(pk=actor.pk)


def quota_teams(actor: User) -> QuerySet[Team]:
    """The teams whose quotas the actor may set."""
    return Team.objects.all() if actor.is_administrator else Team.objects.filter(pk__in=actor.visible_team_ids())


def _clean_amount(value: Any, errors: dict) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT or amount != round(amount, 2):
        errors["amount"] = [_("Enter an amount of at least 0 with at most two decimals.")]
        return None
    return amount.quantize(Decimal("0.01"))


def _clean_start(kind: Any, value: Any, errors: dict) -> dt.date | None:
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value or "").strip())
        except ValueError:
            errors["start"] = [_("Enter a date as YYYY-MM-DD.")]
            return None
    if kind in KINDS and not is_period_start(kind, day):
        errors["start"] = [
            _(
                "A period starts on its first day: the 1st of a month, of January, April, July or "
                "October for a quarter, 1 January for a year."
            )
        ]
        return None
    return day


def _clean(actor: User, data: dict[str, Any], quota: Quota | None) -> dict[str, Any]:
    """Validated fields; with a quota, only those given."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    partial = quota is not None
    if not partial or "user_id" in data or "team_id" in data:
        user_id, team_id = int_or_none(data.get("user_id")), int_or_none(data.get("team_id"))
        if (user_id is None) == (team_id is None):
            errors["user_id"] = errors["team_id"] = [_("Give either a sales rep or a team, not both.")]
        elif user_id is not None:
            cleaned["user"] = quota_users(actor).filter(pk=user_id).first()
            cleaned["team"] = None
            if cleaned["user"] is None:
                errors["user_id"] = [_("Choose a member of a team you manage.")]
        else:
            cleaned["team"] = quota_teams(actor).filter(pk=team_id).first()
            cleaned["user"] = None
            if cleaned["team"] is None:
                errors["team_id"] = [_("Choose a team you manage.")]
    kind = data.get("kind", quota.kind if quota else MONTH)
    if "kind" in data or not partial:
        if kind not in KINDS:
            errors["kind"] = [_("A period is a month, a quarter or a year.")]
        cleaned["kind"] = kind
    if "start" in data or "kind" in data or not partial:
        start = _clean_start(kind, data.get("start", quota.start if quota else None), errors)
        cleaned["start"] = start
    if "amount" in data or not partial:
        cleaned["amount"] = _clean_amount(data.get("amount"), errors)
    if "currency" in data or not partial:
        cleaned["currency"] = _clean_currency(data.get("currency") or "CNY", errors)
    fail(errors)
    return cleaned


def _save(quota: Quota) -> None:
    try:
        with transaction.atomic():
            quota.save()
    except IntegrityError:
        field = "user_id" if quota.user_id else "team_id"
        raise ValidationError({field: [_("This period has a quota already: change that one.")]}) from None


@transaction.atomic
def create_quota(actor: User, data: dict[str, Any]) -> Quota:
    _require_setter(actor)
    quota = Quota(**_clean(actor, data, None))
    _save(quota)
    write_audit(
        quota, actor, AuditAction.CREATE, {k: [None, v] for k, v in snapshot(quota, AUDITED).items() if v is not None}
    )
    return quota


@transaction.atomic
def set_quota(actor: User, data: dict[str, Any]) -> Quota:
    """The quota of that rep or team for that period: changed when there is one, created otherwise."""
    _require_setter(actor)
    cleaned = _clean(actor, data, None)
    existing = Quota.objects.filter(
        user=cleaned["user"], team=cleaned["team"], kind=cleaned["kind"], start=cleaned["start"]
    ).first()
    if existing is None:
        return create_quota(actor, data)
    return update_quota(actor, existing, {"amount": data.get("amount"), "currency": data.get("currency")})


def editable_quota(actor: User, quota: Quota) -> None:
    """Refuse a change to a quota the actor may see but not set (their own, their team's)."""
    _require_setter(actor)
    if quota.user_id and not quota_users(actor).filter(pk=quota.user_id).exists():
        raise PermissionDenied(_("Only a manager of the team may change this quota."))
    if quota.team_id and not quota_teams(actor).filter(pk=quota.team_id).exists():
        raise PermissionDenied(_("Only a manager of the team may change this quota."))


@transaction.atomic
def update_quota(actor: User, quota: Quota, data: dict[str, Any]) -> Quota:
    editable_quota(actor, quota)
    quota = Quota.objects.select_for_update().get(pk=quota.pk)
    before = snapshot(quota, AUDITED)
    for key, value in _clean(actor, data, quota).items():
        setattr(quota, key, value)
    _save(quota)
    changes = diff(before, snapshot(quota, AUDITED))
    if changes:
        write_audit(quota, actor, AuditAction.UPDATE, changes)
    return quota


@transaction.atomic
def delete_quota(actor: User, quota: Quota) -> None:
    editable_quota(actor, quota)
    write_audit(quota, actor, AuditAction.DELETE, snapshot(quota, AUDITED))
    quota.delete()


@transaction.atomic
def set_monthly_quotas(actor: User, user_ids: list[Any], year: Any, amount: Any, currency: Any = "CNY") -> int:
    """The same quota for each of these reps in each month of `year`: existing monthly quotas are changed,
    missing ones created. Returns how many quotas were written. All or nothing."""
    _require_setter(actor)
    errors: dict[str, list[str]] = {}
    ids = [int_or_none(v) for v in (user_ids or [])]
    users = list(quota_users(actor).filter(pk__in=[i for i in ids if i is not None]))
    if not ids or None in ids or len(users) != len(set(ids)):
        errors["user_ids"] = [_("Choose members of teams you manage.")]
    number = int_or_none(year)
    if number is None or not 1900 <= number <= 9998:
        errors["year"] = [_("Enter a year such as 2031.")]
    value = _clean_amount(amount, errors)
    code = _clean_currency(currency or "CNY", errors)
    fail(errors)
    months = [dt.date(number, m, 1) for m in range(1, 13)]
    existing = {
        (q.user_id, q.start): q
        for q in Quota.objects.select_for_update().filter(user__in=users, kind=MONTH, start__in=months)
    }
    written = 0
    for user in users:
        for month in months:
            quota = existing.get((user.pk, month))
            if quota is None:
                create_quota(
                    actor, {"user_id": user.pk, "kind": MONTH, "start": month, "amount": value, "currency": code}
                )
            elif (quota.amount, quota.currency) != (value, code):
                update_quota(actor, quota, {"amount": value, "currency": code})
            else:
                continue
            written += 1
    return written

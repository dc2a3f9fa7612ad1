"""Public pool (公海) use cases: claim, release, assign from the pool, the follow-up hook that pushes the
deadline, the pool settings, and the two sweep handlers (warn owners, return overdue accounts).

One function per action, each in one transaction and audited. A follow-up only moves the deadline
columns (the activity logged is itself the record), so it is not audited and does not bump `version`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanxi.core.access import require_editor
from guanxi.core.models import MANAGER_ROLES, AuditAction, Role, User
from guanxi.core.notifications import notify
from guanxi.core.records import fail, write_audit
from guanxi.core.services import assignable_users

from .models import Account, Classification
from .pool_models import DEFAULT_CLAIM_LIMIT, ClaimLimit, PoolRule

BATCH = 500  # accounts a sweep handler takes per minute; the next minute takes the rest
MAX_DAYS = 3650
MAX_LIMIT = 100_000
POOL_FIELDS = [
    "owner",
    "team",
    "version",
    "updated_at",
    "last_follow_up_at",
    "pool_due_at",
    "pool_warned_at",
    "pool_entered_at",
    "claimed_at",
    "released_by",
    "released_at",
    "release_reason",
]


class ClaimTaken(Exception):
    """Every account asked for had left the pool (someone else claimed it first): HTTP 409."""

    def __init__(self, account_ids: list[int]) -> None:
        super().__init__(_("This account is no longer in the public pool: someone else claimed it first."))
        self.account_ids = account_ids


@dataclass
class ClaimResult:
    claimed: list[Account] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)  # left the pool before this request got to them


# ---------------------------------------------------------------- rules and limits


def rules() -> dict[str, PoolRule]:
    return {r.classification: r for r in PoolRule.objects.all()}


def _due(base: dt.datetime, rule: PoolRule | None) -> dt.datetime | None:
    return base + dt.timedelta(days=rule.return_days) if rule is not None and rule.return_days else None


def claim_limit(user: User) -> int:
    """The user's own limit, else their role's, else the default."""
    limits = {
        (c.user_id, c.role): c.max_claimed
        for c in ClaimLimit.objects.filter(Q(user=user) | Q(user__isnull=True, role__in=[user.role, ""]))
    }
    for key in ((user.pk, ""), (None, user.role), (None, "")):
        if key in limits:
            return limits[key]
    return DEFAULT_CLAIM_LIMIT


def claimed_count(user: User) -> int:
    return Account.objects.filter(owner=user, claimed_at__isnull=False).count()


def remaining_claims(user: User) -> int:
    return max(0, claim_limit(user) - claimed_count(user))


# ---------------------------------------------------------------- the clock


def _start_clock(account: Account, now: dt.datetime, rule_map: dict[str, PoolRule]) -> None:
    account.last_follow_up_at = now
    account.pool_due_at = _due(now, rule_map.get(account.classification)) if account.owner_id else None
    account.pool_warned_at = None


def _enter_pool(account: Account, now: dt.datetime, released_by_id: int | None, reason: str) -> None:
    account.set_owner(None)
    account.pool_entered_at = now
    account.pool_due_at = account.pool_warned_at = account.claimed_at = None
    account.released_by_id = released_by_id
    account.released_at = now
    account.release_reason = reason[:200]


def track_owner_change(
    account: Account, old_owner_id: int | None, old_classification: str, *, creating: bool = False
) -> None:
    """Keep the pool columns right when an edit, an import or a bulk assignment changes the owner or the
    classification (called before the save): a new owner starts the clock, no owner puts it in the pool."""
    now = timezone.now()
    if creating or account.owner_id != old_owner_id:
        if account.owner_id is None:
            _enter_pool(account, now, old_owner_id, "")
        else:
            account.pool_entered_at = account.claimed_at = None
            _start_clock(account, now, rules())
    elif account.classification != old_classification and account.owner_id:
        account.pool_due_at = _due(account.last_follow_up_at or now, rules().get(account.classification))
        account.pool_warned_at = None


def record_follow_up(account_ids: Iterable[int], when: dt.datetime | None = None) -> int:
    """The hook other apps call when a call, visit, task or note is logged on accounts: the follow-up clock
    restarts at `when` (it never moves back), so the return date moves on and the owner may be warned again.
    Returns how many accounts moved."""
    when = when or timezone.now()
    ids = sorted({int(i) for i in account_ids if i})
    if not ids:
        return 0
    rule_map = rules()
    stale = Q(last_follow_up_at__isnull=True) | Q(last_follow_up_at__lt=when)
    groups: dict[str | None, list[int]] = {}
    for pk, classification, owner_id in Account.objects.filter(stale, pk__in=ids).values_list(
        "pk", "classification", "owner_id"
    ):
        groups.setdefault(classification if owner_id else None, []).append(pk)
    moved = 0
    with transaction.atomic():
        for classification, pks in groups.items():
            rows = Account.objects.filter(stale, pk__in=pks)
            if classification is None:  # in the pool: no deadline
                moved += rows.filter(owner__isnull=True).update(last_follow_up_at=when)
            else:  # `owner IS NOT NULL` is checked again under the row lock, should the sweep return it meanwhile
                moved += rows.filter(owner__isnull=False).update(
                    last_follow_up_at=when, pool_due_at=_due(when, rule_map.get(classification)), pool_warned_at=None
                )
    return moved


# ---------------------------------------------------------------- claim, release, assign


def _ids(values: Any) -> list[int]:
    if isinstance(values, int | str):
        values = [values]
    if not isinstance(values, list | tuple) or not values:
        raise ValidationError({"ids": [_("Choose at least one account.")]})
    try:
        ids = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        raise ValidationError({"ids": [_("Expected a list of account ids.")]})
    if any(not 0 < i < 2**63 for i in ids):
        raise ValidationError({"ids": [_("Expected a list of account ids.")]})
    return ids


def _lock_pool_accounts(ids: list[int]) -> tuple[list[Account], list[int]]:
    """The accounts asked for, locked in id order: (still in the pool, already owned). Unknown ids are an error."""
    accounts = list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    missing = sorted(set(ids) - {a.pk for a in accounts})
    if missing:
        raise ValidationError({"ids": [_("No such account: %(ids)s.") % {"ids": ", ".join(map(str, missing))}]})
    return [a for a in accounts if a.owner_id is None], [a.pk for a in accounts if a.owner_id is not None]


def _take(
    actor: User, account: Account, owner: User, now: dt.datetime, rule_map: dict[str, PoolRule], *, claimed: bool
) -> None:
    account.set_owner(owner)
    account.pool_entered_at = None
    account.claimed_at = now if claimed else None
    _start_clock(account, now, rule_map)
    account.version += 1
    account.save(update_fields=POOL_FIELDS)
    write_audit(account, actor, AuditAction.ASSIGN, {"owner_id": [None, owner.pk]})


@transaction.atomic
def claim(actor: User, account_ids: Any, now: dt.datetime | None = None) -> ClaimResult:
    """Take accounts from the pool. Refused as a whole past the actor's claim limit or while one of them is in
    the actor's cool-down; accounts someone else claimed first are skipped (all of them: ClaimTaken)."""
    require_editor(actor)
    now = now or timezone.now()
    ids = _ids(account_ids)
    # One claim at a time per rep, so two concurrent requests cannot both pass the limit.
    User.objects.select_for_update().filter(pk=actor.pk).exists()
    free, taken = _lock_pool_accounts(ids)
    if not free:
        raise ClaimTaken(taken)
    rule_map = rules()
    errors: dict[str, list[str]] = {}
    for account in free:
        rule = rule_map.get(account.classification)
        if (
            rule
            and rule.cooldown_days
            and account.released_by_id == actor.pk
            and account.released_at
            and account.released_at + dt.timedelta(days=rule.cooldown_days) > now
        ):
            until = account.released_at + dt.timedelta(days=rule.cooldown_days)
            errors.setdefault("cooldown", []).append(
                _("You released %(name)s; you may claim it again from %(date)s.")
                % {"name": account.name, "date": _local(until, actor).strftime("%Y-%m-%d %H:%M")}
            )
    limit = claim_limit(actor)
    remaining = max(0, limit - claimed_count(actor))
    if len(free) > remaining:
        errors["limit"] = [
            ngettext(
                "You may hold %(limit)d account from the pool at a time",
                "You may hold %(limit)d accounts from the pool at a time",
                limit,
            )
            % {"limit": limit}
            + _(": %(remaining)d claims left, %(chosen)d chosen. Release one first.")
            % {"remaining": remaining, "chosen": len(free)}
        ]
    fail(errors)
    for account in free:
        _take(actor, account, actor, now, rule_map, claimed=True)
    return ClaimResult(claimed=free, taken=taken)


@transaction.atomic
def assign_from_pool(actor: User, account_ids: Any, owner_id: Any, now: dt.datetime | None = None) -> ClaimResult:
    """A manager (or administrator) hands pool accounts to someone in their teams; no claim limit applies."""
    require_editor(actor)
    if not (actor.is_administrator or actor.role in MANAGER_ROLES):
        raise PermissionDenied(_("Only managers and administrators assign accounts from the pool."))
    now = now or timezone.now()
    ids = _ids(account_ids)
    try:
        owner = assignable_users(actor).get(pk=int(owner_id))
    except (User.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"owner_id": [_("You may not assign records to this user.")]})
    free, taken = _lock_pool_accounts(ids)
    if not free:
        raise ClaimTaken(taken)
    rule_map = rules()
    for account in free:
        _take(actor, account, owner, now, rule_map, claimed=False)
    return ClaimResult(claimed=free, taken=taken)


def may_release(user: User, account: Account) -> bool:
    """The owner, an administrator, or a manager whose teams the account belongs to."""
    if account.owner_id is None or not user.can_edit:
        return False
    return (
        account.owner_id == user.pk
        or user.is_administrator
        or (user.role in MANAGER_ROLES and account.team_id in user.visible_team_ids())
    )


@transaction.atomic
def release(actor: User, account: Account, reason: Any, now: dt.datetime | None = None) -> Account:
    """Put an account back in the pool, saying why; its releaser may not re-claim it during the cool-down."""
    require_editor(actor)
    now = now or timezone.now()
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": [_("Say why the account goes back to the pool.")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("At most 200 characters.")]})
    current = Account.objects.select_for_update().get(pk=account.pk)
    if current.owner_id is None:
        raise ValidationError({"owner_id": [_("This account is in the public pool already.")]})
    if not may_release(actor, current):
        raise PermissionDenied(_("Only the owner or their manager may release this account."))
    old = current.owner_id
    _enter_pool(current, now, actor.pk, reason)
    current.version += 1
    current.save(update_fields=POOL_FIELDS)
    write_audit(current, actor, AuditAction.ASSIGN, {"owner_id": [old, None], "release_reason": ["", reason]})
    return current


# ---------------------------------------------------------------- the sweep handlers


def _local(when: dt.datetime, user: User) -> dt.datetime:
    try:
        zone = ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    return when.astimezone(zone)


def _link(account: Account) -> str:
    return reverse("customers:account_detail", args=[account.pk])


@transaction.atomic
def warn_upcoming(now: dt.datetime) -> int:
    """Tell owners which accounts return to the pool within their rule's warning days (once per deadline)."""
    sent = 0
    for classification, rule in rules().items():
        if not rule.return_days or not rule.warn_days:
            continue
        rows = list(
            Account.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                classification=classification,
                owner__isnull=False,
                pool_warned_at__isnull=True,
                pool_due_at__gt=now,
                pool_due_at__lte=now + dt.timedelta(days=rule.warn_days),
            )
            .select_related("owner")
            .order_by("pool_due_at", "pk")[:BATCH]
        )
        for account in rows:
            owner = account.owner
            with translation.override(owner.language or settings.LANGUAGE_CODE):
                text = _("%(name)s returns to the public pool on %(date)s unless you follow it up.") % {
                    "name": account.name,
                    "date": _local(account.pool_due_at, owner).strftime("%Y-%m-%d"),
                }
            notify(owner, text, _link(account), key=f"pool-warn:{account.pk}:{account.pool_due_at:%Y%m%d%H%M}")
        sent += Account.objects.filter(pk__in=[a.pk for a in rows]).update(pool_warned_at=now)
    return sent


@transaction.atomic
def return_overdue(now: dt.datetime) -> int:
    """Return every owned account whose deadline has passed to the pool; the former owner is told and may not
    re-claim it during the cool-down."""
    # Accounts left without an owner some other way (their owner's user deleted) join the pool list too.
    Account.objects.filter(owner__isnull=True, pool_entered_at__isnull=True).update(pool_entered_at=now)
    rows = list(
        Account.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(owner__isnull=False, pool_due_at__lte=now)
        .select_related("owner")
        .order_by("pool_due_at", "pk")[:BATCH]
    )
    rule_map = rules()
    for account in rows:
        owner = account.owner
        rule = rule_map.get(account.classification)
        days = rule.return_days if rule else 0
        due = account.pool_due_at
        with translation.override(settings.LANGUAGE_CODE):  # stored on the record: the site's language
            reason = ngettext("No follow-up for %(days)d day", "No follow-up for %(days)d days", days) % {"days": days}
        _enter_pool(account, now, owner.pk, reason)
        account.version += 1
        account.save(update_fields=POOL_FIELDS)
        write_audit(account, None, AuditAction.ASSIGN, {"owner_id": [owner.pk, None], "release_reason": ["", reason]})
        with translation.override(owner.language or settings.LANGUAGE_CODE):
            text = _("%(name)s went back to the public pool: no follow-up for %(days)d days.") % {
                "name": account.name,
                "days": days,
            }
        notify(owner, text, _link(account), key=f"pool-return:{account.pk}:{due:%Y%m%d%H%M}")
    return len(rows)


# ---------------------------------------------------------------- settings


def pool_settings() -> dict[str, Any]:
    """The rules per classification and the claim limits, as the API and the settings page show them."""
    limits = list(ClaimLimit.objects.order_by("role", "user_id"))
    default = next((c.max_claimed for c in limits if c.user_id is None and not c.role), DEFAULT_CLAIM_LIMIT)
    return {
        "rules": [
            {
                "classification": r.classification,
                "return_days": r.return_days,
                "warn_days": r.warn_days,
                "cooldown_days": r.cooldown_days,
            }
            for r in PoolRule.objects.all()
        ],
        "default_claim_limit": default,
        "claim_limits": [
            {"role": c.role or None, "user_id": c.user_id, "max_claimed": c.max_claimed}
            for c in limits
            if c.user_id or c.role
        ],
    }


def _number(value: Any, where: str, errors: dict, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors[where] = [_("Enter a whole number.")]
        return 0
    try:
        number = int(value)
    except ValueError:
        errors[where] = [_("Enter a whole number.")]
        return 0
    if not 0 <= number <= high:
        errors[where] = [_("Between 0 and %(max)d.") % {"max": high}]
    return number


def _clean_rules(items: Any, errors: dict) -> dict[str, dict[str, int]]:
    if not isinstance(items, list):
        errors["rules"] = [_("Expected a list.")]
        return {}
    cleaned: dict[str, dict[str, int]] = {}
    allowed = ["", *Classification.values]
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"rules.{i}"] = [_("Expected an object.")]
            continue
        classification = item.get("classification") or ""
        if classification not in allowed:
            errors[f"rules.{i}.classification"] = [_("Not a choice: %(bad)s.") % {"bad": classification}]
            continue
        if classification in cleaned:
            errors[f"rules.{i}.classification"] = [_("Given twice.")]
            continue
        row = {
            name: _number(item.get(name, 0), f"rules.{i}.{name}", errors, MAX_DAYS)
            for name in ("return_days", "warn_days", "cooldown_days")
        }
        if row["return_days"] and row["warn_days"] >= row["return_days"]:
            errors[f"rules.{i}.warn_days"] = [_("Warn fewer days before than the days without follow-up.")]
        cleaned[classification] = row
    return cleaned


def _clean_limits(data: dict, errors: dict) -> dict[tuple[int | None, str], int]:
    limits: dict[tuple[int | None, str], int] = {}
    if "default_claim_limit" in data:
        limits[(None, "")] = _number(data["default_claim_limit"], "default_claim_limit", errors, MAX_LIMIT)
    items = data.get("claim_limits") or []
    if not isinstance(items, list):
        errors["claim_limits"] = [_("Expected a list.")]
        return limits
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"claim_limits.{i}"] = [_("Expected an object.")]
            continue
        role, user_id = item.get("role") or "", item.get("user_id")
        if bool(role) == bool(user_id):
            errors[f"claim_limits.{i}"] = [_("Give either a role or a user.")]
            continue
        if role and role not in Role.values:
            errors[f"claim_limits.{i}.role"] = [_("Not a choice: %(bad)s.") % {"bad": role}]
            continue
        if (
            user_id
            and not User.objects.filter(pk=_number(user_id, f"claim_limits.{i}.user_id", errors, 2**63 - 1)).exists()
        ):
            errors.setdefault(f"claim_limits.{i}.user_id", [_("No such user.")])
            continue
        key = (int(user_id) if user_id else None, role)
        if key in limits:
            errors[f"claim_limits.{i}"] = [_("Given twice.")]
            continue
        limits[key] = _number(item.get("max_claimed"), f"claim_limits.{i}.max_claimed", errors, MAX_LIMIT)
    return limits


def recompute_due(classification: str, rule: PoolRule | None) -> None:
    """The owned accounts of one classification get the deadline of its new rule (from their last follow-up)."""
    base = Coalesce(F("last_follow_up_at"), F("created_at"))
    due = (
        ExpressionWrapper(base + Value(dt.timedelta(days=rule.return_days)), output_field=DateTimeField())
        if rule is not None and rule.return_days
        else None
    )
    Account.objects.filter(owner__isnull=False, classification=classification).update(
        last_follow_up_at=base, pool_due_at=due, pool_warned_at=None
    )


@transaction.atomic
def set_pool_settings(actor: User, data: Any) -> dict[str, Any]:
    """Replace the rules (a classification left out no longer returns) and, when given, the claim limits.
    Administrators only; the owned accounts of a changed classification get their new deadline."""
    if not actor.is_administrator:
        raise PermissionDenied(_("Only administrators change the pool rules."))
    if not isinstance(data, dict):
        raise ValidationError({"body": [_("Expected an object.")]})
    errors: dict[str, list[str]] = {}
    new_rules = _clean_rules(data.get("rules", []), errors)
    limits = _clean_limits(data, errors) if "default_claim_limit" in data or "claim_limits" in data else None
    fail(errors)
    old_rules = rules()
    for classification in set(old_rules) | set(new_rules):
        old, new = old_rules.get(classification), new_rules.get(classification)
        before = {k: getattr(old, k) for k in ("return_days", "warn_days", "cooldown_days")} if old else {}
        if new is None:
            write_audit(old, actor, AuditAction.DELETE, {k: [v, None] for k, v in before.items()})
            old.delete()
            recompute_due(classification, None)
            continue
        if before == new:
            continue
        rule, _created = PoolRule.objects.update_or_create(classification=classification, defaults=new)
        write_audit(
            rule,
            actor,
            AuditAction.UPDATE if old else AuditAction.CREATE,
            {k: [before.get(k), v] for k, v in new.items() if before.get(k) != v},
        )
        if before.get("return_days") != new["return_days"]:
            recompute_due(classification, rule)
    if limits is not None:
        _replace_limits(actor, limits, keep_default="default_claim_limit" not in data)
    return pool_settings()


def _replace_limits(actor: User, limits: dict[tuple[int | None, str], int], *, keep_default: bool) -> None:
    current = {(c.user_id, c.role): c for c in ClaimLimit.objects.all()}
    for key, row in current.items():
        if key not in limits and not (keep_default and key == (None, "")):
            write_audit(row, actor, AuditAction.DELETE, {"max_claimed": [row.max_claimed, None]})
            row.delete()
    for (user_id, role), value in limits.items():
        row = current.get((user_id, role))
        if row is not None and row.max_claimed == value:
            continue
        old = row.max_claimed if row else None
        row, _created = ClaimLimit.objects.update_or_create(user_id=user_id, role=role, defaults={"max_claimed": value})
        write_audit(
            row, actor, AuditAction.UPDATE if old is not None else AuditAction.CREATE, {"max_claimed": [old, value]}
        )

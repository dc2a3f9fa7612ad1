"""The value × risk grid over the accounts a user may see, its drill-down, and the retention playbooks:
an administrator edits what each cell's playbook does; running it creates the tasks (or adds the tag) for
the cell's visible accounts that do not have them yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import Task, TaskStatus
from guanxi.activities.services import create_task
from guanxi.core.models import User
from guanxi.core.paging import Page, paginate
from guanxi.core.records import clean_fields, fail, resolve_tags
from guanxi.customers.models import Account

from .playbook_models import Playbook, PlaybookAction, PlaybookActionKind
from .score_models import SEGMENT_LABELS, Band, CustomerScore

CELLS = [(Band.HIGH, Band.HIGH), (Band.HIGH, Band.LOW), (Band.LOW, Band.HIGH), (Band.LOW, Band.LOW)]
DRILL_SORTS = ["-churn_risk", "-monetary", "-frequency"]  # not null, so keyset cursors can carry them


def _defaults() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (Band.HIGH, Band.HIGH): {"action": PlaybookActionKind.TASK, "title": _("Personal call within 48 h"),
                                 "description": _("A valuable customer may be leaving: call them, find out why, "
                                                  "and agree on what we do next."), "due_hours": 48},
        (Band.HIGH, Band.LOW): {"action": PlaybookActionKind.TASK, "title": _("Thank-you and loyalty check-in"),
                                "description": _("Keep a loyal, valuable customer close: thank them and offer "
                                                 "what they are likely to buy next."), "due_hours": 24 * 14},
        (Band.LOW, Band.HIGH): {"action": PlaybookActionKind.TAG, "title": _("Win-back campaign"),
                                "description": _("Low-cost win-back offer by email or message."), "due_hours": 48},
        (Band.LOW, Band.LOW): {"action": PlaybookActionKind.TAG, "title": _("Low-cost offer"),
                               "description": _("Automated, low-cost offers; no personal effort."), "due_hours": 48},
    }


def playbooks() -> dict[tuple[str, str], Playbook]:
    """The four playbooks, one per cell; missing ones are created with the defaults."""
    found = {(p.value_band, p.risk_band): p for p in Playbook.objects.select_related("tag")}
    if len(found) < len(CELLS):
        for cell, values in _defaults().items():
            if cell not in found:
                if values["action"] == PlaybookActionKind.TAG:  # a tag named like the playbook: ready to run
                    values["tag"] = resolve_tags([values["title"]])[0][0]
                found[cell], _created = Playbook.objects.get_or_create(
                    value_band=cell[0], risk_band=cell[1], defaults=values)
    return found


def visible_scores(user: User) -> QuerySet[CustomerScore]:
    """The scores of the accounts the user may see (core's one visibility rule, as a subquery)."""
    qs = CustomerScore.objects.all()
    if user.is_authenticated and user.is_active and user.is_administrator:
        return qs
    return qs.filter(account__in=Account.objects.visible_to(user).values("pk"))


@dataclass
class Cell:
    value_band: str
    risk_band: str
    count: int = 0
    clv: float = 0.0
    playbook: Playbook | None = None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = f"{self.value_band}-{self.risk_band}"


def grid(user: User) -> list[Cell]:
    """The four cells (high value & high risk first) with the count and total CLV of the user's accounts;
    one query."""
    cells = {(v, r): Cell(v, r) for v, r in CELLS}
    for row in (visible_scores(user).order_by().values("value_band", "risk_band")
                .annotate(n=Count("pk"), total=Sum("clv"))):
        cell = cells.get((row["value_band"], row["risk_band"]))
        if cell:
            cell.count, cell.clv = row["n"], float(row["total"] or 0)
    return list(cells.values())


def parse_cell(key: str) -> tuple[str, str]:
    """"high-low" → ("high", "low"); anything else is a field error on `cell`."""
    parts = str(key).split("-")
    if len(parts) != 2 or any(p not in Band.values for p in parts):
        raise ValidationError({"cell": [_("Choose one of: %(cells)s.") % {
            "cells": ", ".join(f"{v}-{r}" for v, r in CELLS)}]})
    return parts[0], parts[1]


SCORE_RANGES = {"p_alive": float, "clv": float, "churn_risk": float, "frequency": int}


def score_filters(params: Any) -> dict[str, Any]:
    """Drill-down filters from query parameters: value_band, risk_band, segment, and <field>_gte / <field>_lt
    for the numbers in SCORE_RANGES. Bad values are field errors."""
    filters: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in ("value_band", "risk_band"):
        value = params.get(name)
        if value:
            if value not in Band.values:
                errors[name] = [_("Choose high or low.")]
            filters[name] = value
    segment = params.get("segment")
    if segment:
        if segment not in SEGMENT_LABELS:
            errors["segment"] = [_("Not an RFM segment.")]
        filters["segment"] = segment
    for name, kind in SCORE_RANGES.items():
        for op in ("gte", "lt"):
            key = f"{name}_{op}"
            raw = params.get(key)
            if raw in (None, ""):
                continue
            try:
                number = kind(float(raw)) if kind is int else kind(raw)
                if number != number or abs(number) > 1e15:
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                errors[key] = [_("Enter a number.")]
                continue
            filters[f"{name}__{op}"] = number
    fail(errors)
    return filters


def score_accounts(user: User, filters: dict[str, Any], *, sort: str = "-churn_risk", cursor: str | None = None,
                   limit: int = 50) -> Page:
    """The visible accounts whose scores match `filters` (see score_filters), keyset paged, riskiest first."""
    qs = visible_scores(user).filter(**filters).select_related("account", "account__owner")
    return paginate(qs, sort=sort, allowed=DRILL_SORTS, cursor=cursor, limit=max(1, min(int(limit), 200)))


def cell_accounts(user: User, value_band: str, risk_band: str, *, sort: str = "-churn_risk",
                  cursor: str | None = None, limit: int = 50) -> Page:
    """A grid cell's visible accounts with their scores, keyset paged (riskiest first by default)."""
    return score_accounts(user, {"value_band": value_band, "risk_band": risk_band}, sort=sort, cursor=cursor,
                          limit=limit)


# ------------------------------------------------------------------ editing playbooks

PLAYBOOK_FIELDS = ["action", "title", "description", "due_hours"]


@transaction.atomic
def update_playbook(actor: User, playbook: Playbook, data: dict[str, Any]) -> Playbook:
    """An administrator changes what a cell's playbook does; a tag action needs a tag name."""
    if not (actor.is_authenticated and actor.is_administrator):
        raise PermissionDenied(_("Only an administrator may change the playbooks."))
    cleaned, errors = clean_fields(Playbook, data, PLAYBOOK_FIELDS, partial=True)
    action = cleaned.get("action", playbook.action)
    tag = playbook.tag
    if "tag" in data:
        tags, tag_errors = resolve_tags([data["tag"]] if isinstance(data["tag"], str) else data["tag"])
        if tag_errors or len(tags) > 1:
            errors["tag"] = tag_errors or [_("Give one tag.")]
        tag = tags[0] if tags else None
    if action == PlaybookActionKind.TAG and tag is None and "tag" not in errors:
        errors["tag"] = [_("Name the tag the accounts are added to.")]
    fail(errors)
    current = Playbook.objects.select_for_update().get(pk=playbook.pk)
    for key, value in cleaned.items():
        setattr(current, key, value)
    current.tag, current.updated_by = tag, actor
    current.save()
    return current


# ------------------------------------------------------------------ running a playbook

@dataclass
class RunResult:
    playbook: Playbook
    tasks: list[Task] = field(default_factory=list)
    tagged: list[Account] = field(default_factory=list)
    skipped: int = 0  # accounts that already had this playbook's open task or tag, or no owner


@transaction.atomic
def run_playbook(actor: User, playbook: Playbook) -> RunResult:
    """Apply the playbook to the cell's accounts the actor may see and edit, once: an account that already
    has an open task from it (or its tag) is skipped, so running twice creates nothing more."""
    if not actor.can_edit:
        raise PermissionDenied(_("Your role may not change records."))
    # One run of a playbook at a time (the row lock), so two clicks cannot both create the tasks.
    playbook = Playbook.objects.select_for_update(of=("self",)).select_related("tag").get(pk=playbook.pk)
    accounts = list(Account.objects.editable_by(actor)
                    .filter(score__value_band=playbook.value_band, score__risk_band=playbook.risk_band)
                    .select_related("owner").order_by("pk"))
    result = RunResult(playbook)
    if playbook.action == PlaybookActionKind.TAG:
        _tag(actor, playbook, accounts, result)
        return result
    busy = set(PlaybookAction.objects.filter(playbook=playbook, account__in=[a.pk for a in accounts],
                                             task__status=TaskStatus.OPEN).values_list("account_id", flat=True))
    tasks, result.skipped = owner_tasks(actor, [a for a in accounts if a.pk not in busy], playbook.title,
                                        playbook.description, playbook.due_hours)
    result.skipped += len(busy & {a.pk for a in accounts})
    PlaybookAction.objects.bulk_create([PlaybookAction(playbook=playbook, account_id=t.account_id, task=t,
                                                       created_by=actor) for t in tasks])
    result.tasks = tasks
    return result


def owner_tasks(actor: User, accounts: list[Account], title: str, description: str, due_hours: int,
                priority: str = "high") -> tuple[list[Task], int]:
    """A task for each account's owner (activities' create_task: audited, the owner notified), due in
    `due_hours`; returns the tasks and how many accounts were skipped (no owner, or an owner the actor may
    not give tasks to)."""
    due = timezone.now() + dt.timedelta(hours=due_hours)
    tasks, skipped = [], 0
    for account in accounts:
        if account.owner_id is None:
            skipped += 1
            continue
        try:
            tasks.append(create_task(actor, {"title": title, "description": description, "due_at": due,
                                             "priority": priority, "account_id": account.pk,
                                             "owner_id": account.owner_id}))
        except ValidationError:  # an owner the actor may not give tasks to (a share from another team)
            skipped += 1
    return tasks, skipped


def _tag(actor: User, playbook: Playbook, accounts: list[Account], result: RunResult) -> None:
    if playbook.tag is None:
        raise ValidationError({"tag": [_("Name the tag the accounts are added to.")]})
    through = Account.tags.through
    tagged = set(through.objects.filter(tag=playbook.tag, account__in=[a.pk for a in accounts])
                 .values_list("account_id", flat=True))
    new = [a for a in accounts if a.pk not in tagged]
    through.objects.bulk_create([through(account_id=a.pk, tag_id=playbook.tag_id) for a in new],
                                ignore_conflicts=True)
    PlaybookAction.objects.bulk_create([PlaybookAction(playbook=playbook, account=a, created_by=actor) for a in new])
    result.tagged, result.skipped = new, len(accounts) - len(new)

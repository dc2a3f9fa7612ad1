"""REST resources of the public pool (公海): the list, claiming, assigning, releasing and the rules.
Thin: parses, calls pool_services, serialises. See docs/api.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import CURSOR, ERRORS, LIMIT, WRITE, WRITE_ONE, ErrorOut, Id, Ref, actor, ref, utc

from . import pool_services
from .models import Account, Classification, Industry
from .pool_queries import MAX_DAYS, POOL_SORTS, PoolFilters, days_in_pool, pool_page

router = Router(tags=["public pool"])
CLAIM = {**WRITE_ONE, 409: ErrorOut}


class PoolQuery(Schema):
    classification: str = Field("", json_schema_extra={"enum": ["", *Classification.values]})
    industry: str = Field("", json_schema_extra={"enum": ["", *Industry.values]})
    province: str = Field("", max_length=50, description="Accounts with an address in this province (prefix).")
    min_days: int | None = Field(None, ge=0, le=MAX_DAYS, description="In the pool at least this many days.")
    q: str = Field("", max_length=200, description="Name, pinyin, phone or email.")
    sort: str = Field("-pool_entered_at", json_schema_extra={"enum": POOL_SORTS})
    limit: int = LIMIT
    cursor: str | None = CURSOR


class PoolItem(Schema):
    id: int
    name: str
    classification: str
    industry: str
    province: str
    in_pool_since: dt.datetime
    days_in_pool: int
    last_owner: Ref | None
    release_reason: str
    last_follow_up_at: dt.datetime | None


class PoolPage(Schema):
    items: list[PoolItem]
    next: str | None
    remaining_claims: int = Field(..., description="How many more accounts you may claim now.")


class ClaimIn(Schema):
    ids: list[Id] = Field(..., min_length=1, max_length=200)


class PoolAssignIn(ClaimIn):
    owner_id: Id


class ClaimOut(Schema):
    claimed: list[Ref]
    taken: list[int] = Field(..., description="Accounts someone else claimed first.")
    remaining_claims: int


class ReleaseIn(Schema):
    reason: str = Field(..., max_length=200)


class ReleaseOut(Schema):
    id: int
    name: str
    version: int
    in_pool_since: dt.datetime
    release_reason: str


class RuleIO(Schema):
    classification: str = Field(
        ...,
        json_schema_extra={"enum": ["", *Classification.values]},
        description='"" is the rule for accounts without a classification.',
    )
    return_days: int = Field(..., ge=0, le=MAX_DAYS, description="Days without follow-up; 0 never returns.")
    warn_days: int = Field(0, ge=0, le=MAX_DAYS, description="Warn the owner this many days before.")
    cooldown_days: int = Field(0, ge=0, le=MAX_DAYS, description="A releaser may not re-claim for this long.")


class LimitIO(Schema):
    role: str | None = None
    user_id: Id | None = None
    max_claimed: int = Field(..., ge=0, le=pool_services.MAX_LIMIT)


class PoolSettingsOut(Schema):
    rules: list[RuleIO]
    default_claim_limit: int
    claim_limits: list[LimitIO]


class PoolSettingsIn(Schema):
    rules: list[RuleIO] = Field(..., max_length=10, description="Replaces all rules.")
    default_claim_limit: int | None = Field(None, ge=0, le=pool_services.MAX_LIMIT)
    claim_limits: list[LimitIO] | None = Field(None, max_length=500, description="Replaces all overrides.")


def _item(a: Account) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "classification": a.classification,
        "industry": a.industry,
        "province": a.province or "",
        "in_pool_since": utc(a.pool_entered_at),
        "days_in_pool": days_in_pool(a),
        "last_owner": ref(a.released_by),
        "release_reason": a.release_reason,
        "last_follow_up_at": utc(a.last_follow_up_at),
    }


def _claim_out(request: HttpRequest, result: pool_services.ClaimResult) -> dict[str, Any]:
    return {
        "claimed": [ref(a) for a in result.claimed],
        "taken": result.taken,
        "remaining_claims": pool_services.remaining_claims(actor(request)),
    }


def _taken(exc: pool_services.ClaimTaken) -> Any:
    return Status(409, {"detail": str(exc), "errors": {"ids": [str(exc)]}})


@router.get("/pool", response={200: PoolPage, **ERRORS})
def list_pool(request: HttpRequest, params: Query[PoolQuery]):
    """Accounts in the public pool, newest first; `remaining_claims` is how many more you may claim."""
    filters = PoolFilters(
        classification=params.classification,
        industry=params.industry,
        province=params.province.strip(),
        min_days=params.min_days,
        q=params.q,
    )
    errors = filters.errors()
    if errors:
        raise ValidationError(errors)
    page = pool_page(actor(request), filters, sort=params.sort, cursor=params.cursor, limit=params.limit)
    return {
        "items": [_item(a) for a in page.items],
        "next": page.next_cursor,
        "remaining_claims": pool_services.remaining_claims(actor(request)),
    }


@router.post("/pool/{id}/claim", response={200: ClaimOut, **CLAIM})
def claim_account(request: HttpRequest, id: Id):
    """Claim one account: 400 past your claim limit or during your cool-down, 409 if someone claimed it first."""
    user = actor(request)
    # A pool account is visible to everyone; one that left the pool by a claim answers 409, not 404.
    if not Account.objects.filter(
        Q(pk__in=Account.objects.visible_to(user).filter(pk=id).values("pk")) | Q(pk=id, claimed_at__isnull=False)
    ).exists():
        raise Http404
    try:
        return _claim_out(request, pool_services.claim(user, [id]))
    except pool_services.ClaimTaken as exc:
        return _taken(exc)


@router.post("/pool/claim", response={200: ClaimOut, **WRITE, 409: ErrorOut})
def claim_accounts(request: HttpRequest, payload: ClaimIn):
    """Claim several accounts at once: all or none within your limit; ones already claimed are listed in `taken`."""
    try:
        return _claim_out(request, pool_services.claim(actor(request), payload.ids))
    except pool_services.ClaimTaken as exc:
        return _taken(exc)


@router.post("/pool/assign", response={200: ClaimOut, **WRITE, 409: ErrorOut})
def assign_accounts(request: HttpRequest, payload: PoolAssignIn):
    """Managers and administrators: give pool accounts to someone in their teams (no claim limit)."""
    try:
        return _claim_out(request, pool_services.assign_from_pool(actor(request), payload.ids, payload.owner_id))
    except pool_services.ClaimTaken as exc:
        return _taken(exc)


@router.post("/accounts/{id}/release", response={200: ReleaseOut, **WRITE_ONE})
def release_account(request: HttpRequest, id: Id, payload: ReleaseIn):
    """Put your account back in the pool with a reason (owners, their managers, administrators)."""
    account = get_object_or_404(Account.objects.visible_to(actor(request)), pk=id)
    account = pool_services.release(actor(request), account, payload.reason)
    return {
        "id": account.pk,
        "name": account.name,
        "version": account.version,
        "in_pool_since": utc(account.pool_entered_at),
        "release_reason": account.release_reason,
    }


@router.get("/pool-rules", response={200: PoolSettingsOut, **ERRORS})
def get_pool_rules(request: HttpRequest):
    """Days without follow-up before an account returns, per classification, and the claim limits."""
    return pool_services.pool_settings()


@router.put("/pool-rules", response={200: PoolSettingsOut, **WRITE})
def put_pool_rules(request: HttpRequest, payload: PoolSettingsIn):
    """Replace the rules (administrators only); owned accounts of a changed classification get new deadlines."""
    return pool_services.set_pool_settings(actor(request), payload.model_dump(exclude_unset=True))

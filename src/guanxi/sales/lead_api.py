"""REST resources for leads: list, create (assigned by the rules unless an owner is given), read, change,
status, convert, delete; and the assignment rules (administrators). See docs/api.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import (
    CONFLICT_SERIALIZERS,
    CURSOR,
    ERRORS,
    LIMIT,
    READ_ONE,
    WRITE,
    WRITE_ONE,
    Id,
    Ref,
    actor,
    page_out,
    ref,
    sort_field,
    utc,
)
from guanxi.core.models import User
from guanxi.core.paging import paginate

from . import lead_services
from .filters import LEAD_SORTS, apply_lead_filters
from .lead_models import Lead, LeadAssignmentRule, LeadStatus

router = Router()
TAG = ["leads"]
Text = str | None
_STATUSES = {"enum": [s for s in LeadStatus.values if s != LeadStatus.CONVERTED]}


class _LeadFields(Schema):
    company: Text = None
    title: Text = None
    phone: Text = None
    email: Text = None
    source: Text = None
    industry: Text = None
    province: Text = None
    city: Text = None
    rating: Text = Field(None, json_schema_extra={"enum": ["hot", "warm", "cold", ""]})
    description: Text = None
    owner_id: Id | None = Field(None, description="Default: by the assignment rules, else you.")
    custom: dict[str, Any] | None = None


class LeadIn(_LeadFields):
    name: str


class LeadPatch(_LeadFields):
    version: int = Field(..., description="The version you read; a stale one gives 409.")
    name: Text = None


class LeadStatusIn(Schema):
    status: str = Field(..., json_schema_extra=_STATUSES)
    version: int
    reason: str | None = Field(None, max_length=200, description="Required to disqualify.")


class ConvertIn(Schema):
    version: int
    account_id: Id | None = Field(None, description="An existing account; default: a new one from the company.")
    account_name: str | None = Field(None, max_length=200, description="The new account's name.")
    contact_id: Id | None = Field(None, description="An existing contact; default: a new one from the lead.")
    create_opportunity: bool = True
    opportunity_name: str | None = Field(None, max_length=200)
    amount: Decimal | None = None
    currency: str | None = None
    pipeline_id: Id | None = None
    expected_close: dt.date | None = None


class LeadOut(Schema):
    id: int
    version: int
    name: str
    company: str
    title: str
    phone: str
    email: str
    source: str
    industry: str
    province: str
    city: str
    rating: str
    status: str
    disqualified_reason: str
    description: str
    owner: Ref | None
    team: Ref | None
    assigned_by_rule: Ref | None
    converted_at: dt.datetime | None
    converted_account: Ref | None
    converted_contact: Ref | None
    converted_opportunity: Ref | None
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPage(Schema):
    items: list[LeadOut]
    next: str | None


class LeadConflict(Schema):
    detail: str
    current: LeadOut


class LeadQuery(Schema):
    owner: list[str] = Field(default_factory=list, description="A user id, or `me`; repeat for several.")
    status: list[str] = Field(default_factory=list, json_schema_extra={"items": {"enum": list(LeadStatus.values)}})
    source: list[str] = Field(default_factory=list)
    rating: list[str] = Field(default_factory=list)
    q: str | None = Field(None, max_length=100, description="In name, company, phone or email.")
    sort: str = sort_field(LEAD_SORTS, "-updated_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class RuleIn(Schema):
    id: Id | None = Field(None, description="An existing rule to keep; omit for a new one.")
    name: str
    active: bool = True
    sources: list[str] = Field(default_factory=list, description="Empty: any source.")
    industries: list[str] = Field(default_factory=list, description="Empty: any industry.")
    provinces: list[str] = Field(default_factory=list, description="Empty: anywhere.")
    member_ids: list[Id] = Field(..., max_length=200, description="The reps who take turns, in order.")


class RulesIn(Schema):
    rules: list[RuleIn] = Field(..., max_length=100, description="Every rule, in the order they are tried.")


class RuleOut(Schema):
    id: int
    name: str
    active: bool
    sources: list[str]
    industries: list[str]
    provinces: list[str]
    members: list[Ref]
    last_user: Ref | None


class RulesOut(Schema):
    rules: list[RuleOut]


RELATED = ("owner", "team", "assigned_by_rule", "converted_account", "converted_contact", "converted_opportunity")


def lead_item(lead: Lead) -> dict[str, Any]:
    return {
        **{f: getattr(lead, f) for f in ("id", "version", "name", "company", "title", "phone", "email", "source",
                                          "industry", "province", "city", "rating", "status",
                                          "disqualified_reason", "description")},
        "owner": ref(lead.owner), "team": ref(lead.team), "assigned_by_rule": ref(lead.assigned_by_rule),
        "converted_at": utc(lead.converted_at), "converted_account": ref(lead.converted_account),
        "converted_contact": ref(lead.converted_contact), "converted_opportunity": ref(lead.converted_opportunity),
        "custom": lead.custom or {}, "created_at": utc(lead.created_at), "updated_at": utc(lead.updated_at),
    }


def _item(pk: int, user: User | None = None) -> dict[str, Any]:
    return lead_item(Lead.objects.select_related(*RELATED).get(pk=pk))


CONFLICT_SERIALIZERS[Lead] = _item


def visible_lead(request: HttpRequest, id: int) -> Lead:
    return get_object_or_404(Lead.objects.visible_to(actor(request)), pk=id)


def rules_out() -> dict[str, Any]:
    rules = LeadAssignmentRule.objects.select_related("last_user").prefetch_related("memberships__user")
    return {"rules": [{
        "id": r.pk, "name": r.name, "active": r.active, "sources": r.sources, "industries": r.industries,
        "provinces": r.provinces, "members": [ref(m.user) for m in r.memberships.all()], "last_user": ref(r.last_user),
    } for r in rules]}


@router.get("/leads", response={200: LeadPage, **ERRORS}, tags=TAG)
def list_leads(request: HttpRequest, params: Query[LeadQuery]):
    """Leads you may see. Filters combine with AND; repeat one for OR within it."""
    user = actor(request)
    qs = apply_lead_filters(Lead.objects.visible_to(user), request.GET, user).select_related(*RELATED)
    page = paginate(qs, sort=params.sort, allowed=LEAD_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([lead_item(lead) for lead in page.items], page.next_cursor)


@router.post("/leads", response={201: LeadOut, **WRITE}, tags=TAG)
def create_lead(request: HttpRequest, payload: LeadIn):
    """A new lead. Without `owner_id` the assignment rules choose its owner (you when no rule applies)."""
    lead = lead_services.create_lead(actor(request), payload.model_dump(exclude_unset=True), auto_assign=True)
    return Status(201, _item(lead.pk))


@router.get("/leads/{id}", response={200: LeadOut, **READ_ONE}, tags=TAG)
def get_lead(request: HttpRequest, id: Id):
    return _item(visible_lead(request, id).pk)


@router.patch("/leads/{id}", response={200: LeadOut, **WRITE_ONE, 409: LeadConflict}, tags=TAG)
def update_lead(request: HttpRequest, id: Id, payload: LeadPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return _item(lead_services.update_lead(actor(request), visible_lead(request, id), data, version).pk)


@router.post("/leads/{id}/status", response={200: LeadOut, **WRITE_ONE, 409: LeadConflict}, tags=TAG)
def set_lead_status(request: HttpRequest, id: Id, payload: LeadStatusIn):
    """Contacted (`working`), `qualified`, `disqualified` (with `reason`) or back to `new`."""
    lead = lead_services.set_lead_status(actor(request), visible_lead(request, id), payload.status, payload.version,
                                         payload.reason)
    return _item(lead.pk)


@router.post("/leads/{id}/convert", response={200: LeadOut, **WRITE_ONE, 409: LeadConflict}, tags=TAG)
def convert_lead(request: HttpRequest, id: Id, payload: ConvertIn):
    """Into an account, a contact and (unless `create_opportunity` is false) an opportunity, all or nothing;
    errors are keyed `account.*`, `contact.*` and `opportunity.*`."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return _item(lead_services.convert_lead(actor(request), visible_lead(request, id), data, version).pk)


@router.delete("/leads/{id}", response={204: None, **WRITE_ONE}, tags=TAG)
def delete_lead(request: HttpRequest, id: Id):
    lead_services.delete_lead(actor(request), visible_lead(request, id))
    return Status(204, None)


@router.get("/lead-assignment-rules", response={200: RulesOut, **ERRORS}, tags=TAG)
def get_rules(request: HttpRequest):
    """The rules new leads are assigned by, in the order they are tried."""
    actor(request)
    return rules_out()


@router.put("/lead-assignment-rules", response={200: RulesOut, **WRITE}, tags=TAG)
def put_rules(request: HttpRequest, payload: RulesIn):
    """Replace every rule (administrators only)."""
    lead_services.save_assignment_rules(actor(request), [r.model_dump() for r in payload.rules])
    return rules_out()

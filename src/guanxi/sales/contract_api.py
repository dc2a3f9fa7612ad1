"""REST resources of contracts: list (filters, keyset pages), create, read, change (with `version`), status
(activate, terminate) and renewal. A change with a stale version is a 409 with the current contract."""

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

from . import contract_services as cs
from .contract_models import Contract, ContractStatus
from .contract_views import CONTRACT_SORTS, filtered_contracts

router = Router()
TAG = ["contracts"]
VERSION = Field(..., description="The version you read; a stale one gives 409.")


class _ContractFields(Schema):
    title: str | None = Field(None, max_length=200)
    order_id: Id | None = Field(None, description="Fills account, value and currency when they are not given.")
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    value: Decimal | None = Field(None, description="Default: the order's total.")
    currency: str | None = Field(None, description="ISO 4217; default the order's, or CNY.")
    renewal_date: dt.date | None = None
    renewal_reminder_days: int | None = Field(None, ge=0, le=3650)
    notes: str | None = Field(None, max_length=5000)


class ContractIn(_ContractFields):
    account_id: Id | None = Field(None, description="Required unless an order is given.")
    status: str | None = Field(None, description="`active` to create it active; default draft.",
                               json_schema_extra={"enum": ["draft", "active"]})


class ContractPatch(_ContractFields):
    version: int = VERSION


class ContractStatusIn(Schema):
    version: int = VERSION
    status: str = Field(..., json_schema_extra={"enum": ["active", "terminated"]})


class RenewIn(Schema):
    version: int = VERSION
    start_date: dt.date | None = Field(None, description="Default: the day after this contract ends.")
    end_date: dt.date | None = Field(None, description="Default: a term as long as this one.")
    value: Decimal | None = None
    renewal_date: dt.date | None = None


class ContractOut(Schema):
    id: int
    version: int
    number: str
    title: str
    status: str
    account: Ref
    order: Ref | None
    start_date: dt.date
    end_date: dt.date
    value: str
    currency: str
    renewal_date: dt.date | None
    renewal_reminder_days: int
    previous_id: int | None = Field(description="The contract this one renews.")
    notes: str
    owner: Ref | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ContractPage(Schema):
    items: list[ContractOut]
    next: str | None


class ContractConflict(Schema):
    detail: str
    current: ContractOut


class ContractQuery(Schema):
    status: str | None = Field(None, json_schema_extra={"enum": list(ContractStatus.values)})
    account: Id | None = None
    q: str | None = Field(None, max_length=100, description="Part of the number or title.")
    sort: str = sort_field(CONTRACT_SORTS, "-updated_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


def contract_item(c: Contract) -> dict[str, Any]:
    return {"id": c.pk, "version": c.version, "number": c.number, "title": c.title, "status": c.status,
            "account": ref(c.account), "order": ref(c.order), "start_date": c.start_date, "end_date": c.end_date,
            "value": f"{c.value:.2f}", "currency": c.currency, "renewal_date": c.renewal_date,
            "renewal_reminder_days": c.renewal_reminder_days, "previous_id": c.previous_id, "notes": c.notes,
            "owner": ref(c.owner), "created_at": utc(c.created_at), "updated_at": utc(c.updated_at)}


RELATED = ("account", "order", "owner")


def _contract(pk: int, user: User | None = None) -> dict[str, Any]:
    return contract_item(Contract.objects.select_related(*RELATED).get(pk=pk))


CONFLICT_SERIALIZERS[Contract] = _contract


def visible_contract(request: HttpRequest, id: int) -> Contract:
    return get_object_or_404(Contract.objects.visible_to(actor(request)), pk=id)


@router.get("/contracts", response={200: ContractPage, **ERRORS}, tags=TAG)
def list_contracts(request: HttpRequest, params: Query[ContractQuery]):
    """Contracts you may see."""
    contracts = filtered_contracts(actor(request), params.model_dump(exclude_none=True)).select_related(*RELATED)
    page = paginate(contracts, sort=params.sort, allowed=CONTRACT_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([contract_item(c) for c in page.items], page.next_cursor)


@router.post("/contracts", response={201: ContractOut, **WRITE}, tags=TAG)
def create_contract(request: HttpRequest, payload: ContractIn):
    """A contract (yours), draft unless `status` is active."""
    contract = cs.create_contract(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, _contract(contract.pk))


@router.get("/contracts/{id}", response={200: ContractOut, **READ_ONE}, tags=TAG)
def get_contract(request: HttpRequest, id: Id):
    return _contract(visible_contract(request, id).pk)


@router.patch("/contracts/{id}", response={200: ContractOut, **WRITE_ONE, 409: ContractConflict}, tags=TAG)
def update_contract(request: HttpRequest, id: Id, payload: ContractPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    contract = cs.update_contract(actor(request), visible_contract(request, id), data, version)
    return _contract(contract.pk)


@router.post("/contracts/{id}/status", response={200: ContractOut, **WRITE_ONE, 409: ContractConflict}, tags=TAG)
def set_contract_status(request: HttpRequest, id: Id, payload: ContractStatusIn):
    """Activate a draft, or terminate a draft or active contract."""
    contract = cs.set_status(actor(request), visible_contract(request, id), payload.status, payload.version)
    return _contract(contract.pk)


@router.post("/contracts/{id}/renew", response={201: ContractOut, **WRITE_ONE, 409: ContractConflict}, tags=TAG)
def renew_contract(request: HttpRequest, id: Id, payload: RenewIn):
    """A new active contract for the next term, linked to this one (which becomes renewed)."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    new = cs.renew_contract(actor(request), visible_contract(request, id), data, version)
    return Status(201, _contract(new.pk))

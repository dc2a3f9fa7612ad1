"""REST resources for change approval and field rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from guanxi.core.api import CURSOR, ERRORS, LIMIT, READ_ONE, WRITE, WRITE_ONE, Id, actor, page_out, utc
from guanxi.core.paging import paginate

from . import approvals, field_rules
from .approval_models import ChangeRequest, RequestStatus
from .models import RecordKind

router = Router()
TAGS = ["change approval"]


class ChangeRequestOut(Schema):
    id: int
    kind: str = Field(..., json_schema_extra={"enum": RecordKind.values})
    object_id: int
    object_repr: str
    status: str = Field(..., json_schema_extra={"enum": RequestStatus.values})
    changes: dict[str, list[Any]] = Field(..., description="{field: [current value, requested value]}")
    requested_by: int | None
    requested_at: dt.datetime
    decided_by: int | None
    decided_at: dt.datetime | None
    reason: str


class ChangeRequestPage(Schema):
    items: list[ChangeRequestOut]
    next: str | None


class ChangeRequestQuery(Schema):
    status: str | None = Field(None, json_schema_extra={"enum": RequestStatus.values},
                               description="Only requests in this status; all when left out.")
    kind: str | None = Field(None, json_schema_extra={"enum": RecordKind.values})
    object_id: Id | None = Field(None, description="Only requests on this record (with `kind`).")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class RejectIn(Schema):
    reason: str = Field("", max_length=500)


class FieldRuleItem(Schema):
    field: str = Field(..., max_length=60)
    required: bool = False
    sensitive: bool = False
    pattern: str = Field("", max_length=200, description="A regular expression the whole value must match.")
    message: str = Field("", max_length=200, description="Shown when the value does not match the pattern.")


class FieldRuleOut(FieldRuleItem):
    label: str
    can_require: bool
    text: bool = Field(..., description="A pattern may be set (text fields).")


class FieldRulesIn(Schema):
    rules: list[FieldRuleItem] = Field(..., max_length=200,
                                       description="The complete set: fields left out lose their rule.")


class FieldRulesOut(Schema):
    kind: str
    rules: list[FieldRuleOut]


def request_out(r: ChangeRequest) -> dict[str, Any]:
    return {"id": r.pk, "kind": r.kind, "object_id": r.object_id, "object_repr": r.object_repr,
            "status": r.status, "changes": r.changes, "requested_by": r.requested_by_id,
            "requested_at": utc(r.requested_at), "decided_by": r.decided_by_id, "decided_at": utc(r.decided_at),
            "reason": r.reason}


def _kind(kind: str) -> str:
    if kind not in RecordKind.values:
        raise Http404
    return kind


@router.get("/change-requests", response={200: ChangeRequestPage, **ERRORS}, tags=TAGS)
def list_change_requests(request: HttpRequest, params: Query[ChangeRequestQuery]):
    """Your own requests and, for administrators and managers, the requests on records they may see;
    newest first."""
    qs = approvals.visible_requests(actor(request))
    errors = {}
    if params.status:
        if params.status not in RequestStatus.values:
            errors["status"] = [_("One of: %(choices)s.") % {"choices": ", ".join(RequestStatus.values)}]
        qs = qs.filter(status=params.status)
    if params.kind:
        if params.kind not in RecordKind.values:
            errors["kind"] = [_("One of: %(choices)s.") % {"choices": ", ".join(RecordKind.values)}]
        qs = qs.filter(kind=params.kind)
    if params.object_id:
        qs = qs.filter(object_id=params.object_id)
    if errors:
        raise ValidationError(errors)
    page = paginate(qs, sort="-id", allowed=["-id"], cursor=params.cursor, limit=params.limit)
    return page_out([request_out(r) for r in page.items], page.next_cursor)


def _visible(request: HttpRequest, id: int) -> ChangeRequest:
    obj = approvals.visible_requests(actor(request)).filter(pk=id).first()
    if obj is None:
        raise Http404
    return obj


@router.get("/change-requests/{id}", response={200: ChangeRequestOut, **READ_ONE}, tags=TAGS)
def get_change_request(request: HttpRequest, id: Id):
    return request_out(_visible(request, id))


@router.post("/change-requests/{id}/accept", response={200: ChangeRequestOut, **WRITE_ONE}, tags=TAGS)
def accept_change_request(request: HttpRequest, id: Id):
    """Apply the requested change (administrators and managers); 400 naming the fields that changed since the
    request was made."""
    return request_out(approvals.accept_request(actor(request), _visible(request, id).pk))


@router.post("/change-requests/{id}/reject", response={200: ChangeRequestOut, **WRITE_ONE}, tags=TAGS)
def reject_change_request(request: HttpRequest, id: Id, payload: RejectIn):
    return request_out(approvals.reject_request(actor(request), _visible(request, id).pk, payload.reason))


@router.post("/change-requests/{id}/withdraw", response={200: ChangeRequestOut, **WRITE_ONE}, tags=TAGS)
def withdraw_change_request(request: HttpRequest, id: Id):
    """Withdraw your own pending request."""
    return request_out(approvals.withdraw_request(actor(request), _visible(request, id).pk))


@router.get("/field-rules/{kind}", response={200: FieldRulesOut, **READ_ONE}, tags=TAGS)
def get_field_rules(request: HttpRequest, kind: str):
    """Every field of the record type that rules can name, with its rule."""
    return {"kind": _kind(kind), "rules": field_rules.current_rules(kind)}


@router.put("/field-rules/{kind}", response={200: FieldRulesOut, **WRITE, 404: READ_ONE[404]}, tags=TAGS)
def put_field_rules(request: HttpRequest, kind: str, payload: FieldRulesIn):
    """Replace the record type's rules (administrators)."""
    rules = field_rules.save_rules(actor(request), _kind(kind), [r.model_dump() for r in payload.rules])
    return {"kind": kind, "rules": rules}

"""REST resources of the phone channel: calls (keyset pages, filters), one call with its events, an event posted
with a token (the alternative to the signed webhook), and the queue metrics of a period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import CURSOR, ERRORS, LIMIT, READ_ONE, WRITE_ONE, Id, Ref, actor, page_out, ref, sort_field, utc
from guanxi.core.paging import paginate

from . import call_events as ce
from . import call_metrics
from .call_models import Call, PbxConnection
from .call_views import receive_event

router = Router()
TAG = ["calls"]
CALL_SORTS = ["-started_at", "started_at", "id", "-id"]


class CallOut(Schema):
    id: int
    source_id: int
    call_id: str
    direction: str
    status: str
    outcome: str = Field(description="answered, missed, abandoned or voicemail once the call ended; else empty.")
    caller: str
    callee: str
    number: str = Field(description="The customer's number, E.164 when it is a valid one.")
    contact: Ref | None
    account: Ref | None
    agent: Ref | None
    extension: str
    queue: str
    started_at: dt.datetime
    queued_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    wait_seconds: int | None
    duration_seconds: int | None
    transfers: int
    recording_url: str
    activity_id: int | None


class CallPage(Schema):
    items: list[CallOut]
    next: str | None


class CallQuery(Schema):
    direction: Literal["in", "out"] | None = None
    status: Literal["ringing", "queued", "answered", "ended"] | None = None
    outcome: Literal["answered", "missed", "abandoned", "voicemail"] | None = None
    contact: Id | None = None
    agent: Id | None = None
    queue: str | None = Field(None, max_length=100)
    since: dt.datetime | None = Field(None, description="Calls that started at or after this time.")
    until: dt.datetime | None = Field(None, description="Calls that started before this time.")
    sort: str = sort_field(CALL_SORTS, "-started_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class CallEventOut(Schema):
    kind: str
    at: dt.datetime
    extension: str


class CallDetailOut(CallOut):
    events: list[CallEventOut]


class CallEventIn(Schema):
    source: Id = Field(description="The PBX connection's id (Settings → Phone system).")
    call_id: str = Field(..., max_length=ce.MAX_ID)
    event: str = Field(..., json_schema_extra={"enum": list(ce.KINDS)})
    at: str = Field(..., max_length=40, description="ISO 8601 with a time zone.")
    id: str = Field("", max_length=ce.MAX_ID, description="The PBX's event id: a second event with it is ignored.")
    caller: str = Field("", max_length=ce.MAX_NUMBER)
    callee: str = Field("", max_length=ce.MAX_NUMBER)
    extension: str = Field("", max_length=ce.MAX_NUMBER)
    direction: str = Field("", json_schema_extra={"enum": ["", "in", "out"]})
    queue: str = Field("", max_length=100)
    recording_url: str = Field("", max_length=ce.MAX_URL)
    outcome: str = Field("", max_length=20, description="An outcome the PBX knows, e.g. voicemail.")


class CallEventResult(Schema):
    call: CallOut
    duplicate: bool


class CallMetricsQuery(Schema):
    period: str | None = Field(None, max_length=20, description="`2031-03`, `2031-Q1` or `2031`; default this month.")
    by: Literal["desk", "queue", "agent"] = "desk"


class CallMetricsRow(Schema):
    group: str | int | None = Field(description="The PBX queue's name, the agent's id, or null for the desk.")
    calls: int
    answered: int
    abandoned: int
    missed: int
    queued: int
    average_wait_seconds: Decimal | None
    abandonment_rate: Decimal | None
    resolved: int | None
    calls_per_resolution: Decimal | None


class CallMetricsOut(Schema):
    period: str
    by: str
    rows: list[CallMetricsRow]


def call_item(c: Call) -> dict[str, Any]:
    return {"id": c.pk, "source_id": c.source_id, "call_id": c.call_id, "direction": c.direction, "status": c.status,
            "outcome": c.outcome, "caller": c.caller, "callee": c.callee, "number": c.number,
            "contact": ref(c.contact), "account": ref(c.account), "agent": ref(c.owner), "extension": c.extension,
            "queue": c.queue, "started_at": utc(c.started_at), "queued_at": utc(c.queued_at),
            "answered_at": utc(c.answered_at), "ended_at": utc(c.ended_at), "wait_seconds": c.wait_seconds,
            "duration_seconds": c.duration_seconds, "transfers": c.transfers, "recording_url": c.recording_url,
            "activity_id": c.activity_id}


def _visible(request: HttpRequest):
    return Call.objects.visible_to(actor(request)).select_related("contact", "account", "owner")


@router.get("/calls", response={200: CallPage, **ERRORS}, tags=TAG)
def list_calls(request: HttpRequest, params: Query[CallQuery]):
    """Phone calls you may see (yours, your team's, your contacts'; the service desk sees all), newest first."""
    rows = _visible(request)
    for name in ("direction", "status", "outcome", "queue"):
        if getattr(params, name):
            rows = rows.filter(**{name: getattr(params, name)})
    if params.contact:
        rows = rows.filter(contact_id=params.contact)
    if params.agent:
        rows = rows.filter(owner_id=params.agent)
    if params.since:
        rows = rows.filter(started_at__gte=params.since)
    if params.until:
        rows = rows.filter(started_at__lt=params.until)
    page = paginate(rows, sort=params.sort, allowed=CALL_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([call_item(c) for c in page.items], page.next_cursor)


@router.get("/calls/metrics", response={200: CallMetricsOut, **ERRORS}, tags=TAG)
def get_call_metrics(request: HttpRequest, params: Query[CallMetricsQuery]):
    """Queue metrics of a period: average wait, abandonment rate, calls per resolution (see docs/api.md)."""
    from guanxi.sales.performance import bounds, period_param

    period = period_param(params.period)
    rows = call_metrics.call_queue_metrics(actor(request), *bounds(period), by=params.by)
    return {"period": period.label, "by": params.by, "rows": [{"group": g, **f} for g, f in rows.items()]}


@router.post("/calls/events", response={200: CallEventResult, 201: CallEventResult, **WRITE_ONE}, tags=TAG)
def post_call_event(request: HttpRequest, payload: CallEventIn):
    """Record a PBX event with an administrator's token (the same JSON as the webhook, plus `source`); an event
    already recorded (same id, or same kind, extension and time) is a 200 with `duplicate: true`."""
    source = get_object_or_404(PbxConnection.objects.visible_to(actor(request)), pk=payload.source)
    data = payload.dict()
    data.pop("source")
    try:
        call, new = receive_event(source, data)
    except ce.EventError as exc:
        raise ValidationError(exc.errors) from exc
    call = _visible(request).get(pk=call.pk)
    return Status(201 if new else 200, {"call": call_item(call), "duplicate": not new})


@router.get("/calls/{id}", response={200: CallDetailOut, **READ_ONE}, tags=TAG)
def get_call(request: HttpRequest, id: Id):
    """One call and the events that made it, in time order."""
    call = get_object_or_404(_visible(request), pk=id)
    events = [{"kind": e.kind, "at": utc(e.at), "extension": e.extension} for e in call.events.all()]
    return {**call_item(call), "events": events}

"""REST resources for the sales pipeline: opportunities (lists, CRUD, the board's move, reopen), pipelines and
stages (administrators change them), the board's columns and the weighted forecast. See docs/api.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
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

from . import queries, services
from .filters import OPPORTUNITY_SORTS, apply_filters, next_month, parse_month
from .models import Opportunity, Pipeline, Stage, StageKind

router = Router()
TAG = ["opportunities"]
PIPELINE_TAG = ["pipelines"]
_KINDS = {"enum": list(StageKind.values)}
Text = str | None

# ------------------------------------------------------------------ schemas


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    kind: str


class PipelineOut(Schema):
    id: int
    name: str
    currency: str
    is_default: bool
    stages: list[StageOut]


class PipelineList(Schema):
    items: list[PipelineOut]
    next: str | None


class StageIn(Schema):
    name: str
    probability: int = Field(0, ge=0, le=100)
    kind: str = Field("open", json_schema_extra=_KINDS)
    position: int | None = Field(None, ge=0, le=1000, description="Where to insert (0 = first); default last.")


class StagePatch(Schema):
    name: Text = None
    probability: int | None = Field(None, ge=0, le=100)
    kind: str | None = Field(None, json_schema_extra=_KINDS)


class PipelineIn(Schema):
    name: str
    currency: str = Field("CNY", description="ISO 4217 code.")
    is_default: bool = False
    stages: list[StageIn] | None = Field(None, max_length=50, description="Default: the standard stages.")


class PipelinePatch(Schema):
    name: Text = None
    currency: Text = None
    is_default: bool | None = None


class StageOrderIn(Schema):
    stage_ids: list[Id] = Field(..., max_length=100, description="Every stage of the pipeline, in the new order.")


class _OpportunityFields(Schema):
    contact_id: Id | None = None
    pipeline_id: Id | None = Field(None, description="Default: the default pipeline.")
    stage_id: Id | None = Field(None, description="Default: the pipeline's first open stage.")
    amount: Decimal | None = Field(None, description="At least 0, two decimals.")
    currency: Text = Field(None, description="ISO 4217 code; default the pipeline's.")
    expected_close: dt.date | None = None
    probability: int | None = Field(None, ge=0, le=100, description="Percent; default the stage's.")
    lost_reason: Text = None
    competitors: Text = None
    description: Text = None
    owner_id: Id | None = None
    custom: dict[str, Any] | None = None


class OpportunityIn(_OpportunityFields):
    name: str
    account_id: Id


class OpportunityPatch(_OpportunityFields):
    version: int = Field(..., description="The version you read; a stale one gives 409.")
    name: Text = None
    account_id: Id | None = None


class MoveIn(Schema):
    stage_id: Id
    version: int = Field(..., description="The version you read; a stale one gives 409.")
    lost_reason: str | None = Field(None, max_length=200, description="Required when moving to a lost stage.")


class ReopenIn(Schema):
    version: int
    stage_id: Id | None = Field(None, description="An open stage; default the first.")


class OpportunityOut(Schema):
    id: int
    version: int
    name: str
    account: Ref
    contact: Ref | None
    pipeline: Ref
    stage: StageOut
    status: str
    amount: str = Field(description="Decimal as text, two decimals.")
    currency: str
    expected_close: dt.date | None
    probability: int
    lost_reason: str
    competitors: str
    description: str
    closed_at: dt.datetime | None
    owner: Ref | None
    team: Ref | None
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next: str | None


class OpportunityConflict(Schema):
    detail: str
    current: OpportunityOut


class OpportunityQuery(Schema):
    owner: list[str] = Field(default_factory=list, description="A user id, or `me`; repeat for several.")
    pipeline: list[Id] = Field(default_factory=list)
    stage: list[Id] = Field(default_factory=list)
    account: list[Id] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list, json_schema_extra={"items": _KINDS})
    close_month: str | None = Field(None, description="Expected to close in this month (YYYY-MM).",
                                    json_schema_extra={"pattern": r"^\d{4}-\d{2}$"})
    sort: str = sort_field(OPPORTUNITY_SORTS, "-updated_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class ColumnOut(Schema):
    stage: StageOut
    count: int
    total: str
    cards: list[OpportunityOut]
    next: str | None = Field(description="Pass as `cursor` with `stage` for the column's next cards.")


class BoardOut(Schema):
    pipeline: Ref
    columns: list[ColumnOut]


class BoardQuery(Schema):
    stage: Id | None = Field(None, description="Only this column (with `cursor`: its next cards).")
    limit: int = Field(queries.CARDS_PER_COLUMN, ge=1, le=100)
    cursor: str | None = CURSOR


class ForecastRow(Schema):
    group_id: int | None
    group: str
    month: dt.date | None = Field(description="First day of the month of expected close; null: no date.")
    currency: str
    count: int
    amount: str
    weighted: str = Field(description="Σ amount × probability / 100.")
    won: str


class ForecastOut(Schema):
    by: str
    rows: list[ForecastRow]


class ForecastQuery(Schema):
    by: str = Field("owner", json_schema_extra={"enum": list(queries.FORECAST_GROUPS)})
    pipeline: Id | None = None
    start: str | None = Field(None, description="From this month (YYYY-MM).", json_schema_extra={
        "pattern": r"^\d{4}-\d{2}$"})
    end: str | None = Field(None, description="Up to and including this month (YYYY-MM).", json_schema_extra={
        "pattern": r"^\d{4}-\d{2}$"})


# ------------------------------------------------------------------ serialisation


def stage_item(stage: Stage) -> dict[str, Any]:
    return {"id": stage.pk, "name": stage.name, "position": stage.position, "probability": stage.probability,
            "kind": stage.kind}


def pipeline_item(pipeline: Pipeline) -> dict[str, Any]:
    return {"id": pipeline.pk, "name": pipeline.name, "currency": pipeline.currency,
            "is_default": pipeline.is_default, "stages": [stage_item(s) for s in pipeline.stages.all()]}


def opportunity_item(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.pk, "version": o.version, "name": o.name, "account": ref(o.account), "contact": ref(o.contact),
        "pipeline": ref(o.pipeline), "stage": stage_item(o.stage), "status": o.status, "amount": f"{o.amount:.2f}",
        "currency": o.currency, "expected_close": o.expected_close, "probability": o.probability,
        "lost_reason": o.lost_reason, "competitors": o.competitors, "description": o.description,
        "closed_at": utc(o.closed_at), "owner": ref(o.owner), "team": ref(o.team), "custom": o.custom or {},
        "created_at": utc(o.created_at), "updated_at": utc(o.updated_at),
    }


RELATED = ("account", "contact", "pipeline", "stage", "owner", "team")


def _item(pk: int, user: User | None = None) -> dict[str, Any]:
    return opportunity_item(Opportunity.objects.select_related(*RELATED).get(pk=pk))


CONFLICT_SERIALIZERS[Opportunity] = _item


def visible_opportunity(request: HttpRequest, id: int) -> Opportunity:
    """The opportunity, or 404 when it does not exist or the user may not see it."""
    return get_object_or_404(Opportunity.objects.visible_to(actor(request)), pk=id)


def _pipeline(id: int) -> Pipeline:
    return get_object_or_404(Pipeline, pk=id)


# ------------------------------------------------------------------ opportunities


@router.get("/opportunities", response={200: OpportunityPage, **ERRORS}, tags=TAG)
def list_opportunities(request: HttpRequest, params: Query[OpportunityQuery]):
    """Opportunities you may see. Filters combine with AND; repeat one for OR within it."""
    user = actor(request)
    qs = apply_filters(Opportunity.objects.visible_to(user), request.GET, user).select_related(*RELATED)
    page = paginate(qs, sort=params.sort, allowed=OPPORTUNITY_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([opportunity_item(o) for o in page.items], page.next_cursor)


@router.post("/opportunities", response={201: OpportunityOut, **WRITE}, tags=TAG)
def create_opportunity(request: HttpRequest, payload: OpportunityIn):
    opp = services.create_opportunity(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, _item(opp.pk))


@router.get("/opportunities/{id}", response={200: OpportunityOut, **READ_ONE}, tags=TAG)
def get_opportunity(request: HttpRequest, id: Id):
    return _item(visible_opportunity(request, id).pk)


@router.patch("/opportunities/{id}", response={200: OpportunityOut, **WRITE_ONE, 409: OpportunityConflict},
              tags=TAG)
def update_opportunity(request: HttpRequest, id: Id, payload: OpportunityPatch):
    """Change the fields sent (and only those); `version` must be the one you read. A new `stage_id` follows
    the rules of `move`."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    opp = services.update_opportunity(actor(request), visible_opportunity(request, id), data, version)
    return _item(opp.pk)


@router.delete("/opportunities/{id}", response={204: None, **WRITE_ONE}, tags=TAG)
def delete_opportunity(request: HttpRequest, id: Id):
    services.delete_opportunity(actor(request), visible_opportunity(request, id))
    return Status(204, None)


@router.post("/opportunities/{id}/move", response={200: OpportunityOut, **WRITE_ONE, 409: OpportunityConflict},
             tags=TAG)
def move_opportunity(request: HttpRequest, id: Id, payload: MoveIn):
    """The board's drag and drop: to another stage of the same pipeline. A lost stage needs `lost_reason`;
    a won or lost opportunity must be reopened first. A refused move is a 400 and changes nothing."""
    opp = services.move_stage(actor(request), visible_opportunity(request, id), payload.stage_id, payload.version,
                              payload.lost_reason)
    return _item(opp.pk)


@router.post("/opportunities/{id}/reopen", response={200: OpportunityOut, **WRITE_ONE, 409: OpportunityConflict},
             tags=TAG)
def reopen_opportunity(request: HttpRequest, id: Id, payload: ReopenIn):
    """A won or lost opportunity back to an open stage."""
    opp = services.reopen(actor(request), visible_opportunity(request, id), payload.version, payload.stage_id)
    return _item(opp.pk)


# ------------------------------------------------------------------ pipelines and stages


@router.get("/pipelines", response={200: PipelineList, **ERRORS}, tags=PIPELINE_TAG)
def list_pipelines(request: HttpRequest):
    """Every pipeline with its stages in order (the default first)."""
    return page_out([pipeline_item(p) for p in Pipeline.objects.prefetch_related("stages")], None)


@router.post("/pipelines", response={201: PipelineOut, **WRITE}, tags=PIPELINE_TAG)
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    """A new pipeline (administrators only), with the stages given or the standard ones."""
    pipeline = services.create_pipeline(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, pipeline_item(pipeline))


@router.get("/pipelines/{id}", response={200: PipelineOut, **READ_ONE}, tags=PIPELINE_TAG)
def get_pipeline(request: HttpRequest, id: Id):
    return pipeline_item(_pipeline(id))


@router.patch("/pipelines/{id}", response={200: PipelineOut, **WRITE_ONE}, tags=PIPELINE_TAG)
def update_pipeline(request: HttpRequest, id: Id, payload: PipelinePatch):
    """Rename, change the currency or make it the default (administrators only)."""
    return pipeline_item(services.update_pipeline(actor(request), _pipeline(id),
                                                  payload.model_dump(exclude_unset=True)))


@router.delete("/pipelines/{id}", response={204: None, **WRITE_ONE}, tags=PIPELINE_TAG)
def delete_pipeline(request: HttpRequest, id: Id):
    """Refused while it holds opportunities or is the default (administrators only)."""
    services.delete_pipeline(actor(request), _pipeline(id))
    return Status(204, None)


@router.post("/pipelines/{id}/stages", response={201: StageOut, **WRITE_ONE}, tags=PIPELINE_TAG)
def add_stage(request: HttpRequest, id: Id, payload: StageIn):
    stage = services.add_stage(actor(request), _pipeline(id), payload.model_dump(exclude_unset=True))
    return Status(201, stage_item(stage))


@router.put("/pipelines/{id}/stage-order", response={200: PipelineOut, **WRITE_ONE}, tags=PIPELINE_TAG)
def reorder_stages(request: HttpRequest, id: Id, payload: StageOrderIn):
    pipeline = _pipeline(id)
    services.reorder_stages(actor(request), pipeline, payload.stage_ids)
    return pipeline_item(pipeline)


@router.patch("/stages/{id}", response={200: StageOut, **WRITE_ONE}, tags=PIPELINE_TAG)
def update_stage(request: HttpRequest, id: Id, payload: StagePatch):
    """Rename, default probability, or kind (only of a stage holding no opportunities)."""
    stage = services.update_stage(actor(request), get_object_or_404(Stage, pk=id),
                                  payload.model_dump(exclude_unset=True))
    return stage_item(stage)


@router.delete("/stages/{id}", response={204: None, **WRITE_ONE}, tags=PIPELINE_TAG)
def delete_stage(request: HttpRequest, id: Id):
    """Refused while the stage holds opportunities, and for a pipeline's last open stage."""
    services.delete_stage(actor(request), get_object_or_404(Stage, pk=id))
    return Status(204, None)


@router.get("/pipelines/{id}/board", response={200: BoardOut, **READ_ONE}, tags=PIPELINE_TAG)
def pipeline_board(request: HttpRequest, id: Id, params: Query[BoardQuery]):
    """The kanban board: per stage the count and sum of the opportunities you may see, and their first cards
    (newest change first). With `stage` and `cursor`: that column's next cards."""
    user = actor(request)
    pipeline = _pipeline(id)
    if params.stage is None:
        columns = queries.board(user, pipeline, limit=params.limit)
    else:
        stage = get_object_or_404(Stage, pk=params.stage, pipeline=pipeline)
        page = queries.card_page(user, stage, params.cursor, params.limit)
        columns = [queries.Column(stage=stage, count=-1, page=page, cards=page.items)]
    return {"pipeline": ref(pipeline), "columns": [
        {"stage": stage_item(col.stage), "count": col.count, "total": f"{col.total:.2f}",
         "cards": [opportunity_item(c) for c in col.cards], "next": col.page.next_cursor}
        for col in columns]}


@router.get("/forecast", response={200: ForecastOut, **ERRORS}, tags=TAG)
def forecast(request: HttpRequest, params: Query[ForecastQuery]):
    """The weighted forecast of the opportunities you may see (lost ones left out), per owner or team, month of
    expected close and currency: count, amount, amount × probability, and the amount won."""
    errors: dict[str, list[str]] = {}
    start = parse_month(params.start, "start", errors) if params.start else None
    end = parse_month(params.end, "end", errors) if params.end else None
    pipeline = Pipeline.objects.filter(pk=params.pipeline).first() if params.pipeline else None
    if params.pipeline and pipeline is None:
        errors["pipeline"] = [_("No such pipeline.")]
    if params.by not in queries.FORECAST_GROUPS:
        errors["by"] = [_("Group by owner or team.")]
    if errors:
        raise ValidationError(errors)
    rows = queries.forecast(actor(request), by=params.by, pipeline=pipeline, start=start,
                            end=next_month(end) if end else None)
    return {"by": params.by, "rows": [{**r, "amount": f"{r['amount']:.2f}", "weighted": f"{r['weighted']:.2f}",
                                       "won": f"{r['won']:.2f}"} for r in rows]}

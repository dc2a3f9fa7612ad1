"""REST resources of the KPI dashboard and of target customers: GET /analytics/kpis (every KPI for a period
beside its target and a baseline), PUT /analytics/kpis/{key}/target (administrators), and
GET /analytics/products/{id}/targets, POST …/targets/tasks and …/targets/tag."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from guanxi.core.api import ERRORS, READ_ONE, WRITE_ONE, Id, actor
from guanxi.sales.catalog_models import Product

from . import kpi_services as kpis
from . import ptc_services as targets
from .kpi_registry import DOWN, UP

router = Router()
TAG = ["analytics"]


class AnalyticsKpiQuery(Schema):
    period: str | None = Field(None, max_length=20, description="`2031-03`, `2031-Q1` or `2031`; default: this month.")
    baseline: str | None = Field(None, max_length=20, description="Default: the same period last year.")


class AnalyticsKpiPointOut(Schema):
    period: str
    value: Decimal | float | int | None


class AnalyticsKpiOut(Schema):
    key: str
    label: str
    group: str
    unit: str
    better: str = Field(..., json_schema_extra={"enum": [UP, DOWN]})
    help: str
    value: Decimal | float | int | None = Field(..., description="null: no data for the period.")
    target: Decimal | None
    baseline: Decimal | float | int | None
    change: Decimal | None = Field(..., description="Change against the baseline, in percent.")
    status: str = Field(..., json_schema_extra={"enum": ["good", "near", "bad", "none"]})
    improved: bool | None
    trend: list[AnalyticsKpiPointOut]


class AnalyticsKpiDashboardOut(Schema):
    period: str
    baseline: str
    items: list[AnalyticsKpiOut]


class AnalyticsKpiTargetIn(Schema):
    target: Decimal | None = Field(..., description="null removes the target. Per month for additive KPIs.")


class AnalyticsKpiTargetOut(Schema):
    key: str
    target: Decimal | None


@router.get("/analytics/kpis", response={200: AnalyticsKpiDashboardOut, **ERRORS}, tags=TAG)
def get_kpis(request: HttpRequest, params: Query[AnalyticsKpiQuery]):
    """Every KPI over the records you may see: value, target, baseline, change, status and a six-period trend."""
    period, baseline = kpis.parse_periods(params.period, params.baseline)
    return {"period": period.label, "baseline": baseline.label,
            "items": [r.as_dict() for r in kpis.dashboard(actor(request), period, baseline)]}


@router.put("/analytics/kpis/{key}/target", response={200: AnalyticsKpiTargetOut, **WRITE_ONE}, tags=TAG)
def put_kpi_target(request: HttpRequest, key: str, payload: AnalyticsKpiTargetIn):
    """Set or remove a KPI's target (administrators)."""
    found = kpis.set_target(actor(request), key, payload.target)
    return {"key": key, "target": found.target if found else None}


class PtcQuery(Schema):
    top: int = Field(targets.TOP, ge=1, le=targets.MAX_TOP)
    include_buyers: bool = False


class PtcReasonOut(Schema):
    product_id: int
    product: str
    similarity: float


class PtcRowOut(Schema):
    account_id: int
    account: str
    owner_id: int | None
    score: float
    bought: bool
    reasons: list[PtcReasonOut]


class PtcOut(Schema):
    product_id: int
    method: str = Field(..., description="`model` (logistic on similarity and RFM), `cf` (similarity), or empty.")
    buyers: int
    message: str
    items: list[PtcRowOut]


def _ptc_out(found: targets.Targets) -> dict[str, Any]:
    return {"product_id": found.product.pk, "method": found.method, "buyers": found.buyers, "message": found.message,
            "items": [{"account_id": r.account.pk, "account": r.account.name, "owner_id": r.account.owner_id,
                       "score": r.score, "bought": r.bought,
                       "reasons": [{"product_id": p.pk, "product": p.name, "similarity": w}
                                   for p, w in r.reasons if p]} for r in found.rows]}


@router.get("/analytics/products/{id}/targets", response={200: PtcOut, **READ_ONE}, tags=TAG)
def get_targets(request: HttpRequest, id: Id, params: Query[PtcQuery]):
    """The accounts you may see most likely to buy the product, best first, with the products behind each score."""
    product = get_object_or_404(Product, pk=id)
    return _ptc_out(targets.target_customers(actor(request), product, params.top, params.include_buyers))


class PtcActionIn(Schema):
    top: int = Field(targets.TOP, ge=1, le=targets.MAX_TOP)


class PtcTagIn(PtcActionIn):
    tag: str = Field(..., min_length=1, max_length=50)


class PtcTasksOut(Schema):
    created_task_ids: list[int]
    skipped: int


class PtcTagOut(Schema):
    tagged: int


@router.post("/analytics/products/{id}/targets/tasks", response={200: PtcTasksOut, **WRITE_ONE}, tags=TAG)
def post_target_tasks(request: HttpRequest, id: Id, payload: PtcActionIn):
    """A call list: a task for the owner of each of the top accounts you may edit (once while it is open)."""
    tasks, skipped = targets.make_call_list(actor(request), get_object_or_404(Product, pk=id), payload.top)
    return {"created_task_ids": [t.pk for t in tasks], "skipped": skipped}


@router.post("/analytics/products/{id}/targets/tag", response={200: PtcTagOut, **WRITE_ONE}, tags=TAG)
def post_target_tag(request: HttpRequest, id: Id, payload: PtcTagIn):
    """Save the list as a segment: the top accounts you may edit get the tag."""
    return {"tagged": targets.save_segment(actor(request), get_object_or_404(Product, pk=id), payload.tag,
                                           payload.top)}

"""REST resources for the analytics: /analytics/scores/{account_id}, /analytics/grid (and a cell's accounts),
/analytics/playbooks (list, change: administrators; run), POST /analytics/score (start the scoring job).
Everything counts only the accounts the caller may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import CURSOR, ERRORS, LIMIT, READ_ONE, WRITE, WRITE_ONE, Id, actor, page_out
from guanxi.customers.models import Account

from . import playbook_services as books
from .playbook_models import Playbook, PlaybookActionKind
from .score_jobs import start_scoring
from .score_models import CustomerScore

router = Router()
TAG = ["analytics"]


class ReasonOut(Schema):
    feature: str
    value: Any = None
    contribution: float | None = None


class ScoreOut(Schema):
    account_id: int
    as_of: dt.date
    recency_days: int
    frequency: int
    monetary: float
    r_score: int
    f_score: int
    m_score: int
    segment: str
    segment_label: str
    p_alive: float | None
    expected_orders: float | None = Field(..., description="Expected orders in the next 12 months.")
    clv: float | None = Field(..., description="Discounted lifetime value over the next 12 months.")
    churn_risk: float
    reasons: list[ReasonOut]
    value_band: str
    risk_band: str
    scored_at: dt.datetime


def score_item(s: CustomerScore) -> dict[str, Any]:
    return {**{f: getattr(s, f) for f in ScoreOut.model_fields if f not in ("reasons", "segment_label")},
            "segment_label": s.segment_label, "reasons": s.reasons or []}


class PlaybookOut(Schema):
    id: int
    value_band: str
    risk_band: str
    action: str = Field(..., json_schema_extra={"enum": PlaybookActionKind.values})
    title: str
    description: str
    due_hours: int
    tag: str | None


def playbook_item(p: Playbook) -> dict[str, Any]:
    return {"id": p.pk, "value_band": p.value_band, "risk_band": p.risk_band, "action": p.action, "title": p.title,
            "description": p.description, "due_hours": p.due_hours, "tag": p.tag.name if p.tag else None}


class CellOut(Schema):
    cell: str = Field(..., description="`value-risk`, e.g. `high-high`.")
    value_band: str
    risk_band: str
    count: int
    clv: float = Field(..., description="Total 12-month lifetime value of the cell's accounts.")
    playbook: PlaybookOut


class GridOut(Schema):
    cells: list[CellOut]


class CellAccountsQuery(Schema):
    sort: str = Field(books.DRILL_SORTS[0], json_schema_extra={"enum": books.DRILL_SORTS})
    limit: int = LIMIT
    cursor: str | None = CURSOR


class ScorePage(Schema):
    items: list[ScoreOut]
    next: str | None


class PlaybookPatch(Schema):
    action: str | None = Field(None, json_schema_extra={"enum": PlaybookActionKind.values})
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    due_hours: int | None = Field(None, ge=1, le=24 * 365)
    tag: str | None = Field(None, max_length=50, description="The tag a `tag` playbook adds.")


class PlaybookList(Schema):
    items: list[PlaybookOut]


class RunOut(Schema):
    playbook: PlaybookOut
    created_task_ids: list[int]
    tagged_account_ids: list[int]
    skipped: int


class ScoringJobOut(Schema):
    id: str
    kind: str
    status: str
    label: str


@router.get("/analytics/scores/{account_id}", response={200: ScoreOut, **READ_ONE}, tags=TAG)
def get_score(request: HttpRequest, account_id: Id):
    """An account's scores; 404 when you may not see the account or it has not been scored."""
    account = get_object_or_404(Account.objects.visible_to(actor(request)), pk=account_id)
    return score_item(get_object_or_404(CustomerScore, account=account))


@router.get("/analytics/grid", response={200: GridOut, **ERRORS}, tags=TAG)
def get_grid(request: HttpRequest):
    """The value × risk grid over the accounts you may see, with each cell's playbook."""
    found = books.playbooks()
    return {"cells": [{"cell": c.key, "value_band": c.value_band, "risk_band": c.risk_band, "count": c.count,
                       "clv": c.clv, "playbook": playbook_item(found[(c.value_band, c.risk_band)])}
                      for c in books.grid(actor(request))]}


@router.get("/analytics/grid/{cell}/accounts", response={200: ScorePage, **READ_ONE}, tags=TAG)
def list_cell_accounts(request: HttpRequest, cell: str, params: Query[CellAccountsQuery]):
    """The scores of a cell's accounts you may see (`high-high`, `high-low`, `low-high`, `low-low`), paged."""
    value_band, risk_band = books.parse_cell(cell)
    page = books.cell_accounts(actor(request), value_band, risk_band, sort=params.sort, cursor=params.cursor,
                               limit=params.limit)
    return page_out([score_item(s) for s in page.items], page.next_cursor)


@router.get("/analytics/playbooks", response={200: PlaybookList, **ERRORS}, tags=TAG)
def list_playbooks(request: HttpRequest):
    return {"items": [playbook_item(p) for p in books.playbooks().values()]}


@router.patch("/analytics/playbooks/{id}", response={200: PlaybookOut, **WRITE_ONE}, tags=TAG)
def update_playbook(request: HttpRequest, id: Id, payload: PlaybookPatch):
    """Change what a cell's playbook does (administrators)."""
    playbook = get_object_or_404(Playbook, pk=id)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None or k == "tag"}
    return playbook_item(books.update_playbook(actor(request), playbook, data))


@router.post("/analytics/playbooks/{id}/run", response={200: RunOut, **WRITE_ONE}, tags=TAG)
def run_playbook(request: HttpRequest, id: Id):
    """Apply the playbook to its cell's accounts you may edit; accounts that already have its open task (or
    its tag) are skipped, so running it again creates nothing more."""
    result = books.run_playbook(actor(request), get_object_or_404(Playbook, pk=id))
    return {"playbook": playbook_item(result.playbook), "created_task_ids": [t.pk for t in result.tasks],
            "tagged_account_ids": [a.pk for a in result.tagged], "skipped": result.skipped}


@router.post("/analytics/score", response={202: ScoringJobOut, **WRITE}, tags=TAG)
def start_score(request: HttpRequest):
    """Start scoring every customer (administrators); the job already queued or running is returned instead."""
    job = start_scoring(actor(request))
    return Status(202, {"id": str(job.pk), "kind": job.kind, "status": job.status, "label": job.label})

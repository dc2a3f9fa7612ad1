"""REST resources of satisfaction surveys (read-only for staff): a ticket's answer, and the averages per agent
and per queue over a period. The same visibility as the pages: another's ticket is a 404."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from guanxi.core.api import READ_ONE, Id, actor

from . import csat_services
from .api import visible_ticket
from .csat_models import SatisfactionResponse

router = Router()
TAG = ["satisfaction"]


class SatisfactionOut(Schema):
    ticket_id: int
    answered: bool
    score: int | None
    comment: str
    agent_id: int | None
    queue_id: int | None
    at: dt.datetime | None


class CsatRowOut(Schema):
    id: int | None
    name: str
    responses: int
    average: float


class CsatOut(Schema):
    period: str
    responses: int
    average: float | None
    agents: list[CsatRowOut]
    queues: list[CsatRowOut]


class CsatQuery(Schema):
    period: str = Field("30d", json_schema_extra={"enum": list(csat_services.PERIODS)},
                        description="7d, 30d, 90d, 365d or all.")


@router.get("/tickets/{id}/satisfaction", response={200: SatisfactionOut, **READ_ONE}, tags=TAG)
def ticket_satisfaction(request: HttpRequest, id: Id):
    """The customer's survey answer for this ticket (`answered` false until they answer)."""
    ticket = visible_ticket(request, id)
    answer = SatisfactionResponse.objects.filter(ticket=ticket).first()
    if answer is None:
        return {"ticket_id": ticket.pk, "answered": False, "score": None, "comment": "", "agent_id": None,
                "queue_id": None, "at": None}
    return {"ticket_id": ticket.pk, "answered": True, "score": answer.score, "comment": answer.comment,
            "agent_id": answer.agent_id, "queue_id": answer.queue_id, "at": answer.at}


@router.get("/service/csat", response={200: CsatOut, **READ_ONE}, tags=TAG)
def csat_report(request: HttpRequest, params: Query[CsatQuery]):
    """Average satisfaction overall, per agent and per queue, over the tickets you may see."""
    report = csat_services.averages(actor(request), params.period)
    return {**report, "agents": [vars(r) for r in report["agents"]], "queues": [vars(r) for r in report["queues"]]}

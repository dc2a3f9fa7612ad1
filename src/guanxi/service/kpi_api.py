"""GET /service/kpis: the service KPIs of a period beside a baseline, per agent, per queue or for the desk."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from guanxi.core.api import ERRORS, actor

from . import kpis

router = Router()


class KpiQuery(Schema):
    period: str | None = Field(None, max_length=20, description="A month `2031-03`, a quarter `2031-Q1` or a year "
                               "`2031`; default: this month.")
    baseline: str | None = Field(None, max_length=20, description="Compared period; default: the period before.")
    by: str | None = Field(None, max_length=10, description="`agent` (default), `queue` or `desk`.")


class KpiFigures(Schema):
    created: int
    responded: int
    first_response_hours: Decimal | None
    resolved: int
    resolution_hours: Decimal | None
    contacts_per_resolution: Decimal | None
    first_contact_resolution: Decimal | None
    sla_compliance: Decimal | None
    reopen_rate: Decimal | None
    backlog: int
    csat_responses: int
    csat_average: Decimal | None = Field(description="Mean survey score, 1–5.")
    csat_satisfied: Decimal | None = Field(description="Share of answers scoring 4 or 5, in percent.")


class KpiRow(Schema):
    group: int | str | None = Field(description="The agent's or queue's id, null for none, `total` for all.")
    label: str
    current: KpiFigures
    baseline: KpiFigures
    change: dict[str, Decimal | None]


class CallKpiFigures(Schema):
    calls: int = Field(description="Inbound calls that started in the period.")
    answered: int
    abandoned: int
    missed: int = Field(description="Not answered and never queued (voicemail included).")
    queued: int = Field(description="Calls that were queued and then answered or abandoned.")
    average_wait_seconds: Decimal | None = Field(description="Mean time in the queue until answered or given up.")
    abandonment_rate: Decimal | None = Field(description="Share of queued calls abandoned, in percent.")
    resolved: int | None = Field(description="Tickets resolved in the period (null per PBX queue).")
    calls_per_resolution: Decimal | None = Field(description="Answered calls per ticket resolved.")


class CallKpiRow(Schema):
    group: str = Field(description="The PBX queue's name, empty for calls never queued, `total` for all.")
    label: str
    current: CallKpiFigures | None
    baseline: CallKpiFigures | None


class KpiOut(Schema):
    period: str
    baseline: str
    by: str
    rows: list[KpiRow]
    calls: list[CallKpiRow] = Field(description="The phone queues (contact centre), each PBX queue then the total.")


@router.get("/service/kpis", response={200: KpiOut, **ERRORS}, tags=["service"])
def get_kpis(request: HttpRequest, params: Query[KpiQuery]):
    """Service KPIs over the tickets the caller may see; bad parameters are a 400 naming them."""
    period, baseline, grouping = kpis.parse_request(params.period, params.baseline, params.by)
    rows = kpis.report(actor(request), period, baseline, grouping)
    kpis.label_groups(rows, grouping)
    from guanxi.contact_center.call_metrics import phone_report

    return {"period": period.label, "baseline": baseline.label, "by": grouping, "rows": rows,
            "calls": phone_report(actor(request), period, baseline)}

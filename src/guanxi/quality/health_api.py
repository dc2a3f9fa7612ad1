"""GET /api/v1/data-health: the data-health figures for the records the caller may see."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from ninja import Field, Query, Router, Schema

from guanxi.core.api import ERRORS, actor

from . import health

router = Router()


class HealthQuery(Schema):
    # Text, parsed by the service: its message is the one the page shows, and "abc" is a 400 naming `months`.
    months: str = Field("", max_length=10, description="Add a decay threshold of N months (1–240) to 6, 12, 24.")


class FigureOut(Schema):
    key: str
    count: int
    total: int
    share: float | None
    list_url: str = Field(description="The web list of the records behind the figure.")


class KindOut(Schema):
    total: int
    completeness: list[FigureOut] = Field(description="count = records with a value in the field.")
    invalid: list[FigureOut]
    decay: list[FigureOut] = Field(description="key = months; count = records not updated since then.")
    duplicates_waiting: int
    duplicates_url: str


class BouncedOut(Schema):
    tracked: bool
    count: int | None


class HealthOut(Schema):
    months: list[int]
    monthly_decay_rate: float
    expected_monthly_decay: float = Field(description="An estimate: contacts × the monthly decay rate.")
    bounced_emails: BouncedOut
    contact: KindOut
    account: KindOut


def _figures(kind: str, figures: list[health.Figure]) -> list[dict[str, Any]]:
    base = reverse(f"customers:{kind}_list")
    return [{"key": f.key, "count": f.count, "total": f.total, "share": f.share,
             "list_url": f"{base}?{urlencode(f.params)}"} for f in figures]


@router.get("/data-health", response={200: HealthOut, **ERRORS}, tags=["duplicates"])
def data_health(request: HttpRequest, params: Query[HealthQuery]):
    """Completeness and validity per field, duplicates waiting, decay and bounced emails, counted on the records
    you may see. `bounced_emails.count`: contacts with an address that mail bounced from."""
    report = health.data_health(actor(request), health.parse_months(params.months))
    out: dict[str, Any] = {
        "months": report.months, "monthly_decay_rate": report.monthly_decay_rate,
        "expected_monthly_decay": report.expected_monthly_decay,
        "bounced_emails": {"tracked": True, "count": report.bounced_emails},
    }
    for kind, k in report.kinds.items():
        out[kind] = {"total": k.total, "completeness": _figures(kind, k.completeness),
                     "invalid": _figures(kind, k.invalid), "decay": _figures(kind, k.decay),
                     "duplicates_waiting": k.duplicates_waiting,
                     "duplicates_url": f"{reverse('quality:duplicate_list')}?kind={kind}"}
    return out

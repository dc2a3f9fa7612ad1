"""The KPI dashboard page and the administrators' target form. Views parse, call kpi_services and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.ui import clean_params, safe_next
from guanxi.customers.services import validation_messages

from . import kpi_services as kpis
from .chart_views import chart_names
from .kpi_registry import GROUPS


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    params = clean_params(request.GET)
    errors: dict[str, list[str]] = {}
    try:
        period, baseline = kpis.parse_periods(params.get("period"), params.get("baseline"))
    except ValidationError as exc:
        errors = validation_messages(exc)
        period, baseline = kpis.parse_periods(None, None)
    rows = kpis.dashboard(request.user, period, baseline)
    for row in rows:
        row.option = kpis.chart_option(row)
        row.json_id = f"kpi-option-{row.kpi.key}"
    groups = [(key, label, [r for r in rows if r.kpi.group == key]) for key, label in GROUPS.items()]
    return render(request, "analytics/kpis.html", {
        "period": period, "baseline": baseline, "groups": groups, "errors": errors,
        "may_set_targets": request.user.is_administrator, "chart_names": chart_names(),
    }, status=400 if errors else 200)


@login_required
@require_POST
def target_set(request: HttpRequest, key: str) -> HttpResponse:
    try:
        kpis.set_target(request.user, key, request.POST.get("target", ""))
        messages.success(request, _("Target saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in validation_messages(exc).values() for m in ms))
    return redirect(safe_next(request, request.POST.get("next"), reverse("analytics:kpis")))

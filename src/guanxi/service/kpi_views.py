"""The service KPI page: a period beside a baseline, per agent, per queue or for the whole desk."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from guanxi.core.ui import clean_params
from guanxi.customers.services import validation_messages

from . import kpis


@login_required
@require_GET
def kpi_page(request: HttpRequest) -> HttpResponse:
    params = clean_params(request.GET)
    errors: dict[str, list[str]] = {}
    try:
        period, baseline, grouping = kpis.parse_request(params.get("period"), params.get("baseline"), params.get("by"))
    except ValidationError as exc:
        errors = validation_messages(exc)
        period, baseline, grouping = kpis.parse_request(None, None, None)
    rows = kpis.report(request.user, period, baseline, grouping)
    kpis.label_groups(rows, grouping)
    measures = kpis.measure_labels()
    for row in rows:
        row["cells"] = [(key, row["current"][key], row["baseline"][key], row["change"].get(key))
                       for key, _label in measures]
    from guanxi.contact_center import call_metrics

    phone_measures = call_metrics.labels()
    phone_rows = call_metrics.phone_report(request.user, period, baseline)
    for row in phone_rows:
        row["cells"] = [((row["current"] or {}).get(key), (row["baseline"] or {}).get(key))
                        for key, _label in phone_measures]
    return render(request, "service/kpis.html", {
        "rows": rows, "measures": measures, "period": period, "baseline": baseline, "grouping": grouping,
        "errors": errors, "groupings": kpis.grouping_choices(), "phone_rows": phone_rows,
        "phone_measures": phone_measures,
    })

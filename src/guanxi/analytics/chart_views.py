"""The 7P analytics pages: one ECharts chart each over the records the user may see, with links to them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from . import chart_queries

CHARTS = {
    "profiling": _("Profiling"),
    "persistency": _("Persistency"),
    "profitability": _("Profitability"),
    "performance": _("Performance"),
    "product": _("Product"),
    "prospecting": _("Prospecting"),
    "promotion": _("Promotion"),
}


def chart_names() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in CHARTS.items()]


@login_required
@require_GET
def chart_page(request: HttpRequest, name: str) -> HttpResponse:
    if name not in CHARTS:
        raise Http404
    charts = chart_queries.build(name, request.user)
    return render(request, "analytics/chart.html", {"name": name, "title": CHARTS[name], "charts": charts,
                                                    "chart_names": chart_names()})

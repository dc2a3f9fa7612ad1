"""Analytics pages: the value × risk grid with its playbooks, a cell's accounts, running and editing a
playbook, and starting the scoring job. Views parse, call the services and render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.records import int_or_none
from guanxi.core.ui import clean_params, is_htmx
from guanxi.customers.services import validation_messages
from guanxi.sales.catalog_models import Product
from guanxi.sales.quote_models import Quote, QuoteLine

from . import chart_queries, queries
from . import playbook_services as books
from .chart_views import chart_names
from .playbook_models import Playbook, PlaybookActionKind
from .score_jobs import may_start, start_scoring
from .score_models import ScoringRun

PAGE_SIZE = 50


@login_required
@require_GET
def grid_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    cells = books.grid(user)
    found = books.playbooks()
    for cell in cells:
        cell.playbook = found[(cell.value_band, cell.risk_band)]
    return render(request, "analytics/grid.html", {
        "cells": cells, "run": ScoringRun.objects.order_by("-started_at", "-id").first(), "may_score": may_start(user),
        "may_edit_playbooks": user.is_administrator, "actions": PlaybookActionKind.choices,
        "chart_names": chart_names(),
    })


def _score_list(request: HttpRequest, filters: dict, title: str, extra: dict) -> HttpResponse:
    params = clean_params(request.GET)
    sort = params.get("sort") or books.DRILL_SORTS[0]
    limit = int_or_none(params.get("limit")) or PAGE_SIZE
    errors: dict[str, list[str]] = {}
    try:
        page = books.score_accounts(request.user, filters, sort=sort, cursor=params.get("cursor") or None,
                                    limit=limit)
    except ValidationError as exc:
        errors = validation_messages(exc)
        sort = books.DRILL_SORTS[0]
        page = books.score_accounts(request.user, filters, sort=sort)
    query = params.copy()
    for key in ("sort", "cursor"):  # kept: the filters and the page size
        query.pop(key, None)
    return render(request, "analytics/cell.html", {
        "title": title, "page": page, "sort": sort, "errors": errors,
        "base_query": query.urlencode(), **extra})


@login_required
@require_GET
def cell_page(request: HttpRequest, cell: str) -> HttpResponse:
    """A grid cell's accounts."""
    try:
        value_band, risk_band = books.parse_cell(cell)
    except ValidationError:
        raise Http404
    return _score_list(request, {"value_band": value_band, "risk_band": risk_band}, "",
                       {"value_band": value_band, "risk_band": risk_band})


@login_required
@require_GET
def score_list(request: HttpRequest) -> HttpResponse:
    """The accounts behind a chart's bar: scores filtered by band, segment or a range (p_alive_gte=0.2 …)."""
    try:
        filters = books.score_filters(clean_params(request.GET))
    except ValidationError as exc:
        return render(request, "analytics/cell.html", {
            "title": _("Scored accounts"), "page": None, "errors": validation_messages(exc)}, status=400)
    return _score_list(request, filters, _("Scored accounts"), {})


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """The orders behind a month of the Performance chart, or of one product in a month (Product chart)."""
    params = clean_params(request.GET)
    errors: dict[str, list[str]] = {}
    try:
        month = dt.date.fromisoformat(f"{params.get('month', '')}-01")
    except ValueError:
        errors["month"] = [_("Enter a month as YYYY-MM.")]
    product = int_or_none(params.get("product"))
    if params.get("product") and product is None:
        errors["product"] = [_("Enter a product id.")]
    if errors:
        return render(request, "analytics/orders.html", {"errors": errors, "page": None}, status=400)
    try:
        page = chart_queries.month_orders(request.user, month, cursor=params.get("cursor") or None, product=product)
    except ValidationError as exc:
        return render(request, "analytics/orders.html", {"errors": validation_messages(exc), "page": None},
                      status=400)
    name = Product.objects.filter(pk=product).values_list("name", flat=True).first() if product else None
    return render(request, "analytics/orders.html", {"month": month, "page": page, "errors": {},
                                                     "product": product, "product_name": name})


@login_required
@require_GET
def playbook_accounts(request: HttpRequest, pk: int) -> HttpResponse:
    """The accounts behind a bar of the Promotion chart: those a playbook targeted (?ordered=1: and that
    ordered since), as far as the user may see them."""
    playbook = get_object_or_404(Playbook, pk=pk)
    params = clean_params(request.GET)
    ordered = params.get("ordered") in ("1", "true", "yes")
    label = chart_queries.playbook_label(playbook.title, playbook.value_band, playbook.risk_band)
    context = {"playbook": playbook, "label": label, "ordered": ordered}
    try:
        page = chart_queries.playbook_accounts(request.user, playbook, ordered=ordered,
                                               cursor=params.get("cursor") or None)
    except ValidationError as exc:
        return render(request, "analytics/playbook_accounts.html",
                      {**context, "errors": validation_messages(exc), "page": None}, status=400)
    return render(request, "analytics/playbook_accounts.html", {**context, "errors": {}, "page": page})


@login_required
@require_POST
def playbook_run(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    try:
        result = books.run_playbook(request.user, playbook)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in validation_messages(exc).values() for m in ms))
        return redirect("analytics:grid")
    context = {"result": result}
    if is_htmx(request):
        return render(request, "analytics/_run_result.html", context)
    return render(request, "analytics/run_result.html", context)


@login_required
@require_POST
def playbook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    data = {k: request.POST.get(k, "") for k in ("action", "title", "description", "due_hours", "tag")}
    try:
        books.update_playbook(request.user, playbook, data)
        messages.success(request, _("Playbook saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(f"{field}: {m}" for field, ms in validation_messages(exc).items()
                                         for m in ms))
    return redirect("analytics:grid")


@login_required
@require_POST
def score_start(request: HttpRequest) -> HttpResponse:
    job = start_scoring(request.user)
    messages.info(request, _("Scoring started: follow it on the Jobs page (%(label)s).") % {"label": job.label})
    return redirect("job_list")


@login_required
@require_GET
def quote_cross_sell(request: HttpRequest, pk: int) -> HttpResponse:
    """The quote editor's htmx fragment: products often bought with the quote's products."""
    quote = get_object_or_404(Quote.objects.visible_to(request.user), pk=pk)
    products = QuoteLine.objects.filter(quote=quote, product__isnull=False).values("product_id")
    return render(request, "analytics/_cross_sell.html", {"suggestions": queries.suggestions_for(products)})

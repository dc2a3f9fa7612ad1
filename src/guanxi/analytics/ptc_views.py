"""Target customers of a product: the list, and its one-click actions (a call list of tasks, a tag, a CSV)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.ui import clean_params, flash_errors
from guanxi.customers.fileio import csv_chunks
from guanxi.customers.services import validation_messages
from guanxi.sales.catalog_models import Product

from . import ptc_services as targets
from .chart_views import chart_names


@login_required
@require_GET
def ptc_page(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    params = clean_params(request.GET)
    errors: dict[str, list[str]] = {}
    try:
        top = targets.clean_top(params.get("top"))
    except ValidationError as exc:
        errors, top = validation_messages(exc), targets.TOP
    include = params.get("include_buyers") == "1"
    found = targets.target_customers(request.user, product, top, include_buyers=include)
    return render(request, "analytics/ptc.html", {
        "product": product, "found": found, "top": top, "include_buyers": include, "errors": errors,
        "chart_names": chart_names(), "may_edit": request.user.can_edit}, status=400 if errors else 200)


def _back(product: Product, top: int) -> str:
    return reverse("analytics:ptc", args=[product.pk]) + f"?top={top}"


def _act(request: HttpRequest, pk: int, run: Callable[[Product, int], str]) -> HttpResponse:
    """Run an action on the product's top list (the `top` of the form) and say what it did."""
    product = get_object_or_404(Product, pk=pk)
    try:
        top = targets.clean_top(request.POST.get("top"))
        messages.success(request, run(product, top))
    except ValidationError as exc:
        flash_errors(request, exc)
        top = targets.TOP
    return redirect(_back(product, top))


@login_required
@require_POST
def ptc_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """"Make a call list": a task for the owner of each listed account."""
    def run(product: Product, top: int) -> str:
        tasks, skipped = targets.make_call_list(request.user, product, top)
        return _("%(n)d tasks created for the account owners (%(skipped)d accounts skipped: no owner, not yours "
                 "to change, or the task is already open).") % {"n": len(tasks), "skipped": skipped}

    return _act(request, pk, run)


@login_required
@require_POST
def ptc_tag(request: HttpRequest, pk: int) -> HttpResponse:
    """"Save as segment": the listed accounts get a tag the account list filters by."""
    def run(product: Product, top: int) -> str:
        n = targets.save_segment(request.user, product, request.POST.get("tag", ""), top)
        return _("%(n)d accounts tagged.") % {"n": n}

    return _act(request, pk, run)


@login_required
@require_GET
def ptc_csv(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    try:
        top = targets.clean_top(clean_params(request.GET).get("top"))
    except ValidationError as exc:
        return render(request, "analytics/ptc.html", {"product": product, "found": None, "top": targets.TOP,
                                                      "errors": validation_messages(exc),
                                                      "chart_names": chart_names()}, status=400)
    found = targets.target_customers(request.user, product, top)
    response = StreamingHttpResponse(csv_chunks(targets.CSV_HEADERS, targets.csv_rows(found)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="target-customers-{product.pk}.csv"'
    return response

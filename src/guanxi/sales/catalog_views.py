"""Catalogue pages: products (list with search and keyset paging, form) and price lists (list, form, prices).
Everyone reads the catalogue; administrators and sales managers change it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.paging import Page, paginate
from guanxi.core.ui import clean_param, clean_params, flash_errors, htmx_target

from . import catalog_services
from .catalog_models import PriceList, PriceListItem, Product
from .quote_forms import PriceForm, PriceListForm, ProductForm
from .services import validation_messages

PAGE_SIZE = 50
PRODUCT_SORTS = ["name", "-name", "code", "-code", "-updated_at", "updated_at"]


def _require_catalog(request: HttpRequest) -> None:
    if not catalog_services.may_manage_catalog(request.user):
        raise PermissionDenied(_("Only administrators and sales managers change the catalogue."))


def search_products(qs, query: str):
    """Code or name containing the text (a catalogue is small: a plain scan is fast enough)."""
    return qs.filter(Q(code__icontains=query) | Q(name__icontains=query)) if query else qs


@login_required
@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    params = clean_params(request.GET)
    qs = search_products(Product.objects.select_related("category"), params.get("q", "").strip())
    if params.get("active") != "all":
        qs = qs.filter(active=True)
    try:
        page = paginate(qs, sort=params.get("sort") or "name", allowed=PRODUCT_SORTS,
                        cursor=params.get("cursor") or None, limit=PAGE_SIZE)
    except ValidationError as exc:
        flash_errors(request, exc)
        page = Page(items=[], next_cursor=None, sort="name")
    context = {"page": page, "rows": page.items, "is_first_page": not params.get("cursor"), "params": params,
               "can_manage": catalog_services.may_manage_catalog(request.user)}
    template = "sales/_product_table.html" if htmx_target(request) == "results" else \
        "sales/product_list.html"
    return render(request, template, context)


def _save(request: HttpRequest, form: Any, obj: Any, create: Callable, update: Callable) -> Any:
    """Create (no obj) or update through the services; None, with the errors on the form, when refused."""
    if not form.is_valid():
        return None
    try:
        return create(request.user, form.to_data()) if obj is None else update(request.user, obj, form.to_data())
    except ValidationError as exc:
        form.add_service_errors(validation_messages(exc))
        return None


@login_required
def product_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_catalog(request)
    product = get_object_or_404(Product, pk=pk) if pk else None
    if request.method == "POST":
        form = ProductForm(request.POST)
        saved = _save(request, form, product, catalog_services.create_product, catalog_services.update_product)
        if saved is not None:
            messages.success(request, _("Saved “%(name)s”.") % {"name": saved})
            return redirect("sales:product_list")
    else:
        initial = {}
        if product is not None:
            initial = {f: getattr(product, f) for f in catalog_services.PRODUCT_FIELDS}
            initial["category_id"] = product.category_id
        form = ProductForm(initial=initial)
    prices = product.prices.select_related("price_list") if product else []
    return render(request, "sales/product_form.html", {"form": form, "obj": product, "prices": prices})


@login_required
@require_GET
def price_list_list(request: HttpRequest) -> HttpResponse:
    lists = PriceList.objects.all()
    return render(request, "sales/price_list_list.html", {
        "rows": lists, "can_manage": catalog_services.may_manage_catalog(request.user)})


@login_required
def price_list_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_catalog(request)
    price_list = get_object_or_404(PriceList, pk=pk) if pk else None
    if request.method == "POST":
        form = PriceListForm(request.POST)
        saved = _save(request, form, price_list, catalog_services.create_price_list,
                      catalog_services.update_price_list)
        if saved is not None:
            return redirect("sales:price_list_detail", saved.pk)
    else:
        initial = {f: getattr(price_list, f) for f in catalog_services.PRICE_LIST_AUDITED} if price_list else {}
        form = PriceListForm(initial=initial)
    return render(request, "sales/price_list_form.html", {"form": form, "obj": price_list})


@login_required
def price_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The prices of one list; managers add or change a price (a product and a quantity tier) here."""
    price_list = get_object_or_404(PriceList, pk=pk)
    form = PriceForm()
    if request.method == "POST":
        _require_catalog(request)
        form = PriceForm(request.POST)
        if form.is_valid():
            try:
                catalog_services.set_price(request.user, price_list, form.to_data())
                return redirect("sales:price_list_detail", price_list.pk)
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
    query = clean_param(request.GET.get("q"))
    items = price_list.items.select_related("product")
    if query:
        items = items.filter(Q(product__code__icontains=query) | Q(product__name__icontains=query))
    return render(request, "sales/price_list_detail.html", {
        "obj": price_list, "items": items[:500], "form": form, "query": query,
        "products": Product.objects.filter(active=True).order_by("name")[:1000],
        "can_manage": catalog_services.may_manage_catalog(request.user)})


@login_required
@require_POST
def price_remove(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    _require_catalog(request)
    catalog_services.remove_price(request.user, get_object_or_404(PriceListItem, pk=item_id, price_list_id=pk))
    return redirect("sales:price_list_detail", pk)

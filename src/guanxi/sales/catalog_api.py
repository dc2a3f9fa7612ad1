"""REST resources of the catalogue: products (with bundle components) and price lists with their prices.
Everyone reads them; administrators and sales managers change them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import (
    CURSOR,
    ERRORS,
    LIMIT,
    READ_ONE,
    WRITE,
    WRITE_ONE,
    Id,
    Ref,
    actor,
    page_out,
    ref,
    sort_field,
    utc,
)
from guanxi.core.paging import paginate

from . import catalog_services
from .catalog_models import PriceList, PriceListItem, Product, ProductKind, Unit
from .catalog_views import PRODUCT_SORTS, search_products

router = Router()
TAG = ["products"]
Text = str | None
Amount = Decimal | None


class ComponentIn(Schema):
    product_id: Id
    quantity: Decimal = Decimal(1)


class ComponentOut(Schema):
    product: Ref
    quantity: str


class _ProductFields(Schema):
    description: Text = None
    kind: str | None = Field(None, json_schema_extra={"enum": list(ProductKind.values)})
    category_id: Id | None = None
    unit: str | None = Field(None, json_schema_extra={"enum": list(Unit.values)})
    tax_rate: Amount = Field(None, description="Percent, 0–100; default 13.")
    cost: Amount = None
    active: bool | None = None
    components: list[ComponentIn] | None = Field(None, max_length=100, description="A bundle's contents.")


class ProductIn(_ProductFields):
    code: str = Field(..., max_length=50)
    name: str = Field(..., max_length=200)


class ProductPatch(_ProductFields):
    code: Text = Field(None, max_length=50)
    name: Text = Field(None, max_length=200)


class ProductOut(Schema):
    id: int
    code: str
    name: str
    description: str
    kind: str
    category: Ref | None
    unit: str
    tax_rate: str
    cost: str | None
    active: bool
    components: list[ComponentOut]
    updated_at: dt.datetime


class ProductPage(Schema):
    items: list[ProductOut]
    next: str | None


class ProductQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Code or name contains.")
    active: bool | None = Field(True, description="Only products sold (default), or only not sold; null: all.")
    sort: str = sort_field(PRODUCT_SORTS, "name")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class PriceIn(Schema):
    product_id: Id
    unit_price: Decimal
    min_quantity: Decimal = Field(Decimal(1), description="This price applies from this quantity on.")


class PriceOut(Schema):
    id: int
    product: Ref
    unit_price: str
    min_quantity: str


class PriceListIn(Schema):
    name: str = Field(..., max_length=100)
    currency: str = Field("CNY", description="ISO 4217 code.")
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    is_default: bool = False


class PriceListPatch(Schema):
    name: Text = Field(None, max_length=100)
    currency: Text = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    is_default: bool | None = None


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    is_default: bool
    prices: list[PriceOut] | None = Field(None, description="Only on the single price list.")


class PriceListList(Schema):
    items: list[PriceListOut]
    next: str | None


def product_item(p: Product) -> dict[str, Any]:
    return {"id": p.pk, "code": p.code, "name": p.name, "description": p.description, "kind": p.kind,
            "category": ref(p.category), "unit": p.unit, "tax_rate": f"{p.tax_rate:.2f}",
            "cost": f"{p.cost:.2f}" if p.cost is not None else None, "active": p.active,
            "components": [{"product": ref(c.product), "quantity": f"{c.quantity.normalize():f}"}
                           for c in p.components.all()],
            "updated_at": utc(p.updated_at)}


def _products():
    return Product.objects.select_related("category").prefetch_related("components__product")


def price_list_item(p: PriceList, prices: bool = False) -> dict[str, Any]:
    out = {"id": p.pk, "name": p.name, "currency": p.currency, "valid_from": p.valid_from, "valid_to": p.valid_to,
           "is_default": p.is_default, "prices": None}
    if prices:
        out["prices"] = [{"id": i.pk, "product": ref(i.product), "unit_price": f"{i.unit_price:.2f}",
                          "min_quantity": f"{i.min_quantity.normalize():f}"}
                         for i in p.items.select_related("product")]
    return out


@router.get("/products", response={200: ProductPage, **ERRORS}, tags=TAG)
def list_products(request: HttpRequest, params: Query[ProductQuery]):
    qs = search_products(_products(), (params.q or "").strip())
    if params.active is not None:
        qs = qs.filter(active=params.active)
    page = paginate(qs, sort=params.sort, allowed=PRODUCT_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([product_item(p) for p in page.items], page.next_cursor)


@router.post("/products", response={201: ProductOut, **WRITE}, tags=TAG)
def create_product(request: HttpRequest, payload: ProductIn):
    product = catalog_services.create_product(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, product_item(_products().get(pk=product.pk)))


@router.get("/products/{id}", response={200: ProductOut, **READ_ONE}, tags=TAG)
def get_product(request: HttpRequest, id: Id):
    return product_item(get_object_or_404(_products(), pk=id))


@router.patch("/products/{id}", response={200: ProductOut, **WRITE_ONE}, tags=TAG)
def update_product(request: HttpRequest, id: Id, payload: ProductPatch):
    product = catalog_services.update_product(actor(request), get_object_or_404(Product, pk=id),
                                              payload.model_dump(exclude_unset=True))
    return product_item(_products().get(pk=product.pk))


@router.get("/price-lists", response={200: PriceListList, **ERRORS}, tags=TAG)
def list_price_lists(request: HttpRequest):
    """Every price list (the defaults first); prices are on the single list."""
    return page_out([price_list_item(p) for p in PriceList.objects.all()], None)


@router.post("/price-lists", response={201: PriceListOut, **WRITE}, tags=TAG)
def create_price_list(request: HttpRequest, payload: PriceListIn):
    price_list = catalog_services.create_price_list(actor(request), payload.model_dump(exclude_unset=True))
    return Status(201, price_list_item(price_list, prices=True))


@router.get("/price-lists/{id}", response={200: PriceListOut, **READ_ONE}, tags=TAG)
def get_price_list(request: HttpRequest, id: Id):
    return price_list_item(get_object_or_404(PriceList, pk=id), prices=True)


@router.patch("/price-lists/{id}", response={200: PriceListOut, **WRITE_ONE}, tags=TAG)
def update_price_list(request: HttpRequest, id: Id, payload: PriceListPatch):
    price_list = catalog_services.update_price_list(actor(request), get_object_or_404(PriceList, pk=id),
                                                    payload.model_dump(exclude_unset=True))
    return price_list_item(price_list, prices=True)


@router.post("/price-lists/{id}/prices", response={200: PriceListOut, **WRITE_ONE}, tags=TAG)
def set_price(request: HttpRequest, id: Id, payload: PriceIn):
    """Set a product's unit price from a quantity on (a new tier, or a new price for an existing one)."""
    price_list = get_object_or_404(PriceList, pk=id)
    catalog_services.set_price(actor(request), price_list, payload.model_dump())
    return price_list_item(price_list, prices=True)


@router.delete("/price-lists/{id}/prices/{price_id}", response={204: None, **WRITE_ONE}, tags=TAG)
def remove_price(request: HttpRequest, id: Id, price_id: Id):
    catalog_services.remove_price(actor(request), get_object_or_404(PriceListItem, pk=price_id, price_list_id=id))
    return Status(204, None)

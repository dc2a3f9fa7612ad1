"""Catalogue use cases: products (and bundle components), categories, price lists and their prices.

Administrators and sales managers keep the catalogue; everyone reads it. Each function is one transaction;
bad input raises ValidationError keyed by field and changes nothing; every change is audited.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.core.models import AuditAction, Role, User
from guanxi.core.records import clean_fields, creation_changes, diff, fail, int_or_none, snapshot, write_audit
from guanxi.quality.normalize import clean_text

from .catalog_models import BundleComponent, PriceList, PriceListItem, Product, ProductCategory, ProductKind
from .pricing import PricingError, decimal, tier_price
from .services import _clean_currency

PRODUCT_FIELDS = ["code", "name", "description", "kind", "unit", "tax_rate", "cost", "active"]
PRODUCT_AUDITED = PRODUCT_FIELDS + ["category_id"]
PRICE_LIST_FIELDS = ["name", "valid_from", "valid_to", "is_default"]
PRICE_LIST_AUDITED = PRICE_LIST_FIELDS + ["currency"]


def may_manage_catalog(user: User) -> bool:
    return user.is_active and (user.is_administrator or user.role == Role.SALES_MANAGER)


def _require_catalog(actor: User) -> None:
    if not may_manage_catalog(actor):
        raise PermissionDenied(_("Only administrators and sales managers change the catalogue."))


def clean_number(value: Any, field: str, errors: dict, *, minimum: Decimal = Decimal(0),
                 maximum: Decimal | None = None, places: int = 2) -> Decimal | None:
    """A Decimal in [minimum, maximum] with at most `places` decimals; an error under `field` otherwise."""
    try:
        number = decimal(value, field)
    except PricingError:
        errors[field] = [_("Enter a number.")]
        return None
    if number < minimum:
        errors[field] = [_("At least %(min)s.") % {"min": minimum}]
    elif maximum is not None and number > maximum:
        errors[field] = [_("At most %(max)s.") % {"max": maximum}]
    elif abs(number) >= Decimal(10) ** 11 or number != number.quantize(Decimal(1).scaleb(-places)):
        errors[field] = [_("At most %(places)s decimals and 11 digits before the point.") % {"places": places}]
    else:
        return number
    return None


# ---------------------------------------------------------------- products


def _clean_product(data: dict, product: Product | None) -> tuple[dict[str, Any], list | None]:
    partial = product is not None
    data = {k: clean_text(v) if isinstance(v, str) and k in ("code", "name") else v for k, v in data.items()}
    plain = [f for f in PRODUCT_FIELDS if f not in ("tax_rate", "cost")]
    cleaned, errors = clean_fields(Product, data, plain, partial=partial)
    if "tax_rate" in data or not partial:
        cleaned["tax_rate"] = clean_number(data.get("tax_rate", 13), "tax_rate", errors, maximum=Decimal(100))
    if data.get("cost") not in (None, ""):
        cleaned["cost"] = clean_number(data["cost"], "cost", errors)
    elif "cost" in data:
        cleaned["cost"] = None
    code = cleaned.get("code")
    if code and Product.objects.filter(code__iexact=code).exclude(pk=product.pk if product else None).exists():
        errors["code"] = [_("Another product has this code.")]
    if data.get("category_id") not in (None, ""):
        cleaned["category"] = ProductCategory.objects.filter(pk=int_or_none(data["category_id"])).first()
        if cleaned["category"] is None:
            errors["category_id"] = [_("No such category.")]
    elif "category_id" in data:
        cleaned["category"] = None
    components = None
    if data.get("components") is not None:
        components = _clean_components(data["components"], product, errors)
    kind = cleaned.get("kind", product.kind if product else ProductKind.GOODS)
    if components and kind != ProductKind.BUNDLE:
        errors["components"] = [_("Only a bundle has components.")]
    fail(errors)
    return cleaned, components


def _clean_components(items: Any, bundle: Product | None, errors: dict) -> list[tuple[Product, Decimal]]:
    if not isinstance(items, list):
        errors["components"] = [_("Expected a list.")]
        return []
    out: list[tuple[Product, Decimal]] = []
    ids = [int_or_none(i.get("product_id")) if isinstance(i, dict) else None for i in items]
    found = Product.objects.in_bulk([i for i in ids if i is not None])
    for n, (item, pk) in enumerate(zip(items, ids, strict=True)):
        product = found.get(pk) if pk is not None else None
        if product is None or product.kind == ProductKind.BUNDLE or (bundle and product.pk == bundle.pk):
            errors[f"components.{n}.product_id"] = [_("Choose a product that is not a bundle.")]
            continue
        quantity = clean_number(item.get("quantity", 1), f"components.{n}.quantity", errors, places=3)
        if quantity is not None:
            out.append((product, quantity))
    if len({p.pk for p, _q in out}) != len(out):
        errors["components"] = [_("List each product once.")]
    return out


def _set_components(product: Product, components: list[tuple[Product, Decimal]] | None) -> list[str] | None:
    if components is None:
        return None
    product.components.all().delete()
    BundleComponent.objects.bulk_create([BundleComponent(bundle=product, product=p, quantity=q)
                                         for p, q in components])
    return [f"{p.code} × {q}" for p, q in components]


@transaction.atomic
def create_product(actor: User, data: dict[str, Any]) -> Product:
    _require_catalog(actor)
    cleaned, components = _clean_product(data, None)
    product = Product.objects.create(**cleaned)
    changes = creation_changes(product, PRODUCT_AUDITED)
    listed = _set_components(product, components)
    if listed:
        changes["components"] = [None, listed]
    write_audit(product, actor, AuditAction.CREATE, changes)
    return product


@transaction.atomic
def update_product(actor: User, product: Product, data: dict[str, Any]) -> Product:
    _require_catalog(actor)
    product = Product.objects.select_for_update().get(pk=product.pk)
    cleaned, components = _clean_product(data, product)
    before = snapshot(product, PRODUCT_AUDITED)
    old_components = [f"{c.product.code} × {c.quantity}" for c in product.components.select_related("product")]
    for key, value in cleaned.items():
        setattr(product, key, value)
    product.save()
    changes = diff(before, snapshot(product, PRODUCT_AUDITED))
    listed = _set_components(product, components)
    if listed is not None and listed != old_components:
        changes["components"] = [old_components, listed]
    write_audit(product, actor, AuditAction.UPDATE, changes)
    return product


@transaction.atomic
def create_category(actor: User, data: dict[str, Any]) -> ProductCategory:
    _require_catalog(actor)
    errors: dict[str, list[str]] = {}
    name = clean_text(data.get("name") or "") if isinstance(data.get("name"), str) else ""
    if not name or len(name) > 100:
        errors["name"] = [_("Enter a name of at most 100 characters.")]
    parent = None
    if data.get("parent_id") not in (None, ""):
        parent = ProductCategory.objects.filter(pk=int_or_none(data["parent_id"])).first()
        if parent is None:
            errors["parent_id"] = [_("No such category.")]
    if not errors and ProductCategory.objects.filter(parent=parent, name=name).exists():
        errors["name"] = [_("This category exists already.")]
    fail(errors)
    category = ProductCategory.objects.create(name=name, parent=parent)
    write_audit(category, actor, AuditAction.CREATE, {"name": [None, str(category)]})
    return category


# ---------------------------------------------------------------- price lists


def _clean_price_list(data: dict, price_list: PriceList | None) -> dict[str, Any]:
    partial = price_list is not None
    data = {**data, "name": clean_text(data["name"])} if isinstance(data.get("name"), str) else data
    cleaned, errors = clean_fields(PriceList, data, PRICE_LIST_FIELDS, partial=partial)
    if data.get("currency") not in (None, "") or not partial:
        if partial and price_list.items.exists() and str(data.get("currency")).upper() != price_list.currency:
            errors["currency"] = [_("This price list has prices: its currency cannot change.")]
        else:
            cleaned["currency"] = _clean_currency(data.get("currency") or "CNY", errors)
    start = cleaned.get("valid_from", price_list.valid_from if price_list else None)
    end = cleaned.get("valid_to", price_list.valid_to if price_list else None)
    if start and end and end < start:
        errors["valid_to"] = [_("The end is before the start.")]
    fail(errors)
    return cleaned


def _one_default(price_list: PriceList) -> None:
    """One default price list per currency."""
    if price_list.is_default:
        PriceList.objects.filter(currency=price_list.currency, is_default=True).exclude(pk=price_list.pk).update(
            is_default=False)


@transaction.atomic
def create_price_list(actor: User, data: dict[str, Any]) -> PriceList:
    _require_catalog(actor)
    price_list = PriceList.objects.create(**_clean_price_list(data, None))
    _one_default(price_list)
    write_audit(price_list, actor, AuditAction.CREATE,
                creation_changes(price_list, PRICE_LIST_AUDITED))
    return price_list


@transaction.atomic
def update_price_list(actor: User, price_list: PriceList, data: dict[str, Any]) -> PriceList:
    _require_catalog(actor)
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    cleaned = _clean_price_list(data, price_list)
    before = snapshot(price_list, PRICE_LIST_AUDITED)
    for key, value in cleaned.items():
        setattr(price_list, key, value)
    price_list.save()
    _one_default(price_list)
    write_audit(price_list, actor, AuditAction.UPDATE, diff(before, snapshot(price_list, PRICE_LIST_AUDITED)))
    return price_list


@transaction.atomic
def set_price(actor: User, price_list: PriceList, data: dict[str, Any]) -> PriceListItem:
    """Set a product's unit price from a quantity on (a new tier, or a new price for an existing one)."""
    _require_catalog(actor)
    errors: dict[str, list[str]] = {}
    product = Product.objects.filter(pk=int_or_none(data.get("product_id"))).first()
    if product is None:
        errors["product_id"] = [_("No such product.")]
    price = clean_number(data.get("unit_price"), "unit_price", errors)
    min_quantity = clean_number(data.get("min_quantity", 1), "min_quantity", errors, places=3)
    fail(errors)
    item, created = PriceListItem.objects.get_or_create(price_list=price_list, product=product,
                                                        min_quantity=min_quantity,
                                                        defaults={"unit_price": price})
    old = None if created else str(item.unit_price)
    if not created:
        item.unit_price = price
        item.save(update_fields=["unit_price"])
    write_audit(price_list, actor, AuditAction.UPDATE,
                {f"price.{product.code}@{min_quantity.normalize()}": [old, str(price)]})
    return item


@transaction.atomic
def remove_price(actor: User, item: PriceListItem) -> None:
    _require_catalog(actor)
    write_audit(item.price_list, actor, AuditAction.UPDATE,
                {f"price.{item.product.code}@{item.min_quantity.normalize()}": [str(item.unit_price), None]})
    item.delete()


# ---------------------------------------------------------------- reading prices


def valid_price_lists(currency: str | None = None, on: dt.date | None = None):
    """Price lists in force on `on` (default today), in `currency` when given."""
    on = on or dt.date.today()
    qs = PriceList.objects.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on),
                                  Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    return qs.filter(currency=currency) if currency else qs


def default_price_list(currency: str) -> PriceList | None:
    return valid_price_lists(currency).order_by("-is_default", "name", "pk").first()


def list_price(price_list: PriceList, product: Product, quantity: Decimal) -> Decimal | None:
    """The product's unit price in the list for this quantity (the highest tier reached); None if not listed."""
    tiers = price_list.items.filter(product=product).values_list("min_quantity", "unit_price")
    return tier_price(list(tiers), quantity)

"""The product catalogue: categories (a tree), products and bundles, price lists with optional quantity tiers."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import TimestampedModel


class Unit(models.TextChoices):
    PIECE = "piece", pgettext_lazy("unit", "piece")  # 件
    SET = "set", pgettext_lazy("unit", "set")  # 套
    UNIT = "unit", pgettext_lazy("unit", "unit")  # 台 (a machine)
    BOX = "box", pgettext_lazy("unit", "box")  # 箱
    HOUR = "hour", pgettext_lazy("unit", "hour")  # 小时
    DAY = "day", pgettext_lazy("unit", "day")  # 天
    YEAR = "year", pgettext_lazy("unit", "year")  # 年 (subscriptions)
    LICENCE = "licence", pgettext_lazy("unit", "licence")  # 许可


class ProductKind(models.TextChoices):
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")
    BUNDLE = "bundle", _("Bundle")


class ProductCategory(models.Model):
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("parent category"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="productcategory_name_once")]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class Product(TimestampedModel):
    code = models.CharField(_("code (SKU)"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    kind = models.CharField(_("kind"), max_length=8, choices=ProductKind.choices, default=ProductKind.GOODS)
    category = models.ForeignKey(ProductCategory, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="products")
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=13,
                                   validators=[MinValueValidator(0), MaxValueValidator(100)])
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, null=True, blank=True,
                               validators=[MinValueValidator(0)])
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["name", "id"]), models.Index(fields=["active", "name", "id"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(tax_rate__gte=0, tax_rate__lte=100),
                                   name="product_tax_rate_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BundleComponent(models.Model):
    """One product inside a bundle, with how many of it; the bundle is priced as a whole."""

    bundle = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="components")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=1,
                                   validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("bundle component")
        verbose_name_plural = _("bundle components")
        constraints = [models.UniqueConstraint(fields=["bundle", "product"], name="bundlecomponent_once")]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity.normalize()}"


class PriceList(TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_default = models.BooleanField(_("default price list"), default=False)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["-is_default", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceListItem(models.Model):
    """A product's unit price in a price list, from `min_quantity` on (several rows make quantity tiers)."""

    price_list = models.ForeignKey(PriceList, verbose_name=_("price list"), on_delete=models.CASCADE,
                                   related_name="items")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="prices")
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2,
                                     validators=[MinValueValidator(0)])
    min_quantity = models.DecimalField(_("from quantity"), max_digits=12, decimal_places=3, default=1,
                                       validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["price_list", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product", "min_quantity"], name="pricelistitem_tier_once"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="pricelistitem_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.unit_price}"

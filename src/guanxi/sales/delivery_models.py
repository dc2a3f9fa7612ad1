"""Deliveries: shipments of an order, each carrying part of some of its lines."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Delivery(models.Model):
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="deliveries")
    number = models.CharField(_("number"), max_length=30, unique=True)
    shipped_at = models.DateField(_("shipped"))
    carrier = models.CharField(_("carrier"), max_length=100, blank=True, default="")
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True, default="")
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["shipped_at", "id"]
        indexes = [models.Index(fields=["order", "shipped_at", "id"])]

    def __str__(self) -> str:
        return self.number


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("sales.OrderLine", verbose_name=_("order line"), on_delete=models.CASCADE,
                                   related_name="delivery_lines")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("delivered line")
        verbose_name_plural = _("delivered lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="deliveryline_quantity_positive"),
            models.UniqueConstraint(fields=["delivery", "order_line"], name="deliveryline_once_per_delivery"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line} × {self.quantity.normalize()}"

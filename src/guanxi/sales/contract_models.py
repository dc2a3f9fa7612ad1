"""Contracts: the signed agreement with an account (optionally for one order), its term, value and renewal."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import OwnedModel, TimestampedModel, VersionedModel


class ContractStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("contract", "Draft")
    ACTIVE = "active", pgettext_lazy("contract", "Active")
    EXPIRED = "expired", pgettext_lazy("contract", "Expired")
    RENEWED = "renewed", pgettext_lazy("contract", "Renewed")
    TERMINATED = "terminated", pgettext_lazy("contract", "Terminated")


class Contract(OwnedModel, VersionedModel, TimestampedModel):
    number = models.CharField(_("number"), max_length=30, unique=True)
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="contracts")
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="contracts")
    title = models.CharField(_("title"), max_length=200)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, default=0,
                                validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    renewal_reminder_days = models.PositiveSmallIntegerField(_("remind days before renewal"), default=30)
    # The day the renewal reminder is due (renewal date − days), kept in step on save so the sweep is one range.
    remind_on = models.DateField(null=True, blank=True, editable=False)
    # The renewal date the owner was reminded of: one reminder per contract and renewal date.
    reminded_for = models.DateField(null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=ContractStatus.choices,
                              default=ContractStatus.DRAFT)
    previous = models.OneToOneField("self", verbose_name=_("renews"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="renewal")
    notes = models.TextField(_("notes"), blank=True, default="")

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["end_date", "id"]),
            models.Index(fields=["owner", "updated_at", "id"]),
            models.Index(fields=["team", "updated_at", "id"]),
            models.Index(fields=["account", "id"]),
            models.Index(fields=["status", "remind_on"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gte=0), name="contract_value_not_negative"),
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")),
                                   name="contract_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs) -> None:
        import datetime as dt

        self.remind_on = (self.renewal_date - dt.timedelta(days=self.renewal_reminder_days)
                          if self.renewal_date else None)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "remind_on"}
        super().save(*args, **kwargs)

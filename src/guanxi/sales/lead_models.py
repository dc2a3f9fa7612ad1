"""Leads (销售线索): people and companies not yet customers, their qualification, and the rules that assign them.

A lead is converted once into an account, a contact and (optionally) an opportunity; it keeps links to
what it became, so reports can follow a lead to cash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import CustomFieldsModel, OwnedModel, TimestampedModel, VersionedModel
from guanxi.customers.models import Industry, Source


class LeadStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("lead", "New")
    WORKING = "working", pgettext_lazy("lead", "Contacted")
    QUALIFIED = "qualified", pgettext_lazy("lead", "Qualified")
    DISQUALIFIED = "disqualified", pgettext_lazy("lead", "Disqualified")
    CONVERTED = "converted", pgettext_lazy("lead", "Converted")


OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)


class LeadRating(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class Lead(OwnedModel, VersionedModel, CustomFieldsModel, TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    company = models.CharField(_("company"), max_length=200, blank=True, default="")
    title = models.CharField(_("job title"), max_length=100, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=32, blank=True, default="")  # E.164 when it parses
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True, default="")
    province = models.CharField(_("province"), max_length=50, blank=True, default="")
    city = models.CharField(_("city"), max_length=50, blank=True, default="")
    rating = models.CharField(_("rating"), max_length=4, choices=LeadRating.choices, blank=True, default="")
    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualified_reason = models.CharField(_("reason disqualified"), max_length=200, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    assigned_by_rule = models.ForeignKey("sales.LeadAssignmentRule", verbose_name=_("assigned by rule"), null=True,
                                         blank=True, on_delete=models.SET_NULL, related_name="+")
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_account = models.ForeignKey("customers.Account", verbose_name=_("account"), null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="leads")
    converted_contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="leads")
    converted_opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("opportunity"), null=True,
                                              blank=True, on_delete=models.SET_NULL, related_name="leads")

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "updated_at", "id"]),
            models.Index(fields=["team", "updated_at", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["status", "updated_at", "id"]),
            models.Index(fields=["owner", "status", "id"]),
            models.Index(fields=["created_at", "status"]),  # the funnel: leads created in a period, by status
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.company}" if self.company else self.name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LEAD_STATUSES


class LeadAssignmentRule(TimestampedModel):
    """Leads matching every non-empty condition go to the members in turn (round-robin)."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    provinces = models.JSONField(_("provinces"), default=list, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("members"), through="LeadRuleMember",
                                     related_name="+")
    last_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class LeadRuleMember(models.Model):
    rule = models.ForeignKey(LeadAssignmentRule, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["rule", "user"], name="lead_rule_member_once")]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.user_id}"

"""Pipelines, their stages, and opportunities moving through them.

Leads, products, quotes and orders come later and hang off `Opportunity.account`; money is a Decimal
with a currency code everywhere.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import CustomFieldsModel, OwnedModel, TimestampedModel, VersionedModel


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", pgettext_lazy("opportunity", "Won")  # 赢单, not a customer's lifecycle "lost" (流失)
    LOST = "lost", pgettext_lazy("opportunity", "Lost")


class Pipeline(TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    is_default = models.BooleanField(_("default pipeline"), default=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["-is_default", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE,
                                 related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)])
    kind = models.CharField(_("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="stage_probability_max_100"),
        ]

    def __str__(self) -> str:
        return self.name


class Opportunity(OwnedModel, VersionedModel, CustomFieldsModel, TimestampedModel):
    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="opportunities")
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="opportunities")
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT,
                                 related_name="opportunities")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT,
                              related_name="opportunities")
    # The stage's kind, kept on the row: the forecast and the "open" filters need no join.
    status = models.CharField(_("status"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0,
                                 validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)])
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True, default="")
    competitors = models.CharField(_("competitors"), max_length=200, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # The board: one column is `stage = s ORDER BY updated_at DESC, id DESC LIMIT n`, for everyone
            # (administrators) or for one owner (a rep); count and sum per column read (stage, amount).
            models.Index(fields=["stage", "updated_at", "id"]),
            models.Index(fields=["owner", "stage", "updated_at", "id"]),
            models.Index(fields=["team", "stage", "updated_at", "id"]),
            models.Index(fields=["pipeline", "stage", "amount"]),
            # Lists.
            models.Index(fields=["owner", "updated_at", "id"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["owner", "id"]),
            models.Index(fields=["team", "id"]),
            models.Index(fields=["account", "id"]),
            # The forecast (by status and month of expected close) and attainment (won or lost in a period) read
            # these covering indexes only, never the table: 1,000,000 deals answer in under a second.
            models.Index(fields=["status", "expected_close", "owner", "team", "currency", "amount", "probability"],
                         name="opportunity_forecast"),
            models.Index(fields=["owner", "status", "expected_close"]),
            models.Index(fields=["status", "closed_at", "owner", "team", "currency", "amount"],
                         name="opportunity_closed"),
            # Year on year: created in a month.
            models.Index(fields=["created_at", "owner", "currency", "amount"], name="opportunity_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="opportunity_probability_max_100"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.status != StageKind.OPEN


from .catalog_models import (  # noqa: E402, F401  (one app, models in several modules)
    BundleComponent,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    ProductKind,
    Unit,
)
from .contract_models import Contract, ContractStatus  # noqa: E402,F401
from .delivery_models import Delivery, DeliveryLine  # noqa: E402,F401
from .lead_models import (  # noqa: E402,F401  (leads live in their own module; Django finds models here)
    Lead,
    LeadAssignmentRule,
    LeadRating,
    LeadRuleMember,
    LeadStatus,
)
from .payment_models import (  # noqa: E402,F401
    CurrencyRate,
    Instalment,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentPlan,
)
from .quota_models import PeriodKind, Quota  # noqa: E402,F401  (quotas too)
from .quote_models import (  # noqa: E402, F401
    ApprovalStatus,
    CompanyProfile,
    Counter,
    Order,
    OrderLine,
    OrderStatus,
    Quote,
    QuoteApproval,
    QuoteLine,
    QuoteStatus,
)
from .summary_models import CompanyMonth, OpportunityMonth, OrderMonth  # noqa: E402,F401  (kept by triggers: sales/summary.py)

"""Quotes (with versions and discount approval), and the orders accepted quotes become.

Amounts on lines and totals are stored as computed by `sales.pricing` (per line to 0.01, half up; totals are
sums of lines), so lists and reports read them without recomputing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import OwnedModel, TimestampedModel, VersionedModel

from .catalog_models import PriceList, Product


class CompanyProfile(models.Model):
    """The company's letterhead and the quote rules; one row (pk 1), edited in the admin."""

    name = models.CharField(_("company name"), max_length=200, blank=True, default="")
    address = models.TextField(_("address"), blank=True, default="")
    phone = models.CharField(_("phone"), max_length=50, blank=True, default="")
    email = models.EmailField(_("email"), blank=True, default="")
    tax_id = models.CharField(_("tax id (统一社会信用代码)"), max_length=50, blank=True, default="")
    logo = models.FileField(_("logo (PNG or JPEG)"), upload_to="company/", blank=True, default="")
    discount_threshold = models.DecimalField(
        _("discount needing approval (%)"), max_digits=5, decimal_places=2, default=15,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("A quote with a line discounted more than this needs a manager's approval before it is sent."))
    quote_terms = models.TextField(_("default quote terms"), blank=True, default="")
    quote_valid_days = models.PositiveSmallIntegerField(_("quotes valid for (days)"), default=30)
    base_currency = models.CharField(_("base currency"), max_length=3, default="CNY",
                                     help_text=_("Reports sum foreign-currency amounts in this currency, through the "
                                                 "exchange rates."))

    class Meta:
        verbose_name = _("company profile")
        verbose_name_plural = _("company profile")

    def __str__(self) -> str:
        return self.name or str(_("company profile"))

    @classmethod
    def current(cls) -> CompanyProfile:
        return cls.objects.get_or_create(pk=1)[0]


class Counter(models.Model):
    """The last number given out per series ("Q2026", "SO2026"); rows are locked while a number is taken."""

    key = models.CharField(max_length=20, primary_key=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("quote", "Draft")
    SENT = "sent", pgettext_lazy("quote", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("quote", "Accepted")
    REJECTED = "rejected", pgettext_lazy("quote", "Rejected")
    EXPIRED = "expired", pgettext_lazy("quote", "Expired")
    SUPERSEDED = "superseded", pgettext_lazy("quote", "Superseded")


class CustomerDocument(models.Model):
    """What a quote and an order share: whom it is for, its currency and its totals (sums of its lines)."""

    opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="%(class)ss")
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="%(class)ss")
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="%(class)ss")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    net_total = models.DecimalField(_("net"), max_digits=16, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    gross_total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        abstract = True


class Quote(OwnedModel, VersionedModel, CustomerDocument, TimestampedModel):
    """One revision of a quote. `version` is the edit lock (VersionedModel); `revision` is the quote's
    version as the customer sees it (Q2026-00012 v2); revising copies the lines into revision n+1."""

    number = models.CharField(_("number"), max_length=30)
    revision = models.PositiveIntegerField(_("quote version"), default=1)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next")
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    price_list = models.ForeignKey(PriceList, verbose_name=_("price list"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="quotes")
    status = models.CharField(_("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True, default="")
    notes = models.TextField(_("notes"), blank=True, default="")
    max_discount = models.DecimalField(_("largest discount (%)"), max_digits=5, decimal_places=2, default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        indexes = [
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["owner", "updated_at", "id"]),
            models.Index(fields=["team", "updated_at", "id"]),
            models.Index(fields=["account", "id"]),
            models.Index(fields=["status", "valid_until"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision_once"),
            models.CheckConstraint(condition=models.Q(gross_total__gte=0), name="quote_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.revision}"

    @property
    def editable(self) -> bool:
        return self.status == QuoteStatus.DRAFT


class DocumentLine(models.Model):
    """What a quote line and an order line share: the product or free text, quantity, price and amounts."""

    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(Product, verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2,
                                     validators=[MinValueValidator(0)])
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0,
                                   validators=[MinValueValidator(0), MaxValueValidator(100)])
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=0,
                                   validators=[MinValueValidator(0), MaxValueValidator(100)])
    net = models.DecimalField(_("net"), max_digits=16, decimal_places=2, default=0)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    gross = models.DecimalField(_("gross"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description


class QuoteLine(DocumentLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0, unit_price__gte=0),
                                   name="quoteline_not_negative"),
        ]


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", pgettext_lazy("approval", "Approved")
    REJECTED = "rejected", pgettext_lazy("approval", "Rejected")


class QuoteApproval(models.Model):
    """A rep's request to send a quote whose discount is above the company's threshold. An approval covers
    discounts up to `max_discount`: a later, larger discount needs a new one."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approvals")
    max_discount = models.DecimalField(_("largest discount (%)"), max_digits=5, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.PENDING)
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.quote}: {self.max_discount} %"


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", pgettext_lazy("order", "Confirmed")
    PARTIAL = "partial", pgettext_lazy("order", "Partially delivered")
    DELIVERED = "delivered", pgettext_lazy("order", "Delivered")
    CANCELLED = "cancelled", pgettext_lazy("order", "Cancelled")


# Orders still being fulfilled (not yet delivered in full, not cancelled): the service desk's "open orders".
OPEN_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.PARTIAL)


class Order(OwnedModel, CustomerDocument, TimestampedModel):
    number = models.CharField(_("number"), max_length=30, unique=True)
    quote = models.OneToOneField(Quote, verbose_name=_("quote"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="order")
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices,
                              default=OrderStatus.CONFIRMED)
    ordered_on = models.DateField(_("order date"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["owner", "updated_at", "id"]),
            models.Index(fields=["team", "updated_at", "id"]),
            models.Index(fields=["account", "id"]),
            models.Index(fields=["ordered_on", "currency"]),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(DocumentLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # The sum of this line's deliveries (kept in step by delivery_services); partial shipments leave it below.
    delivered_quantity = models.DecimalField(_("delivered"), max_digits=12, decimal_places=3, default=0)

    class Meta(DocumentLine.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

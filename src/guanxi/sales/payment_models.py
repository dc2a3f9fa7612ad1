"""Payment collection (回款): a plan of instalments per order or contract, payments received and how each was
allocated to instalments; and the exchange rates that bring foreign-currency amounts into the base currency."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.mixins import OwnedModel, TimestampedModel


class CurrencyRate(models.Model):
    """How many units of the company's base currency one unit of `currency` is worth, from `valid_from` on."""

    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8, validators=[MinValueValidator(0)])
    valid_from = models.DateField(_("valid from"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="currencyrate_once_a_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="currencyrate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate.normalize()} ({self.valid_from})"


class PaymentPlan(OwnedModel, TimestampedModel):
    """The instalments an order (or a contract) is paid in; owner and team are the order's, for visibility."""

    order = models.OneToOneField("sales.Order", verbose_name=_("order"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="payment_plan")
    contract = models.OneToOneField("sales.Contract", verbose_name=_("contract"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="payment_plan")
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="payment_plans")
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("payment plan")
        verbose_name_plural = _("payment plans")
        constraints = [
            models.CheckConstraint(condition=Q(order__isnull=False, contract__isnull=True)
                                   | Q(order__isnull=True, contract__isnull=False), name="paymentplan_one_source"),
        ]

    def __str__(self) -> str:
        return str(self.order or self.contract)


class InvoiceStatus(models.TextChoices):
    NOT_INVOICED = "none", _("Not invoiced")
    INVOICED = "invoiced", _("Invoiced")


class Instalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    due_date = models.DateField(_("due"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    paid_amount = models.DecimalField(_("paid"), max_digits=16, decimal_places=2, default=0)
    invoice_status = models.CharField(_("invoice"), max_length=10, choices=InvoiceStatus.choices,
                                      default=InvoiceStatus.NOT_INVOICED)
    invoice_number = models.CharField(_("invoice number"), max_length=50, blank=True, default="")
    invoice_date = models.DateField(_("invoice date"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["due_date", "position", "id"]
        indexes = [models.Index(fields=["due_date", "id"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
            models.CheckConstraint(condition=Q(paid_amount__gte=0, paid_amount__lte=F("amount")),
                                   name="instalment_paid_within_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.position + 1}"

    @property
    def outstanding(self):
        return self.amount - self.paid_amount

    def status_on(self, today) -> str:
        from .receivables import instalment_status

        return instalment_status(self.amount, self.paid_amount, self.due_date, today)


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    ACCEPTANCE = "acceptance", _("Bank acceptance bill")
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")
    OTHER = "other", pgettext_lazy("payment method", "Other")


class Payment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="payments")
    received_on = models.DateField(pgettext_lazy("payment", "received"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices,
                              default=PaymentMethod.TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["received_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} {self.plan.currency} ({self.received_on})"


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    instalment = models.ForeignKey(Instalment, on_delete=models.CASCADE, related_name="allocations")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="paymentallocation_positive")]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.instalment_id}: {self.amount}"

"""What the nightly scoring job stores: one CustomerScore per account with orders, the run's model fits,
and the product affinity rules behind "customers who bought this also bought"."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from guanxi.analytics.rfm import SEGMENT_BY_CODE


class Band(models.TextChoices):
    HIGH = "high", pgettext_lazy("band", "High")
    LOW = "low", pgettext_lazy("band", "Low")


# The eight RFM segments, translatable: the msgids are the English labels of rfm.SEGMENTS (the Chinese
# names there are what the zh-hans catalogue gives them).
SEGMENT_LABELS = {
    "important_value": _("Important value"),
    "important_develop": _("Important to develop"),
    "important_keep": _("Important to keep"),
    "important_retain": _("Important to win back"),
    "general_value": _("General value"),
    "general_develop": _("General to develop"),
    "general_keep": _("General to keep"),
    "general_retain": _("General to win back"),
}
assert set(SEGMENT_LABELS) == set(SEGMENT_BY_CODE)
SEGMENT_CHOICES = list(SEGMENT_LABELS.items())



def segment_label(code: str) -> str:
    """The segment's name in the current language: the catalogue's, or rfm.py's Chinese name (重要价值客户 …)
    under Chinese when the catalogue has no entry for it yet."""
    segment = SEGMENT_BY_CODE.get(code)
    if segment is None:
        return code
    text = gettext(segment.en)
    if text == segment.en and (get_language() or "").startswith("zh"):
        return segment.zh
    return text


# What a churn reason names (the churn features of queries.churn_features, or P(alive) in the fallback).
REASON_LABELS = {
    "tenure_days": _("days as a customer"),
    "recency_days": _("days since the last order"),
    "orders_total": _("orders in all"),
    "orders_recent": _("orders in the last 90 days"),
    "orders_trend": _("change in orders against the 90 days before"),
    "spend_recent": _("spend in the last 90 days"),
    "spend_trend": _("change in spend against the 90 days before"),
    "tickets_recent": _("tickets in the last 90 days"),
    "complaints_recent": _("complaints (high or urgent tickets) in the last 90 days"),
    "satisfaction_recent": _("mean satisfaction score (1–5) in the last 90 days"),
    "engagement_recent": _("activities with the customer in the last 90 days"),
    "engagement_trend": _("change in activities against the 90 days before"),
    "p_alive": _("P(alive) is low"),
}


class CustomerScore(models.Model):
    """An account's RFM scores and segment, lifetime value, P(alive) and churn risk as of `as_of`."""

    account = models.OneToOneField("customers.Account", verbose_name=_("account"), primary_key=True,
                                   on_delete=models.CASCADE, related_name="score")
    as_of = models.DateField(_("as of"))
    recency_days = models.IntegerField(_("days since the last order"))
    frequency = models.IntegerField(_("orders"))
    monetary = models.FloatField(_("total spend"))
    r_score = models.PositiveSmallIntegerField("R")
    f_score = models.PositiveSmallIntegerField("F")
    m_score = models.PositiveSmallIntegerField("M")
    segment = models.CharField(_("RFM segment"), max_length=20, choices=SEGMENT_CHOICES)
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    expected_orders = models.FloatField(_("expected orders (12 months)"), null=True, blank=True)
    clv = models.FloatField(_("lifetime value (12 months)"), null=True, blank=True)
    churn_risk = models.FloatField(_("churn risk"))
    reasons = models.JSONField(_("churn reasons"), default=list, blank=True)
    value_band = models.CharField(pgettext_lazy("customer value", "value"), max_length=4, choices=Band.choices)
    risk_band = models.CharField(_("risk"), max_length=4, choices=Band.choices)
    scored_at = models.DateTimeField(_("scored"))

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [  # the grid and its drill-down (riskiest first, or by spend)
            models.Index(fields=["value_band", "risk_band", "churn_risk", "account"]),
            models.Index(fields=["value_band", "risk_band", "monetary", "account"]),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.segment}"

    @property
    def segment_label(self) -> str:
        return segment_label(self.segment)

    @property
    def rfm_score(self) -> str:
        return f"{self.r_score}{self.f_score}{self.m_score}"


class ScoringStatus(models.TextChoices):
    RUNNING = "running", pgettext_lazy("scoring", "Running")
    DONE = "done", pgettext_lazy("scoring", "Done")
    FAILED = "failed", pgettext_lazy("scoring", "Failed")


class ScoringRun(models.Model):
    """One run of the scoring job: the fitted models (parameters and quality) and what it said."""

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=8, choices=ScoringStatus.choices,
                              default=ScoringStatus.RUNNING)
    customers = models.IntegerField(_("customers"), default=0)
    # {"purchases": Fit.as_dict(), "spend": …, "churn": {"method": "model"|"fallback", …}, "timings": {…}}
    details = models.JSONField(default=dict, blank=True)
    message = models.TextField(_("message"), blank=True, default="")

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of} {self.status}"


class AffinityRule(models.Model):
    """Customers who ordered `product` also ordered `suggested`, from one-product → one-product rules."""

    product = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")
    suggested = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")
    support = models.FloatField()
    confidence = models.FloatField()
    lift = models.FloatField()
    orders = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("affinity rule")
        verbose_name_plural = _("affinity rules")
        constraints = [models.UniqueConstraint(fields=["product", "suggested"], name="affinity_rule_once")]
        indexes = [models.Index(fields=["product", "-confidence"])]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.suggested_id}"

"""Quotas (销售指标): a target amount for one rep or one team over a month, a quarter or a year."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from guanxi.core.models import User


class PeriodKind(models.TextChoices):
    MONTH = "month", pgettext_lazy("period", "Month")
    QUARTER = "quarter", pgettext_lazy("period", "Quarter")
    YEAR = "year", pgettext_lazy("period", "Year")


class QuotaQuerySet(models.QuerySet):
    def visible_to(self, user: User | None) -> QuotaQuerySet:
        """A quota has no owner, so core.access's rule does not fit: everyone sees their own and their team's
        quotas, a manager also those of the team subtree they head and its members; administrators all."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_administrator:
            return self
        rule = Q(user_id=user.pk)
        if user.team_id:
            rule |= Q(team_id=user.team_id)
        team_ids = user.visible_team_ids()
        if team_ids:
            rule |= Q(team_id__in=team_ids) | Q(user__team_id__in=team_ids)
        return self.filter(rule)


class Quota(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="quotas",
    )
    team = models.ForeignKey(
        "core.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    kind = models.CharField(_("period"), max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    start = models.DateField(_("period start"))  # the period's first day: 1st of the month, quarter or year
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = QuotaQuerySet.as_manager()

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["start", "kind", "id"]
        indexes = [models.Index(fields=["kind", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="quota_user_xor_team",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_amount_not_negative"),
            models.UniqueConstraint(
                fields=["user", "kind", "start"], condition=Q(user__isnull=False), name="quota_once_per_user_period"
            ),
            models.UniqueConstraint(
                fields=["team", "kind", "start"], condition=Q(team__isnull=False), name="quota_once_per_team_period"
            ),
        ]

    def __str__(self) -> str:
        from .quota_math import Period

        return f"{self.user or self.team} · {Period(self.kind, self.start).label}"

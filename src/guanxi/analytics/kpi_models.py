"""The targets an administrator sets for the KPI dashboard: one per KPI key (analytics.kpi_registry)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class KpiTarget(models.Model):
    """The target of one KPI. For a KPI that adds up over time (revenue, orders …) it is the target of a month,
    scaled by the months of the period shown."""

    key = models.CharField(_("KPI"), max_length=50, unique=True)
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("set by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("set"), auto_now=True)

    class Meta:
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")

    def __str__(self) -> str:
        return f"{self.key}: {self.target}"

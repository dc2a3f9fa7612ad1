"""The KPI dashboard: every registered KPI for a period beside its target and a baseline period, with the
change, a status and a short trend; and setting a target (administrators). A constant number of queries:
each source once for all the periods shown, and the targets in one."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core.access import require_admin
from guanxi.core.models import User
from guanxi.sales.quota_math import Period, change
from guanxi.service.kpis import parse_request

from .kpi_models import KpiTarget
from .kpi_registry import GROUPS, REGISTRY, UP, KpiDef, values

TREND = 6  # periods in each sparkline, the current one last
NEAR = Decimal("0.9")  # within 10 % of the target: amber rather than red
LIMIT = Decimal("1e15")


@dataclass
class KpiRow:
    kpi: KpiDef
    value: Any
    baseline: Any
    target: Decimal | None
    change: Decimal | None  # in percent of the baseline
    status: str  # "good", "near", "bad" against the target; "none" without a target or a value
    trend: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def improved(self) -> bool | None:
        """Whether the change against the baseline goes the better way (None: no change to judge)."""
        if self.value is None or self.baseline is None or self.value == self.baseline:
            return None
        return (Decimal(self.value) > Decimal(self.baseline)) == (self.kpi.better == UP)

    def as_dict(self) -> dict[str, Any]:
        k = self.kpi
        return {"key": k.key, "label": str(k.label), "group": k.group, "unit": k.unit, "better": k.better,
                "help": str(k.help), "value": self.value, "target": self.target, "baseline": self.baseline,
                "change": self.change, "status": self.status, "improved": self.improved,
                "trend": [{"period": p, "value": v} for p, v in self.trend]}


def status(kpi: KpiDef, value: Any, target: Decimal | None) -> str:
    if value is None or target is None:
        return "none"
    value = Decimal(value)
    if kpi.better == UP:
        ok, near = value >= target, value >= target * NEAR
    else:
        ok, near = value <= target, value <= target * (2 - NEAR)
    return "good" if ok else "near" if near else "bad"


def scaled_target(kpi: KpiDef, target: Decimal | None, period: Period) -> Decimal | None:
    if target is None or not kpi.additive:
        return target
    return target * len(period.months())


def default_baseline(period: Period) -> Period:
    """The same period a year before (KPIs compare with last year by default)."""
    return Period(period.kind, period.start.replace(year=period.start.year - 1))


def parse_periods(period: str | None, baseline: str | None) -> tuple[Period, Period]:
    """The period (default: this month) and the baseline (default: the same period last year); one
    ValidationError naming every bad field (as the service KPIs parse theirs)."""
    current, base, _grouping = parse_request(period, baseline, "desk")
    return current, base if baseline else default_baseline(current)


def dashboard(user: User, period: Period, baseline: Period) -> list[KpiRow]:
    """One row per registered KPI, in registry order (grouped as GROUPS)."""
    trend = [period.shifted(i - TREND + 1) for i in range(TREND)]
    figures = values(user, [*trend, baseline])
    targets = dict(KpiTarget.objects.values_list("key", "target"))
    rows = []
    for group in GROUPS:
        for kpi in (k for k in REGISTRY.values() if k.group == group):
            series = figures[kpi.key]
            now, before = series[TREND - 1], series[TREND]
            target = scaled_target(kpi, targets.get(kpi.key), period)
            delta = change(Decimal(now), Decimal(before)) if now is not None and before is not None else None
            rows.append(KpiRow(kpi, now, before, target, delta, status(kpi, now, target),
                               [(p.label, v) for p, v in zip(trend, series[:TREND], strict=True)]))
    return rows


@transaction.atomic
def set_target(actor: User, key: str, target: Any) -> KpiTarget | None:
    """An administrator sets (or, with an empty value, removes) a KPI's target."""
    require_admin(actor, _("Only an administrator may set KPI targets."))
    if key not in REGISTRY:
        raise ValidationError({"key": [_("Not a KPI.")]})
    if target in (None, ""):
        KpiTarget.objects.filter(key=key).delete()
        return None
    try:
        number = Decimal(str(target).strip())
        if not number.is_finite() or abs(number) >= LIMIT:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValidationError({"target": [_("Enter a number.")]}) from None
    found, _created = KpiTarget.objects.update_or_create(
        key=key, defaults={"target": number.quantize(Decimal("0.01")), "updated_by": actor})
    return found


def chart_option(row: KpiRow) -> dict[str, Any]:
    """A small ECharts line of the trend (and the target as a dashed line)."""
    labels = [p for p, _v in row.trend]
    series: list[dict[str, Any]] = [{"type": "line", "name": str(row.kpi.label), "smooth": True, "symbolSize": 4,
                                     "data": [None if v is None else float(v) for _p, v in row.trend]}]
    if row.target is not None:
        series.append({"type": "line", "name": _("target"), "symbol": "none", "lineStyle": {"type": "dashed"},
                       "data": [float(row.target)] * len(labels)})
    return {"grid": {"left": 4, "right": 4, "top": 6, "bottom": 4, "containLabel": False},
            "tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": labels, "show": False},
            "yAxis": {"type": "value", "show": False, "scale": True}, "series": series}

"""The KPI definitions of the dashboard: key, label, unit, which direction is better, group, and the source
(analytics.kpi_sources) that computes it. Other apps may `register` more; `values` evaluates any set of KPIs
for a list of periods with one call per source, and `value(key, user, start, end)` gives one figure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import User
from guanxi.sales.quota_math import Period

from . import kpi_sources as sources

UP, DOWN = "up", "down"

GROUPS = {
    "contact_center": _("Contact centre"),
    "web": _("Web and email"),
    "transactions": _("Transactions"),
    "financial": _("Financial"),
    "satisfaction": _("Satisfaction"),
}


@dataclass(frozen=True)
class KpiDef:
    key: str
    label: str | Promise
    unit: str  # "%", "h", "s", "count", "money", "ratio", "score"
    better: str  # UP or DOWN
    group: str  # a key of GROUPS
    source: sources.Source
    additive: bool = False  # a sum over time: a monthly target is scaled by the months of the period
    help: str | Promise = ""


REGISTRY: dict[str, KpiDef] = {}


def register(kpi: KpiDef) -> KpiDef:
    if kpi.group not in GROUPS or kpi.better not in (UP, DOWN):
        raise ValueError(f"KPI {kpi.key}: unknown group or direction")
    REGISTRY[kpi.key] = kpi
    return kpi


for _kpi in (
    KpiDef("queue_seconds", _("Average queue time"), "s", DOWN, "contact_center", sources.phone,
           help=_("Seconds callers wait before an agent answers (phone calls).")),
    KpiDef("abandonment", _("Abandonment rate"), "%", DOWN, "contact_center", sources.phone,
           help=_("Calls hung up before an answer, of the calls queued.")),
    KpiDef("calls_per_resolution", _("Calls per resolution"), "ratio", DOWN, "contact_center", sources.phone,
           help=_("Answered incoming calls per ticket resolved in the period.")),
    KpiDef("contacts_per_resolution", _("Contacts per resolution"), "ratio", DOWN, "contact_center", sources.tickets,
           help=_("Agents' replies per ticket resolved in the period.")),
    KpiDef("first_response_hours", _("First response time"), "h", DOWN, "contact_center", sources.tickets,
           help=_("Mean hours from a ticket's creation to its first answer.")),
    KpiDef("faq_searches", _("FAQ questions asked"), "count", UP, "web", sources.web, additive=True,
           help=_("Searches of the knowledge base by customers on the portal and by agents.")),
    KpiDef("web_to_ticket", _("Web-to-email conversion"), "%", DOWN, "web", sources.web,
           help=_("Portal searches followed by a ticket or message instead of an answer found on the web.")),
    KpiDef("orders", _("Orders"), "count", UP, "transactions", sources.orders, additive=True,
           help=_("Orders placed in the period, cancelled ones left out.")),
    KpiDef("orders_per_product", _("Orders per product"), "ratio", UP, "transactions", sources.orders,
           help=_("Order lines per product ordered in the period.")),
    KpiDef("opportunities_created", _("Opportunities created"), "count", UP, "transactions", sources.opportunities,
           additive=True),
    KpiDef("opportunities_won", _("Opportunities won"), "count", UP, "transactions", sources.opportunities,
           additive=True),
    KpiDef("revenue", _("Revenue"), "money", UP, "financial", sources.orders, additive=True,
           help=_("Net totals of the orders in the base currency.")),
    KpiDef("margin", _("Gross margin"), "%", UP, "financial", sources.orders,
           help=_("(Net − quantity × product cost) of the order lines whose product has a cost, of their net.")),
    KpiDef("csat", _("CSAT"), "score", UP, "satisfaction", sources.tickets,
           help=_("Mean satisfaction score (1–5) of the survey answers given in the period.")),
    KpiDef("nps", _("NPS"), "score", UP, "satisfaction", sources.nps,
           help=_("Promoters (9–10) minus detractors (0–6), in percent of the answers.")),
):
    register(_kpi)


def values(user: User, periods: list[Period], keys: list[str] | None = None) -> dict[str, list[Any]]:
    """Each KPI's value per period (None: no data), each source called once."""
    wanted = [REGISTRY[k] for k in (keys or list(REGISTRY))]
    out: dict[str, list[Any]] = {}
    done: dict[Any, dict[str, list[Any]]] = {}
    for kpi in wanted:
        if kpi.source not in done:
            done[kpi.source] = kpi.source(user, periods)
        out[kpi.key] = done[kpi.source].get(kpi.key, [None] * len(periods))
    return out


def value(key: str, user: User, period: Period) -> Any:
    """One KPI for one period (None when there is no data)."""
    return values(user, [period], [key])[key][0]

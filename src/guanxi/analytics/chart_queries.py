"""The 7P charts: aggregate queries over the records the user may see (core's visible_to), each answered as
a small chart spec (labels, series, a drill-down link per bar) that the page turns into an ECharts option
and a plain table. One or two grouped queries per chart, never a query per bar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.paging import Page, paginate
from guanxi.customers.models import Account, Address, Classification, Contact, Industry, Source
from guanxi.sales.catalog_models import Product
from guanxi.sales.lead_models import Lead, LeadStatus
from guanxi.sales.performance import gross_by_month
from guanxi.sales.quote_models import Order, OrderLine, OrderStatus

from .playbook_models import Playbook, PlaybookAction
from .playbook_services import visible_scores
from .score_models import Band, segment_label

TOP = 10


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar" | "line"
    labels: list[str]
    series: list[dict[str, Any]]  # {"name": str, "values": [number, ...], optional "links": [url, ...]}
    links: list[str | None] = field(default_factory=list)  # one per label: the records behind it
    note: str = ""

    @property
    def json_id(self) -> str:
        return f"option-{self.key}"

    def option(self) -> dict[str, Any]:
        """The ECharts option; each data point carries its drill-down url."""
        return {
            "tooltip": {"trigger": "axis"},
            "legend": {"show": len(self.series) > 1},
            "grid": {"containLabel": True, "left": 8, "right": 8, "bottom": 8},
            "xAxis": {"type": "category", "data": self.labels, "axisLabel": {"interval": 0, "rotate": 30}},
            "yAxis": {"type": "value"},
            "series": [{"name": s["name"], "type": self.kind, **self._points(),
                        "data": [{"value": v, "url": self._link(s, i)} for i, v in enumerate(s["values"])]}
                       for s in self.series],
        }

    def _points(self) -> dict[str, Any]:
        """A line shows every point, large enough to click (ECharts hides them on a crowded axis)."""
        return {"showAllSymbol": True, "symbolSize": 8} if self.kind == "line" else {}

    def _link(self, series: dict[str, Any], i: int) -> str | None:
        """A point's drill-down: the series' own link when it has them (one product's orders), else the label's."""
        links = series.get("links", self.links)
        return links[i] if i < len(links) else None

    def rows(self) -> list[dict[str, Any]]:
        """The data table: a row per label, a cell per series, each linking where its point links."""
        return [{"label": label, "url": self.links[i] if i < len(self.links) else None,
                 "cells": [{"value": s["values"][i], "url": self._link(s, i) if "links" in s else None}
                           for s in self.series]} for i, label in enumerate(self.labels)]


def _url(name: str, **params: Any) -> str:
    return reverse(name) + ("?" + urlencode(params) if params else "")


def _scores_url(**params: Any) -> str:
    return _url("analytics:accounts", **params)


def _months_back(today: dt.date, n: int) -> list[dt.date]:
    first = today.replace(day=1)
    months = []
    for _i in range(n):
        months.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return months[::-1]


def _month(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def month_orders(user: User, month: dt.date, cursor: str | None = None, limit: int = 50,
                 product: int | None = None) -> Page:
    """The visible, counted orders of one month (with a line of `product` if given), newest first, keyset
    paged."""
    end = (month + dt.timedelta(days=32)).replace(day=1)
    qs = _orders(user).filter(ordered_on__gte=month, ordered_on__lt=end).select_related("account", "owner")
    if product is not None:  # a subquery, not a join: an order with two lines of the product is listed once
        qs = qs.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), product_id=product)))
    return paginate(qs, sort="-ordered_on", allowed=["-ordered_on"], cursor=cursor, limit=limit)


# ------------------------------------------------------------------ the seven Ps

def profiling(user: User) -> list[Chart]:
    accounts = Account.objects.visible_to(user)
    charts = []
    for key, name, choices in (("classification", _("Accounts by classification"), Classification),
                               ("industry", _("Accounts by industry"), Industry)):
        counts = dict(accounts.order_by().values_list(key).annotate(n=Count("pk")).values_list(key, "n"))
        labels = dict(choices.choices)
        keys = [k for k in [*labels, ""] if counts.get(k)]
        charts.append(Chart(key, name, "bar", [str(labels.get(k, _("(none)"))) for k in keys],
                            [{"name": _("accounts"), "values": [counts[k] for k in keys]}],
                            [_url("customers:account_list", **{key: k}) if k else None for k in keys]))
    provinces = list(Address.objects.filter(account__in=accounts.values("pk")).exclude(province="").order_by()
                     .values("province").annotate(n=Count("account", distinct=True)).order_by("-n", "province")[:20])
    charts.append(Chart("province", _("Customer geography: accounts by province"), "bar",
                        [p["province"] for p in provinces],
                        [{"name": _("accounts"), "values": [p["n"] for p in provinces]}],
                        [_url("customers:account_list", province=p["province"]) for p in provinces],
                        _("The 20 provinces with most accounts (by their addresses); a bar opens their accounts.")))
    return charts


def _buckets(user: User, name: str, edges: list[float]) -> tuple[list[str], list[int], list[str]]:
    scores = visible_scores(user)
    aggregates = {f"b{i}": Count("pk", filter=Q(**{f"{name}__gte": lo, f"{name}__lt": hi}))
                  for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))}
    counts = scores.aggregate(**aggregates)
    labels = [f"{lo:g}–{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    links = [_scores_url(**{f"{name}_gte": lo, f"{name}_lt": hi}) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return labels, [counts[f"b{i}"] for i in range(len(labels))], links


def persistency(user: User) -> list[Chart]:
    edges = [0, 0.2, 0.4, 0.6, 0.8, 1.000001]
    labels, counts, links = _buckets(user, "p_alive", edges)
    labels[-1] = "0.8–1"
    repeat = visible_scores(user).aggregate(once=Count("pk", filter=Q(frequency=1)),
                                            repeat=Count("pk", filter=Q(frequency__gt=1)))
    return [
        Chart("p_alive", _("P(alive): how likely customers are still buying"), "bar", labels,
              [{"name": _("accounts"), "values": counts}], links),
        Chart("repeat", _("Repeat purchase"), "bar", [_("one order"), _("repeat orders")],
              [{"name": _("accounts"), "values": [repeat["once"], repeat["repeat"]]}],
              [_scores_url(frequency_lt=2), _scores_url(frequency_gte=2)]),
    ]


def profitability(user: User) -> list[Chart]:
    scores = visible_scores(user)
    top = float(scores.order_by("-clv").exclude(clv=None).values_list("clv", flat=True).first() or 0)
    step = _nice_step(top / 8) if top > 0 else 1
    edges = [step * i for i in range(9)]
    edges[-1] = max(edges[-1], top + 1e-9)
    labels, counts, links = _buckets(user, "clv", edges)
    best = list(scores.exclude(clv=None).select_related("account").order_by("-clv", "pk")[:TOP])
    segments = scores.order_by().values("segment").annotate(n=Count("pk"), spend=Sum("monetary")).order_by("segment")
    return [
        Chart("clv", _("Lifetime value (12 months): distribution"), "bar", labels,
              [{"name": _("accounts"), "values": counts}], links),
        Chart("top", _("Top customers by lifetime value"), "bar", [s.account.name for s in best],
              [{"name": _("lifetime value"), "values": [round(s.clv, 2) for s in best]}],
              [reverse("customers:account_detail", args=[s.account_id]) for s in best]),
        Chart("segments", _("Spend by RFM segment"), "bar", [segment_label(s["segment"])
                                                              for s in segments],
              [{"name": _("total spend"), "values": [round(s["spend"] or 0, 2) for s in segments]}],
              [_scores_url(segment=s["segment"]) for s in segments]),
    ]


def _nice_step(raw: float) -> float:
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _orders(user: User):
    return Order.objects.visible_to(user).exclude(status=OrderStatus.CANCELLED)


def performance(user: User) -> list[Chart]:
    months = _months_back(timezone.localdate(), 12)
    start = months[0].replace(year=months[0].year - 1)
    totals = {m: float(t) for m, t in gross_by_month(user, start).items()}  # the sales summary of orders
    last_year = [m.replace(year=m.year - 1) for m in months]
    return [Chart("revenue", _("Revenue per month against the same month last year"), "line",
                  [m.strftime("%Y-%m") for m in months],
                  [{"name": _("this year"), "values": [round(totals.get(m, 0), 2) for m in months]},
                   {"name": _("last year"), "values": [round(totals.get(m, 0), 2) for m in last_year]}],
                  [_url("analytics:orders", month=m.strftime("%Y-%m")) for m in months],
                  _("Order totals of all currencies, cancelled orders left out."))]


def product(user: User) -> list[Chart]:
    months = _months_back(timezone.localdate(), 12)
    lines = OrderLine.objects.filter(order__in=_orders(user).filter(ordered_on__gte=months[0]).values("pk"),
                                     product__isnull=False)
    top = list(lines.order_by().values("product").annotate(n=Count("order", distinct=True))
               .order_by("-n", "product")[:5].values_list("product", flat=True))
    names = dict(Product.objects.filter(pk__in=top).values_list("pk", "name"))
    counts = {(p, _month(m)): n for p, m, n in lines.filter(product__in=top).order_by()
              .annotate(m=TruncMonth("order__ordered_on")).values("product", "m")
              .annotate(n=Count("order", distinct=True)).values_list("product", "m", "n")}
    return [Chart("product", _("Orders per product per month (the five most ordered)"), "line",
                  [m.strftime("%Y-%m") for m in months],
                  [{"name": names.get(p, str(p)), "values": [counts.get((p, m), 0) for m in months],
                    "links": [_url("analytics:orders", month=m.strftime("%Y-%m"), product=p) for m in months]}
                   for p in top],
                  [_url("analytics:orders", month=m.strftime("%Y-%m")) for m in months],
                  _("A point opens that product's orders of the month; a month in the table opens all its orders."))]


def prospecting(user: User) -> list[Chart]:
    rows = list(Lead.objects.visible_to(user).order_by().values("source")
                .annotate(n=Count("pk"), won=Count("pk", filter=Q(status=LeadStatus.CONVERTED))).order_by("source"))
    labels = dict(Source.choices)
    return [Chart("leads", _("Leads by source and how many were converted"), "bar",
                  [str(labels.get(r["source"], _("(none)"))) for r in rows],
                  [{"name": _("leads"), "values": [r["n"] for r in rows]},
                   {"name": _("converted"), "values": [r["won"] for r in rows]}],
                  [_url("sales:lead_list", source=r["source"]) if r["source"] else None for r in rows],
                  _("Conversion rate per source: %(rates)s") % {"rates": ", ".join(
                      f"{labels.get(r['source'], '—')} {100 * r['won'] / r['n']:.0f} %" for r in rows if r["n"])})]


def _targeted(user: User) -> QuerySet[PlaybookAction]:
    """What the playbooks did for the accounts the user may see: the CRM's promotions, one row per account
    and run (its created_at is when the task was created or the tag added)."""
    return PlaybookAction.objects.filter(account__in=Account.objects.visible_to(user).values("pk"))


def _ordered_after(user: User) -> Exists:
    """For a PlaybookAction row: a counted order of its account, visible to the user, dated on or after the
    day the account was targeted (orders carry a date, not a time)."""
    return Exists(_orders(user).filter(account=OuterRef("account"), ordered_on__gte=OuterRef("created_at__date")))


def playbook_label(title: str, value_band: str, risk_band: str) -> str:
    bands = dict(Band.choices)
    return _("%(title)s (value %(value)s, risk %(risk)s)") % {
        "title": title, "value": str(bands.get(value_band, "")).lower(), "risk": str(bands.get(risk_band, "")).lower()}


def playbook_accounts(user: User, playbook: Playbook, *, ordered: bool = False, cursor: str | None = None,
                      limit: int = 50) -> Page:
    """The visible accounts a playbook targeted (only those that ordered since, if `ordered`), by name, each
    with `targeted_at`, the first time the playbook reached it; keyset paged."""
    # The accounts' own visibility rule below limits the actions too: no second visibility test inside.
    actions = PlaybookAction.objects.filter(playbook=playbook, account=OuterRef("pk"))
    first = actions.order_by("created_at").values("created_at")[:1]
    if ordered:
        actions = actions.filter(_ordered_after(user))
    qs = Account.objects.visible_to(user).filter(Exists(actions)).select_related("owner").annotate(targeted_at=first)
    return paginate(qs, sort="name", allowed=["name"], cursor=cursor, limit=limit)


def promotion(user: User) -> list[Chart]:
    rows = list(_targeted(user).order_by()
                .values("playbook", "playbook__title", "playbook__value_band", "playbook__risk_band")
                .annotate(targeted=Count("account", distinct=True),
                          ordered=Count("account", distinct=True, filter=Q(_ordered_after(user))))
                .order_by("playbook__value_band", "playbook__risk_band"))
    charts = []
    if rows:
        links = [reverse("analytics:playbook_accounts", args=[r["playbook"]]) for r in rows]
        charts.append(Chart(
            "playbooks", _("Retention playbooks: accounts targeted and how many ordered since"), "bar",
            [playbook_label(r["playbook__title"], r["playbook__value_band"], r["playbook__risk_band"]) for r in rows],
            [{"name": _("accounts targeted"), "values": [r["targeted"] for r in rows], "links": links},
             {"name": _("ordered since"), "values": [r["ordered"] for r in rows],
              "links": [f"{link}?ordered=1" for link in links]}],
            links,
            _("Response rate (ordered on or after the day the task was created or the tag added): %(rates)s") % {
                "rates": ", ".join(f"{r['playbook__title']} {100 * r['ordered'] / r['targeted']:.0f} %"
                                   for r in rows if r["targeted"])}))
    consent = Contact.objects.visible_to(user).aggregate(yes=Count("pk", filter=Q(marketing_consent=True)),
                                                         no=Count("pk", filter=Q(marketing_consent=False)))
    total = consent["yes"] + consent["no"]
    if total:
        charts.append(Chart(
            "consent", _("Promotion reach: contacts by marketing consent"), "bar",
            [_("agreed to marketing"), _("no consent")],
            [{"name": _("contacts"), "values": [consent["yes"], consent["no"]]}],
            [_url("customers:contact_list", marketing_consent="yes"),
             _url("customers:contact_list", marketing_consent="no")],
            _("%(share).0f %% of the contacts you may see may receive marketing.") % {
                "share": 100 * consent["yes"] / total}))
    return charts


BUILDERS = {"profiling": profiling, "persistency": persistency, "profitability": profitability,
            "performance": performance, "product": product, "prospecting": prospecting, "promotion": promotion}


def build(name: str, user: User) -> list[Chart]:
    return BUILDERS[name](user)

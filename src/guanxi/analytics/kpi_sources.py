"""Where the dashboard's figures come from. A source computes a few KPIs for a list of periods at once: one
aggregate query with a conditional aggregate per period (Count/Sum/Avg with a filter), so the dashboard costs
the same few queries however many periods (current, baseline, the trend) and records there are.

Every source aggregates over the records the user may see (core's `visible_to`; orders and opportunities
through sales.performance.Scope, which also limits a manager to their teams' reps). A value is None when
there is nothing to compute it from (no resolved ticket, no survey answer …); the phone source answers None
for every period when the contact centre records no calls in this installation, so those KPIs light up once
the app that records them is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models import Model as DjangoModel

from guanxi.core.models import User
from guanxi.customers.models import Contact
from guanxi.knowledge.models import SearchLog, SearchSource
from guanxi.sales.models import StageKind
from guanxi.sales.performance import Scope, bounds
from guanxi.sales.quota_math import Period, average, percent
from guanxi.sales.quote_models import CompanyProfile, OrderLine
from guanxi.service.csat_models import SatisfactionResponse
from guanxi.service.kpis import _hours, _since
from guanxi.service.nps_models import NpsResponse
from guanxi.service.nps_services import breakdown_of, category_counts
from guanxi.service.ticket_models import MessageKind, Ticket, TicketMessage

Values = dict[str, list[Any]]
Source = Callable[[User, list[Period]], Values]


def in_period(field: str, period: Period, *, dates: bool = False) -> Q:
    """`field` inside the period: dates compare with its days, datetimes with its bounds in the company's zone."""
    start, end = (period.start, period.end) if dates else bounds(period)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _ratio(part: Any, whole: Any, places: str = "0.01") -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part or 0) / Decimal(whole)).quantize(Decimal(places))


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def orders(user: User, periods: list[Period]) -> Values:
    """Revenue (net, orders in the base currency), counted orders, order lines per product ordered, and the
    gross margin of the lines whose product has a cost. Two queries (and the company profile)."""
    scope = Scope(user)
    base = CompanyProfile.current().base_currency
    counted = scope.orders()
    aggregates: dict[str, Any] = {}
    for i, p in enumerate(periods):
        when = in_period("ordered_on", p, dates=True)
        aggregates[f"n{i}"] = Count("id", filter=when)
        aggregates[f"r{i}"] = Sum("net_total", filter=when & Q(currency=base))
    row = counted.aggregate(**aggregates)
    lines = OrderLine.objects.filter(order__in=counted.values("pk"), product__isnull=False)
    cost = ExpressionWrapper(F("quantity") * F("product__cost"), output_field=DecimalField(max_digits=30,
                                                                                          decimal_places=5))
    costed = Q(product__cost__isnull=False, order__currency=base)
    line_aggregates: dict[str, Any] = {}
    for i, p in enumerate(periods):
        when = in_period("order__ordered_on", p, dates=True)
        line_aggregates[f"l{i}"] = Count("id", filter=when)
        line_aggregates[f"p{i}"] = Count("product", distinct=True, filter=when)
        line_aggregates[f"net{i}"] = Sum("net", filter=when & costed)
        line_aggregates[f"cost{i}"] = Sum(cost, filter=when & costed)
    line = lines.aggregate(**line_aggregates)
    n = range(len(periods))
    return {
        "revenue": [_money(row[f"r{i}"]) if row[f"n{i}"] else None for i in n],
        "orders": [row[f"n{i}"] for i in n],
        "orders_per_product": [_ratio(line[f"l{i}"], line[f"p{i}"]) for i in n],
        "margin": [percent(Decimal(line[f"net{i}"]) - Decimal(line[f"cost{i}"] or 0), line[f"net{i}"])
                   if line[f"net{i}"] else None for i in n],
    }


def opportunities(user: User, periods: list[Period]) -> Values:
    """Opportunities created and won in each period; one query."""
    aggregates: dict[str, Any] = {}
    for i, p in enumerate(periods):
        aggregates[f"c{i}"] = Count("id", filter=in_period("created_at", p))
        aggregates[f"w{i}"] = Count("id", filter=in_period("closed_at", p) & Q(status=StageKind.WON))
    row = Scope(user).opportunities().aggregate(**aggregates)
    return {"opportunities_created": [row[f"c{i}"] for i in range(len(periods))],
            "opportunities_won": [row[f"w{i}"] for i in range(len(periods))]}


def tickets(user: User, periods: list[Period]) -> Values:
    """As service.kpis counts them: the mean hours to the first response, agents' public replies per ticket
    resolved (contacts per resolution), and CSAT (mean 1–5 of the survey answers); three queries."""
    visible = Ticket.objects.visible_to(user)
    aggregates: dict[str, Any] = {}
    for i, p in enumerate(periods):
        aggregates[f"resolved{i}"] = Count("id", filter=in_period("resolved_at", p))
        aggregates[f"fr{i}"] = Avg(_since("first_response_at"), filter=in_period("first_response_at", p))
    row = visible.aggregate(**aggregates)
    replies = (TicketMessage.objects.filter(kind=MessageKind.REPLY, author__isnull=False,
                                            ticket__in=visible.values("pk"))
               .exclude(author=F("ticket__requester"))
               .aggregate(**{f"r{i}": Count("id", filter=in_period("ticket__resolved_at", p))
                             for i, p in enumerate(periods)}))
    csat_aggregates: dict[str, Any] = {}
    for i, p in enumerate(periods):
        csat_aggregates[f"a{i}"] = Avg("score", filter=in_period("at", p))
    csat = SatisfactionResponse.objects.filter(ticket__in=visible.values("pk")).aggregate(**csat_aggregates)
    n = range(len(periods))
    return {
        "first_response_hours": [None if row[f"fr{i}"] is None else Decimal(str(round(_hours(row[f"fr{i}"]), 2)))
                                 for i in n],
        "contacts_per_resolution": [_ratio(replies[f"r{i}"], row[f"resolved{i}"]) for i in n],
        "csat": [None if csat[f"a{i}"] is None else Decimal(str(csat[f"a{i}"])).quantize(Decimal("0.01"))
                 for i in n],
    }


def web(user: User, periods: list[Period]) -> Values:
    """FAQ searches (agents, portal and API), and the share of portal searches a ticket followed (web-to-ticket
    conversion, the complement of deflection); one query. Searches are not customer records: everyone counts
    them all."""
    aggregates: dict[str, Any] = {}
    portal = Q(source=SearchSource.PORTAL)
    for i, p in enumerate(periods):
        when = in_period("created_at", p)
        aggregates[f"s{i}"] = Count("id", filter=when)
        aggregates[f"p{i}"] = Count("id", filter=when & portal)
        aggregates[f"t{i}"] = Count("id", filter=when & portal & Q(ended_without_ticket=False))
    row = SearchLog.objects.aggregate(**aggregates)
    n = range(len(periods))
    return {"faq_searches": [row[f"s{i}"] or None for i in n],
            "web_to_ticket": [percent(row[f"t{i}"], row[f"p{i}"]) for i in n]}


# ------------------------------------------------------------------ data other apps bring

def find_model(candidates: list[tuple[str, str]]) -> type[DjangoModel] | None:
    """The first installed model of `candidates` (app label, model name), or None."""
    for app_label, name in candidates:
        try:
            return apps.get_model(app_label, name)
        except LookupError:
            continue
    return None


CALL_FIELDS = {"direction", "started_at", "queued_at", "outcome", "wait_seconds"}


def phone(user: User, periods: list[Period]) -> Values:
    """Average queue time, abandonment rate and calls per resolution of inbound calls, counted as
    contact_center.call_metrics counts them for the service KPI page (so both pages agree), in two queries for all
    the periods: the mean `wait_seconds` of the queued calls; of the queued calls answered or abandoned, the share
    abandoned; the answered calls per ticket resolved in the period. None while the contact centre records no
    calls (no Call model with those fields in this installation); only the calls and tickets the user may see
    are counted."""
    none = {key: [None] * len(periods) for key in ("queue_seconds", "abandonment", "calls_per_resolution")}
    model = find_model([("contact_center", "Call")])
    if model is None or not CALL_FIELDS <= {f.name for f in model._meta.get_fields()}:
        return none
    calls = model._default_manager.visible_to(user).filter(direction="in")
    queued = Q(queued_at__isnull=False)
    aggregates: dict[str, Any] = {}
    for i, p in enumerate(periods):
        started = in_period("started_at", p)
        when = started & queued
        aggregates[f"n{i}"] = Count("pk", filter=when & Q(outcome__in=["answered", "abandoned"]))
        aggregates[f"a{i}"] = Count("pk", filter=when & Q(outcome="abandoned"))
        aggregates[f"q{i}"] = Avg("wait_seconds", filter=when & Q(wait_seconds__isnull=False))
        aggregates[f"c{i}"] = Count("pk", filter=started & Q(outcome="answered"))
    row = calls.aggregate(**aggregates)
    n = range(len(periods))
    resolved = Ticket.objects.visible_to(user).aggregate(  # only when some call was answered
        **{f"r{i}": Count("id", filter=in_period("resolved_at", p)) for i, p in enumerate(periods)}
    ) if any(row[f"c{i}"] for i in n) else {}
    return {"queue_seconds": [None if row[f"q{i}"] is None else Decimal(str(row[f"q{i}"])).quantize(Decimal("0.01"))
                              for i in n],
            "abandonment": [percent(row[f"a{i}"], row[f"n{i}"]) for i in n],
            "calls_per_resolution": [average(row[f"c{i}"], resolved[f"r{i}"]) if row[f"c{i}"] else None
                                     for i in n]}


def nps(user: User, periods: list[Period]) -> Values:
    """Net promoter score of the NPS survey answers given in each period (% answers 9–10 minus % answers 0–6, as
    service.nps counts it), over the answers of the contacts the user may see — as CSAT counts the answers to the
    tickets they may see. One query for all the periods; None for a period without answers."""
    visible = Contact.objects.visible_to(user).values("pk")
    aggregates: dict[str, Any] = {}
    for i, p in enumerate(periods):
        aggregates.update(category_counts(f"{i}_", in_period("at", p)))
    row = NpsResponse.objects.filter(contact__in=visible).aggregate(**aggregates)
    return {"nps": [breakdown_of(row, f"{i}_").score for i in range(len(periods))]}

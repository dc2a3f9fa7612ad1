"""REST resources of quotes (header, lines, approval, send, revise, reject, accept) and of the orders accepted
quotes become. A quote carries `version`: a change with a stale one is a 409 with the current quote."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import (
    CONFLICT_SERIALIZERS,
    CURSOR,
    ERRORS,
    LIMIT,
    READ_ONE,
    WRITE,
    WRITE_ONE,
    Id,
    Ref,
    actor,
    page_out,
    ref,
    sort_field,
    utc,
)
from guanxi.core.models import User
from guanxi.core.paging import paginate

from . import quote_services as qs
from .quote_models import Order, Quote, QuoteApproval, QuoteStatus
from .quote_views import ORDER_SORTS, QUOTE_SORTS

router = Router()
TAG = ["quotes"]
ORDER_TAG = ["orders"]
Text = str | None
Amount = Decimal | None
VERSION = Field(..., description="The version you read; a stale one gives 409.")


class LineIn(Schema):
    product_id: Id | None = Field(None, description="Fills description, unit, tax rate and the list price.")
    description: Text = Field(None, max_length=500)
    quantity: Amount = Field(None, description="At least 0; default 1.")
    unit: Text = Field(None, max_length=20)
    unit_price: Amount = Field(None, description="Default: the price list's (by quantity tier).")
    discount: Amount = Field(None, description="Percent, 0–100.")
    tax_rate: Amount = Field(None, description="Percent, e.g. 13, 6 or 0; default the product's.")


class LinesIn(Schema):
    version: int = VERSION
    lines: list[LineIn] = Field(..., max_length=qs.MAX_LINES)


class LinePatch(LineIn):
    version: int = VERSION


class LineOut(Schema):
    id: int
    position: int
    product: Ref | None
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount: str
    tax_rate: str
    net: str
    tax: str
    gross: str


class _QuoteFields(Schema):
    title: Text = Field(None, max_length=200)
    opportunity_id: Id | None = None
    contact_id: Id | None = None
    currency: Text = Field(None, description="ISO 4217; default the price list's.")
    price_list_id: Id | None = Field(None, description="Default: the default list in force for the currency.")
    valid_until: dt.date | None = None
    terms: Text = None
    notes: Text = None


class QuoteIn(_QuoteFields):
    account_id: Id | None = Field(None, description="Required unless an opportunity is given.")
    lines: list[LineIn] | None = Field(None, max_length=qs.MAX_LINES)


class QuotePatch(_QuoteFields):
    version: int = VERSION


class QuoteOut(Schema):
    id: int
    version: int
    number: str
    revision: int = Field(description="The quote's version as the customer sees it (v1, v2 …).")
    previous_id: int | None
    title: str
    status: str
    account: Ref
    contact: Ref | None
    opportunity: Ref | None
    currency: str
    price_list: Ref | None
    valid_until: dt.date | None
    terms: str
    notes: str
    net_total: str
    tax_total: str
    gross_total: str
    max_discount: str
    approval_needed: bool = Field(description="Whether you need a manager's approval to send it.")
    sent_at: dt.datetime | None
    owner: Ref | None
    lines: list[LineOut] | None = Field(None, description="Only on the single quote.")
    created_at: dt.datetime
    updated_at: dt.datetime


class QuotePage(Schema):
    items: list[QuoteOut]
    next: str | None


class QuoteConflict(Schema):
    detail: str
    current: QuoteOut


class QuoteQuery(Schema):
    status: list[str] = Field(default_factory=list, json_schema_extra={"items": {"enum": list(QuoteStatus.values)}})
    account: Id | None = None
    opportunity: Id | None = None
    sort: str = sort_field(QUOTE_SORTS, "-updated_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


class SendIn(Schema):
    version: int = VERSION
    to: str | None = Field(None, max_length=254, description="Default: the contact's email.")
    message: str | None = Field(None, max_length=5000)


class AcceptIn(Schema):
    version: int = VERSION
    mark_won: bool = Field(False, description="Also move the opportunity to its pipeline's won stage.")


class QuoteRejectIn(Schema):
    version: int = VERSION
    reason: str | None = Field(None, max_length=500)


class QuoteVersionIn(Schema):
    version: int = VERSION


class ApprovalIn(Schema):
    note: str | None = Field(None, max_length=500)


class DecisionIn(Schema):
    approve: bool
    reason: str | None = Field(None, max_length=500, description="Required to refuse.")


class ApprovalOut(Schema):
    id: int
    quote_id: int
    max_discount: str
    status: str
    note: str
    requested_by: Ref | None
    decided_by: Ref | None
    reason: str


class OrderOut(Schema):
    id: int
    number: str
    quote: Ref | None
    account: Ref
    contact: Ref | None
    opportunity: Ref | None
    currency: str
    status: str
    ordered_on: dt.date
    net_total: str
    tax_total: str
    gross_total: str
    owner: Ref | None
    lines: list[LineOut] | None = None
    created_at: dt.datetime


class OrderPage(Schema):
    items: list[OrderOut]
    next: str | None


class OrderQuery(Schema):
    account: Id | None = None
    sort: str = sort_field(ORDER_SORTS, "-updated_at")
    limit: int = LIMIT
    cursor: str | None = CURSOR


# ------------------------------------------------------------------ serialisation


def line_item(ln: Any) -> dict[str, Any]:
    return {"id": ln.pk, "position": ln.position, "product": ref(ln.product), "description": ln.description,
            "quantity": f"{ln.quantity.normalize():f}", "unit": ln.unit, "unit_price": f"{ln.unit_price:.2f}",
            "discount": f"{ln.discount:.2f}", "tax_rate": f"{ln.tax_rate:.2f}", "net": f"{ln.net:.2f}",
            "tax": f"{ln.tax:.2f}", "gross": f"{ln.gross:.2f}"}


def _totals(d: Any) -> dict[str, str]:
    return {"net_total": f"{d.net_total:.2f}", "tax_total": f"{d.tax_total:.2f}", "gross_total": f"{d.gross_total:.2f}"}


def quote_item(q: Quote, user: User, lines: bool = False, held: set[int] | None = None) -> dict[str, Any]:
    """One quote; `held` is `needing_approval` for a page of quotes (else asked for this one)."""
    return {
        "id": q.pk, "version": q.version, "number": q.number, "revision": q.revision, "previous_id": q.previous_id,
        "title": q.title, "status": q.status, "account": ref(q.account), "contact": ref(q.contact),
        "opportunity": ref(q.opportunity), "currency": q.currency, "price_list": ref(q.price_list),
        "valid_until": q.valid_until, "terms": q.terms, "notes": q.notes, **_totals(q),
        "max_discount": f"{q.max_discount:.2f}",
        "approval_needed": q.pk in held if held is not None else qs.approval_needed(q, user),
        "sent_at": utc(q.sent_at), "owner": ref(q.owner),
        "lines": [line_item(ln) for ln in q.lines.select_related("product")] if lines else None,
        "created_at": utc(q.created_at), "updated_at": utc(q.updated_at),
    }


RELATED = ("account", "contact", "opportunity", "price_list", "owner")


def _quote(pk: int, user: User) -> dict[str, Any]:
    return quote_item(Quote.objects.select_related(*RELATED).get(pk=pk), user, lines=True)


CONFLICT_SERIALIZERS[Quote] = _quote


def order_item(o: Order, lines: bool = False) -> dict[str, Any]:
    return {"id": o.pk, "number": o.number, "quote": ref(o.quote), "account": ref(o.account),
            "contact": ref(o.contact), "opportunity": ref(o.opportunity), "currency": o.currency, "status": o.status,
            "ordered_on": o.ordered_on, **_totals(o), "owner": ref(o.owner),
            "lines": [line_item(ln) for ln in o.lines.select_related("product")] if lines else None,
            "created_at": utc(o.created_at)}


def approval_item(a: QuoteApproval) -> dict[str, Any]:
    return {"id": a.pk, "quote_id": a.quote_id, "max_discount": f"{a.max_discount:.2f}", "status": a.status,
            "note": a.note, "requested_by": ref(a.requested_by), "decided_by": ref(a.decided_by), "reason": a.reason}


def visible_quote(request: HttpRequest, id: int) -> Quote:
    return get_object_or_404(Quote.objects.visible_to(actor(request)), pk=id)


def _data(payload: Schema) -> tuple[dict[str, Any], Any]:
    data = payload.model_dump(exclude_unset=True)
    return data, data.pop("version", None)


# ------------------------------------------------------------------ quotes


@router.get("/quotes", response={200: QuotePage, **ERRORS}, tags=TAG)
def list_quotes(request: HttpRequest, params: Query[QuoteQuery]):
    """Quotes you may see (lines are on the single quote)."""
    user = actor(request)
    quotes = Quote.objects.visible_to(user).select_related(*RELATED)
    if params.status:
        quotes = quotes.filter(status__in=params.status)
    if params.account:
        quotes = quotes.filter(account_id=params.account)
    if params.opportunity:
        quotes = quotes.filter(opportunity_id=params.opportunity)
    page = paginate(quotes, sort=params.sort, allowed=QUOTE_SORTS, cursor=params.cursor, limit=params.limit)
    held = qs.needing_approval(page.items, user)
    return page_out([quote_item(q, user, held=held) for q in page.items], page.next_cursor)


@router.post("/quotes", response={201: QuoteOut, **WRITE}, tags=TAG)
def create_quote(request: HttpRequest, payload: QuoteIn):
    """A draft quote (yours), with the lines given; totals are computed per line to 0.01, half up."""
    user = actor(request)
    quote = qs.create_quote(user, payload.model_dump(exclude_unset=True))
    return Status(201, _quote(quote.pk, user))


@router.get("/quotes/{id}", response={200: QuoteOut, **READ_ONE}, tags=TAG)
def get_quote(request: HttpRequest, id: Id):
    return _quote(visible_quote(request, id).pk, actor(request))


@router.patch("/quotes/{id}", response={200: QuoteOut, **WRITE_ONE, 409: QuoteConflict}, tags=TAG)
def update_quote(request: HttpRequest, id: Id, payload: QuotePatch):
    """Change a draft's header fields sent (and only those)."""
    data, version = _data(payload)
    quote = qs.update_quote(actor(request), visible_quote(request, id), data, version)
    return _quote(quote.pk, actor(request))


@router.delete("/quotes/{id}", response={204: None, **WRITE_ONE}, tags=TAG)
def delete_quote(request: HttpRequest, id: Id):
    """A draft only."""
    qs.delete_quote(actor(request), visible_quote(request, id))
    return Status(204, None)


@router.get("/quotes/{id}/lines", response={200: list[LineOut], **READ_ONE}, tags=TAG)
def list_lines(request: HttpRequest, id: Id):
    return [line_item(ln) for ln in visible_quote(request, id).lines.select_related("product")]


@router.post("/quotes/{id}/lines", response={200: QuoteOut, **WRITE_ONE, 409: QuoteConflict}, tags=TAG)
def add_lines(request: HttpRequest, id: Id, payload: LinesIn):
    """Append lines to a draft; errors name the line (`lines.N.quantity`)."""
    quote = qs.add_lines(actor(request), visible_quote(request, id), payload.model_dump(exclude_unset=True)["lines"],
                         payload.version)
    return _quote(quote.pk, actor(request))


@router.patch("/quotes/{id}/lines/{line_id}", response={200: QuoteOut, **WRITE_ONE, 409: QuoteConflict},
              tags=TAG)
def update_line(request: HttpRequest, id: Id, line_id: Id, payload: LinePatch):
    data, version = _data(payload)
    quote = qs.update_line(actor(request), visible_quote(request, id), line_id, data, version)
    return _quote(quote.pk, actor(request))


@router.delete("/quotes/{id}/lines/{line_id}", response={200: QuoteOut, **WRITE_ONE, 409: QuoteConflict},
               tags=TAG)
def remove_line(request: HttpRequest, id: Id, line_id: Id, version: int):
    quote = qs.remove_line(actor(request), visible_quote(request, id), line_id, version)
    return _quote(quote.pk, actor(request))


@router.post("/quotes/{id}/approval", response={201: ApprovalOut, **WRITE_ONE}, tags=TAG)
def request_approval(request: HttpRequest, id: Id, payload: ApprovalIn):
    """Ask a manager to allow a discount above the company's threshold."""
    approval = qs.request_approval(actor(request), visible_quote(request, id), payload.note or "")
    return Status(201, approval_item(approval))


@router.post("/quote-approvals/{id}/decision", response={200: ApprovalOut, **WRITE_ONE}, tags=TAG)
def decide_approval(request: HttpRequest, id: Id, payload: DecisionIn):
    """Approve or refuse (with a reason); administrators and managers who may see the quote."""
    approval = get_object_or_404(QuoteApproval.objects.filter(
        quote__in=Quote.objects.visible_to(actor(request))), pk=id)
    return approval_item(qs.decide_approval(actor(request), approval, payload.approve, payload.reason or ""))


@router.post("/quotes/{id}/send", response={200: QuoteOut, **WRITE_ONE, 409: QuoteConflict}, tags=TAG)
def send_quote(request: HttpRequest, id: Id, payload: SendIn):
    """Email the PDF to the contact (or `to`) and mark the quote sent; refused (400) while a discount waits for
    approval, and nothing changes if the mail server refuses."""
    quote = qs.send_quote(actor(request), visible_quote(request, id), payload.version, payload.to,
                          payload.message or "")
    return _quote(quote.pk, actor(request))


@router.post("/quotes/{id}/revise", response={201: QuoteOut, **WRITE_ONE, 409: QuoteConflict}, tags=TAG)
def revise_quote(request: HttpRequest, id: Id, payload: QuoteVersionIn):
    """A new draft version (revision n+1) with a copy of the lines; this one stays readable (superseded)."""
    new = qs.revise_quote(actor(request), visible_quote(request, id), payload.version)
    return Status(201, _quote(new.pk, actor(request)))


@router.post("/quotes/{id}/reject", response={200: QuoteOut, **WRITE_ONE, 409: QuoteConflict}, tags=TAG)
def reject_quote(request: HttpRequest, id: Id, payload: QuoteRejectIn):
    quote = qs.reject_quote(actor(request), visible_quote(request, id), payload.version, payload.reason or "")
    return _quote(quote.pk, actor(request))


@router.post("/quotes/{id}/accept", response={201: OrderOut, **WRITE_ONE, 409: QuoteConflict}, tags=TAG)
def accept_quote(request: HttpRequest, id: Id, payload: AcceptIn):
    """Record the customer's acceptance of a sent quote: returns the confirmed order made from it."""
    order = qs.accept_quote(actor(request), visible_quote(request, id), payload.version, payload.mark_won)
    return Status(201, order_item(Order.objects.select_related("quote", "account", "contact", "opportunity",
                                                               "owner").get(pk=order.pk), lines=True))


# ------------------------------------------------------------------ orders


@router.get("/orders", response={200: OrderPage, **ERRORS}, tags=ORDER_TAG)
def list_orders(request: HttpRequest, params: Query[OrderQuery]):
    orders = Order.objects.visible_to(actor(request)).select_related("quote", "account", "contact", "opportunity",
                                                                     "owner")
    if params.account:
        orders = orders.filter(account_id=params.account)
    page = paginate(orders, sort=params.sort, allowed=ORDER_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([order_item(o) for o in page.items], page.next_cursor)


@router.get("/orders/{id}", response={200: OrderOut, **READ_ONE}, tags=ORDER_TAG)
def get_order(request: HttpRequest, id: Id):
    order = get_object_or_404(Order.objects.visible_to(actor(request)).select_related(
        "quote", "account", "contact", "opportunity", "owner"), pk=id)
    return order_item(order, lines=True)

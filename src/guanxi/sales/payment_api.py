"""REST resources of deliveries, payment plans, payments, invoices, exchange rates and the receivables aging
report. Orders and contracts are found through what the user may see (404 otherwise)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import ERRORS, READ_ONE, WRITE, WRITE_ONE, Id, Ref, actor, ref

from . import delivery_services as ds
from . import payment_services as ps
from .contract_models import Contract
from .delivery_models import Delivery
from .payment_models import CurrencyRate, Instalment, PaymentMethod, PaymentPlan
from .quote_models import Order
from .receivable_queries import aging
from .receivables import BUCKETS, MAX_INSTALMENTS

router = Router()
DELIVERY_TAG, PAYMENT_TAG = ["deliveries"], ["payments"]


class DeliveryLineIn(Schema):
    order_line_id: Id
    quantity: Decimal = Field(..., description="More than 0 and at most what is left on the line.")


class DeliveryIn(Schema):
    shipped_at: dt.date | None = Field(None, description="Default: today.")
    carrier: str | None = Field(None, max_length=100)
    tracking_number: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=500)
    lines: list[DeliveryLineIn] = Field(..., max_length=ds.MAX_LINES)


class DeliveryLineOut(Schema):
    order_line_id: int
    description: str
    quantity: str


class DeliveryOut(Schema):
    id: int
    number: str
    order_id: int
    shipped_at: dt.date
    carrier: str
    tracking_number: str
    note: str
    lines: list[DeliveryLineOut]


class InstalmentIn(Schema):
    due_date: dt.date
    amount: Decimal


class PlanIn(Schema):
    count: int | None = Field(None, ge=1, le=MAX_INSTALMENTS, description="Equal instalments (to the cent).")
    first_due: dt.date | None = Field(None, description="With `count`; default today.")
    interval_months: int | None = Field(None, ge=0, le=24, description="With `count`; default 1.")
    instalments: list[InstalmentIn] | None = Field(None, max_length=MAX_INSTALMENTS,
                                                   description="Or by hand: must sum to the total.")


class InstalmentOut(Schema):
    id: int
    position: int
    due_date: dt.date
    amount: str
    paid_amount: str
    outstanding: str
    status: str = Field(description="open, partly_paid, paid or overdue")
    invoice_status: str
    invoice_number: str
    invoice_date: dt.date | None


class PaymentIn(Schema):
    amount: Decimal = Field(..., description="At most what is still owed.")
    received_on: dt.date | None = Field(None, description="Default: today.")
    method: str | None = Field(None, json_schema_extra={"enum": list(PaymentMethod.values)})
    reference: str | None = Field(None, max_length=100)


class PaymentOut(Schema):
    id: int
    received_on: dt.date
    amount: str
    method: str
    reference: str


class PlanOut(Schema):
    id: int
    order_id: int | None
    contract_id: int | None
    account: Ref
    currency: str
    total: str
    outstanding: str
    instalments: list[InstalmentOut]
    payments: list[PaymentOut]


class InvoiceIn(Schema):
    invoice_number: str | None = Field(None, max_length=50, description="Empty: back to not invoiced.")
    invoice_date: dt.date | None = Field(None, description="Default: today.")


class RateIn(Schema):
    currency: str = Field(..., max_length=3)
    rate: Decimal = Field(..., description="Units of the base currency for one unit of `currency`.")
    valid_from: dt.date | None = Field(None, description="Default: today.")


class RateOut(Schema):
    id: int
    currency: str
    rate: str
    valid_from: dt.date


class AgingQuery(Schema):
    group: Literal["owner", "account"] = "owner"


class AgingRow(Schema):
    id: int | None
    name: str
    current: str
    d1_30: str
    d31_60: str
    d61_90: str
    over_90: str
    total: str


class AgingOut(Schema):
    base_currency: str
    as_of: dt.date
    group: str
    rows: list[AgingRow]
    totals: AgingRow


# ------------------------------------------------------------------ helpers


def _source(request: HttpRequest, kind: str, id: int) -> Order | Contract:
    model = Order if kind == "orders" else Contract
    return get_object_or_404(model.objects.visible_to(actor(request)), pk=id)


def delivery_item(d: Delivery) -> dict[str, Any]:
    return {"id": d.pk, "number": d.number, "order_id": d.order_id, "shipped_at": d.shipped_at, "carrier": d.carrier,
            "tracking_number": d.tracking_number, "note": d.note,
            "lines": [{"order_line_id": dl.order_line_id, "description": dl.order_line.description,
                       "quantity": f"{dl.quantity.normalize():f}"} for dl in d.lines.all()]}


def plan_item(plan: PaymentPlan) -> dict[str, Any]:
    today = timezone.localdate()
    instalments = list(plan.instalments.all())
    return {"id": plan.pk, "order_id": plan.order_id, "contract_id": plan.contract_id, "account": ref(plan.account),
            "currency": plan.currency, "total": f"{plan.total:.2f}",
            "outstanding": f"{sum((i.outstanding for i in instalments), Decimal(0)):.2f}",
            "instalments": [{"id": i.pk, "position": i.position, "due_date": i.due_date, "amount": f"{i.amount:.2f}",
                             "paid_amount": f"{i.paid_amount:.2f}", "outstanding": f"{i.outstanding:.2f}",
                             "status": i.status_on(today), "invoice_status": i.invoice_status,
                             "invoice_number": i.invoice_number, "invoice_date": i.invoice_date}
                            for i in instalments],
            "payments": [{"id": p.pk, "received_on": p.received_on, "amount": f"{p.amount:.2f}", "method": p.method,
                          "reference": p.reference} for p in plan.payments.all()]}


def _plan(pk: int) -> dict[str, Any]:
    return plan_item(PaymentPlan.objects.select_related("account").get(pk=pk))


# ------------------------------------------------------------------ deliveries


@router.get("/orders/{id}/deliveries", response={200: list[DeliveryOut], **READ_ONE}, tags=DELIVERY_TAG)
def list_deliveries(request: HttpRequest, id: Id):
    order = _source(request, "orders", id)
    return [delivery_item(d) for d in order.deliveries.prefetch_related("lines__order_line")]


@router.post("/orders/{id}/deliveries", response={201: DeliveryOut, **WRITE_ONE}, tags=DELIVERY_TAG)
def record_delivery(request: HttpRequest, id: Id, payload: DeliveryIn):
    """A shipment of part of the order's lines; more than is left on a line is a 400 naming it
    (`lines.N.quantity`) and nothing is recorded."""
    delivery = ds.record_delivery(actor(request), _source(request, "orders", id),
                                  payload.model_dump(exclude_unset=True))
    return Status(201, delivery_item(Delivery.objects.prefetch_related("lines__order_line").get(pk=delivery.pk)))


# ------------------------------------------------------------------ payment plans and payments


def _get_plan(request: HttpRequest, kind: str, id: int) -> dict[str, Any]:
    source = _source(request, kind, id)
    return _plan(get_object_or_404(PaymentPlan, **{"order" if kind == "orders" else "contract": source}).pk)


def _set_plan(request: HttpRequest, kind: str, id: int, payload: PlanIn) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if data.get("instalments") is not None:
        data["instalments"] = [{"due_date": i["due_date"], "amount": i["amount"]} for i in data["instalments"]]
    return _plan(ps.set_plan(actor(request), _source(request, kind, id), data).pk)


def _record_payment(request: HttpRequest, kind: str, id: int, payload: PaymentIn) -> Status:
    source = _source(request, kind, id)
    plan = get_object_or_404(PaymentPlan, **{"order" if kind == "orders" else "contract": source})
    ps.record_payment(actor(request), plan, payload.model_dump(exclude_unset=True))
    return Status(201, _plan(plan.pk))


SET_PLAN = ("Set the instalments: `count` equal ones (summing to the total to the cent) or `instalments` by hand "
            "(their sum must be the total). Refused once a payment is recorded.")
PAY = ("Money received, allocated to the oldest open instalments; more than is owed is a 400 (\"exceeds the "
       "outstanding …\") and nothing is recorded. Returns the plan.")


@router.get("/orders/{id}/payment-plan", response={200: PlanOut, **READ_ONE}, tags=PAYMENT_TAG)
def get_order_plan(request: HttpRequest, id: Id):
    return _get_plan(request, "orders", id)


@router.put("/orders/{id}/payment-plan", response={200: PlanOut, **WRITE_ONE}, tags=PAYMENT_TAG, description=SET_PLAN)
def set_order_plan(request: HttpRequest, id: Id, payload: PlanIn):
    return _set_plan(request, "orders", id, payload)


@router.post("/orders/{id}/payments", response={201: PlanOut, **WRITE_ONE}, tags=PAYMENT_TAG, description=PAY)
def record_order_payment(request: HttpRequest, id: Id, payload: PaymentIn):
    return _record_payment(request, "orders", id, payload)


@router.get("/contracts/{id}/payment-plan", response={200: PlanOut, **READ_ONE}, tags=PAYMENT_TAG)
def get_contract_plan(request: HttpRequest, id: Id):
    return _get_plan(request, "contracts", id)


@router.put("/contracts/{id}/payment-plan", response={200: PlanOut, **WRITE_ONE}, tags=PAYMENT_TAG,
            description=SET_PLAN)
def set_contract_plan(request: HttpRequest, id: Id, payload: PlanIn):
    return _set_plan(request, "contracts", id, payload)


@router.post("/contracts/{id}/payments", response={201: PlanOut, **WRITE_ONE}, tags=PAYMENT_TAG, description=PAY)
def record_contract_payment(request: HttpRequest, id: Id, payload: PaymentIn):
    return _record_payment(request, "contracts", id, payload)


@router.patch("/instalments/{id}/invoice", response={200: PlanOut, **WRITE_ONE}, tags=PAYMENT_TAG)
def set_invoice(request: HttpRequest, id: Id, payload: InvoiceIn):
    """Mark an instalment invoiced (number, date) or, with an empty number, not invoiced."""
    visible = PaymentPlan.objects.visible_to(actor(request))
    instalment = get_object_or_404(Instalment.objects.filter(plan__in=visible.values("pk")), pk=id)
    ps.set_invoice(actor(request), instalment, payload.model_dump(exclude_unset=True))
    return _plan(instalment.plan_id)


# ------------------------------------------------------------------ exchange rates and the aging report


def rate_item(r: CurrencyRate) -> dict[str, Any]:
    return {"id": r.pk, "currency": r.currency, "rate": f"{r.rate.normalize():f}", "valid_from": r.valid_from}


@router.get("/currency-rates", response={200: list[RateOut], **ERRORS}, tags=PAYMENT_TAG)
def list_rates(request: HttpRequest):
    """Every exchange rate into the base currency (newest first per currency)."""
    return [rate_item(r) for r in CurrencyRate.objects.all()[:1000]]


@router.post("/currency-rates", response={201: RateOut, **WRITE}, tags=PAYMENT_TAG)
def set_rate(request: HttpRequest, payload: RateIn):
    """Add or correct a currency's rate from a day on (administrators)."""
    return Status(201, rate_item(ps.set_rate(actor(request), payload.model_dump(exclude_unset=True))))


@router.delete("/currency-rates/{id}", response={204: None, **WRITE_ONE}, tags=PAYMENT_TAG)
def delete_rate(request: HttpRequest, id: Id):
    ps.delete_rate(actor(request), get_object_or_404(CurrencyRate, pk=id))
    return Status(204, None)


def _aging_row(row_id: int | None, name: str, buckets: dict[str, Decimal], total: Decimal) -> dict[str, Any]:
    return {"id": row_id, "name": name, **{b: f"{buckets[b]:.2f}" for b in BUCKETS}, "total": f"{total:.2f}"}


@router.get("/receivables/aging", response={200: AgingOut, **ERRORS}, tags=PAYMENT_TAG)
def receivables_aging(request: HttpRequest, params: Query[AgingQuery]):
    """What is still owed on the instalments you may see, per owner or account, by days overdue (not yet due,
    1–30, 31–60, 61–90, over 90), in the base currency at today's rates; a 400 names a currency without a rate."""
    report = aging(actor(request), timezone.localdate(), params.group)
    return {"base_currency": report["base"], "as_of": report["today"], "group": params.group,
            "rows": [_aging_row(r["id"], r["name"], r["buckets"], r["total"]) for r in report["rows"]],
            "totals": _aging_row(None, "", report["totals"], report["total"])}

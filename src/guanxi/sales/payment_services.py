"""Payment collection (回款) use cases: exchange rates, a payment plan per order or contract (equal instalments
or entered by hand, always summing to the total), payments received (allocated to the oldest open instalments,
never beyond what is owed), invoices per instalment and the overdue sweep. One transaction per user action;
bad input raises ValidationError keyed by field and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.access import require_admin
from guanxi.core.models import AuditAction, User
from guanxi.core.notifications import notify
from guanxi.core.records import clean_fields, fail, write_audit
from guanxi.quality.normalize import clean_text

from . import receivables
from .catalog_services import clean_number
from .contract_models import Contract
from .delivery_services import require_order_editor
from .payment_models import CurrencyRate, Instalment, InvoiceStatus, Payment, PaymentAllocation, PaymentPlan
from .quote_models import CompanyProfile, Order
from .services import _clean_currency, _require_editor, no_rate_message

# ---------------------------------------------------------------- exchange rates


def _require_admin(actor: User) -> None:
    require_admin(actor, _("Only an administrator may change exchange rates."))


def base_currency() -> str:
    return CompanyProfile.current().base_currency


def rates_on(day: dt.date) -> dict[str, Decimal]:
    """Each currency's rate in force on `day` (one query; the table is small)."""
    rows = [receivables.Rate(c, r, f) for c, r, f in
            CurrencyRate.objects.filter(valid_from__lte=day).values_list("currency", "rate", "valid_from")]
    return {r.currency: receivables.rate_on(rows, r.currency, day) for r in rows}  # type: ignore[misc]


def missing_rate_error(currency: str) -> ValidationError:
    return ValidationError({"currency": [no_rate_message(currency, base_currency())]})


def to_base(amounts: dict[str, Decimal], day: dt.date) -> Decimal:
    """Amounts per currency summed in the base currency; a currency without a rate is a ValidationError naming
    it (checked before anything is summed)."""
    try:
        return receivables.convert_all(amounts, base_currency(), rates_on(day))
    except receivables.ReceivablesError as exc:
        raise missing_rate_error(exc.currency) from None


@transaction.atomic
def set_rate(actor: User, data: dict[str, Any]) -> CurrencyRate:
    """Add (or correct) the rate of a currency from a day on; administrators only."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    currency = _clean_currency(data.get("currency"), errors)
    rate = clean_number(data.get("rate"), "rate", errors, minimum=Decimal("0.00000001"),
                        maximum=Decimal(10) ** 9, places=8)
    cleaned, more = clean_fields(CurrencyRate, {"valid_from": data.get("valid_from") or timezone.localdate()},
                                 ["valid_from"], partial=False)
    errors.update(more)
    if not errors and currency == base_currency():
        errors["currency"] = [_("%(currency)s is the base currency: its rate is always 1.") % {"currency": currency}]
    fail(errors)
    row, _created = CurrencyRate.objects.update_or_create(currency=currency, valid_from=cleaned["valid_from"],
                                                          defaults={"rate": rate})
    return row


@transaction.atomic
def delete_rate(actor: User, rate: CurrencyRate) -> None:
    _require_admin(actor)
    rate.delete()


# ---------------------------------------------------------------- plans


def _source(plan_for: Order | Contract) -> dict[str, Any]:
    if isinstance(plan_for, Order):
        return {"order": plan_for, "total": plan_for.gross_total}
    return {"contract": plan_for, "total": plan_for.value}


def require_plan_editor(actor: User, plan_for: Order | Contract) -> None:
    if isinstance(plan_for, Order):
        require_order_editor(actor, plan_for)
        return
    _require_editor(actor)
    if not Contract.objects.editable_by(actor).filter(pk=plan_for.pk).exists():
        raise PermissionDenied(_("You may not change this contract."))


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _instalments_from(data: dict[str, Any], total: Decimal, errors: dict) -> list[tuple[dt.date, Decimal]]:
    """[(due, amount)]: `instalments` by hand, or `count` equal ones every `interval_months` from `first_due`."""
    if data.get("instalments") not in (None, []):
        items = data["instalments"]
        if not isinstance(items, list):
            errors["instalments"] = [_("Expected a list.")]
            return []
        out = []
        for n, item in enumerate(items[: receivables.MAX_INSTALMENTS + 1]):
            item = item if isinstance(item, dict) else {}
            cleaned, errs = clean_fields(Instalment, {"due_date": item.get("due_date")}, ["due_date"], partial=False)
            for key, messages in errs.items():
                errors[f"instalments.{n}.{key}"] = messages
            amount = clean_number(item.get("amount"), f"instalments.{n}.amount", errors)
            if amount is not None and amount <= 0:
                errors[f"instalments.{n}.amount"] = [_("More than 0.")]
            out.append((cleaned.get("due_date"), amount))
        if errors:
            return []
        try:
            receivables.check_plan([a for _d, a in out], total)
        except receivables.ReceivablesError as exc:
            errors["instalments"] = [
                _("The instalments add up to %(sum)s but the total is %(total)s.") % {"sum": exc.amount, "total": total}
                if exc.field == "instalments" and exc.amount is not None else
                _("Between 1 and %(max)s instalments.") % {"max": receivables.MAX_INSTALMENTS}]
        return out
    count = data.get("count")
    if isinstance(count, bool) or not isinstance(count, int | str) or not str(count).strip().isdigit() \
            or not 1 <= int(count) <= receivables.MAX_INSTALMENTS:
        errors["count"] = [_("Enter a number of instalments from 1 to %(max)s, or the instalments themselves.")
                           % {"max": receivables.MAX_INSTALMENTS}]
        return []
    cleaned, errs = clean_fields(Instalment, {"due_date": data.get("first_due") or timezone.localdate()},
                                 ["due_date"], partial=False)
    if errs:
        errors["first_due"] = errs["due_date"]
    interval = data.get("interval_months", 1)
    if isinstance(interval, bool) or not str(interval).strip().isdigit() or not 0 <= int(interval) <= 24:
        errors["interval_months"] = [_("A whole number of months from 0 to 24.")]
    if errors:
        return []
    parts = receivables.split_equal(total, int(count))
    return [(_add_months(cleaned["due_date"], i * int(interval)), a) for i, a in enumerate(parts)]


@transaction.atomic
def set_plan(actor: User, plan_for: Order | Contract, data: dict[str, Any]) -> PaymentPlan:
    """Create the payment plan of an order or contract, or replace its instalments while nothing is paid."""
    require_plan_editor(actor, plan_for)
    type(plan_for).objects.select_for_update().get(pk=plan_for.pk)
    source = _source(plan_for)
    total = source.pop("total")
    errors: dict[str, list[str]] = {}
    if total <= 0:
        fail({"total": [_("There is nothing to collect: the total is 0.")]})
    plan = PaymentPlan.objects.select_for_update().filter(**source).first()
    if plan is not None and plan.payments.exists():
        fail({"instalments": [_("Payments are recorded against this plan already; it can no longer change.")]})
    parts = _instalments_from(data, total, errors)
    fail(errors)
    before = ", ".join(f"{i.due_date}: {i.amount}" for i in plan.instalments.all()) if plan else None
    if plan is None:
        plan = PaymentPlan(account_id=plan_for.account_id, currency=plan_for.currency, total=total, **source)
        plan.owner_id, plan.team_id = plan_for.owner_id, plan_for.team_id
        plan.save()
    else:
        plan.total = total
        plan.save()
        plan.instalments.all().delete()
    Instalment.objects.bulk_create([Instalment(plan=plan, position=i, due_date=d, amount=a)
                                    for i, (d, a) in enumerate(sorted(parts, key=lambda p: p[0]))])
    write_audit(plan_for, actor, AuditAction.UPDATE,
                {"instalments": [before[:500] if before else None,
                                 ", ".join(f"{d}: {a:.2f}" for d, a in sorted(parts, key=lambda p: p[0]))[:500]]})
    return plan


# ---------------------------------------------------------------- payments and invoices


def _plan_owner(plan: PaymentPlan) -> Order | Contract:
    return plan.order if plan.order_id else plan.contract  # type: ignore[return-value]


@transaction.atomic
def record_payment(actor: User, plan: PaymentPlan, data: dict[str, Any]) -> Payment:
    """Money received: allocated to the oldest open instalments; more than is still owed is refused."""
    require_plan_editor(actor, _plan_owner(plan))
    plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
    data = {k: clean_text(v) if isinstance(v, str) and k == "reference" else v for k, v in data.items()}
    data.setdefault("received_on", timezone.localdate())
    cleaned, errors = clean_fields(Payment, data, ["received_on", "method", "reference"], partial=False)
    amount = clean_number(data.get("amount"), "amount", errors)
    if amount is not None and amount <= 0:
        errors["amount"] = [_("More than 0.")]
    fail(errors)
    open_items = list(plan.instalments.select_for_update().filter(paid_amount__lt=F("amount"))
                      .order_by("due_date", "position", "pk"))
    try:
        parts = receivables.allocate(amount, [(i, i.outstanding) for i in open_items])  # type: ignore[arg-type]
    except receivables.ReceivablesError as exc:
        raise ValidationError({"amount": [_("The payment exceeds the outstanding %(owed)s %(currency)s.")
                                          % {"owed": exc.amount, "currency": plan.currency}]}) from None
    payment = Payment.objects.create(plan=plan, amount=amount, created_by=actor, **cleaned)
    PaymentAllocation.objects.bulk_create([PaymentAllocation(payment=payment, instalment=i, amount=a)
                                           for i, a in parts])
    for instalment, part in parts:
        Instalment.objects.filter(pk=instalment.pk).update(paid_amount=F("paid_amount") + part)
    write_audit(_plan_owner(plan), actor, AuditAction.UPDATE,
                {"payment": [None, f"{amount} {plan.currency} {payment.received_on}"]})
    return payment


@transaction.atomic
def set_invoice(actor: User, instalment: Instalment, data: dict[str, Any]) -> Instalment:
    """Mark an instalment invoiced (number and date), or back to not invoiced with an empty number."""
    require_plan_editor(actor, _plan_owner(instalment.plan))
    instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
    number = clean_text(data.get("invoice_number") or "") if isinstance(data.get("invoice_number") or "", str) else ""
    if not number:
        instalment.invoice_status, instalment.invoice_number, instalment.invoice_date = \
            InvoiceStatus.NOT_INVOICED, "", None
    else:
        cleaned, errors = clean_fields(Instalment, {"invoice_number": number,
                                                    "invoice_date": data.get("invoice_date") or timezone.localdate()},
                                       ["invoice_number", "invoice_date"], partial=False)
        fail(errors)
        instalment.invoice_status = InvoiceStatus.INVOICED
        instalment.invoice_number, instalment.invoice_date = cleaned["invoice_number"], cleaned["invoice_date"]
    instalment.save()
    write_audit(_plan_owner(instalment.plan), actor, AuditAction.UPDATE,
                {f"instalment.{instalment.position + 1}.invoice": [None, instalment.invoice_number or None]})
    return instalment


# ---------------------------------------------------------------- the overdue sweep

BATCH = 500


def notify_overdue(now: dt.datetime) -> int:
    """Tell each overdue instalment's owner, once per instalment (claimed by setting overdue_notified_at)."""
    today = timezone.localdate(now)
    due = list(Instalment.objects.filter(due_date__lt=today, paid_amount__lt=F("amount"),
                                         overdue_notified_at__isnull=True)
               .select_related("plan__owner", "plan__order", "plan__contract", "plan__account")
               .order_by("due_date", "pk")[:BATCH])
    sent = 0
    for inst in due:
        if not Instalment.objects.filter(pk=inst.pk, overdue_notified_at__isnull=True).update(overdue_notified_at=now):
            continue
        owner = inst.plan.owner
        if owner is None or not owner.is_active:
            continue
        source = inst.plan.order or inst.plan.contract
        link = (reverse("sales:order_detail", args=[inst.plan.order_id]) if inst.plan.order_id
                else reverse("sales:contract_detail", args=[inst.plan.contract_id]))
        notify(owner, _("Instalment %(n)s of %(source)s (%(account)s) is overdue: %(owed)s %(currency)s were due "
                        "on %(due)s.") % {"n": inst.position + 1, "source": source, "account": inst.plan.account.name,
                                          "owed": inst.outstanding, "currency": inst.plan.currency,
                                          "due": inst.due_date.isoformat()},
               link, key=f"instalment-overdue:{inst.pk}")
        sent += 1
    return sent

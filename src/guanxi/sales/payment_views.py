"""Pages and form posts of deliveries, payment plans, payments and invoices (on the order and contract pages),
the receivables aging report and the exchange rates (administrators)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.access import require_admin
from guanxi.core.ui import flash_errors

from . import delivery_services as ds
from . import payment_services as ps
from .contract_forms import PaymentForm, PlanForm, RateForm
from .contract_models import Contract
from .payment_models import CurrencyRate, Instalment, PaymentPlan
from .quote_models import Order
from .receivable_queries import aging
from .receivables import BUCKETS
from .services import validation_messages


def plan_context(plan: PaymentPlan | None) -> dict[str, Any]:
    """The plan, its instalments (with status) and payments, and what is still owed: three queries."""
    if plan is None:
        return {"plan": None}
    today = timezone.localdate()
    instalments = list(plan.instalments.all())
    for inst in instalments:
        inst.status = inst.status_on(today)
    outstanding = sum((i.outstanding for i in instalments), plan.total * 0)
    return {"plan": plan, "instalments": instalments, "payments": list(plan.payments.all()),
            "outstanding": outstanding, "overdue": sum((i.outstanding for i in instalments
                                                         if i.status == "overdue"), plan.total * 0)}


def order_context(order: Order) -> dict[str, Any]:
    lines = list(order.lines.select_related("product"))
    for ln in lines:
        ln.remaining = ds.remaining(ln)
    return {"lines": lines, "deliveries": list(order.deliveries.prefetch_related("lines__order_line")),
            "undelivered": any(ln.remaining > 0 for ln in lines),
            "plan_form": PlanForm(), "payment_form": PaymentForm(), "today": timezone.localdate(),
            **plan_context(PaymentPlan.objects.filter(order=order).first())}


def _back(source: Order | Contract) -> HttpResponse:
    name = "sales:order_detail" if isinstance(source, Order) else "sales:contract_detail"
    return redirect(name, source.pk)


def _run(request: HttpRequest, source: Order | Contract, action: Any, done: str) -> HttpResponse:
    try:
        action()
        messages.success(request, done)
    except ValidationError as exc:
        flash_errors(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return _back(source)


@login_required
@require_POST
def delivery_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The order page's "Record delivery" form: one quantity input per line (`qty-<line id>`)."""
    order = get_object_or_404(Order.objects.visible_to(request.user), pk=pk)
    post = request.POST
    lines = [{"order_line_id": key[4:], "quantity": value.strip()} for key, value in post.items()
             if key.startswith("qty-") and value.strip() not in ("", "0")]
    data = {"shipped_at": post.get("shipped_at") or None, "carrier": post.get("carrier", ""),
            "tracking_number": post.get("tracking_number", ""), "note": post.get("note", ""), "lines": lines}
    return _run(request, order, lambda: ds.record_delivery(request.user, order, data), _("Delivery recorded."))


def _plan_source(request: HttpRequest, kind: str, pk: int) -> Order | Contract:
    if kind not in ("order", "contract"):
        raise Http404
    model = Order if kind == "order" else Contract
    return get_object_or_404(model.objects.visible_to(request.user), pk=pk)


@login_required
@require_POST
def plan_set(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    source = _plan_source(request, kind, pk)
    form = PlanForm(request.POST)
    form.is_valid()
    return _run(request, source, lambda: ps.set_plan(request.user, source, form.to_data()),
                _("Payment plan saved."))


EXTRA_ROWS = 2  # blank rows under the instalments, for adding some


def _plan_rows(post: Any) -> tuple[list[dict[str, str]], list[int]]:
    """The posted rows (due-<i>, amount-<i>), and for each row kept (not blank) its row number on the page."""
    try:
        count = min(max(int(post.get("rows", "0")), 0), 200)
    except ValueError:
        count = 0
    rows, kept = [], []
    for i in range(count):
        due, amount = post.get(f"due-{i}", "").strip(), post.get(f"amount-{i}", "").strip()
        if due or amount:
            rows.append({"due_date": due, "amount": amount})
            kept.append(i)
    return rows, kept


@login_required
def plan_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The instalments by hand: dates and amounts, which must add up to the order's (or contract's) total.
    Errors are shown beside the row and field they are about; nothing is saved until they all add up."""
    source = _plan_source(request, kind, pk)
    ps.require_plan_editor(request.user, source)  # a 403 for those who may only look
    plan = PaymentPlan.objects.filter(**{kind: source}).first()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rows, kept = _plan_rows(request.POST)
        try:
            ps.set_plan(request.user, source, {"instalments": rows})
        except ValidationError as exc:
            for key, msgs in validation_messages(exc).items():
                parts = key.split(".")  # instalments.<n>.<field> → the page's row number
                if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(kept):
                    key = f"{parts[2]}-{kept[int(parts[1])]}"
                errors.setdefault(key, []).extend(msgs)
        else:
            messages.success(request, _("Payment plan saved."))
            return _back(source)
        shown = [{"due": r["due_date"], "amount": r["amount"]} for r in rows]
    else:
        shown = [{"due": i.due_date.isoformat(), "amount": f"{i.amount:.2f}"}
                 for i in (plan.instalments.all() if plan else [])]
    shown += [{"due": "", "amount": ""} for _n in range(EXTRA_ROWS)]
    for n, row in enumerate(shown):
        row.update(n=n, due_errors=errors.get(f"due_date-{n}", []), amount_errors=errors.get(f"amount-{n}", []))
    total = source.gross_total if isinstance(source, Order) else source.value
    general = [m for key, ms in errors.items() if not key.startswith(("due_date-", "amount-")) for m in ms]
    return render(request, "sales/payment_plan_edit.html", {
        "kind": kind, "source": source, "plan": plan, "rows": shown, "total": total,
        "currency": source.currency, "errors": general, "paid": bool(plan and plan.payments.exists()),
    }, status=400 if errors else 200)


@login_required
@require_POST
def payment_record(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    source = _plan_source(request, kind, pk)
    plan = get_object_or_404(PaymentPlan, **{kind: source})
    form = PaymentForm(request.POST)
    form.is_valid()
    return _run(request, source, lambda: ps.record_payment(request.user, plan, form.to_data()),
                _("Payment recorded."))


@login_required
@require_POST
def invoice_set(request: HttpRequest, kind: str, pk: int, instalment_id: int) -> HttpResponse:
    source = _plan_source(request, kind, pk)
    instalment = get_object_or_404(Instalment, pk=instalment_id, **{f"plan__{kind}": source})
    data = {"invoice_number": request.POST.get("invoice_number", ""),
            "invoice_date": request.POST.get("invoice_date") or None}
    return _run(request, source, lambda: ps.set_invoice(request.user, instalment, data), _("Invoice saved."))


@login_required
@require_GET
def receivables_page(request: HttpRequest) -> HttpResponse:
    group = request.GET.get("group") if request.GET.get("group") in ("owner", "account") else "owner"
    report, error = None, ""
    try:
        report = aging(request.user, timezone.localdate(), group)
        for row in report["rows"]:
            row["cells"] = [(b, row["buckets"][b]) for b in BUCKETS]
        report["total_cells"] = [(b, report["totals"][b]) for b in BUCKETS]
    except ValidationError as exc:
        error = " ".join(m for ms in validation_messages(exc).values() for m in ms)
    labels = {"current": _("Not yet due"), "d1_30": _("1–30 days"), "d31_60": _("31–60 days"),
              "d61_90": _("61–90 days"), "over_90": _("Over 90 days")}
    return render(request, "sales/receivables.html", {"report": report, "error": error, "group": group,
                                                      "buckets": [(b, labels[b]) for b in BUCKETS]})


@login_required
def currency_rates(request: HttpRequest) -> HttpResponse:
    """Administrators add and remove exchange rates; everyone else may not see this page."""
    require_admin(request.user, _("Only an administrator may change exchange rates."))
    form = RateForm()
    if request.method == "POST":
        if request.POST.get("delete", "").isdigit():
            rate = get_object_or_404(CurrencyRate, pk=int(request.POST["delete"]))
            ps.delete_rate(request.user, rate)
            messages.success(request, _("Rate removed."))
            return redirect("sales:currency_rates")
        form = RateForm(request.POST)
        if form.is_valid():
            try:
                ps.set_rate(request.user, form.to_data())
                messages.success(request, _("Rate saved."))
                return redirect("sales:currency_rates")
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
    return render(request, "sales/currency_rates.html", {"form": form, "rates": CurrencyRate.objects.all()[:500],
                                                         "base": ps.base_currency()})

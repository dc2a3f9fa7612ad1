"""Contract pages: the list (keyset pages, filters), the form, and the contract page with its status actions,
renewal and payment plan."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.records import EditConflict, audit_trail
from guanxi.core.ui import ChangeDescriber, clean_param, flash_errors, htmx_target
from guanxi.customers.models import Account

from . import contract_services as cs
from .contract_forms import ContractForm, PaymentForm, PlanForm
from .contract_models import Contract, ContractStatus
from .payment_models import PaymentPlan
from .quote_models import Order
from .quote_views import _page
from .services import validation_messages

CONTRACT_SORTS = ["-updated_at", "updated_at", "end_date", "-end_date", "number", "-number"]


def filtered_contracts(user: Any, params: Any):
    contracts = Contract.objects.visible_to(user).select_related("account", "owner")
    status = clean_param(params.get("status"), 20)
    if status in ContractStatus.values:
        contracts = contracts.filter(status=status)
    if str(params.get("account") or "").isdigit():
        contracts = contracts.filter(account_id=int(params["account"]))
    text = clean_param(params.get("q"), 100)
    if text:
        contracts = contracts.filter(Q(number__icontains=text) | Q(title__icontains=text))
    return contracts


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    page, params = _page(request, filtered_contracts(request.user, request.GET), CONTRACT_SORTS)
    context = {"page": page, "rows": page.items, "is_first_page": not params.get("cursor"), "params": params,
               "statuses": ContractStatus.choices}
    template = "sales/_contract_table.html" if htmx_target(request) == "results" else "sales/contract_list.html"
    return render(request, template, context)


def _choices(user: Any) -> dict[str, Any]:
    return {"accounts": Account.objects.visible_to(user).order_by("-updated_at", "pk")[:200],
            "orders": Order.objects.visible_to(user).select_related("account").order_by("-updated_at", "pk")[:200]}


@login_required
def contract_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    contract = get_object_or_404(Contract.objects.visible_to(user), pk=pk) if pk else None
    if request.method == "POST":
        form = ContractForm(request.POST, **_choices(user))
        if form.is_valid():
            try:
                if contract is None:
                    contract = cs.create_contract(user, form.to_data())
                else:
                    cs.update_contract(user, contract, form.to_data(), form.cleaned_data.get("version"))
                return redirect("sales:contract_detail", contract.pk)
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
            except EditConflict:
                form.add_error(None, _("Someone changed this contract meanwhile; reload it and apply your change "
                                       "again."))
    elif contract is not None:
        form = ContractForm(initial={f: getattr(contract, f) for f in (
            "title", "account_id", "order_id", "start_date", "end_date", "value", "currency", "renewal_date",
            "renewal_reminder_days", "notes", "version")}, **_choices(user))
    else:
        initial = {k: request.GET[k] for k in ("account_id", "order_id") if request.GET.get(k, "").isdigit()}
        form = ContractForm(initial=initial, **_choices(user))
    return render(request, "sales/contract_form.html", {"form": form, "obj": contract})


@login_required
@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from .payment_views import plan_context

    user = request.user
    contract = get_object_or_404(Contract.objects.visible_to(user).select_related(
        "account", "order", "owner", "previous"), pk=pk)
    entries = list(audit_trail(contract)[:100])
    context = {"obj": contract, "renewal": Contract.objects.visible_to(user).filter(previous=contract).first(),
               "can_edit": user.can_edit and Contract.objects.editable_by(user).filter(pk=contract.pk).exists(),
               "today": timezone.localdate(), "plan_form": PlanForm(), "payment_form": PaymentForm(),
               "audit": list(zip(entries, ChangeDescriber(Contract, user).describe([e.changes for e in entries]),
                                 strict=True)),
               **plan_context(PaymentPlan.objects.filter(contract=contract).first())}
    return render(request, "sales/contract_detail.html", context)


@login_required
@require_POST
def contract_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """activate, terminate or renew."""
    contract = get_object_or_404(Contract.objects.visible_to(request.user), pk=pk)
    version = request.POST.get("version")
    try:
        if action == "renew":
            new = cs.renew_contract(request.user, contract, {}, version)
            messages.success(request, _("Renewed: this is the new contract."))
            return redirect("sales:contract_detail", new.pk)
        status = {"activate": ContractStatus.ACTIVE, "terminate": ContractStatus.TERMINATED}.get(action)
        cs.set_status(request.user, contract, status, version)
        messages.success(request, _("Saved."))
    except ValidationError as exc:
        flash_errors(request, exc)
    except EditConflict:
        messages.error(request, _("Someone changed this contract meanwhile; nothing was changed."))
    return redirect("sales:contract_detail", pk)

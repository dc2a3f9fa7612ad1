"""Sales pages: the opportunity list, detail and form, the kanban board (the drop posts to the API's move),
and the weighted forecast. Views parse, call services or queries, and render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.access import require_editor
from guanxi.core.paging import Page, paginate
from guanxi.core.records import EditConflict, audit_trail
from guanxi.core.search import matching
from guanxi.core.services import visible_users
from guanxi.core.ui import ChangeDescriber, clean_param, clean_params, flash_errors, htmx_target
from guanxi.customers.models import Account, Contact

from . import queries, services
from .filters import OPPORTUNITY_SORTS, apply_filters, next_month, parse_month
from .forms import OpportunityForm
from .models import Opportunity, Pipeline, Stage, StageKind

PAGE_SIZE = 50
LIST_RELATED = ("account", "owner", "stage", "pipeline")


def _visible(request: HttpRequest, pk: int) -> Opportunity:
    return get_object_or_404(Opportunity.objects.visible_to(request.user), pk=pk)


@login_required
@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    params = clean_params(request.GET)
    sort = params.get("sort") or "-updated_at"
    errors: list[str] = []
    try:
        qs = apply_filters(Opportunity.objects.visible_to(user), params, user).select_related(*LIST_RELATED)
        page = paginate(qs, sort=sort, allowed=OPPORTUNITY_SORTS, cursor=params.get("cursor") or None,
                        limit=PAGE_SIZE)
    except ValidationError as exc:
        errors = [m for ms in services.validation_messages(exc).values() for m in ms]
        page = Page(items=[], next_cursor=None, sort="-updated_at")
    context = {"page": page, "rows": page.items, "is_first_page": not params.get("cursor"), "errors": errors,
               "params": params}
    if htmx_target(request) == "results":
        return render(request, "sales/_opportunity_table.html", context)
    context.update({
        "owners": visible_users(user).order_by("username"),
        "pipelines": Pipeline.objects.prefetch_related("stages"),
        "statuses": StageKind.choices,
    })
    return render(request, "sales/opportunity_list.html", context)


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    opp = get_object_or_404(Opportunity.objects.visible_to(user).select_related(
        "account", "contact", "pipeline", "stage", "owner", "team"), pk=pk)
    entries = list(audit_trail(opp)[:100])
    context = {
        "obj": opp,
        "audit": list(zip(entries, ChangeDescriber(Opportunity, user).describe([e.changes for e in entries]),
                          strict=True)),
        "open_stages": opp.pipeline.stages.filter(kind=StageKind.OPEN),
        "can_edit": user.can_edit and Opportunity.objects.editable_by(user).filter(pk=opp.pk).exists(),
    }
    return render(request, "sales/opportunity_detail.html", context)


@login_required
def opportunity_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit. Errors go next to their inputs; a stale version is refused with the news."""
    user = request.user
    require_editor(request.user)
    instance = _visible(request, pk) if pk else None
    if request.method == "POST":
        form = OpportunityForm(request.POST, actor=user, instance=instance)
        if form.is_valid():
            try:
                if instance is None:
                    opp = services.create_opportunity(user, form.to_data())
                    messages.success(request, _("Created “%(name)s”.") % {"name": opp})
                else:
                    opp = services.update_opportunity(user, instance, form.to_data(),
                                                      form.cleaned_data.get("version"))
                    messages.success(request, _("Saved “%(name)s”.") % {"name": opp})
                return redirect("sales:opportunity_detail", opp.pk)
            except ValidationError as exc:
                form.add_service_errors(services.validation_messages(exc))
            except EditConflict as exc:
                form.add_error(None, _("Someone saved this opportunity while you were editing it (now version "
                                       "%(version)s). Reload it and apply your change again.")
                               % {"version": exc.current.version})
    else:
        initial = {}
        if instance is None and request.GET.get("account"):
            initial["account_id"] = clean_param(request.GET["account"], 20)
        form = OpportunityForm(actor=user, instance=instance, initial=initial)
    account_id = form["account_id"].value()
    account = Account.objects.visible_to(user).filter(pk=account_id).first() if str(account_id or "").isdigit() \
        else None
    contacts = Contact.objects.visible_to(user).filter(accounts=account).order_by("name")[:100] if account else []
    return render(request, "sales/opportunity_form.html", {"form": form, "obj": instance, "account": account,
                                                           "contacts": contacts})


@login_required
def opportunity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_editor(request.user)
    opp = _visible(request, pk)
    if request.method == "POST":
        name = str(opp)
        services.delete_opportunity(request.user, opp)
        messages.success(request, _("Deleted “%(name)s”.") % {"name": name})
        return redirect("sales:opportunity_list")
    return render(request, "sales/opportunity_delete.html", {"obj": opp})


@login_required
@require_POST
def opportunity_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    require_editor(request.user)
    opp = _visible(request, pk)
    try:
        services.reopen(request.user, opp, request.POST.get("version"), request.POST.get("stage_id"))
        messages.success(request, _("Reopened “%(name)s”.") % {"name": opp})
    except ValidationError as exc:
        flash_errors(request, exc)
    except EditConflict:
        messages.error(request, _("Someone changed this opportunity meanwhile; nothing was changed."))
    return redirect("sales:opportunity_detail", opp.pk)


@login_required
@require_GET
def account_pick(request: HttpRequest) -> HttpResponse:
    """Accounts the user may see matching what they typed: radios for the opportunity form."""
    query = clean_param(request.GET.get("picker_q"))
    accounts = Account.objects.visible_to(request.user)
    accounts = matching(accounts, query).order_by("name", "pk") if query else accounts.order_by("-updated_at", "pk")
    return render(request, "sales/_account_pick.html", {"accounts": accounts[:10], "query": query})


# ---------------------------------------------------------------- the board


@login_required
@require_GET
def board_default(request: HttpRequest) -> HttpResponse:
    return redirect("sales:board", services.default_pipeline().pk)


@login_required
@require_GET
def board(request: HttpRequest, pk: int) -> HttpResponse:
    """One column per stage with its count and sum, and its first cards; "more" loads the next ones."""
    pipeline = get_object_or_404(Pipeline, pk=pk)
    columns = queries.board(request.user, pipeline)
    return render(request, "sales/board.html", {"pipeline": pipeline, "columns": columns,
                                                "pipelines": Pipeline.objects.all()})


@login_required
@require_GET
def board_column(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    """The next cards of one column (htmx)."""
    pipeline = get_object_or_404(Pipeline, pk=pk)
    stage = get_object_or_404(Stage, pk=stage_id, pipeline=pipeline)
    try:
        page = queries.card_page(request.user, stage, clean_param(request.GET.get("cursor"), 1000) or None)
    except ValidationError:
        page = Page(items=[], next_cursor=None, sort=queries.CARD_SORT)
    return render(request, "sales/_cards.html", {"pipeline": pipeline, "stage": stage, "cards": page.items,
                                                 "page": page})


# ---------------------------------------------------------------- the forecast


def _month_param(params: Any, key: str, errors: dict) -> dt.date | None:
    value = params.get(key)
    return parse_month(value, key, errors) if value else None


@login_required
@require_GET
def forecast(request: HttpRequest) -> HttpResponse:
    params = clean_params(request.GET)
    errors: dict[str, list[str]] = {}
    start, end = _month_param(params, "start", errors), _month_param(params, "end", errors)
    by = params.get("by") if params.get("by") in queries.FORECAST_GROUPS else "owner"
    pipeline = None
    if (params.get("pipeline") or "").isdigit():
        pipeline = Pipeline.objects.filter(pk=int(params["pipeline"])).first()
    rows = [] if errors else queries.forecast(request.user, by=by, pipeline=pipeline, start=start,
                                              end=next_month(end) if end else None)
    return render(request, "sales/forecast.html", {
        "rows": rows, "totals": queries.forecast_totals(rows), "by": by, "params": params,
        "errors": [m for ms in errors.values() for m in ms], "pipelines": Pipeline.objects.all(),
        "pipeline": pipeline,
    })

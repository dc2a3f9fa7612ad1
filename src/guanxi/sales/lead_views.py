"""Lead pages: list, detail (status actions, follow-up), form, conversion, and the assignment rules (administrators).
Views parse, call the lead services, and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.activities.views import followup_context
from guanxi.core.access import require_admin
from guanxi.core.models import User
from guanxi.core.paging import Page, paginate
from guanxi.core.records import EditConflict, audit_trail
from guanxi.core.search import matching
from guanxi.core.services import visible_users
from guanxi.core.ui import ChangeDescriber, clean_params, htmx_target
from guanxi.customers.models import Account, Industry, Source
from guanxi.customers.services import validation_messages

from . import lead_services
from .filters import LEAD_SORTS, apply_lead_filters
from .lead_forms import ConvertForm, LeadForm
from .lead_models import Lead, LeadAssignmentRule, LeadRating, LeadStatus

PAGE_SIZE = 50
LIST_RELATED = ("owner",)
STALE = _("Someone saved this lead while you were working on it. Reload it and try again.")


def _visible(request: HttpRequest, pk: int) -> Lead:
    return get_object_or_404(Lead.objects.visible_to(request.user), pk=pk)


def _require_editor(request: HttpRequest) -> None:
    if not request.user.can_edit:
        raise PermissionDenied(_("Your role may not change records."))


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    params = clean_params(request.GET)
    errors: list[str] = []
    try:
        qs = apply_lead_filters(Lead.objects.visible_to(user), params, user).select_related(*LIST_RELATED)
        page = paginate(qs, sort=params.get("sort") or "-updated_at", allowed=LEAD_SORTS,
                        cursor=params.get("cursor") or None, limit=PAGE_SIZE)
    except ValidationError as exc:
        errors = [m for ms in validation_messages(exc).values() for m in ms]
        page = Page(items=[], next_cursor=None, sort="-updated_at")
    context = {"page": page, "rows": page.items, "is_first_page": not params.get("cursor"), "errors": errors,
               "params": params}
    if htmx_target(request) == "results":
        return render(request, "sales/_lead_table.html", context)
    context.update({"owners": visible_users(user).order_by("username"), "statuses": LeadStatus.choices,
                    "sources": Source.choices, "ratings": LeadRating.choices})
    return render(request, "sales/lead_list.html", context)


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lead = get_object_or_404(Lead.objects.visible_to(user).select_related(
        "owner", "team", "assigned_by_rule", "converted_account", "converted_contact", "converted_opportunity"),
        pk=pk)
    entries = list(audit_trail(lead)[:100])
    return render(request, "sales/lead_detail.html", {
        **followup_context("lead-followup", {"lead_id": lead.pk}, lead=lead),
        "followup_read_only": lead.status == LeadStatus.CONVERTED,  # its follow-up goes on what it became
        "obj": lead,
        "audit": list(zip(entries, ChangeDescriber(Lead, user).describe([e.changes for e in entries]), strict=True)),
        "can_edit": user.can_edit and lead.is_open,
        "statuses": [(v, label) for v, label in LeadStatus.choices
                     if v in lead_services.MOVES[lead.status]],
    })


@login_required
def lead_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = request.user
    _require_editor(request)
    instance = _visible(request, pk) if pk else None
    form = LeadForm(request.POST if request.method == "POST" else None, actor=user, instance=instance)
    if request.method == "POST" and form.is_valid():
        data, auto = form.to_data()
        try:
            if instance is None:
                lead = lead_services.create_lead(user, data, auto_assign=auto)
                messages.success(request, _("Created “%(name)s”.") % {"name": lead})
            else:
                lead = lead_services.update_lead(user, instance, data, form.cleaned_data.get("version"))
                messages.success(request, _("Saved “%(name)s”.") % {"name": lead})
            return redirect("sales:lead_detail", lead.pk)
        except ValidationError as exc:
            form.add_service_errors(validation_messages(exc))
        except EditConflict:
            form.add_error(None, STALE)
    return render(request, "sales/lead_form.html", {"form": form, "obj": instance})


@login_required
@require_POST
def lead_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    lead = _visible(request, pk)
    try:
        lead = lead_services.set_lead_status(request.user, lead, request.POST.get("status"),
                                             request.POST.get("version"), request.POST.get("reason"))
        messages.success(request, _("“%(name)s” is now %(status)s.") % {
            "name": lead, "status": lead.get_status_display()})
    except ValidationError as exc:
        for msgs in validation_messages(exc).values():
            for m in msgs:
                messages.error(request, m)
    except EditConflict:
        messages.error(request, STALE)
    return redirect("sales:lead_detail", lead.pk)


@login_required
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    """Account (new or one of the possible matches), contact and opportunity from the lead, in one step."""
    user = request.user
    _require_editor(request)
    lead = _visible(request, pk)
    if not lead.is_open:
        return redirect("sales:lead_detail", lead.pk)
    query = lead.company or lead.name
    matches = list(matching(Account.objects.visible_to(user), query).order_by("name", "pk")[:10])
    form = ConvertForm(request.POST if request.method == "POST" else None, lead=lead, matches=matches)
    if request.method == "POST" and form.is_valid():
        try:
            lead = lead_services.convert_lead(user, lead, form.to_data(), form.cleaned_data.get("version"))
            messages.success(request, _("Converted “%(name)s”.") % {"name": lead})
            if lead.converted_opportunity_id:
                return redirect("sales:opportunity_detail", lead.converted_opportunity_id)
            return redirect("customers:account_detail", lead.converted_account_id)
        except ValidationError as exc:
            form.add_service_errors(validation_messages(exc))
        except EditConflict:
            form.add_error(None, STALE)
    return render(request, "sales/lead_convert.html", {"obj": lead, "form": form, "matches": matches})


@login_required
def lead_rules(request: HttpRequest) -> HttpResponse:
    """The assignment rules, edited as a whole: one row per rule, in the order they are tried."""
    user = request.user
    require_admin(user, _("Only an administrator may change the lead assignment rules."))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rows = []
        for i in range(int(request.POST.get("count") or 0) + 1):
            name = request.POST.get(f"rules-{i}-name", "")
            if not name.strip() and not request.POST.getlist(f"rules-{i}-member_ids"):
                continue  # the empty row for a new rule
            rows.append({"id": request.POST.get(f"rules-{i}-id"), "name": name,
                         "active": request.POST.get(f"rules-{i}-active") == "on",
                         "sources": request.POST.getlist(f"rules-{i}-sources"),
                         "industries": request.POST.getlist(f"rules-{i}-industries"),
                         "provinces": request.POST.get(f"rules-{i}-provinces", ""),
                         "member_ids": request.POST.getlist(f"rules-{i}-member_ids")})
        try:
            lead_services.save_assignment_rules(user, rows)
            messages.success(request, _("Saved the assignment rules."))
            return redirect("sales:lead_rules")
        except ValidationError as exc:
            errors = validation_messages(exc)
    rules = list(LeadAssignmentRule.objects.prefetch_related("memberships"))
    return render(request, "sales/lead_rules.html", {
        "rules": [(i, r, [m.user_id for m in r.memberships.all()]) for i, r in enumerate(rules)],
        "new_index": len(rules), "errors": errors,
        "users": User.objects.filter(is_active=True).order_by("username"),
        "sources": Source.choices, "industries": Industry.choices,
    })

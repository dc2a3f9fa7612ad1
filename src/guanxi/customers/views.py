"""Account and contact lists: filters, sort, keyset pages, saved views, bulk actions, the account picker.

Detail pages, forms and delete are in `record_views`. Views parse the request, call the services
and render; the rules live in the services, filters and access queryset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.models import SavedView
from guanxi.core.paging import Page, paginate
from guanxi.core.search import matching
from guanxi.core.services import assignable_users
from guanxi.core.ui import clean_param, clean_params, htmx_target

from . import services
from .filter_forms import ListFilterForm
from .filters import ACCOUNT_SORTS, CONTACT_SORTS, apply_filters
from .forms import AccountForm, ContactForm, RecordForm
from .models import Account, Contact
from .print_services import LAYOUTS

PAGE_SIZE = 50
DEFAULT_SORT = "-updated_at"


@dataclass(frozen=True)
class Kind:
    """What differs between the account pages and the contact pages."""

    key: str
    model: type[models.Model]
    form_class: type[RecordForm]
    sorts: list[str]
    related: tuple[str, ...]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"customers:{self.key}_{name}", args=args)


KINDS = {
    "account": Kind("account", Account, AccountForm, ACCOUNT_SORTS, ("owner",), services.create_account,
                    services.update_account, services.delete_account),
    "contact": Kind("contact", Contact, ContactForm, CONTACT_SORTS, ("owner", "primary_account"),
                    services.create_contact, services.update_contact, services.delete_contact),
}


def _list_query(request: HttpRequest) -> str:
    """The list's query string without the page cursor (what a saved view stores)."""
    params = request.GET.copy()
    params.pop("cursor", None)
    for key in [k for k, values in params.lists() if not any(v.strip() for v in values)]:
        params.pop(key)
    return params.urlencode()


def _error_lines(errors: dict[str, list[str]], filters: ListFilterForm) -> list[str]:
    lines = []
    for key, msgs in errors.items():
        field = filters.fields.get(key)
        label = str(field.label) if field is not None and field.label else key
        lines.extend(f"{label}: {m}" for m in msgs)
    return lines


@login_required
@require_GET
def record_list(request: HttpRequest, kind: str) -> HttpResponse:
    k = KINDS[kind]
    user = request.user
    params = clean_params(request.GET)
    sort = params.get("sort") or DEFAULT_SORT
    filters = ListFilterForm(params, user=user, model_key=kind)
    filters.is_valid()
    errors: dict[str, list[str]] = {}
    try:
        qs = apply_filters(k.model.objects.visible_to(user), params, user)
        qs = qs.select_related(*k.related).prefetch_related("tags")
        page = paginate(qs, sort=sort, allowed=k.sorts, cursor=params.get("cursor") or None, limit=PAGE_SIZE)
    except ValidationError as exc:
        errors = services.validation_messages(exc)
        for key, msgs in errors.items():
            for msg in msgs:
                filters.add_error(key if key in filters.fields else None, msg)
        page = Page(items=[], next_cursor=None, sort=sort if sort in k.sorts else DEFAULT_SORT)
    context = {
        "kind": k,
        "page": page,
        "rows": page.items,
        "sort": page.sort,
        "filters": filters,
        "filter_errors": _error_lines(errors, filters),
        "list_fields": [d for d in filters.custom_defs if d.show_in_list],
        "query": _list_query(request),
        "is_first_page": not request.GET.get("cursor"),
        "list_url": k.url("list"),  # rows link to list_url + pk + "/": one reverse() per page, not per row
        "print_layouts": list(LAYOUTS.items()),
    }
    context["table_template"] = f"customers/_{kind}_table.html"
    if htmx_target(request) == "results":
        return render(request, context["table_template"], context)
    context.update({
        "saved_views": SavedView.objects.filter(user=user, model=kind),
        "owners": assignable_users(user).order_by("username") if user.can_edit else [],
    })
    return render(request, "customers/record_list.html", context)


@login_required
@require_GET
def record_export(request: HttpRequest, kind: str, fmt: str = "csv") -> HttpResponse:
    """The list as CSV, XLSX or vCard, with its filters, only what the user may see, streamed
    (a big XLSX becomes a background job whose page links to the file)."""
    from . import export_views

    return export_views.export_response(request, kind, fmt)


def _ids(values: list[str]) -> list[int]:
    """The values that are record ids; anything else (text, numbers beyond 64 bits) is dropped."""
    ids = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number < 2**63:
            ids.append(number)
    return ids


@login_required
@require_POST
def record_bulk(request: HttpRequest, kind: str) -> HttpResponse:
    """Assign the selected rows to an owner, or add tags to them."""
    k = KINDS[kind]
    query = request.POST.get("query", "")
    back = HttpResponseRedirect(k.url("list") + (f"?{query}" if query else ""))
    ids = _ids(request.POST.getlist("ids"))
    action = request.POST.get("action")
    if not ids:
        messages.error(request, _("Select at least one row first."))
        return back
    try:
        if action == "assign":
            count = services.bulk_assign(request.user, kind, ids, request.POST.get("owner_id"))
            messages.success(request, ngettext("Reassigned %(count)d record.", "Reassigned %(count)d records.",
                                               count) % {"count": count})
        elif action == "tag":
            count = services.bulk_tag(request.user, kind, ids, clean_param(request.POST.get("tags"), 1000))
            messages.success(request, ngettext("Tagged %(count)d record.", "Tagged %(count)d records.", count)
                             % {"count": count})
        else:
            messages.error(request, _("Choose an action."))
    except ValidationError as exc:
        msgs = [m for ms in services.validation_messages(exc).values() for m in ms]
        messages.error(request, _("Nothing was changed: %(errors)s") % {"errors": " ".join(msgs)})
    return back


@login_required
@require_GET
def account_pick(request: HttpRequest) -> HttpResponse:
    """Accounts the user may see that match what they typed: checkboxes (or radios) for the account picker."""
    field = request.GET.get("field")
    if field not in ("account_ids", "parent_id"):
        field = "account_ids"
    query = clean_param(request.GET.get("picker_q"))
    accounts = Account.objects.visible_to(request.user)
    accounts = matching(accounts, query).order_by("name", "pk") if query else accounts.order_by("-updated_at", "pk")
    exclude = _ids(request.GET.getlist("exclude"))
    if exclude:
        accounts = accounts.exclude(pk__in=exclude)
    return render(request, "customers/_account_pick.html", {"accounts": accounts[:10], "field": field,
                                                             "query": query})

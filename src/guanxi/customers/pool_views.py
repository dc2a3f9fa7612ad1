"""The public pool (公海) pages: the list with filters and claim buttons, releasing an account from its page,
and the administrators' rules page. Thin: the rules live in pool_services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from guanxi.core.access import require_admin
from guanxi.core.models import MANAGER_ROLES, Role, User
from guanxi.core.services import assignable_users
from guanxi.core.ui import clean_params, flash_errors, htmx_target, safe_next

from . import pool_services
from .models import Account, Classification, Industry
from .pool_queries import POOL_SORTS, PoolFilters, days_in_pool, pool_page
from .services import validation_messages

PAGE_SIZE = 50


def _may_assign(user: User) -> bool:
    return user.can_edit and (user.is_administrator or user.role in MANAGER_ROLES)


@login_required
def pool_list(request: HttpRequest) -> HttpResponse:
    params = clean_params(request.GET)
    user = request.user
    errors: dict[str, list[str]] = {}
    rows: list[Account] = []
    page = None
    sort = params.get("sort") or POOL_SORTS[0]
    try:
        filters = PoolFilters.from_params(params)
        page = pool_page(user, filters, sort=sort, cursor=params.get("cursor") or None, limit=PAGE_SIZE)
        rows = page.items
    except ValidationError as exc:
        errors = validation_messages(exc)
    for account in rows:
        account.days_in_pool = days_in_pool(account)
    context: dict[str, Any] = {
        "rows": rows,
        "page": page,
        "errors": errors,
        "params": params,
        "sort": sort,
        "is_first_page": not params.get("cursor"),
        "classifications": Classification.choices,
        "industries": Industry.choices,
        "claim_limit": pool_services.claim_limit(user),
        "remaining": pool_services.remaining_claims(user),
        "owners": assignable_users(user).order_by("username") if _may_assign(user) else None,
        "here": request.get_full_path(),
    }
    if htmx_target(request) == "results":
        return render(request, "customers/_pool_table.html", context)
    return render(request, "customers/pool_list.html", context)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(safe_next(request, request.POST.get("next"), reverse("customers:pool_list")))


def _report(request: HttpRequest, result: pool_services.ClaimResult) -> None:
    if result.claimed:
        names = "、".join(a.name for a in result.claimed[:5]) + ("…" if len(result.claimed) > 5 else "")
        messages.success(
            request,
            ngettext(
                "%(count)d account is now yours: %(names)s.",
                "%(count)d accounts are now yours: %(names)s.",
                len(result.claimed),
            )
            % {"count": len(result.claimed), "names": names},
        )
    if result.taken:
        messages.warning(
            request,
            ngettext(
                "%(count)d account had already been claimed by someone else.",
                "%(count)d accounts had already been claimed by someone else.",
                len(result.taken),
            )
            % {"count": len(result.taken)},
        )


def _run(request: HttpRequest, action) -> HttpResponse:  # type: ignore[no-untyped-def]
    try:
        result = action()
    except pool_services.ClaimTaken as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        if isinstance(exc, PermissionDenied):
            messages.error(request, str(exc))
        else:
            flash_errors(request, exc)
    else:
        if isinstance(result, pool_services.ClaimResult):
            _report(request, result)
    return _back(request)


def _chosen(request: HttpRequest) -> list[str]:
    """The row's own claim button sends `one`; the bulk buttons send the ticked `ids`."""
    one = request.POST.get("one")
    return [one] if one else request.POST.getlist("ids")


@login_required
@require_POST
def pool_claim(request: HttpRequest) -> HttpResponse:
    return _run(request, lambda: pool_services.claim(request.user, _chosen(request)))


@login_required
@require_POST
def pool_assign(request: HttpRequest) -> HttpResponse:
    return _run(
        request, lambda: pool_services.assign_from_pool(request.user, _chosen(request), request.POST.get("owner_id"))
    )


@login_required
@require_POST
def account_release(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.visible_to(request.user), pk=pk)

    def release() -> None:
        pool_services.release(request.user, account, request.POST.get("reason", ""))
        messages.success(request, _("%(name)s is back in the public pool.") % {"name": account.name})

    _run(request, release)
    return redirect("customers:account_detail", pk=pk)


RULE_NAMES = ("return_days", "warn_days", "cooldown_days")


def _rules_from_post(post: Any) -> dict[str, Any]:
    """The rules form: one row per classification (empty days: no rule), the default and per-role limits."""
    rules = []
    for value in ["", *Classification.values]:
        row = {name: (post.get(f"{name}_{value or 'none'}") or "").strip() for name in RULE_NAMES}
        if row["return_days"]:
            rules.append({"classification": value, **{k: v or "0" for k, v in row.items()}})
    limits = [
        {"role": role, "max_claimed": post.get(f"limit_{role}").strip()}
        for role in Role.values
        if (post.get(f"limit_{role}") or "").strip()
    ]
    limits += [item for item in pool_services.pool_settings()["claim_limits"] if item["user_id"]]  # API-only
    return {
        "rules": rules,
        "default_claim_limit": (post.get("default_claim_limit") or "").strip() or "0",
        "claim_limits": limits,
    }


@login_required
def pool_rules(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, _("Only administrators change the pool rules."))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            pool_services.set_pool_settings(request.user, _rules_from_post(request.POST))
        except ValidationError as exc:
            errors = validation_messages(exc)
        else:
            messages.success(request, _("Pool rules saved."))
            return redirect("customers:pool_rules")
    current = pool_services.pool_settings()
    by_class = {r["classification"]: r for r in current["rules"]}
    rows = [
        {"value": value, "key": value or "none", "label": label, "rule": by_class.get(value)}
        for value, label in [("", _("No classification")), *Classification.choices]
    ]
    role_limits = {item["role"]: item["max_claimed"] for item in current["claim_limits"] if item["role"]}
    roles = [{"value": value, "label": label, "limit": role_limits.get(value)} for value, label in Role.choices]
    return render(
        request,
        "customers/pool_rules.html",
        {
            "rows": rows,
            "roles": roles,
            "default_claim_limit": current["default_claim_limit"],
            "user_limits": current["claim_limits"],
            "errors": errors,
            "form": request.POST if request.method == "POST" else None,
        },
    )

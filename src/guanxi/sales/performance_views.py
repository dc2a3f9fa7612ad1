"""The Performance page (leaderboard, team attainment, lead funnel, year on year) and the quota settings page.
Views parse, call the performance queries or the quota services, and render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from guanxi.core.records import int_or_none
from guanxi.core.services import visible_users
from guanxi.core.ui import clean_params
from guanxi.customers.services import validation_messages

from . import performance, quota_services
from .quota_math import MONTH, QUARTER, YEAR, Period
from .quota_models import PeriodKind, Quota


def _today() -> dt.date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _current(kind: str) -> Period:
    today = _today()
    return Period(
        kind, today.replace(month={MONTH: today.month, QUARTER: (today.month - 1) // 3 * 3 + 1, YEAR: 1}[kind], day=1)
    )


@login_required
@require_GET
def performance_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    params = clean_params(request.GET)
    errors: dict[str, list[str]] = {}
    try:
        period = performance.period_param(params.get("period"))
    except ValidationError as exc:
        errors.update(validation_messages(exc))
        period = _current(MONTH)
    currency = (params.get("currency") or "CNY").upper()[:3]
    owner_id = int_or_none(params.get("owner"))
    year = int_or_none(params.get("year")) or period.start.year
    if not 1901 <= year <= 9998:
        errors["year"] = [_("Enter a year such as 2031.")]
        year = period.start.year
    board = performance.leaderboard(user, period, currency)
    return render(
        request,
        "sales/performance.html",
        {
            "period": period,
            "board": board,
            "currency": currency,
            "errors": errors,
            "params": params,
            "funnel": performance.funnel(user, period, owner_id),
            "owner_id": owner_id,
            "owners": visible_users(user).order_by("username"),
            "year": year,
            "years": performance.year_over_year(user, year),
            "shortcuts": [
                (_("This month"), _current(MONTH)),
                (_("This quarter"), _current(QUARTER)),
                (_("This year"), _current(YEAR)),
            ],
            "previous": period.shifted(-1),
            "next": period.shifted(1),
            "may_set_quotas": quota_services.may_set_quotas(user),
        },
    )


def _post_quota(request: HttpRequest) -> None:
    """One action of the quota settings form; ValidationError or PermissionDenied when refused."""
    user, post = request.user, request.POST
    action = post.get("action")
    if action == "delete":
        quota = get_object_or_404(Quota.objects.visible_to(user), pk=int_or_none(post.get("quota_id")) or 0)
        quota_services.delete_quota(user, quota)
        messages.success(request, _("Deleted the quota."))
    elif action == "monthly":
        written = quota_services.set_monthly_quotas(
            user, post.getlist("user_ids"), post.get("year"), post.get("amount"), post.get("currency")
        )
        messages.success(request, _("Set %(count)s monthly quotas.") % {"count": written})
    else:
        target = post.get("target", "")
        kind, _sep, pk = target.partition(":")
        data = {
            "kind": post.get("kind"),
            "start": post.get("start"),
            "amount": post.get("amount"),
            "currency": post.get("currency"),
            "user_id": pk if kind == "user" else None,
            "team_id": pk if kind == "team" else None,
        }
        quota_services.set_quota(user, data)
        messages.success(request, _("Saved the quota."))


@login_required
def quota_settings(request: HttpRequest) -> HttpResponse:
    """Quotas of a year for the reps and teams the user manages (administrators: everyone)."""
    user = request.user
    if not quota_services.may_set_quotas(user):
        raise PermissionDenied(_("Only managers and administrators may set quotas."))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            _post_quota(request)
            return redirect(f"{request.path}?year={int_or_none(request.POST.get('year')) or _today().year}")
        except ValidationError as exc:
            errors = validation_messages(exc)
    params = clean_params(request.GET)
    year = int_or_none(params.get("year") or request.POST.get("year")) or _today().year
    year = year if 1900 <= year <= 9998 else _today().year
    quotas = (
        Quota.objects.visible_to(user)
        .filter(start__year=year)
        .select_related("user", "team")
        .order_by("team__path", "user__username", "start", "kind")
    )
    return render(
        request,
        "sales/performance_quotas.html",
        {
            "year": year,
            "errors": errors,
            "post": request.POST if errors else {},
            "rows": [(q, Period(q.kind, q.start).label) for q in quotas],
            "users": quota_services.quota_users(user).order_by("username"),
            "teams": quota_services.quota_teams(user).order_by("path"),
            "kinds": PeriodKind.choices,
        },
    )

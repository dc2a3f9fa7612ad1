"""The data-health page: each figure links to the list of the records behind it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from guanxi.core.ui import clean_param

from . import health
from .models import RecordKind


def _labels() -> dict[str, str]:
    return {"phone": _("Phone"), "email": _("Email"), "bounced": _("Email bounced"), "title": _("Job title"),
            "account": _("Company"), "address": _("Address"), "birthday": _("Birthday"),
            "owner": _("Owner"), "industry": _("Industry"), "size": _("Size"),
            "classification": _("Classification"), "website": _("Website")}


@login_required
@require_GET
def data_health(request: HttpRequest) -> HttpResponse:
    raw = clean_param(request.GET.get("months"), 10) or ""
    errors: list[str] = []
    try:
        months = health.parse_months(raw)
    except ValidationError as exc:
        errors = exc.message_dict["months"]
        months = None
    report = health.data_health(request.user, months)
    labels = _labels()
    sections = []
    for kind, k in report.kinds.items():
        base = reverse(f"customers:{kind}_list")

        def rows(figures, label=lambda f: labels.get(f.key, f.key), base=base):
            return [{"label": label(f), "figure": f, "url": f"{base}?{urlencode(f.params)}",
                     "missing": f.total - f.count} for f in figures]

        sections.append({
            "kind": kind, "title": _("Contacts") if kind == RecordKind.CONTACT else _("Accounts"), "total": k.total,
            "completeness": rows(k.completeness), "invalid": rows(k.invalid),
            "decay": rows(k.decay, lambda f: _("Not updated for %(n)s months") % {"n": f.key}),
            "duplicates": k.duplicates_waiting,
            "duplicates_url": f"{reverse('quality:duplicate_list')}?kind={kind}",
        })
    return render(request, "quality/health.html", {"report": report, "sections": sections, "months": raw,
                                                   "months_errors": errors})

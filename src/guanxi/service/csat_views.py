"""Satisfaction report (Service ▾ Satisfaction): the average score per agent and per queue over the tickets the
user may see, and a ticket's attachments for staff."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from guanxi.core.ui import clean_param

from . import attachments, csat_services


@login_required
@require_GET
def csat_report(request: HttpRequest) -> HttpResponse:
    period = clean_param(request.GET.get("period"), 10) or "30d"
    errors: list[str] = []
    try:
        report = csat_services.averages(request.user, period)
    except ValidationError as exc:
        errors = exc.messages
        report = csat_services.averages(request.user, "30d")
    return render(request, "service/csat_report.html", {"report": report, "errors": errors,
                                                        "periods": list(csat_services.PERIODS)})


@login_required
@require_GET
def ticket_attachment(request: HttpRequest, pk: int) -> FileResponse:
    file = get_object_or_404(attachments.for_staff(request.user), pk=pk)
    return FileResponse(file.file.open("rb"), as_attachment=True, filename=file.name)

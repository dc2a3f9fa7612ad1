"""PDF printing from a list page: the checked rows (POST from the bulk bar) or the current filter (GET, or
POST with scope=filter), as an address list, a phone list, labels or envelopes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from guanxi.core.ui import clean_param, clean_params

from . import printing, services
from .print_services import PrintRequest, print_pdf
from .views import KINDS, _ids


def _sender(data: QueryDict) -> printing.Sender | None:
    """The sender block of envelopes: lines typed one per line (or separated by "|"), and a postcode."""
    raw = (data.get("sender") or "")[:400].replace("\r", "\n").replace("|", "\n")
    lines = tuple(line for line in (clean_param(part, 200) for part in raw.split("\n")) if line)
    postcode = clean_param(data.get("sender_postcode"), 12)
    return printing.Sender(lines[:4], postcode) if lines or postcode else None


@login_required
@require_http_methods(["GET", "POST"])
def record_print(request: HttpRequest, kind: str) -> HttpResponse:
    k = KINDS[kind]
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        params = clean_params(QueryDict(clean_param(data.get("query"), 4000)))
        # scope=selection (the default): the checked rows, and none checked is an error, not "everything"
        ids = _ids(data.getlist("ids")) if data.get("scope", "selection") == "selection" else None
    else:
        params = clean_params(request.GET)
        ids = None
    req = PrintRequest(kind=kind, layout=clean_param(data.get("layout"), 40), ids=ids, params=params,
                       sender=_sender(data))
    try:
        filename, pdf = print_pdf(request.user, req)
    except ValidationError as exc:
        errors = services.validation_messages(exc)
        query = params.urlencode()
        return render(request, "customers/print_error.html",
                      {"errors": [m for msgs in errors.values() for m in msgs], "fields": list(errors),
                       "back": k.url("list") + (f"?{query}" if query else "")}, status=400)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

"""The widget's HTTP side: the script a company pastes into its pages (/cc/widget.js) and page-view tracking
(/cc/track: CSRF-exempt, CORS for the site's allowed origins, rate-limited per visitor)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from guanxi.core.ui import client_address

from . import visitor_services as vs
from .chat_realtime import AGENTS, broadcast

WIDGET = Path(__file__).parent / "static" / "contact_center" / "widget.js"
MAX_BODY = 16 * 1024


def widget_js(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(WIDGET.read_bytes(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        response["Vary"] = "Origin"
    return response


def _error(field: str, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": message, "errors": {field: [message]}}, status=status)


@csrf_exempt
def track(request: HttpRequest) -> HttpResponse:
    """POST {site, visitor?, url, title, referrer} (JSON) → {visitor}: the key to keep in the visitor cookie."""
    origin = request.headers.get("Origin", "")
    if request.method == "OPTIONS":  # a preflight: allowed for any origin here; the POST is judged by its site
        return _cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST, OPTIONS"})
    if len(request.body) > MAX_BODY:
        return _error("body", _("The request is too large."), 413)
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return _error("body", _("The request body is not valid JSON."))
    if not isinstance(data, dict):
        return _error("body", _("Expected an object."))
    site = vs.site_by_key(data.get("site"))
    if site is None:
        return _error("site", _("No such website."))
    if not site.allows(origin):
        return _error("origin", _("This website may not use the chat widget."), 403)
    try:
        visitor, view = vs.track(site, data, user_agent=request.headers.get("User-Agent", ""),
                                 ip=client_address(request) if client_address(request) != "unknown" else None)
    except ValidationError as exc:
        return _cors(JsonResponse({"detail": _("Some fields are not valid."), "errors": exc.message_dict},
                                  status=400), origin)
    except vs.RateLimited:
        response = _error("visitor", _("Too many requests; wait a minute."), 429)
        response["Retry-After"] = "60"
        return _cors(response, origin)
    broadcast(AGENTS, {"type": "visitor", "visitor": visitor.pk, "url": view.url, "title": view.title,
                       "pages": visitor.page_count, "at": view.at.isoformat(), "contact": visitor.contact_id})
    return _cors(JsonResponse({"visitor": visitor.key}), origin)

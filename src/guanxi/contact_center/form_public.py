"""The public side of web forms (no login): /f/<key>/ shows the form (bilingual, no external assets, framed by
the form's allowed origins) and takes its submission, form-encoded from the page or the embed snippet, or JSON
from a site's own script; /f/<key>/token gives the signed timestamp the snippet and JSON clients send back.

CSRF-exempt, but checked: the Origin (or Referer) must be ours or one of the form's allowed origins, the body
must be small, and the flood limits apply (429 with the reason). Errors redisplay the HTML form with what was
typed, or are a JSON 400 {"detail", "errors": {field key: [..]}}.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from guanxi.core.ui import client_address

from . import form_submit as fs
from . import visitor_services as vs
from .form_models import WebForm, pick

MAX_BODY = 64 * 1024
LANGUAGES = {"zh": "zh-hans", "zh-hans": "zh-hans", "zh-cn": "zh-hans", "en": "en"}


def form_by_key(key: str) -> WebForm:
    if not vs.KEY_RE.fullmatch(key or ""):
        raise Http404
    form = WebForm.objects.filter(public_key=key, active=True).select_related("actor", "ack_mailbox").first()
    if form is None:
        raise Http404
    return form


def language(request: HttpRequest) -> str:
    chosen = LANGUAGES.get((request.GET.get("lang") or "").lower())
    return chosen or ("en" if translation.get_language_from_request(request).startswith("en") else "zh-hans")


def request_origin(request: HttpRequest) -> str:
    """The page's origin: the Origin header, else the scheme and host of the Referer ("" when neither)."""
    origin = request.headers.get("Origin", "")
    if origin and origin != "null":
        return origin.rstrip("/")
    parts = urlsplit(request.headers.get("Referer", ""))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else origin


def allowed(form: WebForm, request: HttpRequest, origin: str) -> bool:
    """Our own pages, the form's allowed origins, and clients that are no browser (no Origin, no Referer)."""
    own = f"{request.scheme}://{request.get_host()}"
    return not origin or origin == own or origin in form.allowed_origins


def _cors(response: HttpResponse, form: WebForm, origin: str) -> HttpResponse:
    if origin and origin in form.allowed_origins:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
    response["Vary"] = "Origin"
    return response


def _framed(response: HttpResponse, form: WebForm) -> HttpResponse:
    response["Content-Security-Policy"] = "frame-ancestors " + " ".join(["'self'", *form.allowed_origins])
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _json_error(detail: str, errors: dict[str, list[str]], status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": errors}, status=status)


def _read(request: HttpRequest) -> dict:
    """The answers, form-encoded or JSON; ValidationError for a body that is neither."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"")
        except (ValueError, UnicodeDecodeError):
            raise ValidationError({"body": [_("The request body is not valid JSON.")]})
        if not isinstance(data, dict):
            raise ValidationError({"body": [_("Expected an object.")]})
        return data
    return {k: request.POST.get(k) for k in request.POST}


def _page(request: HttpRequest, form: WebForm, values: dict | None = None, errors: dict | None = None,
          status: int = 200, done: bool = False) -> HttpResponse:
    fields = [{**f, "label": fs.field_label(f), "value": (values or {}).get(f["key"], ""),
               "errors": (errors or {}).get(f["key"], [])} for f in form.fields]
    context = {"form": form, "fields": fields, "errors": errors or {}, "done": done, "token": fs.token(form),
               "values": values or {}, "lang": translation.get_language(), "honeypot": fs.HONEYPOT,
               "other": [m for k, ms in (errors or {}).items() if k not in {f["key"] for f in form.fields}
                         for m in ms],
               "success": form.success_message or _("Thank you: we received your message.")}
    return _framed(render(request, "contact_center/forms/public.html", context, status=status), form)


@csrf_exempt
@xframe_options_exempt
def public_form(request: HttpRequest, key: str) -> HttpResponse:
    form = form_by_key(key)
    origin = request_origin(request)
    with translation.override(language(request)):
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), form, origin)
        if request.method == "GET":
            return _page(request, form)
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "GET, POST, OPTIONS"})
        return _cors(_post(request, form, origin), form, origin)


def _post(request: HttpRequest, form: WebForm, origin: str) -> HttpResponse:
    as_json = _wants_json(request)
    try:
        size = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        size = 0
    if size > MAX_BODY or len(request.body) > MAX_BODY:
        message = _("The form is too large: shorten your answers.")
        return _json_error(message, {"body": [message]}, 413) if as_json else HttpResponse(message, status=413)
    if not allowed(form, request, origin):
        message = _("This website may not send this form.")
        return _json_error(message, {"origin": [message]}, 403) if as_json else HttpResponse(message, status=403)
    meta = fs.Meta(ip=client_address(request) if client_address(request) != "unknown" else None,
                   user_agent=request.headers.get("User-Agent", ""), origin=origin,
                   language=translation.get_language() or "")
    data: dict = {}
    try:
        data = _read(request)
        submission = fs.submit(form, data, meta)
    except fs.Throttled:
        message = _("Too many submissions: wait a minute and send the form again.")
        response = (_json_error(message, {"__all__": [message]}, 429) if as_json
                    else _page(request, form, data, {"__all__": [message]}, status=429))
        response["Retry-After"] = "60"
        return response
    except ValidationError as exc:
        errors = exc.message_dict
        if as_json:
            return _json_error(_("Some answers are not valid."), errors, 400)
        return _page(request, form, data, errors, status=400)
    success = form.success_message or _("Thank you: we received your message.")
    if as_json:
        return JsonResponse({"detail": success, "redirect": form.redirect_url or None,
                             "reference": submission.ticket.number if submission and submission.ticket else None})
    if form.redirect_url:
        return redirect(form.redirect_url)
    return _page(request, form, done=True)


@csrf_exempt
def public_token(request: HttpRequest, key: str) -> HttpResponse:
    """{"token": ...} for the embed snippet and JSON clients; anyone may ask (it only says when)."""
    form = form_by_key(key)
    fields = [{"key": f["key"], "label": pick(f["label_zh"], f["label_en"]), "type": f["type"],
               "required": f["required"], "choices": f["choices"]} for f in form.fields]
    with translation.override(language(request)):
        response = JsonResponse({"token": fs.token(form), "fields": fields})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response

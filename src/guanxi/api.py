"""The REST API: /api/v1/, one NinjaAPI with a router per app. See docs/api.md.

Every error is JSON: 400 {"detail", "errors": {field: [messages]}}, 401, 403, 404, 409 (edit conflict,
with the current record). Ninja's own request validation errors are 400s too, never 422.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from guanxi.activities.api import router as activities_router
from guanxi.core.api import AUTH, CONFLICT_SERIALIZERS, BodyError, JsonParser
from guanxi.core.api import router as core_router
from guanxi.core.records import EditConflict
from guanxi.customers.api import router as customers_router
from guanxi.customers.import_files import refused_upload_message

logger = logging.getLogger("guanxi.api")


class GuanxiAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:  # type: ignore[no-untyped-def]
        return operation.view_func.__name__


api = GuanxiAPI(
    title="Guanxi API",
    version="1",
    description="The REST API of Guanxi (关系), a bilingual e-CRM. Authenticate with "
                "`Authorization: Bearer <token>` (tokens from `guanxi token USERNAME` or the UI). See docs/api.md.",
    urls_namespace="api",
    auth=AUTH,
    parser=JsonParser(),
)


def _json(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


def _field_name(loc: list[Any]) -> str:
    """("body", "payload", "phones", 0, "value") → "phones.0.value"; ("query", "limit") → "limit"."""
    loc = list(loc)
    source = str(loc.pop(0)) if loc else "body"
    if source == "body" and loc:
        loc.pop(0)  # the name of the view's body parameter
    return ".".join(str(part) for part in loc) or source


def _message(error: dict[str, Any]) -> str:
    """Pydantic's English message for the common cases in the user's language."""
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind.startswith("int_"):
        return _("Enter a whole number.")
    if kind.startswith("bool_"):
        return _("Enter true or false.")
    if kind.startswith("datetime_"):
        return _("Enter a date and time in ISO 8601.")
    if kind.startswith("date_"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind.startswith("uuid_"):
        return _("Not a valid id.")
    if kind == "string_type":
        return _("Expected text.")
    if kind == "list_type":
        return _("Expected a list.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("Expected an object.")
    if kind == "greater_than_equal":
        return _("At least %(min)s.") % {"min": ctx.get("ge", "")}
    if kind == "less_than_equal":
        return _("At most %(max)s.") % {"max": ctx.get("le", "")}
    if kind == "too_long":
        return _("At most %(max)s items.") % {"max": ctx.get("max_length", "")}
    if kind == "string_too_long":
        return _("At most %(max)s characters.") % {"max": ctx.get("max_length", "")}
    if kind == "string_too_short":
        return _("This field is required.")
    return str(error.get("msg", ""))


@api.exception_handler(RequestValidationError)
def request_validation_error(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    too_large = refused_upload_message(request)
    if too_large:  # the upload cap stopped the body: say so, not "field required"
        return _json(request, 413, too_large, errors={"file": [too_large]})
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(error.get("loc", ())), []).append(_message(error))
    return _json(request, 400, _("Some fields are not valid."), errors=errors)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": list(exc.messages)}
    return _json(request, 400, _("Some fields are not valid."), errors=errors)


@api.exception_handler(BodyError)
def body_error(request: HttpRequest, exc: BodyError) -> HttpResponse:
    return _json(request, 400, exc.message, errors={exc.field: [exc.message]})


@api.exception_handler(EditConflict)
def edit_conflict(request: HttpRequest, exc: EditConflict) -> HttpResponse:
    model = type(exc.current)
    current = CONFLICT_SERIALIZERS[model](exc.current.pk, request.auth)  # type: ignore[attr-defined]
    return _json(request, 409, _("Someone else changed this record since you read it: here is the current "
                                 "version. Apply your change to it and send it again with its version."),
                 current=current)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _json(request, 403, str(exc) or _("You may not do this."))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _json(request, 404, _("Not found."))


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _json(request, 401, _("Authentication required: send Authorization: Bearer <token>."))
    response["WWW-Authenticate"] = 'Bearer realm="guanxi"'
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # the body could not be parsed
        cause = exc.__cause__
        field, message = (cause.field, cause.message) if isinstance(cause, BodyError) else (
            "body", _("The request body is not valid JSON."))
        return _json(request, 400, message, errors={field: [message]})
    return _json(request, exc.status_code, str(exc))


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug: logged with its traceback; the client still gets JSON.
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return _json(request, 500, _("Something went wrong on our side; it has been logged."))


api.add_router("/", core_router)
api.add_router("/", "guanxi.customers.export_api.router")  # before customers: /contacts/export is no {id}
api.add_router("/", "guanxi.quality.api.router")  # before customers: /contacts/possible-duplicates is no {id}
api.add_router("/", "guanxi.quality.health_api.router")
api.add_router("/", "guanxi.quality.approval_api.router")
api.add_router("/", customers_router)
api.add_router("/", "guanxi.customers.pool_api.router")
api.add_router("/", "guanxi.customers.privacy_api.router")
api.add_router("/", "guanxi.customers.import_api.router")
api.add_router("/", "guanxi.customers.api_shares.router")
api.add_router("/", activities_router)
api.add_router("/", "guanxi.sales.api.router")
api.add_router("/", "guanxi.sales.lead_api.router")
api.add_router("/", "guanxi.knowledge.api.router")
api.add_router("/", "guanxi.service.api.router")
api.add_router("/", "guanxi.service.kpi_api.router")
api.add_router("/", "guanxi.service.canned_api.router")
api.add_router("/", "guanxi.service.csat_api.router")
api.add_router("/", "guanxi.service.nps_api.router")
api.add_router("/", "guanxi.service.attachment_api.router")
api.add_router("/", "guanxi.sales.catalog_api.router")
api.add_router("/", "guanxi.sales.quote_api.router")
api.add_router("/", "guanxi.sales.quota_api.router")
api.add_router("/", "guanxi.sales.contract_api.router")
api.add_router("/", "guanxi.sales.payment_api.router")
api.add_router("/", "guanxi.contact_center.chat_api.router")
api.add_router("/", "guanxi.contact_center.email_api.router")
api.add_router("/", "guanxi.contact_center.form_api.router")
api.add_router("/", "guanxi.contact_center.inbox_api.router")
api.add_router("/", "guanxi.contact_center.email_kb_api.router")
api.add_router("/", "guanxi.contact_center.call_api.router")
api.add_router("/", "guanxi.analytics.score_api.router")
api.add_router("/", "guanxi.analytics.kpi_api.router")

# Last: any other path under /api/v1/ is a JSON 404 too, not the HTML page of the web UI.
fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None,
                        include_in_schema=False)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    return _json(request, 404, _("Not found."))


api.add_router("/", fallback)

"""Pages and endpoints of the phone channel: the PBX's signed webhook, click-to-call, the calls list, and the
administrators' settings (PBX connections, agents' extensions). Thin: call_services does the work."""

from __future__ import annotations

import json
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.models import User
from guanxi.core.ui import flash_errors

from . import call_events as ce
from . import call_services as svc
from .call_models import AgentPhone, Call, PbxConnection, PbxKind

logger = logging.getLogger(__name__)
CALL_ROWS = 100
CONNECTION_FIELDS = ("name", "kind", "ami_host", "ami_port", "ami_username", "originate_context",
                     "channel_technology", "recording_base", "records_as_id")


def _error(status: int, detail: str, errors: dict | None = None) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": errors or {}}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def receive_event(source: PbxConnection, data: object) -> tuple[Call, bool]:
    """Parse and record one event; EventError names the bad fields (the webhook's and the API's 400)."""
    return svc.record_event(source, ce.parse_webhook(data, _))


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, key: str) -> HttpResponse:
    """POST /cc/cti/webhook/<key>: one event of a cloud PBX as JSON, signed with the connection's secret."""
    source = PbxConnection.objects.filter(key=key, active=True).first()
    if source is None:
        return _error(404, _("No such PBX connection."))
    if not svc.verify_signature(source.secret, request.body, request.headers.get(svc.SIGNATURE_HEADER, "")):
        return _error(401, _("Bad or missing signature."), {svc.SIGNATURE_HEADER: [_("Sign the body with HMAC-SHA256 "
                                                                                     "and the connection's secret.")]})
    try:
        data = json.loads(request.body)
    except ValueError:
        return _error(400, _("The request body is not valid JSON."), {"body": [_("Send a JSON object.")]})
    try:
        call, new = receive_event(source, data)
    except ce.EventError as exc:
        return _error(400, _("The event has errors."), exc.errors)
    return JsonResponse({"call": call.pk, "status": call.status, "duplicate": not new}, status=201 if new else 200)


@login_required
@require_POST
def click_to_call(request: HttpRequest) -> JsonResponse:
    """The call button of a phone number: the PBX rings the user's phone, then dials the number."""
    try:
        number = svc.click_to_call(request.user, request.POST.get("number", ""))
    except ValidationError as exc:
        return _error(400, _("The call could not be placed."), exc.message_dict)
    except (ConnectionError, OSError, TimeoutError) as exc:
        logger.warning("click-to-call for %s failed: %s", request.user, exc)
        return _error(502, _("The phone system did not take the call: %(error)s") % {"error": exc})
    return JsonResponse({"detail": _("Your phone rings; pick it up to call %(number)s.") % {"number": number},
                         "number": number})


@login_required
@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    calls = list(Call.objects.visible_to(request.user).select_related("contact", "account", "owner")
                 .order_by("-started_at", "-id")[:CALL_ROWS])
    return render(request, "contact_center/call_list.html", {"calls": calls})


# ------------------------------------------------------------------ settings

@login_required
def phone_settings(request: HttpRequest) -> HttpResponse:
    svc.require_admin(request.user)
    if request.method == "POST":
        try:
            svc.set_agent_phone(request.user, request.POST.get("user_id"), request.POST.get("extension"))
            messages.success(request, _("Saved the extension."))
        except ValidationError as exc:
            flash_errors(request, exc)
        return redirect("contact_center:phone_settings")
    return render(request, "contact_center/phone_settings.html", {
        "connections": PbxConnection.objects.visible_to(request.user).select_related("records_as"),
        "phones": AgentPhone.objects.select_related("user"),
        "users": User.objects.filter(is_active=True).order_by("username")[:500],
    })


@login_required
@require_POST
def agent_phone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    svc.remove_agent_phone(request.user, pk)
    return redirect("contact_center:phone_settings")


@login_required
def connection_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    svc.require_admin(request.user)
    source = get_object_or_404(PbxConnection.objects.visible_to(request.user), pk=pk) if pk else None
    errors: dict[str, list[str]] = {}
    values = {k: getattr(source, k, "") for k in CONNECTION_FIELDS if k != "records_as_id"} if source else {
        "kind": PbxKind.AMI, "ami_port": 5038, "originate_context": "from-internal", "channel_technology": "PJSIP"}
    values["records_as_id"] = source.records_as_id if source else ""
    values["active"] = source.active if source else True
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in (*CONNECTION_FIELDS, "ami_password", "secret")}
        values["active"] = request.POST.get("active") == "on"
        try:
            source = svc.save_connection(request.user, source, values)
            messages.success(request, _("Saved the PBX connection %(name)s.") % {"name": source.name})
            return redirect("contact_center:pbx_edit", source.pk)
        except ValidationError as exc:
            errors = exc.message_dict
    context = {"source": source, "values": values, "errors": errors, "kinds": PbxKind.choices,
               "users": User.objects.filter(is_active=True).order_by("username")[:500],
               "webhook_url": request.build_absolute_uri(f"/cc/cti/webhook/{source.key}") if source else ""}
    return render(request, "contact_center/pbx_form.html", context, status=400 if errors else 200)

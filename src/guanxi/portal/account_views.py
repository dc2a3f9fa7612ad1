"""Portal accounts: sign up, verify, log in and out, reset a forgotten password."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.ui import client_address, safe_next

from . import account_services, session
from .ui import errors_of, link_for, page

FIELDS = ("email", "name", "company")


def signup(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            account_services.sign_up(request.POST.dict(), link_for(request, "portal:verify"),
                                     translation.get_language() or "", client_address(request))
            return page(request, "portal/message.html", {
                "title": _("Check your e-mail"),
                "text": _("We sent a confirmation link to %(email)s. Open it to activate your account.")
                % {"email": request.POST.get("email", "")}})
        except ValidationError as exc:
            errors = errors_of(exc)
    values = {k: request.POST.get(k, "") for k in FIELDS}
    return page(request, "portal/signup.html", {"errors": errors, "values": values}, status=400 if errors else 200)


def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = account_services.verify(token)
    except ValidationError as exc:
        return page(request, "portal/message.html", {"title": _("Link refused"),
                                                     "text": " ".join(errors_of(exc).get("token", [])),
                                                     "failed": True}, status=400)
    session.log_in(request, user)
    messages.success(request, _("Your e-mail address is confirmed. Welcome!"))
    return redirect("portal:home")


def login(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"), reverse("portal:home"))
    if request.method == "POST":
        try:
            user = account_services.authenticate(request.POST.get("email"), request.POST.get("password"),
                                                 client_address(request))
        except ValidationError as exc:
            errors = errors_of(exc)
        else:
            session.log_in(request, user)
            return redirect(next_url)
    return page(request, "portal/login.html", {"errors": errors, "email": request.POST.get("email", ""),
                                               "next": next_url}, status=400 if errors else 200)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    session.log_out(request)
    return redirect("portal:login")


def reset_request(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        account_services.request_reset(request.POST.get("email"), link_for(request, "portal:reset_confirm"))
        return page(request, "portal/message.html", {
            "title": _("Check your e-mail"),
            "text": _("If there is an account for this address, we sent it a link to choose a new password.")})
    return page(request, "portal/reset_request.html")


def reset_confirm(request: HttpRequest, token: str) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    try:
        account_services.user_for_reset(token)
    except ValidationError as exc:
        return page(request, "portal/message.html", {"title": _("Link refused"),
                                                     "text": " ".join(errors_of(exc).get("token", [])),
                                                     "failed": True}, status=400)
    if request.method == "POST":
        try:
            account_services.reset_password(token, request.POST.get("password"), request.POST.get("password2"))
        except ValidationError as exc:
            errors = errors_of(exc)
        else:
            session.log_out(request)
            messages.success(request, _("Your password has been changed. Log in with the new one."))
            return redirect("portal:login")
    return page(request, "portal/reset_confirm.html", {"errors": errors}, status=400 if errors else 200)

"""The portal's own session keys: a signed-in customer is `request.portal_user`, never `request.user`.

The session also keeps a digest of the password hash, so changing the password ends other sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import PortalUser

USER_KEY = "portal_user_id"
HASH_KEY = "portal_user_hash"


def _digest(user: PortalUser) -> str:
    return salted_hmac("guanxi.portal.session", user.password).hexdigest()


def log_in(request: HttpRequest, user: PortalUser) -> None:
    request.session.cycle_key()  # no session fixation
    request.session[USER_KEY] = user.pk
    request.session[HASH_KEY] = _digest(user)
    request.portal_user = user


def log_out(request: HttpRequest) -> None:
    request.session.pop(USER_KEY, None)
    request.session.pop(HASH_KEY, None)
    request.session.cycle_key()
    request.portal_user = None


def current(request: HttpRequest) -> PortalUser | None:
    """The signed-in customer (verified, active, linked to a contact), or None."""
    if hasattr(request, "portal_user"):
        return request.portal_user
    user = None
    pk = request.session.get(USER_KEY)
    if pk is not None:
        found = PortalUser.objects.select_related("contact").filter(pk=pk).first()
        if found is not None and found.can_log_in and constant_time_compare(
                request.session.get(HASH_KEY, ""), _digest(found)):
            user = found
    request.portal_user = user
    return user


def portal_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if current(request) is None:
            return redirect(reverse("portal:login") + "?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapper

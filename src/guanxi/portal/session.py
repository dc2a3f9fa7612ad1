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
    if not hasattr(request, "portal_user"):
        request.portal_user = user_in_session(request.session)
    return request.portal_user


def user_in_session(session) -> PortalUser | None:
    """The customer signed in by this session (a request's, or a WebSocket's: the web chat on the portal), if they
    still may log in and their password has not changed since."""
    pk = session.get(USER_KEY) if session is not None else None
    if pk is None:
        return None
    found = PortalUser.objects.select_related("contact").filter(pk=pk).first()
    if found is not None and found.can_log_in and constant_time_compare(session.get(HASH_KEY, ""), _digest(found)):
        return found
    return None


def portal_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if current(request) is None:
            return redirect(reverse("portal:login") + "?" + urlencode({"next": request.get_full_path()}))
        return view(request, *args, **kwargs)

    return wrapper

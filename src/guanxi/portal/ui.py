"""Small helpers the portal's pages share: render with the signed-in customer, absolute links for e-mails."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from . import session


def page(request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
         ) -> HttpResponse:
    return render(request, template, {"portal_user": session.current(request), **(context or {})}, status=status)


def link_for(request: HttpRequest, name: str):
    """token → the absolute URL of the named portal page taking that token."""
    return lambda token: request.build_absolute_uri(reverse(name, args=[token]))


def errors_of(exc: Exception) -> dict[str, list[str]]:
    return getattr(exc, "message_dict", None) or {"__all__": list(getattr(exc, "messages", [str(exc)]))}

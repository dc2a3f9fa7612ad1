"""The user's notifications: the list behind the navbar bell, and marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import Notification
from .notifications import mark_read, unread_count

LIST_SIZE = 100


def bell(request: HttpRequest) -> dict:
    """Context processor: the unread count for the navbar bell, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    cache: dict[str, int] = {}

    def count() -> int:
        if "n" not in cache:
            cache["n"] = unread_count(user)
        return cache["n"]

    return {"unread_notifications": count}


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = list(Notification.objects.filter(user=request.user)[:LIST_SIZE])
    return render(request, "core/notifications.html", {"notifications": rows, "limit": LIST_SIZE})


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    mark_read(request.user, ids or None)
    return redirect("notification_list")

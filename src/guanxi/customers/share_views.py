"""Sharing an account or contact from its detail page (the API has the same in customers/api_shares.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.models import Share, Team
from guanxi.core.people_services import share_record, unshare_record
from guanxi.core.services import visible_users
from guanxi.core.ui import flash_errors

from .views import KINDS


@login_required
@require_POST
def record_share(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """`target` is "user:<id>" or "team:<id>"."""
    k = KINDS[kind]
    obj = get_object_or_404(k.model.objects.visible_to(request.user), pk=pk)
    target_kind, _sep, target_id = request.POST.get("target", "").partition(":")
    user = team = None
    if target_id.isdecimal() and len(target_id) < 19 and target_kind == "user":
        user = visible_users(request.user).filter(pk=int(target_id)).first()
    elif target_id.isdecimal() and len(target_id) < 19 and target_kind == "team":
        team = Team.objects.filter(pk=int(target_id)).first()
    try:
        if user is None and team is None:
            raise ValidationError({"target": [_("Choose a colleague or a team.")]})
        share_record(request.user, obj, user=user, team=team)
        messages.success(request, _("Shared with %(whom)s.") % {"whom": user or team.name})
    except ValidationError as exc:
        flash_errors(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect(k.url("detail", pk))


@login_required
@require_POST
def record_unshare(request: HttpRequest, kind: str, pk: int, share_id: int) -> HttpResponse:
    k = KINDS[kind]
    obj = get_object_or_404(k.model.objects.visible_to(request.user), pk=pk)
    try:
        unshare_record(request.user, obj, share_id)
        messages.success(request, _("No longer shared."))
    except Share.DoesNotExist:
        messages.error(request, _("That share does not exist any more."))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect(k.url("detail", pk))

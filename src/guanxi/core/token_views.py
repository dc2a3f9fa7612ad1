"""API tokens: each user issues and revokes their own (the secret is shown once)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import ApiToken
from .services import create_token, revoke_token
from .ui import clean_param


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    secret = ""
    name = ""
    if request.method == "POST":
        name = clean_param(request.POST.get("name", ""), 200)
        try:
            secret = create_token(request.user, name)
            name = ""
        except ValidationError as exc:
            errors = list(exc.message_dict.get("name", exc.messages))
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(request, "core/tokens.html", {"tokens": tokens, "secret": secret, "errors": errors,
                                                "name": name}, status=400 if errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        revoke_token(request.user, pk)
    except ApiToken.DoesNotExist:
        raise Http404
    messages.success(request, _("The token is revoked; programs using it can no longer sign in."))
    return HttpResponseRedirect(reverse("token_list"))

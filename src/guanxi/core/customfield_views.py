"""The custom-field administration pages (administrators only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .access import require_admin
from .forms import CUSTOM_FIELD_MODELS, CustomFieldForm, set_custom_field_active
from .models import CustomField

# The 403's reason on every page here (the message is the same for each).
ADMIN_ONLY = gettext_lazy("Only an administrator may manage custom fields.")


@login_required
def customfield_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    fields = list(CustomField.objects.all())
    groups = [(key, label, [f for f in fields if f.model == key]) for key, label in CUSTOM_FIELD_MODELS]
    return render(request, "core/customfield_list.html", {"groups": groups})


@login_required
def customfield_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    instance = get_object_or_404(CustomField, pk=pk) if pk else None
    if request.method == "POST":
        form = CustomFieldForm(request.POST, instance=instance)
        field = form.save_by(request.user) if form.is_valid() else None
        if field is not None:
            messages.success(request, _("Saved the field “%(label)s”.") % {"label": field.label})
            return redirect("customfield_list")
    else:
        initial = {"model": request.GET.get("model")} if request.GET.get("model") in dict(CUSTOM_FIELD_MODELS) else {}
        form = CustomFieldForm(instance=instance, initial=initial)
    return render(request, "core/customfield_form.html", {"form": form, "field": instance})


@login_required
@require_POST
def customfield_active(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMIN_ONLY)
    field = get_object_or_404(CustomField, pk=pk)
    active = request.POST.get("active") == "1"
    set_custom_field_active(request.user, field, active)
    if active:
        messages.success(request, _("The field “%(label)s” is active again.") % {"label": field.label})
    else:
        messages.success(request, _("The field “%(label)s” is deactivated; stored values are kept.")
                         % {"label": field.label})
    return redirect("customfield_list")

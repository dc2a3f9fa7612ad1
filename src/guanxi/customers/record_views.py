"""One account or contact: the detail page (fields, 360° timeline, audit trail, notes), the create and
edit forms (with field-level errors and edit conflicts shown side by side) and delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from guanxi.activities.services import add_note
from guanxi.analytics.queries import account_insights
from guanxi.analytics.score_models import REASON_LABELS
from guanxi.core.access import require_editor
from guanxi.core.models import CustomField, Team
from guanxi.core.people_services import shares_of
from guanxi.core.records import EditConflict, audit_trail
from guanxi.core.services import visible_users
from guanxi.core.ui import ChangeDescriber, is_htmx
from guanxi.quality.approval_views import described
from guanxi.quality.approvals import pending_for_record
from guanxi.sales.queries import account_opportunities

from .models import Account, Contact
from .pool_services import may_release
from .services import validation_messages
from .timeline import timeline_for
from .views import KINDS, Kind


def _get_visible(request: HttpRequest, k: Kind, pk: int) -> models.Model:
    """The record if the user may see it; anything else is a 404 (not a 403: existence is not revealed)."""
    return get_object_or_404(k.model.objects.visible_to(request.user), pk=pk)


def _timeline_context(obj: models.Model, user: Any) -> dict[str, Any]:
    items = timeline_for(obj, user)
    rows = ChangeDescriber(type(obj), user).describe([item.changes for item in items])
    return {"timeline": list(zip(items, rows, strict=True))}


@login_required
def record_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = KINDS[kind]
    user = request.user
    obj = get_object_or_404(k.model.objects.visible_to(user).select_related(*k.related, "team"), pk=pk)
    entries = list(audit_trail(obj)[:100])
    context: dict[str, Any] = {
        "kind": k,
        "obj": obj,
        "custom_defs": CustomField.objects.filter(model=kind, active=True),
        "tags": list(obj.tags.all()),
        "addresses": list(obj.addresses.order_by("id")),
        "audit": list(zip(entries, ChangeDescriber(k.model, user).describe([e.changes for e in entries]),
                          strict=True)),
        **_timeline_context(obj, user),
        "pending_changes": described(user, pending_for_record(user, obj, kind)),
        "shares": list(shares_of(obj)),
    }
    if user.can_edit and k.model.objects.editable_by(user).filter(pk=obj.pk).exists():
        context["share_users"] = visible_users(user).exclude(pk=user.pk).order_by("username")
        context["share_teams"] = Team.objects.order_by("path")
    if isinstance(obj, Account):
        context["contacts"] = Contact.objects.visible_to(user).filter(accounts=obj).select_related("owner") \
            .order_by("name", "pk")[:100]
        context["parent"] = Account.objects.visible_to(user).filter(pk=obj.parent_id).first() \
            if obj.parent_id else None
        context["subsidiaries"] = Account.objects.visible_to(user).filter(parent=obj).order_by("name")[:50]
        context["opportunities"] = account_opportunities(user, obj)
        context["insights"] = account_insights(obj)
        context["reason_labels"] = REASON_LABELS
        context["may_release"] = may_release(user, obj)
    else:
        context["accounts"] = Account.objects.visible_to(user).filter(contacts=obj).order_by("name", "pk")
        methods = list(obj.methods.all())
        context["phones"] = [m for m in methods if m.kind == "phone"]
        context["emails"] = [m for m in methods if m.kind == "email"]
    return render(request, f"customers/{kind}_detail.html", context)


@login_required
def record_note(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Add a note to the record's timeline; with htmx the timeline is answered in place."""
    if request.method != "POST":
        return redirect(KINDS[kind].url("detail", pk))
    k = KINDS[kind]
    obj = _get_visible(request, k, pk)
    body = request.POST.get("body", "")
    error = ""
    try:
        if "\x00" in body:
            raise ValidationError({"body": [_("Null characters are not allowed.")]})
        add_note(request.user, obj, body)
        body = ""
    except ValidationError as exc:
        error = " ".join(m for ms in validation_messages(exc).values() for m in ms)
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect(k.url("detail", pk))
    context = {"kind": k, "obj": obj, "note_body": body, "note_error": error,
               **_timeline_context(obj, request.user)}
    return render(request, "customers/_timeline.html", context)


@login_required
def record_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit a record. Errors go next to their inputs and nothing typed is lost; a save
    over a newer version shows both versions and lets the user re-apply theirs on top."""
    k = KINDS[kind]
    user = request.user
    require_editor(request.user)
    instance = _get_visible(request, k, pk) if pk else None
    if request.method == "POST":
        form = k.form_class(request.POST, actor=user, instance=instance)
        if form.is_valid():
            data = form.to_data()
            try:
                if instance is None:
                    obj = k.create(user, data)
                    messages.success(request, _("Created “%(name)s”.") % {"name": obj})
                else:
                    obj = k.update(user, instance, data, form.cleaned_data.get("version"))
                    messages.success(request, _("Saved “%(name)s”.") % {"name": obj})
                    if getattr(obj, "change_request", None):
                        messages.info(request, _("Your change to sensitive fields waits for approval by an "
                                                 "administrator or manager."))
                return redirect(k.url("detail", obj.pk))
            except ValidationError as exc:
                form.add_service_errors(validation_messages(exc))
            except EditConflict as exc:
                return _conflict(request, k, form, exc.current)
    else:
        initial = {}
        if kind == "contact" and instance is None and request.GET.get("account"):
            initial["account_ids"] = [request.GET["account"]]
        if kind == "contact" and instance is None and request.GET.get("phone"):  # "create contact" of a call pop-up
            initial["phones"] = request.GET["phone"][:40]
        form = k.form_class(actor=user, instance=instance, initial=initial)
    return render(request, "customers/record_form.html", {"kind": k, "form": form, "obj": instance})


def _conflict(request: HttpRequest, k: Kind, form: Any, current: models.Model) -> HttpResponse:
    """Both versions side by side, and the user's values in a form that carries the new version."""
    data = request.POST.copy()
    data["version"] = str(current.version)
    reapply = k.form_class(data, actor=request.user, instance=current)
    reapply.is_valid()
    last = audit_trail(current).first()
    context = {
        "kind": k,
        "obj": current,
        "form": reapply,
        "conflict": True,
        "comparison": form.compare_with(current),
        "last_change": last,
    }
    return render(request, "customers/record_form.html", context, status=409)


@login_required
def record_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = KINDS[kind]
    require_editor(request.user)
    obj = _get_visible(request, k, pk)
    if request.method == "POST":
        name = str(obj)
        k.delete(request.user, obj)
        messages.success(request, _("Deleted “%(name)s”.") % {"name": name})
        return redirect(k.url("list"))
    return render(request, "customers/record_delete.html", {"kind": k, "obj": obj})

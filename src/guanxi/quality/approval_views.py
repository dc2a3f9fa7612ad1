"""Change requests (the approvers' queue, one request, its decision) and the field-rules settings page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.access import require_admin
from guanxi.core.paging import paginate
from guanxi.core.ui import ChangeDescriber, clean_param, flash_errors

from . import approvals, field_rules
from .approval_models import ChangeRequest, RequestStatus
from .models import RecordKind

PAGE_SIZE = 50


def described(user: Any, requests: list[ChangeRequest]) -> list[tuple[ChangeRequest, list]]:
    """Each request with its changes as readable rows (one describer per record type: no query per row)."""
    out: dict[int, list] = {}
    for kind in {r.kind for r in requests}:
        mine = [r for r in requests if r.kind == kind]
        rows = ChangeDescriber(approvals.model_of(kind), user).describe([r.changes for r in mine])
        out.update({r.pk: row for r, row in zip(mine, rows, strict=True)})
    return [(r, out[r.pk]) for r in requests]


def record_url(request: ChangeRequest) -> str:
    return reverse(f"customers:{request.kind}_detail", args=[request.object_id])


@login_required
def change_request_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", RequestStatus.PENDING)
    qs = approvals.visible_requests(request.user)
    if status in RequestStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    try:
        page = paginate(qs, sort="-id", allowed=["-id"], cursor=clean_param(request.GET.get("cursor")),
                        limit=PAGE_SIZE)
    except ValidationError:
        page = paginate(qs, sort="-id", allowed=["-id"], limit=PAGE_SIZE)
    rows = [{"request": r, "changes": changes, "url": record_url(r)} for r, changes in described(request.user,
                                                                                                  page.items)]
    return render(request, "quality/change_request_list.html", {
        "rows": rows, "status": status, "statuses": RequestStatus.choices, "next_cursor": page.next_cursor,
        "approver": field_rules.may_change_sensitive(request.user),
    })


def _visible(request: HttpRequest, pk: int) -> ChangeRequest:
    obj = approvals.visible_requests(request.user).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


@login_required
def change_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _visible(request, pk)
    (_req, changes), = described(request.user, [obj])
    return render(request, "quality/change_request_detail.html", {
        "req": obj, "changes": changes, "url": record_url(obj),
        "approver": field_rules.may_change_sensitive(request.user),
    })


@login_required
@require_POST
def change_request_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    obj = _visible(request, pk)
    try:
        if action == "accept":
            approvals.accept_request(request.user, obj.pk)
            messages.success(request, _("The change is accepted and saved on the record."))
        elif action == "reject":
            approvals.reject_request(request.user, obj.pk, request.POST.get("reason", ""))
            messages.success(request, _("The change is rejected; the record stays as it was."))
        elif action == "withdraw":
            approvals.withdraw_request(request.user, obj.pk)
            messages.success(request, _("Your request is withdrawn."))
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect(reverse("quality:change_request", args=[obj.pk]))


@login_required
def field_rule_settings(request: HttpRequest, kind: str = RecordKind.CONTACT) -> HttpResponse:
    require_admin(request.user)
    if kind not in RecordKind.values:
        raise Http404
    errors: dict[str, list[str]] = {}
    rows = field_rules.current_rules(kind)
    if request.method == "POST":
        items = []
        for row in rows:
            key = row["field"]
            items.append({"field": key, "required": request.POST.get(f"required:{key}") == "on",
                          "sensitive": request.POST.get(f"sensitive:{key}") == "on",
                          "pattern": request.POST.get(f"pattern:{key}", ""),
                          "message": request.POST.get(f"message:{key}", "")})
        try:
            field_rules.save_rules(request.user, kind, items)
        except ValidationError as exc:
            # "rules.3.pattern" → the row of field 3; what was typed stays in the form.
            for name, msgs in exc.message_dict.items():
                parts = name.split(".")
                if len(parts) == 3 and parts[1].isdecimal() and int(parts[1]) < len(items):
                    errors.setdefault(items[int(parts[1])]["field"], []).extend(msgs)
            for row, item in zip(rows, items, strict=True):
                row.update({k: v for k, v in item.items() if k != "field"})
        else:
            messages.success(request, _("The field rules are saved; they apply to every new change."))
            return redirect(reverse("quality:field_rules", args=[kind]))
    for row in rows:
        row["errors"] = errors.get(row["field"], [])
    return render(request, "quality/field_rules.html", {
        "rows": rows, "kind": kind, "kinds": RecordKind.choices, "has_errors": bool(errors),
    }, status=400 if errors else 200)

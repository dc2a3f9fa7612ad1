"""Settings ▾ Service desk (administrators): queues, question groups (as a tree), SLA policies and business
calendars — a list and a form each. Views are thin: setup_services checks and saves (and audits)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import setup_forms, setup_services
from .models import BusinessCalendar, QuestionGroup, Queue, SlaPolicy


@dataclass(frozen=True)
class Kind:
    model: type[models.Model]
    form: type[setup_forms.SetupForm]
    title: Promise
    columns: tuple[str, ...]
    related: tuple[str, ...] = ()


KINDS = {
    "queues": Kind(Queue, setup_forms.QueueForm, gettext_lazy("Queues"),
                   ("strategy", "required_skills", "supervisor", "calendar", "senior_queue", "reroute_after_minutes"),
                   ("supervisor", "calendar", "senior_queue")),
    "question-groups": Kind(QuestionGroup, setup_forms.QuestionGroupForm, gettext_lazy("Question groups"),
                            ("queue", "skills", "active", "public"), ("queue", "parent")),
    "sla-policies": Kind(SlaPolicy, setup_forms.SlaPolicyForm, gettext_lazy("SLA policies"),
                         ("priority", "classification", "first_response_minutes", "resolution_minutes", "calendar"),
                         ("calendar",)),
    "calendars": Kind(BusinessCalendar, setup_forms.CalendarForm, gettext_lazy("Business calendars"),
                      ("timezone", "is_default", "holidays", "workdays")),
}


def _kind(request: HttpRequest, kind: str) -> Kind:
    setup_services.require_admin(request.user)
    if kind not in KINDS:
        raise Http404
    return KINDS[kind]


def _tree(groups: list[QuestionGroup]) -> list[QuestionGroup]:
    """Question groups in tree order, each with its `depth`."""
    children: dict[int | None, list[QuestionGroup]] = {}
    for g in groups:
        children.setdefault(g.parent_id, []).append(g)
    out: list[QuestionGroup] = []

    def walk(parent: int | None, depth: int) -> None:
        for g in sorted(children.get(parent, []), key=lambda g: (g.name, g.pk)):
            g.depth = depth
            out.append(g)
            walk(g.pk, depth + 1)

    walk(None, 0)
    return out


def _cell(obj: models.Model, name: str) -> str:
    field = obj._meta.get_field(name)
    value = getattr(obj, name)
    if field.choices:
        return getattr(obj, f"get_{name}_display")()
    if isinstance(value, bool):
        return "✓" if value else "—"
    if isinstance(value, dict):
        return str(len(value))
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return "—" if value in (None, "") else str(value)


@login_required
def setting_list(request: HttpRequest, kind: str) -> HttpResponse:
    spec = _kind(request, kind)
    rows = list(spec.model.objects.select_related(*spec.related))
    if spec.model is QuestionGroup:
        rows = _tree(rows)
    return render(request, "service/setup_list.html", {
        "kind": kind, "spec": spec, "kinds": KINDS,
        "headers": [spec.model._meta.get_field(c).verbose_name for c in spec.columns],
        "rows": [(r, getattr(r, "depth", 0), [_cell(r, c) for c in spec.columns]) for r in rows]})


@login_required
def setting_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    spec = _kind(request, kind)
    obj = get_object_or_404(spec.model, pk=pk) if pk else spec.model()
    form = spec.form(request.POST or None, instance=obj)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = setup_services.save_setting(request.user, form.instance)
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            else:
                messages.success(request, _("Saved “%(name)s”.") % {"name": saved})
                return redirect("service:setting_list", kind)
        status = 400
    return render(request, "service/setup_form.html", {"kind": kind, "spec": spec, "form": form, "obj": obj},
                  status=status)

"""Import pages: upload → mapping → preview → commit (a job with a progress bar) → result, rejected rows, undo."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from guanxi.core.ui import flash_errors

from . import import_services as imports
from .fileio import FIELDS
from .import_files import refused_upload_message
from .import_models import Import, ImportStatus, ImportTarget
from .services import validation_messages


def _editor(request: HttpRequest) -> None:
    if not request.user.can_edit:
        raise PermissionDenied(_("Your role may not change records."))


def _get(request: HttpRequest, pk: int) -> Import:
    _editor(request)
    return get_object_or_404(imports.visible_imports(request.user), pk=pk)


FIELD_LABELS = {
    "name": _l("Name"), "family_name": _l("Family name"), "given_name": _l("Given name"), "title": _l("Job title"),
    "department": _l("Department"), "phone": _l("Phone"), "mobile": _l("Mobile"), "email": _l("Email"),
    "account": _l("Company"), "address": _l("Address (one line)"), "province": _l("Province"), "city": _l("City"),
    "district": _l("District"), "street": _l("Street"), "postcode": _l("Postcode"), "country": _l("Country"),
    "birthday": _l("Birthday"), "preferred_channel": _l("Preferred channel"),
    "marketing_consent": _l("Marketing consent"),
    "tags": _l("Tags"), "notes": _l("Notes"), "external_id": _l("External id"), "owner": _l("Owner (user name)"),
    "industry": _l("Industry"), "size": _l("Size"), "classification": _l("Classification"), "source": _l("Source"),
    "lifecycle_stage": _l("Lifecycle stage"), "website": _l("Website"), "company": _l("Company"),
    "rating": _l("Rating"),
}


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    _editor(request)
    target = request.POST.get("target") or request.GET.get("target") or "contact"
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors["file"] = [refused_upload_message(request) or _("Choose a file.")]
        else:
            try:
                imp = imports.upload(request.user, target, upload, upload.name)
            except ValidationError as exc:
                errors = validation_messages(exc)
            else:
                return redirect("customers:import_mapping", imp.pk)
    recent = imports.visible_imports(request.user)[:10]
    return render(request, "customers/import_upload.html", {
        "target": target if target in FIELDS else "contact", "targets": ImportTarget.choices, "errors": errors,
        "recent": recent, "limit": imports.max_bytes()}, status=400 if errors else 200)


@login_required
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    if imp.status != ImportStatus.UPLOADED:
        return redirect("customers:import_detail", imp.pk)
    mapping, match_key, errors = dict(imp.mapping), imp.match_key, {}
    if request.method == "POST":
        mapping = {h: request.POST.get(f"col-{i}") or None for i, h in enumerate(imp.headers)}
        match_key = request.POST.get("match_key", "")
        if request.POST.get("action") == "load":
            try:
                mapping = imports.apply_template(request.user, imp, request.POST.get("template"))
            except ValidationError as exc:
                errors = validation_messages(exc)
        else:
            try:
                imports.set_mapping(request.user, imp, mapping, match_key, request.POST.get("template_name", ""))
            except ValidationError as exc:
                errors = validation_messages(exc)
            else:
                return redirect("customers:import_preview", imp.pk)
    customs = imports.custom_labels(imp.target)
    choices = [(f, FIELD_LABELS.get(f, f)) for f in FIELDS[imp.target]] + \
        [(f"custom.{k}", label) for k, label in customs.items()]
    sample: list[dict] = []
    try:
        sample = [it.cells for it in imports.preview(request.user, imp, 0, 3).items]
    except ValidationError:
        pass
    columns = [{"index": i, "header": h, "field": mapping.get(h) or "",
                "samples": [s.get(h, "") for s in sample]} for i, h in enumerate(imp.headers)]
    match_choices = [(k, FIELD_LABELS.get(k) or customs.get(k[7:], k)) for k in imports.match_keys(imp.target)]
    return render(request, "customers/import_mapping.html", {
        "imp": imp, "columns": columns, "choices": choices, "match_key": match_key, "match_choices": match_choices,
        "templates": imports.templates_for(request.user, imp.target), "errors": errors,
    }, status=400 if errors else 200)


@login_required
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    if request.method == "POST":
        try:
            imports.start_import(request.user, imp)
        except ValidationError as exc:
            flash_errors(request, exc)
            return redirect("customers:import_preview", imp.pk)
        return redirect("customers:import_detail", imp.pk)
    if imp.status != ImportStatus.UPLOADED:
        return redirect("customers:import_detail", imp.pk)
    try:
        page = int(request.GET.get("page", "0"))
    except ValueError:
        page = 0
    try:
        result = imports.preview(request.user, imp, max(0, min(page, 100_000)))
    except ValidationError as exc:
        return render(request, "customers/import_upload.html", {
            "target": imp.target, "targets": ImportTarget.choices, "errors": validation_messages(exc),
            "recent": imports.visible_imports(request.user)[:10], "limit": imports.max_bytes()}, status=400)
    return render(request, "customers/import_preview.html", {"imp": imp, "result": result,
                                                             "mapped": {h: f for h, f in imp.mapping.items() if f}})


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    running = imp.status in (ImportStatus.RUNNING, ImportStatus.UNDOING)
    return render(request, "customers/import_detail.html", {
        "imp": imp, "running": running, "job": imp.undo_job if imp.status in (
            ImportStatus.UNDOING, ImportStatus.UNDONE) and imp.undo_job else imp.job,
        "summary": imports.summary(imp)})


@login_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    try:
        imports.start_undo(request.user, imp)
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("customers:import_detail", imp.pk)


@login_required
def import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    response = StreamingHttpResponse(imports.rejected_csv(imp), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-rejected.csv"'
    return response

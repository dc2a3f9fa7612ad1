"""Imports through the API: the same steps as the import pages (upload → mapping → preview → start → undo,
rejected rows) over guanxi.customers.import_services, with the same access rules: a read-only user gets
403, another user's import is a 404 (administrators see every import). See docs/api.md."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError

from guanxi.core.api import CURSOR, LIMIT, WRITE, WRITE_ONE, Id, actor, page_out, utc
from guanxi.core.models import JobProgress, User
from guanxi.core.paging import paginate

from . import import_services as imports
from .fileio import FIELDS
from .import_models import Import, ImportTemplate

router = Router(tags=["imports"])

Target = Literal["contact", "account", "lead"]
_SORTS = ["-id", "id"]


def _editor(request: HttpRequest) -> User:
    """Imports change records: a read-only user may not see or start one (as in the UI)."""
    user = actor(request)
    if not user.can_edit:
        raise PermissionDenied(_("Your role may not change records."))
    return user


def _visible(request: HttpRequest, id: int) -> Import:
    return get_object_or_404(imports.visible_imports(_editor(request)), pk=id)


# ------------------------------------------------------------------ schemas


class JobRefOut(Schema):
    id: str
    status: str = Field(description="queued, running, done or failed")
    done: int
    total: int
    percent: int
    message: str


class ImportOut(Schema):
    id: int
    target: str
    file_name: str
    size: int
    format: str = Field(description="csv, xlsx or vcf, as detected from the content")
    encoding: str = Field(description="The detected text encoding (CSV and vCard), e.g. utf-8 or gb18030.")
    headers: list[str]
    mapping: dict[str, str | None] = Field(description="Column header → field (or null: not imported).")
    match_key: str = Field(description="Update the records with the same value of this field instead of "
                                       "creating them; empty: every valid row is a new record.")
    status: str = Field(description="uploaded, running, done, failed (stopped: start it again to resume), "
                                    "undoing or undone")
    rows: int
    created: int
    updated: int
    rejected: int
    flagged: int = Field(description="Possible duplicates, not imported (they are in rejected.csv with the reason).")
    job: JobRefOut | None = Field(description="The import's job, once started.")
    undo_job: JobRefOut | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    rejected_url: str


class ImportDetailOut(ImportOut):
    fields: list[str] = Field(description="The fields the columns can be mapped to (custom fields as custom.<key>).")
    match_keys: list[str] = Field(description="The fields records can be matched by.")


class ImportPage(Schema):
    items: list[ImportOut]
    next: str | None


class ImportQuery(Schema):
    target: Target | None = None
    limit: int = LIMIT
    cursor: str | None = CURSOR


class MappingIn(Schema):
    mapping: dict[str, str | None] | None = Field(
        None, description="Every column header → a field or null; headers left out are not imported. Absent: keep "
                          "the current mapping (the guess, or the template's).")
    template_id: Id | None = Field(None, description="Start from this saved template, fitted to this file's headers.")
    match_key: str | None = Field(None, max_length=60, description="Absent: keep the current one (a lead import "
                                                                  "starts with email, or phone, when mapped).")
    template_name: str = Field("", max_length=1000, description="Also save the mapping as a template of this name.")


class PreviewRowOut(Schema):
    line: int
    action: str = Field(description="new, update (of target_id), reject (see errors) or flag (possible duplicate, "
                                    "see reason)")
    target_id: int | None
    cells: dict[str, str]
    errors: dict[str, list[str]] = Field(description="Column header → messages; `__all__` for the row as a whole.")
    reason: str


class PreviewOut(Schema):
    page: int
    has_next: bool
    counts: dict[str, int] = Field(description="new, update, reject and flag on this page.")
    items: list[PreviewRowOut]


class PreviewQuery(Schema):
    page: int = Field(0, ge=0, le=100_000, description=f"Pages of {imports.PREVIEW_PAGE} rows, from 0.")


class StartedOut(Schema):
    import_id: int
    job: JobRefOut
    status_url: str = Field(description="Poll this (or /api/v1/jobs/{job id}) until the job is done or failed.")


class TemplateOut(Schema):
    id: int
    target: str
    name: str
    mapping: dict[str, str]


class TemplatePage(Schema):
    items: list[TemplateOut]
    next: str | None


# ------------------------------------------------------------------ serialising


def _job(job: JobProgress | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {"id": str(job.pk), "status": job.status, "done": job.done, "total": job.total, "percent": job.percent,
            "message": job.message}


def _item(imp: Import) -> dict[str, Any]:
    return {"id": imp.pk, "target": imp.target, "file_name": imp.file_name, "size": imp.size, "format": imp.format,
            "encoding": imp.encoding, "headers": imp.headers, "mapping": imp.mapping, "match_key": imp.match_key,
            "status": imp.status, "rows": imp.rows, "created": imp.created, "updated": imp.updated,
            "rejected": imp.rejected, "flagged": imp.flagged, "job": _job(imp.job), "undo_job": _job(imp.undo_job),
            "created_at": utc(imp.created_at), "finished_at": utc(imp.finished_at),
            "rejected_url": reverse("api:import_rejected", args=[imp.pk])}


def _detail(imp: Import) -> dict[str, Any]:
    customs = [f"custom.{key}" for key in imports.custom_labels(imp.target)]
    return {**_item(imp), "fields": [*FIELDS[imp.target], *customs], "match_keys": imports.match_keys(imp.target)}


def _started(imp: Import, job: JobProgress) -> Status:
    return Status(202, {"import_id": imp.pk, "job": _job(job), "status_url": reverse("api:get_import", args=[imp.pk])})


# ------------------------------------------------------------------ operations


@router.post("/imports", response={201: ImportDetailOut, **WRITE})
def create_import(request: HttpRequest, file: File[UploadedFile], target: Form[Target]):
    """Upload a CSV (UTF-8 or GBK/GB18030), XLSX or vCard file of contacts, accounts or leads as multipart/form-data.
    The answer holds the detected format and encoding, the headers and the guessed mapping. A file that cannot be
    read, an empty one or one over the size limit (GUANXI_IMPORT_MAX_BYTES) is a 400 naming `file`, and nothing
    is kept."""
    user = _editor(request)
    name = (file.name or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8") or "upload"
    imp = imports.upload(user, target, file, name)
    return Status(201, _detail(Import.objects.select_related("job", "undo_job").get(pk=imp.pk)))


@router.get("/imports", response={200: ImportPage, **WRITE})
def list_imports(request: HttpRequest, params: Query[ImportQuery]):
    """Your imports, newest first (an administrator's list holds everyone's)."""
    qs = imports.visible_imports(_editor(request))
    if params.target:
        qs = qs.filter(target=params.target)
    page = paginate(qs, sort="-id", allowed=_SORTS, cursor=params.cursor, limit=params.limit)
    return page_out([_item(imp) for imp in page.items], page.next_cursor)


@router.get("/imports/{id}", response={200: ImportDetailOut, **WRITE_ONE}, url_name="get_import")
def get_import(request: HttpRequest, id: Id):
    """Status, counts, the progress of its job (or of its undo), the mapping and the match key."""
    return _detail(_visible(request, id))


@router.put("/imports/{id}/mapping", response={200: ImportDetailOut, **WRITE_ONE})
def set_import_mapping(request: HttpRequest, id: Id, payload: MappingIn):
    """Set which column goes to which field and the match key, before the import starts. Mistakes are a 400
    naming `mapping`, `match_key`, `template_id` or `template_name`; nothing is changed then."""
    user = _editor(request)
    imp = _visible(request, id)
    mapping = dict(imp.mapping) if payload.mapping is None else payload.mapping
    if payload.template_id is not None:
        fitted = imports.apply_template(user, imp, payload.template_id)
        mapping = fitted if payload.mapping is None else {**fitted, **payload.mapping}
    unknown = [header for header in mapping if header not in imp.headers]
    if unknown:  # the service keeps the file's headers only; a misspelt header must not vanish silently
        raise ValidationError({"mapping": [_("Unknown column: %(columns)s.") % {"columns": ", ".join(unknown)}]})
    match_key = imp.match_key if payload.match_key is None else payload.match_key
    imp = imports.set_mapping(user, imp, mapping, match_key, payload.template_name)
    return _detail(imp)


@router.get("/imports/{id}/preview", response={200: PreviewOut, **WRITE_ONE})
def preview_import(request: HttpRequest, id: Id, params: Query[PreviewQuery]):
    """One page of rows as the import would treat them (nothing is written): new, update, reject with the
    messages per column, or flag as a possible duplicate."""
    user = _editor(request)
    imp = _visible(request, id)
    try:
        result = imports.preview(user, imp, params.page)
    except FileNotFoundError:
        raise HttpError(404, _("The uploaded file is no longer kept.")) from None
    items = [{"line": it.line, "action": it.action, "target_id": it.target_id, "cells": it.cells,
              "errors": {column or "__all__": list(messages) for column, messages in it.errors.items()},
              "reason": it.reason} for it in result.items]
    return {"page": result.page, "has_next": result.has_next, "counts": result.counts, "items": items}


@router.post("/imports/{id}/start", response={202: StartedOut, **WRITE_ONE})
def start_import(request: HttpRequest, id: Id):
    """Start the import as a background job (or resume a stopped one from its last committed chunk). Poll
    GET /imports/{id} or GET /jobs/{job id}; starting a running import again returns its job."""
    user = _editor(request)
    imp = _visible(request, id)
    return _started(imp, imports.start_import(user, imp))


@router.post("/imports/{id}/undo", response={202: StartedOut, **WRITE_ONE})
def undo_import(request: HttpRequest, id: Id):
    """Undo a finished (or stopped) import as a background job: the records it created are deleted, the ones it
    updated get their earlier values back."""
    user = _editor(request)
    imp = _visible(request, id)
    return _started(imp, imports.start_undo(user, imp))


@router.get("/imports/{id}/rejected.csv", response={**WRITE_ONE}, url_name="import_rejected",
            openapi_extra={"responses": {"200": {"description": "The rejected and flagged rows, streamed.",
                                                 "content": {"text/csv": {"schema": {"type": "string",
                                                                                     "format": "binary"}}}}}})
def import_rejected(request: HttpRequest, id: Id):
    """The rows that were not imported, as CSV (UTF-8 with BOM): the file's columns with the reason beside
    each bad cell, then an `errors` column; fix them and upload the file again."""
    imp = _visible(request, id)
    response = StreamingHttpResponse(imports.rejected_csv(imp), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-rejected.csv"'
    return response


@router.get("/import-templates", response={200: TemplatePage, **WRITE})
def list_import_templates(request: HttpRequest, params: Query[ImportQuery]):
    """Your saved mappings (PUT /imports/{id}/mapping with `template_name` saves one, `template_id` applies one)."""
    qs = ImportTemplate.objects.filter(user=_editor(request))
    if params.target:
        qs = qs.filter(target=params.target)
    page = paginate(qs, sort="id", allowed=["id"], cursor=params.cursor, limit=params.limit)
    return page_out([{"id": t.pk, "target": t.target, "name": t.name, "mapping": t.mapping} for t in page.items],
                    page.next_cursor)

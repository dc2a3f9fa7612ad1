"""Exports through the API: GET /api/v1/contacts/export and /api/v1/accounts/export with the list
filters and ?format=csv|xlsx|vcf, streamed; an XLSX too big to wait for answers 202 with a job to poll.

Registered in guanxi.api before the customers router, so /contacts/export is not read as /contacts/{id}."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from guanxi.core.api import ERRORS, READ_ONE, actor
from guanxi.core.models import JobProgress, JobStatus
from guanxi.core.ui import clean_params

from . import export

router = Router()

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_FILES = {"responses": {"200": {"description": "The export file, streamed.", "content": {
    "text/csv": _BINARY, "text/vcard": _BINARY, export.CONTENT_TYPES["xlsx"]: _BINARY}}}}
_DOC = ("Every record you may see that matches the list filters (the same parameters as the list endpoint: "
        "q, owner, tag, …, custom.<key>), as CSV (UTF-8 with BOM), XLSX or vCard 4.0, streamed in `sort` order. "
        f"An XLSX of more than {export.XLSX_SYNC_LIMIT:,} rows is written in the background: the answer is then "
        "202 with the job to poll and the file's address.")


class ExportJobOut(Schema):
    id: str
    status: str = Field(..., description="queued, running, done or failed")
    done: int
    total: int
    message: str
    status_url: str
    download_url: str | None = Field(None, description="Set once the file is ready.")


def _job_out(job: JobProgress) -> dict[str, Any]:
    pk = str(job.pk)
    done = job.status == JobStatus.DONE
    return {"id": pk, "status": job.status, "done": job.done, "total": job.total, "message": job.message,
            "status_url": reverse("api:export_status", args=[pk]),
            "download_url": reverse("api:export_file", args=[pk]) if done else None}


def _export(request: HttpRequest, kind: str, fmt: str, sort: str) -> Any:
    user = actor(request)
    params = clean_params(request.GET)
    fmt = export.check_format(fmt)  # a ValidationError is the API's 400 naming the field
    sort = export.check_sort(kind, sort)
    qs = export.export_queryset(kind, user, params)
    if export.needs_job(fmt, qs):
        return Status(202, _job_out(export.start_export_job(user, kind, params, sort)))
    response = StreamingHttpResponse(export.chunks(kind, fmt, export.records(kind, qs, user, sort)),
                                     content_type=export.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export.filename(kind, fmt)}"'
    return response


_FORMAT = Query("csv", description="csv, xlsx or vcf (anything else is a 400 naming `format`)")
_SORT = Query("id", description="Sort order of the rows; a leading - sorts descending.")


@router.get("/contacts/export", response={202: ExportJobOut, **ERRORS}, tags=["contacts"], description=_DOC,
            openapi_extra=_FILES)
def export_contacts(request: HttpRequest, format: str = _FORMAT, sort: str = _SORT):
    return _export(request, "contact", format, sort)


@router.get("/accounts/export", response={202: ExportJobOut, **ERRORS}, tags=["accounts"], description=_DOC,
            openapi_extra=_FILES)
def export_accounts(request: HttpRequest, format: str = _FORMAT, sort: str = _SORT):
    return _export(request, "account", format, sort)


def _own_job(request: HttpRequest, id: str) -> JobProgress:
    try:
        pk = uuid.UUID(id)
    except ValueError:
        raise Http404
    return get_object_or_404(JobProgress, pk=pk, user=actor(request), kind=export.EXPORT_JOB)


@router.get("/exports/{id}", response={200: ExportJobOut, **READ_ONE}, tags=["exports"], url_name="export_status")
def export_status(request: HttpRequest, id: str):
    """A background export you started: its progress and, once done, the file's address."""
    return _job_out(_own_job(request, id))


@router.get("/exports/{id}/file", response={**READ_ONE}, tags=["exports"], url_name="export_file",
            openapi_extra={"responses": {"200": {"description": "The workbook.",
                                                 "content": {export.CONTENT_TYPES["xlsx"]: _BINARY}}}})
def export_file(request: HttpRequest, id: str) -> HttpResponse:
    job = _own_job(request, id)
    name = export.job_file(str(job.pk))
    if job.status != JobStatus.DONE or not default_storage.exists(name):
        raise Http404
    return FileResponse(default_storage.open(name, "rb"), as_attachment=True, filename=f"export-{job.pk}.xlsx",
                        content_type=export.CONTENT_TYPES["xlsx"])

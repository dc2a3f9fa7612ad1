"""Export downloads of the list pages, and the page of a big export running as a background job."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from guanxi.core.models import JobProgress, JobStatus
from guanxi.core.ui import clean_params, is_htmx

from . import export, services


def bad_request(errors: dict[str, list[str]]) -> HttpResponse:
    lines = [f"{key}: {m}" for key, msgs in errors.items() for m in msgs]
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")


def export_response(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """The file streamed as it is written, or, for an XLSX too big to wait for, a job and its page."""
    params = clean_params(request.GET)
    try:
        fmt = export.check_format(fmt)
        sort = export.check_sort(kind, params.get("sort"))
        qs = export.export_queryset(kind, request.user, params)
        if export.needs_job(fmt, qs):
            job = export.start_export_job(request.user, kind, params, sort)
            return redirect("customers:export_job", pk=job.pk)
    except ValidationError as exc:
        return bad_request(services.validation_messages(exc))
    rows = export.records(kind, qs, request.user, sort)
    response = StreamingHttpResponse(export.chunks(kind, fmt, rows), content_type=export.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{export.filename(kind, fmt)}"'
    return response


def _own_job(request: HttpRequest, pk: str) -> JobProgress:
    return get_object_or_404(JobProgress, pk=pk, user=request.user, kind=export.EXPORT_JOB)


@login_required
@require_GET
def export_job(request: HttpRequest, pk: str) -> HttpResponse:
    """A running export's progress (htmx polls the bar; 286 stops it) and, when done, its download link."""
    job = _own_job(request, pk)
    finished = job.status in (JobStatus.DONE, JobStatus.FAILED)
    if is_htmx(request):
        response = render(request, "customers/_export_job.html", {"job": job})
        if finished:
            response.status_code = 286
        return response
    return render(request, "customers/export_job.html", {"job": job})


@login_required
@require_GET
def export_download(request: HttpRequest, pk: str) -> HttpResponse:
    job = _own_job(request, pk)
    name = export.job_file(str(job.pk))
    if job.status != JobStatus.DONE or not default_storage.exists(name):
        raise Http404
    filename = f"export-{job.created_at:%Y-%m-%d}-{str(job.pk)[:8]}.xlsx"
    return FileResponse(default_storage.open(name, "rb"), as_attachment=True, filename=filename,
                        content_type=export.CONTENT_TYPES["xlsx"])

"""Background jobs a user can watch: a JobProgress row, a task on Django's Tasks API, progress reports.

    job = start_job(user, "kind", _("What it does"), some_task, arg=1)  # after commit, enqueued
    # … in the task (decorated with @task() then @tracked): progress(job_id, done, total)

A task made with @tracked is marked running when it starts, done when it returns and failed (with
the error as message) when it raises. It must be safe to run twice: a task that is re-run after it
finished does nothing, and the work itself is written so that repeating it changes nothing more.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from guanxi.quality.normalize import search_text

from . import sweep
from .models import JobProgress, JobStatus, User

logger = logging.getLogger(__name__)

SEARCH_REBUILD = "search_rebuild"
BATCH = 2000
# A running job whose progress has not moved for this long lost its worker (killed, machine restarted).
STALE_AFTER = timedelta(hours=1)


def start_job(user: User | None, kind: str, label: str, task: Any, **kwargs: Any) -> JobProgress:
    """Record the job, then enqueue `task(job_id=…, **kwargs)` once the current transaction commits."""
    job = JobProgress.objects.create(kind=kind, label=str(label)[:200],
                                     user=user if getattr(user, "pk", None) else None)

    def enqueue() -> None:
        try:
            task.enqueue(job_id=str(job.pk), **kwargs)
        except Exception as exc:  # the queue is down: say so rather than leave the job "queued" for ever
            logger.exception("could not enqueue job %s", job.pk)
            _set(str(job.pk), status=JobStatus.FAILED, message=_("Could not start the job: %(error)s")
                 % {"error": exc})

    transaction.on_commit(enqueue)
    return job


def _set(job_id: str, **fields: Any) -> int:
    fields["updated_at"] = timezone.now()
    return JobProgress.objects.filter(pk=job_id).update(**fields)


def progress(job_id: str, done: int, total: int | None = None, message: str | None = None) -> None:
    """Report how far a running job has come; the UI polls JobProgress for it."""
    fields: dict[str, Any] = {"status": JobStatus.RUNNING, "done": max(0, int(done))}
    if total is not None:
        fields["total"] = max(0, int(total))
    if message is not None:
        fields["message"] = str(message)
    _set(job_id, **fields)


def tracked(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a task body taking `job_id`: running → done, or failed with the error; a finished job is not re-run."""

    @functools.wraps(fn)
    def run(job_id: str, **kwargs: Any) -> Any:
        job = JobProgress.objects.select_related("user").filter(pk=job_id).first()
        if job is None:
            logger.warning("job %s no longer exists; nothing to do", job_id)
            return None
        if job.status == JobStatus.DONE:
            return job.message
        _set(job_id, status=JobStatus.RUNNING, message="")
        language = (job.user.language if job.user else "") or translation.get_language()
        with translation.override(language):
            try:
                result = fn(job_id, **kwargs)
            except Exception as exc:
                logger.exception("job %s (%s) failed", job_id, job.kind)
                _set(job_id, status=JobStatus.FAILED, message=str(exc) or exc.__class__.__name__)
                raise
        total = JobProgress.objects.filter(pk=job_id).values_list("total", flat=True).first() or 0
        fields: dict[str, Any] = {"status": JobStatus.DONE}
        if total:
            fields["done"] = total
        if isinstance(result, str):
            fields["message"] = result
        _set(job_id, **fields)
        return result

    return run


# ------------------------------------------------------------------ the search index

def _searchables() -> list[tuple[Any, Callable[[Any], str], tuple[str, ...]]]:
    from guanxi.customers.models import Account, Contact, ContactMethodKind

    def account_text(account: Account) -> str:
        return search_text(names=[account.name], phones=[account.phone], emails=[account.email])

    def contact_text(contact: Contact) -> str:
        methods = list(contact.methods.all())
        return search_text(names=[contact.name],
                           phones=[m.normalized for m in methods if m.kind == ContactMethodKind.PHONE],
                           emails=[m.normalized for m in methods if m.kind == ContactMethodKind.EMAIL])

    return [(Account, account_text, ()), (Contact, contact_text, ("methods",))]


@task()
@tracked
def rebuild_search_index(job_id: str) -> str:
    """Recompute every account's and contact's search text in batches, then rebuild the SQLite index.

    Repeating it is harmless: a row whose text is already right is not written again."""
    from .search import rebuild_index

    models = _searchables()
    total = sum(model.objects.count() for model, _fn, _p in models)
    done = changed = 0
    progress(job_id, 0, total, _("Rebuilding the search index…"))
    for model, text_of, prefetch in models:
        table = model._meta.db_table
        last = 0
        while True:
            batch = list(model.objects.filter(pk__gt=last).order_by("pk").prefetch_related(*prefetch)[:BATCH])
            if not batch:
                break
            last = batch[-1].pk
            updates = [(text, obj.pk) for obj in batch if (text := text_of(obj)) != obj.search_text]
            if updates:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(f'UPDATE "{table}" SET "search_text" = %s WHERE "id" = %s', updates)
            done += len(batch)
            changed += len(updates)
            progress(job_id, done, max(total, done))
    for model, _fn, _p in models:
        rebuild_index(model)
    return _("Search index rebuilt: %(done)d records, %(changed)d updated.") % {"done": done, "changed": changed}


def start_search_rebuild(user: User) -> JobProgress:
    """Start rebuilding the search index, or return the rebuild already queued or running."""
    if not getattr(user, "is_administrator", False):
        raise PermissionDenied(_("Only an administrator may rebuild the search index."))
    with transaction.atomic():
        current = JobProgress.objects.filter(
            kind=SEARCH_REBUILD, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()
        if current is not None:
            return current
        return start_job(user, SEARCH_REBUILD, _("Rebuild the search index"), rebuild_search_index)


# ------------------------------------------------------------------ housekeeping on the minute sweep

@sweep.register("core.stale_jobs")
def fail_stale_jobs(now: datetime) -> int:
    """A job still "running" with no progress for an hour lost its worker: show it as failed."""
    return JobProgress.objects.filter(status=JobStatus.RUNNING, updated_at__lt=now - STALE_AFTER).update(
        status=JobStatus.FAILED, updated_at=now,
        message=_("The worker stopped while this job was running; start it again."))

"""The scoring job: `analytics.score_customers`, started from the grid page, the API or the nightly sweep,
with its progress on the Jobs page."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task

from guanxi.core.jobs import progress, start_job, tracked
from guanxi.core.models import JobProgress, JobStatus, User

from .score_models import ScoringStatus

KIND = "analytics.score_customers"


@task()
@tracked
def score_customers_task(job_id: str, as_of: str | None = None) -> str:
    """Fit the models and store every customer's scores; a failed fit fails the job with the reason."""
    from .score_services import STEPS, score_customers  # scipy and scikit-learn: in the worker only

    progress(job_id, 0, STEPS, _("Scoring customers…"))
    run = score_customers(dt.date.fromisoformat(as_of) if as_of else None,
                          report=lambda step, message: progress(job_id, step, STEPS, message))
    if run.status == ScoringStatus.FAILED:
        raise RuntimeError(run.message)
    return run.message


def may_start(user: User | None) -> bool:
    """Scoring covers every customer, so it is an administrator's button."""
    return bool(user and user.is_authenticated and user.is_active and user.is_administrator)


def start_scoring(user: User | None, as_of: dt.date | None = None) -> JobProgress:
    """Start scoring (an administrator, or the sweep with no user); the run already queued or
    running is returned instead of a second one."""
    if user is not None and not may_start(user):
        raise PermissionDenied(_("Only an administrator may start scoring."))
    with transaction.atomic():
        current = JobProgress.objects.filter(kind=KIND, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).first()
        if current is not None:
            return current
        return start_job(user, KIND, _("Score customers (RFM, lifetime value, churn risk)"), score_customers_task,
                         as_of=as_of.isoformat() if as_of else None)

"""The scoring job: started by an administrator (never twice at once), its progress and outcome on the Jobs
page, a failed fit failing the job with the reason, and the nightly start from the minute sweep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied

from guanxi.analytics import jobs as analytics_jobs
from guanxi.analytics.models import CustomerScore
from guanxi.analytics.score_jobs import KIND, start_scoring
from guanxi.core.models import JobProgress, JobStatus
from guanxi.sales.quote_models import Order

from .app_history import make_history

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]  # messages read in English
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE


def test_an_administrator_starts_scoring_and_the_jobs_page_shows_it(immediate, users, client,
                                                                    django_capture_on_commit_callbacks):
    history = make_history([users["rep_a"]], n_accounts=120, seed=5)
    with pytest.raises(PermissionDenied):
        start_scoring(users["manager_a"])
    with django_capture_on_commit_callbacks(execute=True):
        job = start_scoring(users["admin"], history["as_of"])
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert job.kind == KIND and "120" in job.message and job.percent == 100
    assert CustomerScore.objects.count() == 120
    client.force_login(users["admin"])
    page = client.get("/jobs/").content.decode()
    assert job.label in page


def test_a_failed_fit_fails_the_job_with_the_reason(immediate, users, django_capture_on_commit_callbacks):
    history = make_history([users["rep_a"]], n_accounts=120, seed=5)
    for i, account in enumerate(history["accounts"]):
        Order.objects.filter(account=account).update(gross_total=Decimal(10 ** (i % 7)))
    with django_capture_on_commit_callbacks(execute=True):
        job = start_scoring(users["admin"], history["as_of"])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "did not converge" in job.message


def test_a_running_scoring_is_not_started_twice(users):
    first = start_scoring(users["admin"])
    assert start_scoring(users["admin"]).pk == first.pk
    assert JobProgress.objects.filter(kind=KIND).count() == 1


def test_the_sweep_starts_scoring_once_at_the_configured_hour(settings, users):
    settings.ANALYTICS_SCORE_HOUR = 2
    shanghai = ZoneInfo(settings.TIME_ZONE)
    at_one = dt.datetime(2026, 3, 1, 1, 30, tzinfo=shanghai)
    assert analytics_jobs.nightly_scoring(at_one) == 0
    at_two = dt.datetime(2026, 3, 1, 2, 0, tzinfo=shanghai)
    JobProgress.objects.all().delete()
    assert analytics_jobs.nightly_scoring(at_two) == 1
    assert analytics_jobs.nightly_scoring(at_two + dt.timedelta(minutes=1)) == 0  # already started today
    assert JobProgress.objects.filter(kind=KIND, user=None).count() == 1
    settings.ANALYTICS_SCORE_HOUR = -1
    assert analytics_jobs.nightly_scoring(at_two) == 0

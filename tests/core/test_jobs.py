import signal
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from guanxi.core import jobs, sweep
from guanxi.core.models import JobProgress, JobStatus, SweepRun
from guanxi.core.search import matching
from guanxi.customers import services
from guanxi.customers.models import Account, Contact

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@task()
@jobs.tracked
def count_to(job_id: str, n: int) -> str:
    for i in range(1, n + 1):
        jobs.progress(job_id, i, n)
    return f"counted to {n}"


@task()
@jobs.tracked
def explode(job_id: str) -> None:
    jobs.progress(job_id, 1, 4)
    raise ValueError("the disk is full")


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE


@pytest.fixture
def customers(users):
    rep = users["rep_a"]
    account = services.create_account(rep, {"name": "杭州云帆网络科技有限公司", "phone": "0571-88886666"})
    contact = services.create_contact(rep, {"name": "曾小贤", "account_ids": [account.pk],
                                            "phones": ["13912345678"], "emails": ["xiaoxian@yunfan.cn"]})
    # as after a bulk import that bypassed the services: no search text at all
    Account.objects.update(search_text="")
    Contact.objects.update(search_text="")
    return account, contact


def test_job_reports_progress_and_finishes(immediate, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job(users["rep_a"], "count", "Count", count_to, n=3)
        assert job.status == JobStatus.QUEUED  # enqueued only once the transaction commits
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.percent, job.message) == (JobStatus.DONE, 3, 3, 100, "counted to 3")
    assert job.user == users["rep_a"]


def test_failing_job_is_marked_failed_with_the_reason(immediate, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job(users["admin"], "explode", "Explode", explode)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "the disk is full" in job.message
    assert job.done == 1 and job.percent == 25


def test_a_finished_job_is_not_run_again(users):
    job = JobProgress.objects.create(kind="count", status=JobStatus.DONE, done=5, total=5, message="old")
    assert count_to.call(job_id=str(job.pk), n=2) == "old"
    job.refresh_from_db()
    assert (job.done, job.message) == (5, "old")
    assert count_to.call(job_id="00000000-0000-0000-0000-000000000000", n=2) is None  # deleted job: nothing


def test_search_rebuild(immediate, users, customers, django_capture_on_commit_callbacks):
    account, contact = customers
    assert not matching(Contact.objects.all(), "zengxiaoxian").exists()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_search_rebuild(users["admin"])
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert (job.done, job.total, job.kind) == (2, 2, jobs.SEARCH_REBUILD)
    assert "2" in job.message
    for query in ("zengxiaoxian", "zxx", "13912345678", "xiaoxian@yunfan.cn"):
        assert list(matching(Contact.objects.all(), query)) == [contact], query
    assert list(matching(Account.objects.all(), "yunfan")) == [account]
    # again: nothing left to change
    with django_capture_on_commit_callbacks(execute=True):
        again = jobs.start_search_rebuild(users["admin"])
    again.refresh_from_db()
    assert again.pk != job.pk and again.status == JobStatus.DONE and "0" in again.message


def test_search_rebuild_is_for_administrators_and_not_started_twice(users, settings):
    settings.TASKS = DATABASE
    with pytest.raises(PermissionDenied):
        jobs.start_search_rebuild(users["rep_a"])
    first = jobs.start_search_rebuild(users["admin"])
    assert jobs.start_search_rebuild(users["admin"]) == first
    assert JobProgress.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_database_worker_runs_the_job_end_to_end(settings):
    """Enqueued on the real database backend, run by django_tasks_db's worker command."""
    settings.TASKS = DATABASE
    from django_tasks_db.models import DBTaskResult

    from guanxi.core.models import Role, User

    admin = User.objects.create(username="boss", role=Role.ADMIN, is_superuser=True)
    Contact.objects.create(name="王小明", search_text="")
    job = jobs.start_search_rebuild(admin)  # autocommit: enqueued at once
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (JobStatus.DONE, 1, 1)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert matching(Contact.objects.all(), "wangxiaoming").exists()


def test_stale_running_jobs_are_failed_by_the_sweep(db):
    now = timezone.now()
    stale = JobProgress.objects.create(kind="x", status=JobStatus.RUNNING)
    fresh = JobProgress.objects.create(kind="x", status=JobStatus.RUNNING)
    JobProgress.objects.filter(pk=stale.pk).update(updated_at=now - jobs.STALE_AFTER - timedelta(minutes=1))
    assert jobs.fail_stale_jobs(now) == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == JobStatus.FAILED and stale.message
    assert fresh.status == JobStatus.RUNNING


# ------------------------------------------------------------------ the minute sweep

@pytest.fixture
def probes():
    calls: list[str] = []

    def good(now):
        calls.append("good")
        return 7

    def bad(now):
        calls.append("bad")
        raise RuntimeError("SLA table locked")

    def later(now):
        calls.append("later")

    names = {"test.a_bad": bad, "test.b_good": good, "test.c_later": later}
    for name, fn in names.items():
        sweep.register(name)(fn)
    yield calls
    for name in names:
        sweep.unregister(name)


def test_each_minute_is_swept_once(db, probes):
    at = timezone.now().replace(second=10)
    first = sweep.run_sweep(at)
    assert first is not None and first.finished_at is not None
    assert sweep.run_sweep(at.replace(second=50)) is None  # same minute, another worker: nothing
    assert probes.count("good") == 1
    assert sweep.run_sweep(at + timedelta(minutes=1)) is not None
    assert probes.count("good") == 2
    assert SweepRun.objects.count() == 2


def test_a_failing_handler_does_not_stop_the_others(db, probes):
    run = sweep.run_sweep(timezone.now())
    assert set(probes) == {"bad", "good", "later"}
    run.refresh_from_db()
    assert run.handled["test.a_bad"]["ok"] is False and "SLA table locked" in run.handled["test.a_bad"]["error"]
    assert run.handled["test.b_good"] == {"ok": True, "result": 7}
    assert run.handled["core.stale_jobs"]["ok"] is True  # apps' handlers are discovered too


@pytest.mark.django_db(transaction=True)
def test_scheduler_sweeps_until_stopped():
    import threading

    stop = threading.Event()
    sweep.register("test.stopper")(lambda now: stop.set())
    try:
        sweep.run_forever(stop)  # sweeps the current minute, then sees the stop
    finally:
        sweep.unregister("test.stopper")
    assert SweepRun.objects.get().handled["test.stopper"]["ok"] is True


def test_old_sweeps_are_pruned(db):
    now = timezone.now().replace(second=0, microsecond=0)
    SweepRun.objects.create(minute=now - timedelta(days=8))
    SweepRun.objects.create(minute=now - timedelta(days=1))
    assert sweep.prune(now) == 1
    assert SweepRun.objects.count() == 1

"""With GUANXI_REDIS_URL set, jobs go through Redis (RQ) and `guanxi worker`'s rqworker runs them.

Talks to the local Redis server (.ci/run makes sure it answers), in its own database number.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("GUANXI_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")

ENQUEUE = """
import django; django.setup()
from django.db import transaction
from guanxi.core.bootstrap import ensure_admin
from guanxi.core.jobs import start_search_rebuild
from guanxi.core.models import User
from guanxi.customers.services import create_account
from django.conf import settings
assert settings.TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
ensure_admin("admin", "pw-123456789")
admin = User.objects.get(username="admin")
create_account(admin, {"name": "上海浦江物流有限公司"})
with transaction.atomic():
    job = start_search_rebuild(admin)
print(job.pk)
"""

CHECK = """
import sys, django; django.setup()
from guanxi.core.models import JobProgress
job = JobProgress.objects.get(pk=sys.argv[1])
print(job.status, job.done, job.total)
"""


@pytest.fixture
def redis_env(tmp_path: Path) -> dict[str, str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # the CI script starts Redis; a missing server is a failure, not a skip
    client.flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env.update({"GUANXI_HOME": str(tmp_path), "GUANXI_REDIS_URL": REDIS_URL,
                "DJANGO_SETTINGS_MODULE": "guanxi.settings"})
    yield env
    client.flushdb()


def run(env: dict, *argv: str) -> str:
    result = subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_a_job_runs_through_redis(redis_env, sqlite_home):
    guanxi = [str(Path(sys.executable).parent / "guanxi")]
    sqlite_home(Path(redis_env["GUANXI_HOME"]))  # migrated
    job_id = run(redis_env, "-c", ENQUEUE).splitlines()[-1]
    assert run(redis_env, "-c", CHECK, job_id).split()[0] == "queued"
    subprocess.run([*guanxi, "manage", "rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default"],
                   env=redis_env, check=True, timeout=120, capture_output=True)
    status, done, total = run(redis_env, "-c", CHECK, job_id).split()
    assert (status, done, total) == ("done", "1", "1")

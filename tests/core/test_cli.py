"""The runtime commands: `guanxi demo`, and `guanxi serve` / `guanxi worker` as real processes."""

import http.client
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guanxi.cli import main
from guanxi.customers.models import Contact

GUANXI = [sys.executable, "-m", "guanxi.cli"]


def test_demo_command_prints_the_login_once_and_reuses_data(db, settings, tmp_path, capsys):
    settings.HOME = tmp_path
    assert main(["demo", "--size", "30", "--no-serve"]) == 0
    out = capsys.readouterr().out
    password = (tmp_path / "admin-password.txt").read_text().strip()
    assert stat.S_IMODE((tmp_path / "admin-password.txt").stat().st_mode) == 0o600
    assert f"admin / {password}" in out and "http://127.0.0.1:8000" in out
    assert "rep1" in out and "guanxi-demo" in out
    assert Contact.objects.count() == 30

    assert main(["demo", "--size", "30", "--no-serve", "--port", "9000"]) == 0
    out = capsys.readouterr().out
    assert "already has 30 contacts" in out and "exists, unchanged" in out and password in out
    assert "http://127.0.0.1:9000" in out
    assert Contact.objects.count() == 30


# ------------------------------------------------------------------ real processes on a temporary SQLite home

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def home(tmp_path_factory, sqlite_home):
    """A data directory with a migrated SQLite database, the admin and a little demo data."""
    path = sqlite_home(tmp_path_factory.mktemp("guanxi-home"))
    env = {k: v for k, v in os.environ.items() if k != "GUANXI_DATABASE_URL"}  # always SQLite here
    env.update(GUANXI_HOME=str(path), GUANXI_REDIS_URL="")
    subprocess.run([*GUANXI, "demo", "--size", "20", "--no-serve"], env=env, check=True, capture_output=True,
                   timeout=120)
    return path, env


def _enqueue_rebuild(env: dict) -> str:
    code = ("from guanxi.core.jobs import start_search_rebuild; from guanxi.core.models import User; "
            "print(start_search_rebuild(User.objects.get(username='admin')).pk.hex)")
    done = subprocess.run([*GUANXI, "manage", "shell", "-c", code], env=env, check=True, capture_output=True,
                          text=True, timeout=60)
    return done.stdout.strip().splitlines()[-1]


def _query(path: Path, sql: str, *params) -> list:
    with sqlite3.connect(path / "guanxi.sqlite3", timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


# Generous bounds: on a loaded 2-core machine the server takes a while to start; these are waits, not timings.
def _wait_for(check, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (OSError, sqlite3.OperationalError, http.client.HTTPException):
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/status").exists() and "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_serve_answers_serves_static_runs_jobs_and_the_sweep_and_stops_cleanly(home):
    path, env = home
    job_id = _enqueue_rebuild(env)
    port = _free_port()
    server = subprocess.Popen([*GUANXI, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        status, location = _wait_for(lambda: _get(port, "/"))
        assert status == 302 and "/login/" in location
        assert _get(port, "/accounts/login/")[0] == 200
        assert _get(port, "/static/admin/css/base.css")[0] == 200
        # the embedded worker ran the queued job; the embedded scheduler swept this minute
        assert _wait_for(lambda: _query(path, "SELECT status FROM core_jobprogress WHERE replace(id, '-', '') = ?",
                                        job_id) == [("done",)])
        assert _wait_for(lambda: _query(path, "SELECT count(*) FROM core_sweeprun WHERE finished_at IS NOT NULL")
                         [0][0] >= 1)
        children = _children(server.pid)
        assert len(children) >= 2  # granian and the database worker
    finally:
        code = _stop(server)
    output = server.stdout.read()
    assert code == 0, output
    assert "Guanxi is serving at" in output and "Traceback" not in output
    assert all(_gone(pid) for pid in children)


def test_worker_runs_jobs_and_stops_cleanly(home):
    path, env = home
    job_id = _enqueue_rebuild(env)
    worker = subprocess.Popen([*GUANXI, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        assert _wait_for(lambda: _query(path, "SELECT status FROM core_jobprogress WHERE replace(id, '-', '') = ?",
                                        job_id) == [("done",)])
    finally:
        code = _stop(worker)
    output = worker.stdout.read()
    assert code == 0, output
    assert "Traceback" not in output


def test_serve_refuses_a_port_in_use(home):
    _path, env = home
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([*GUANXI, "serve", "--port", str(port)], env=env, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 2 and "in use" in done.stderr

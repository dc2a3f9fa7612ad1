"""Long-running and data subcommands of `guanxi`: demo, serve, worker.

`serve` runs granian (ASGI) and, without Redis, the database task worker, the minute sweep and the IMAP IDLE
watchers (push for mailboxes that use it, as `guanxi mail-idle` does);
`worker` runs only the task workers and the sweep. Children are supervised: a worker that dies is
restarted, the web server dying stops everything, and Ctrl-C or SIGTERM stops all children cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
STOP_TIMEOUT = 15.0  # seconds a child gets to finish after SIGTERM before it is killed


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Registered by guanxi.cli; each command's function imports Django only when run."""
    p = sub.add_parser("demo", help="migrate, create the admin and bilingual demo data, then serve")
    p.add_argument("--size", type=int, default=2000, help="number of demo contacts (accounts: a fifth); default 2000")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same data; default 1")
    p.add_argument("--no-serve", action="store_true", help="load the data and exit")
    _server_arguments(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="the web server, plus the embedded worker when no Redis is configured")
    _server_arguments(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="background task workers and the minute sweep only")
    p.add_argument("--processes", type=int, default=1, help="worker processes; default 1")
    p.add_argument("--no-sweep", action="store_true", help="do not run the once-a-minute sweep here")
    p.set_defaults(func=cmd_worker)


def _server_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on; default {DEFAULT_HOST}")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port; default {DEFAULT_PORT}")
    p.add_argument("--workers", type=int, default=1, help="web server processes; default 1")
    p.add_argument("--no-mail-idle", action="store_true",
                   help="do not hold IMAP IDLE connections here (mail is still read every minute)")


# ------------------------------------------------------------------ demo

def _admin_login() -> tuple[str, str, str]:
    """(username, password or "", note) of the administrator, creating it on the first run."""
    from django.conf import settings

    from guanxi.core.bootstrap import ensure_admin

    stored = settings.HOME / "admin-password.txt"
    username, password, created = ensure_admin("admin")
    if created:
        fd = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        return username, password, f"new; also saved in {stored} (readable only by you)"
    if stored.exists():
        return username, stored.read_text().strip(), f"exists, unchanged; as saved in {stored} at creation"
    return username, "", "exists; password unchanged (set it with `guanxi manage changepassword admin`)"


def cmd_demo(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    from guanxi.core import demo

    print(f"Guanxi demo · data in {settings.HOME}")
    print("Migrating the database …", flush=True)
    call_command("migrate", "--no-input", verbosity=0)
    username, password, note = _admin_login()
    started = time.monotonic()
    step = max(1, args.size // 10)
    marks = {"next": step}

    def report(done: int, total: int) -> None:
        if done >= marks["next"] or done == total:
            marks["next"] = done + step
            print(f"  {done:>10,} / {total:,} contacts  ({time.monotonic() - started:.0f} s)", flush=True)

    from guanxi.core.models import User
    from guanxi.customers.models import Contact

    if args.size > 0 and not Contact.objects.exists():
        print(f"Creating demo data: {args.size:,} contacts, {max(1, args.size // 5):,} accounts (seed {args.seed}) …",
              flush=True)
    result = demo.load(args.size, args.seed, report=report)
    if result.created:
        print(f"Loaded {result.contacts:,} contacts and {result.accounts:,} accounts in {result.seconds:.1f} s.")
    else:
        print(f"The database already has {result.contacts:,} contacts and {result.accounts:,} accounts; "
              "no demo customers added.")
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    print()
    print(f"  Open        {url}")
    print(f"  Admin       {username} / {password or '(unchanged)'}   [{note}]")
    present = set(User.objects.filter(username__in=[u[0] for u in demo.USERS]).values_list("username", flat=True))
    if present:
        print(f"  Demo users  password '{demo.DEMO_PASSWORD}' (unless changed since) for each of:")
    for name, full_name, role, team in demo.USERS:
        if name in present:
            print(f"              {name:<10} {full_name}  {role.label}, {team}")
    from guanxi.portal.demo import DEMO_PORTAL_EMAIL
    from guanxi.portal.models import PortalUser

    if PortalUser.objects.filter(email=DEMO_PORTAL_EMAIL).exists():
        print(f"  Portal      {url}/portal/  {DEMO_PORTAL_EMAIL} / {demo.DEMO_PASSWORD}  (a customer's log-in)")
    print()
    if args.no_serve:
        return 0
    return cmd_serve(args)


# ------------------------------------------------------------------ supervision

@dataclass
class Child:
    name: str
    argv: list[str]
    essential: bool  # the web server: if it exits, everything stops
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)


def _load_prctl():
    """Linux's prctl, looked up once here: the child must not import anything between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """The child gets SIGTERM if the supervisor is killed outright, instead of living on."""
    _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Supervisor:
    """Starts children in their own process group (Ctrl-C reaches only us) and stops them on exit."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.env = _child_env()

    def add(self, name: str, argv: list[str], essential: bool = False) -> None:
        child = Child(name, argv, essential)
        self.children.append(child)
        self._start(child)

    def _start(self, child: Child) -> None:
        extra = {"process_group": 0} if os.name == "posix" else {}
        if _PRCTL is not None:
            extra["preexec_fn"] = _die_with_parent
        child.process = subprocess.Popen(child.argv, env=self.env, **extra)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Until a signal or the web server exits; returns the exit code."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        code = 0
        try:
            while not self.stopping.wait(0.5):
                for child in self.children:
                    status = child.process.poll() if child.process else None
                    if status is None:
                        continue
                    if child.essential:
                        print(f"{child.name} exited ({status}); stopping.", file=sys.stderr, flush=True)
                        return status or 1
                    code = self._restart(child, status)
                    if code:
                        return code
            return 0
        finally:
            self.stop()

    def _restart(self, child: Child, status: int) -> int:
        now = time.monotonic()
        child.restarts = [t for t in child.restarts if now - t < 60] + [now]
        if len(child.restarts) > 5:
            print(f"{child.name} keeps failing (exit {status}); stopping.", file=sys.stderr, flush=True)
            return status or 1
        print(f"{child.name} exited ({status}); restarting.", file=sys.stderr, flush=True)
        time.sleep(min(5, len(child.restarts)))
        self._start(child)
        return 0

    def stop(self) -> None:
        self.stopping.set()
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _child_env() -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env["GUANXI_HOME"] = str(settings.HOME)  # absolute, whatever the children's working directory
    env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _manage(*argv: str) -> list[str]:
    return [sys.executable, "-m", "guanxi.cli", "manage", *argv]


def _add_workers(supervisor: Supervisor, processes: int) -> None:
    from django.conf import settings

    for n in range(max(1, processes)):
        if settings.REDIS_URL:
            argv = _manage("rqworker", "--job-class", "django_tasks_rq.Job", "default")
        else:
            argv = _manage("db_worker", "--no-reload", "--no-startup-delay", "--interval", "1")
        supervisor.add(f"worker {n + 1}", argv)


def _start_mail_idle(supervisor: Supervisor) -> threading.Thread:
    """The IMAP IDLE watchers in a thread of this process; they end when the supervisor stops."""
    from guanxi.contact_center.email_idle import Watchers

    thread = Watchers(supervisor.stopping)
    thread.start()
    return thread


def _start_sweeper(supervisor: Supervisor) -> threading.Thread:
    from guanxi.core import sweep

    thread = threading.Thread(target=sweep.run_forever, args=(supervisor.stopping,), name="sweep", daemon=True)
    thread.start()
    return thread


def _pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# ------------------------------------------------------------------ serve and worker

def _granian_argv(args: argparse.Namespace) -> list[str]:
    """granian over Django's ASGI app (Django has no lifespan protocol: "asginl"); static files, collected
    at start, are served by granian itself, without a trip through Python."""
    from django.conf import settings
    from django.core.management import call_command

    argv = [sys.executable, "-m", "granian", "--interface", "asginl", "--host", args.host, "--port", str(args.port),
            "--workers", str(max(1, args.workers)), "--log-level", "warning"]
    static_url = settings.STATIC_URL or ""
    if static_url.startswith("/"):
        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        call_command("collectstatic", "--no-input", verbosity=0)
        argv += ["--static-path-route", static_url.rstrip("/"), "--static-path-mount", str(settings.STATIC_ROOT),
                 "--static-path-expires", "3600"]
    return [*argv, "guanxi.asgi:application"]


def cmd_serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.db import connections

    if _pending_migrations():
        print("The database schema is out of date: run `guanxi migrate` first.", file=sys.stderr)
        return 2
    if not _port_free(args.host, args.port):
        print(f"Port {args.port} on {args.host} is in use; choose another with --port.", file=sys.stderr)
        return 2
    connections.close_all()  # the children open their own
    supervisor = Supervisor()
    supervisor.add("web server", _granian_argv(args), essential=True)
    embedded = not settings.REDIS_URL
    mail_idle = None
    if embedded:
        _add_workers(supervisor, 1)
        _start_sweeper(supervisor)
        if not args.no_mail_idle:
            mail_idle = _start_mail_idle(supervisor)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    extra = (" with the background worker" + (" and IMAP push (IDLE)" if mail_idle else "") if embedded
             else " (run `guanxi worker` for background jobs and `guanxi mail-idle` on one machine for IMAP push)")
    print(f"Guanxi is serving at {url}{extra}. Press Ctrl-C to stop.", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("Other machines reach it by the names listed in GUANXI_ALLOWED_HOSTS (now: "
              f"{', '.join(settings.ALLOWED_HOSTS)}).", flush=True)
    code = supervisor.run()
    if mail_idle is not None:
        mail_idle.join(STOP_TIMEOUT)  # each watcher logs out and marks its mailbox not watched
    print("Guanxi stopped.", flush=True)
    return code


def cmd_worker(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    supervisor = Supervisor()
    _add_workers(supervisor, args.processes)
    if not args.no_sweep:
        _start_sweeper(supervisor)
    kind = "Redis (RQ)" if settings.REDIS_URL else "database"
    print(f"Guanxi worker: {max(1, args.processes)} {kind} worker process(es)"
          f"{'' if args.no_sweep else ' and the minute sweep'}. Press Ctrl-C to stop.", flush=True)
    return supervisor.run()

"""The start-up the socket benchmarks share (bench.chat, bench.cti): a temporary GUANXI_HOME (or a PostgreSQL
database from the environment), the schema and data prepared by a child process, then one granian process as
`guanxi serve` runs it (ASGI, one worker) while the load runs against it; stopped afterwards whatever happens.
Also the port and wait helpers of the other scripts that start a server (bench.run, docs/screenshots/take.py)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 30) -> None:
    """Until `url` answers (any HTTP status): a server started in another process is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


async def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def run_against_server(db_url_variable: str, prepare: Callable[[dict[str, str]], tuple[str, str]],
                       load: Callable[[int, str, str], Awaitable[dict[str, Any]]],
                       extra_env: dict[str, str] | None = None) -> None:
    """Prepare (returns the two strings `load` needs after the port), serve, load; prints the result as JSON
    with the database and the load average."""
    db_url = os.environ.get(db_url_variable)
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
        env.update({"GUANXI_HOME": home, "GUANXI_SECRET_KEY": "bench-only-secret", "PYTHONPATH": str(ROOT / "src"),
                    "DJANGO_SETTINGS_MODULE": "guanxi.settings", **(extra_env or {})})
        if db_url:
            env["GUANXI_DATABASE_URL"] = db_url
        first, second = prepare(env)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "asginl", "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", "1", "--log-level", "warning",
                                   "guanxi.asgi:application"], env=env, cwd=ROOT)
        try:
            asyncio.run(wait_port(port))
            result = asyncio.run(load(port, first, second))
        finally:
            server.terminate()
            server.wait(timeout=20)
    result["database"] = "postgresql" if db_url else "sqlite"
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, ensure_ascii=False))

"""Web chat under load: one granian process (as `guanxi serve` runs it, ASGI, one worker) holds BENCH_VISITORS
(default 1,000) visitor WebSockets at once plus one agent console; visitors send BENCH_MESSAGES messages at
BENCH_RATE per second, and we time each from the visitor's send to its arrival on the agent's socket
(stored in the database, then broadcast through the channel layer). Target: p99 under 100 ms.

    flock /tmp/guanxi-bench.lock .venv/bin/python -m bench.chat

Uses the `websockets` client library (a dev dependency). SQLite in a temporary GUANXI_HOME, or the database of
BENCH_CHAT_DB_URL (PostgreSQL). Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
VISITORS = int(os.environ.get("BENCH_VISITORS", "1000"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000"))
RATE = float(os.environ.get("BENCH_RATE", "50"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Schema, an online service agent and a website; returns (site key, agent's session cookie)."""
    code = r"""
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.sessions.backends.db import SessionStore
from guanxi.contact_center.chat_models import ChatSite
from guanxi.core.models import Role, User
from guanxi.service.models import AgentProfile
agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": Role.SERVICE_AGENT})
AgentProfile.objects.update_or_create(user=agent, defaults={"availability": "online"})
site = ChatSite.objects.create(name="bench")
s = SessionStore()
s["_auth_user_id"] = str(agent.pk)
s["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
s["_auth_user_hash"] = agent.get_session_auth_hash()
s.create()
print(json.dumps([site.public_key, s.session_key]))
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


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


async def drain(ws) -> None:
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass


async def load(port: int, site_key: str, session: str) -> dict:
    base = f"ws://127.0.0.1:{port}"
    agent = await websockets.connect(f"{base}/ws/cc/agent/", origin="http://127.0.0.1",
                                     additional_headers={"Cookie": f"sessionid={session}"}, max_queue=None)
    t0 = time.perf_counter()
    visitors = []
    for batch in range(0, VISITORS, 100):  # open in batches of 100 at once
        opened = await asyncio.gather(*(websockets.connect(f"{base}/ws/cc/visitor/{site_key}/?visitor=")
                                        for _ in range(min(100, VISITORS - batch))))
        for ws in opened:
            json.loads(await ws.recv())  # the state
        visitors += opened
    connect_seconds = time.perf_counter() - t0
    readers = [asyncio.create_task(drain(ws)) for ws in visitors]
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def receive() -> None:
        async for raw in agent:
            event = json.loads(raw)
            started = sent.pop(event.get("body", ""), None)
            if started is not None:
                latencies.append((time.perf_counter() - started) * 1000)
                if len(latencies) == MESSAGES:
                    done.set()

    receiver = asyncio.create_task(receive())
    rng = random.Random(7)
    t1 = time.perf_counter()
    for i in range(MESSAGES):
        body = f"bench message {i} 你好"
        sent[body] = time.perf_counter()
        await rng.choice(visitors).send(json.dumps({"type": "message", "body": body}))
        await asyncio.sleep(max(0.0, t1 + (i + 1) / RATE - time.perf_counter()))
    try:
        await asyncio.wait_for(done.wait(), 30)
    except TimeoutError:
        pass
    still_open = sum(1 for ws in visitors if ws.state == websockets.protocol.State.OPEN)
    receiver.cancel()
    for ws in visitors:
        await ws.close()
    await agent.close()
    for task in readers:
        task.cancel()
    return {"visitors": VISITORS, "still_open_at_end": still_open, "connect_seconds": round(connect_seconds, 2),
            "messages": MESSAGES, "rate_per_second": RATE, "delivered": len(latencies),
            "latency_ms": {"p50": round(pct(latencies, 50), 1), "p95": round(pct(latencies, 95), 1),
                           "p99": round(pct(latencies, 99), 1), "max": round(max(latencies, default=0), 1)}}


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
        env.update({"GUANXI_HOME": home, "GUANXI_SECRET_KEY": "bench-only-secret", "PYTHONPATH": str(ROOT / "src"),
                    "DJANGO_SETTINGS_MODULE": "guanxi.settings", "GUANXI_CC_MESSAGES_PER_MINUTE": "100000",
                    "GUANXI_CC_VISITOR_SOCKETS_PER_MINUTE": "100000"})
        if os.environ.get("BENCH_CHAT_DB_URL"):
            env["GUANXI_DATABASE_URL"] = os.environ["BENCH_CHAT_DB_URL"]
        site_key, session = prepare(env)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "asginl", "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", "1", "--log-level", "warning",
                                   "guanxi.asgi:application"], env=env, cwd=ROOT)
        try:
            asyncio.run(wait_port(port))
            result = asyncio.run(load(port, site_key, session))
        finally:
            server.terminate()
            server.wait(timeout=20)
    result["database"] = "postgresql" if os.environ.get("BENCH_CHAT_DB_URL") else "sqlite"
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()

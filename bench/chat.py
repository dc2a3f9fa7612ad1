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
import subprocess
import sys
import time

import websockets

from bench.asgi_server import ROOT, pct, run_against_server

VISITORS = int(os.environ.get("BENCH_VISITORS", "1000"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000"))
RATE = float(os.environ.get("BENCH_RATE", "50"))



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
    run_against_server("BENCH_CHAT_DB_URL", prepare, load, {"GUANXI_CC_MESSAGES_PER_MINUTE": "100000",
                                                           "GUANXI_CC_VISITOR_SOCKETS_PER_MINUTE": "100000"})


if __name__ == "__main__":
    main()

"""Screen pop latency: one granian process (as `guanxi serve` runs it, ASGI, one worker) with an agent's page socket
(/ws/cc/agent/?only=calls, as every page opens it) and a cloud PBX posting signed webhook events. For each of
BENCH_CALLS calls (default 1,000) we time the ringing event from the POST to the pop-up message on the agent's
socket (the event stored, the caller matched among BENCH_CONTACTS contacts, the pop broadcast), then hang the
call up (its activity on the contact's timeline; not timed). Target: p99 well under 1 s.

    flock /tmp/guanxi-bench.lock .venv/bin/python -m bench.cti

SQLite in a temporary GUANXI_HOME, or the database of BENCH_CTI_DB_URL (PostgreSQL). Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request

import websockets

from bench.asgi_server import ROOT, pct, run_against_server

CALLS = int(os.environ.get("BENCH_CALLS", "1000"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "10000"))
SECRET = "bench-webhook-secret"


def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Schema, a service agent on extension 1001, a webhook PBX and BENCH_CONTACTS contacts with mobile numbers;
    returns (the webhook key, the agent's session cookie)."""
    code = r"""
import django, json, os
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.sessions.backends.db import SessionStore
from guanxi.contact_center.call_services import save_connection, set_agent_phone
from guanxi.core.models import Role, User
from guanxi.customers.models import Contact, ContactMethod
admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.ADMIN})
agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": Role.SERVICE_AGENT})
set_agent_phone(admin, agent.pk, "1001")
pbx = save_connection(admin, None, {"name": "bench", "kind": "webhook", "secret": os.environ["BENCH_SECRET"],
                                    "records_as_id": admin.pk, "active": True})
n = int(os.environ["BENCH_CONTACTS"])
contacts = Contact.objects.bulk_create([Contact(name=f"客户{i}", owner=agent, phone=f"+86138{i:08d}")
                                        for i in range(n)], batch_size=2000)
ContactMethod.objects.bulk_create([ContactMethod(contact=c, kind="phone", value=c.phone, normalized=c.phone,
                                                 is_primary=True) for c in contacts], batch_size=2000)
s = SessionStore()
s["_auth_user_id"] = str(agent.pk)
s["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
s["_auth_user_hash"] = agent.get_session_auth_hash()
s.create()
print(json.dumps([pbx.key, s.session_key]))
"""
    out = subprocess.run([sys.executable, "-c", code], env={**env, "BENCH_SECRET": SECRET,
                                                             "BENCH_CONTACTS": str(CONTACTS)},
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def post(url: str, event: dict) -> int:
    body = json.dumps(event).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Guanxi-Signature": signature})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


async def load(port: int, key: str, session: str) -> dict:
    url = f"http://127.0.0.1:{port}/cc/cti/webhook/{key}"
    agent = await websockets.connect(f"ws://127.0.0.1:{port}/ws/cc/agent/?only=calls", origin="http://127.0.0.1",
                                     additional_headers={"Cookie": f"sessionid={session}"}, max_queue=None)
    # Warm-up (not timed): the first request imports the views and opens the database connection.
    await asyncio.to_thread(post, url, {"call_id": "warm", "event": "ringing", "at": "2026-11-24T09:00:00+08:00",
                                        "caller": "13800000000", "extension": "1001"})
    await asyncio.wait_for(agent.recv(), 60)
    latencies: list[float] = []
    known = 0
    t0 = time.perf_counter()
    for i in range(CALLS):
        at = f"2026-11-24T10:{(i // 60) % 60:02d}:{i % 60:02d}+08:00"
        caller = f"138{(i * 7919) % CONTACTS:08d}" if i % 10 else f"139{i:08d}"  # one in ten is unknown
        started = time.perf_counter()
        await asyncio.to_thread(post, url, {"call_id": f"b-{i}", "event": "ringing", "at": at, "caller": caller,
                                            "extension": "1001", "id": f"b-{i}-r"})
        pop = json.loads(await asyncio.wait_for(agent.recv(), 10))
        latencies.append((time.perf_counter() - started) * 1000)
        known += pop["contact"] is not None
        await asyncio.to_thread(post, url, {"call_id": f"b-{i}", "event": "hungup", "at": at, "id": f"b-{i}-h"})
    seconds = time.perf_counter() - t0
    await agent.close()
    return {"calls": CALLS, "contacts": CONTACTS, "popped_with_contact": known, "seconds": round(seconds, 1),
            "pop_latency_ms": {"p50": round(pct(latencies, 50), 1), "p95": round(pct(latencies, 95), 1),
                               "p99": round(pct(latencies, 99), 1), "max": round(max(latencies, default=0), 1)}}


def main() -> None:
    run_against_server("BENCH_CTI_DB_URL", prepare, load)


if __name__ == "__main__":
    main()

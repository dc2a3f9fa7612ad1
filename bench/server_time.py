"""Server-side latency of list pages and search, measured in-process with Django's test client.

Run by bench.run once per database (the environment selects it). Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from guanxi.core.models import Role, User  # noqa: E402
from guanxi.core.services import issue_token  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
SEARCHES = ["zhangwei", "wangfang", "138001", "liuyang", "xiaoming", "科技有限", "gmail.com", "chenjing",
            "13912", "yang li", "zhaolei", "北京星辰"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(client: Client, url: str, **headers) -> tuple[float, object]:
    start = time.perf_counter()
    response = client.get(url, **headers)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed, response


def measure(client: Client, urls: list[str], **headers) -> dict:
    for url in urls[:3]:  # warm caches
        timed(client, url, **headers)
    samples = []
    for i in range(REPEAT):
        samples.append(timed(client, urls[i % len(urls)], **headers)[0])
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(percentile(samples, 95), 1),
            "max_ms": round(max(samples), 1), "n": len(samples)}


def deep_cursor(client: Client, base: str, pages: int, **headers) -> str:
    """Follow `next` cursors through the API to reach a deep page, and return its cursor (the UI's lists take
    the same cursors: core.paging)."""
    cursor = ""
    for _ in range(pages):
        _ms, response = timed(client, f"{base}&cursor={cursor}" if cursor else base, **headers)
        nxt = response.json()["next"]
        if not nxt:
            break
        cursor = nxt
    return cursor


def main() -> None:
    client = Client()
    results: dict[str, dict] = {}
    for who in ("admin", "rep"):
        user = User.objects.filter(role=Role.ADMIN).first() if who == "admin" else \
            User.objects.filter(role=Role.SALES_REP).first()
        client.force_login(user)
        token = issue_token(user, "bench")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        for model in ("contacts", "accounts"):
            results[f"{who} {model} list page 1 (UI)"] = measure(client, [f"/{model}/"])
            results[f"{who} {model} list sorted by name (UI)"] = measure(client, [f"/{model}/?sort=name"])
            results[f"{who} {model} API page 1"] = measure(client, [f"/api/v1/{model}?limit=50"], **auth)
            deep = deep_cursor(client, f"/api/v1/{model}?limit=200&sort=name", 50, **auth)
            results[f"{who} {model} API deep page (~10,000th row, by name)"] = measure(
                client, [f"/api/v1/{model}?limit=200&sort=name&cursor={deep}"], **auth)
            results[f"{who} {model} list deep page (~10,000th row, by name) (UI)"] = measure(
                client, [f"/{model}/?sort=name&cursor={deep}"])
        results[f"{who} search ≥3 chars (UI)"] = measure(client, [f"/search/?q={q}" for q in SEARCHES])
        results[f"{who} search ≥3 chars (API)"] = measure(client, [f"/api/v1/search?q={q}" for q in SEARCHES],
                                                         **auth)
        client.logout()
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

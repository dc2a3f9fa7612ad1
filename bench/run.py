"""`make bench`: the foundation's benchmarks on generated data, on SQLite and PostgreSQL.

For each database: time `guanxi demo --size N --no-serve` (the 1M-contact load), measure list and
search latency at the server (bench.server_time, in-process), then serve with granian (2 workers)
and load the JSON list endpoint and a bare Django values() view with wrk, in the same run.
Results go to bench/out/results.json and are printed as a Markdown table for docs/benchmarks.md.

Environment: BENCH_SIZE (contacts, default 1,000,000), BENCH_DATABASES (default "sqlite,postgresql"),
BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/guanxi_bench), BENCH_SECONDS (wrk duration, default 10),
BENCH_ROUNDS (alternate wrk runs of the API and of the bare view, default 3),
BENCH_REUSE=1 (measure again on the databases of the last run of the same size, without reloading),
BENCH_SUITES (default "web,dedup,fileio,clv,affinity,email,analytics_app": also the duplicate scan (bench.dedup), the
file readers and writers (bench.fileio) at BENCH_SIZE rows, RFM / lifetime value against lifetimes
(bench.analytics_clv) on BENCH_SIZE customers, product affinity + churn (bench.analytics_affinity, 10M order lines,
1M customers), the email ingest (bench.email_ingest, BENCH_EMAILS messages from bytes and through a private Dovecot,
SQLite) and the scoring job on the database (bench.analytics_app, BENCH_SIZE / 10 customers on each of
BENCH_DATABASES); their reports are printed as they come; "chat", not in the default, adds the web chat's WebSocket
load, bench.chat; "cti", not in the default either, the phone's screen pop latency, bench.cti; "sales_orders", not
in the default either, the forecast, quota attainment and year on year over BENCH_SIZE deals and BENCH_SIZE orders,
bench.sales_orders; "service_tickets",
not in the default either, the ticket list and search over 1,000,000 tickets on each of BENCH_DATABASES,
bench.service_tickets).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.asgi_server import free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
SIZE = int(os.environ.get("BENCH_SIZE", "1000000"))
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/guanxi_bench")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # wrk runs of the API and the bare view, alternately
REUSE = os.environ.get("BENCH_REUSE", "") == "1"  # keep the databases of the last run of the same size
SUITES = os.environ.get("BENCH_SUITES", "web,dedup,fileio,clv,affinity,email,analytics_app").split(",")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def environment(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env["GUANXI_HOME"] = str(OUT / db)
    env["GUANXI_SECRET_KEY"] = "bench-only-secret"
    env["PYTHONPATH"] = str(ROOT)
    if db == "postgresql":
        env["GUANXI_DATABASE_URL"] = PG_URL
    return env


def reset(db: str) -> None:
    home = OUT / db
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if db == "postgresql":
        name = PG_URL.rsplit("/", 1)[1]
        admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' "
                        "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"], check=True)


def load(db: str) -> float:
    start = time.perf_counter()
    subprocess.run([str(BIN / "guanxi"), "demo", "--size", str(SIZE), "--seed", "1", "--no-serve"],
                   env=environment(db), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def token(db: str) -> str:
    out = subprocess.run([str(BIN / "guanxi"), "token", "admin", "--name", "bench"], env=environment(db),
                         check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def wrk(url: str, headers: list[str]) -> float:
    args = ["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses under load\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def throughput(db: str) -> dict[str, float]:
    port = free_port()
    env = environment(db) | {"DJANGO_SETTINGS_MODULE": "bench.settings"}
    server = subprocess.Popen(
        [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--no-ws", "--log-level", "warning", "guanxi.asgi:application"],
        env=env, cwd=ROOT, start_new_session=True,  # its own process group: stopping it stops its workers
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/bench/bare", seconds=20)
        secret = token(db)
        # Alternately, ROUNDS times each, and the medians compared: one run of each moved by up to a quarter
        # from one run to the next on a virtual machine with nothing else running (docs/benchmarks.md).
        apis, bares = [], []
        for _ in range(ROUNDS):
            apis.append(wrk(base + "/api/v1/contacts?limit=50", [f"Authorization: Bearer {secret}"]))
            bares.append(wrk(base + "/bench/bare", []))
        api, bare = statistics.median(apis), statistics.median(bares)
        return {"api_rps": api, "bare_values_rps": bare, "ratio": round(api / bare, 2),
                "api_runs": apis, "bare_runs": bares}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # granian waits for idle keep-alive connections
            os.killpg(server.pid, signal.SIGKILL)  # the workers too: a bare kill() left them running
            server.wait()


def markdown(results: dict) -> str:
    lines = [f"### {results['date']} — {results['machine']}", "",
             f"{SIZE:,} contacts and {SIZE // 5:,} accounts (`guanxi demo --size {SIZE}`).", ""]
    for db, r in results["databases"].items():
        lines += [f"#### {db}", "", f"- demo load: {r['load_seconds']:.0f} s",
                  f"- JSON list endpoint, granian 2 workers, wrk 2 threads × 16 connections: "
                  f"{r['throughput']['api_rps']:.0f} req/s; bare Django values() view: "
                  f"{r['throughput']['bare_values_rps']:.0f} req/s; ratio {r['throughput']['ratio']} "
                  f"(medians of {ROUNDS} alternate runs of {SECONDS} s: "
                  f"{', '.join(f'{x:.0f}' for x in r['throughput'].get('api_runs', []))} / "
                  f"{', '.join(f'{x:.0f}' for x in r['throughput'].get('bare_runs', []))})", "",
                  "| server-side latency | p50 ms | p95 ms | max ms |", "| --- | ---: | ---: | ---: |"]
        for name, m in r["latency"].items():
            lines.append(f"| {name} | {m['p50_ms']} | {m['p95_ms']} | {m['max_ms']} |")
        lines.append("")
    return "\n".join(lines)


def side_suites() -> None:
    """The import-side benchmarks: plain modules, no server; they print their own reports."""
    suites = (("dedup", "dedup", ["--size", str(SIZE)]), ("fileio", "fileio", ["--rows", str(SIZE)]),
              ("clv", "analytics_clv", ["--customers", str(SIZE)]),
              ("affinity", "analytics_affinity", []),  # its own sizes: 10M order lines
              ("chat", "chat", []),  # 1,000 visitor WebSockets on one granian process (BENCH_VISITORS)
              ("cti", "cti", []),  # screen pop: webhook event → agent socket, 1,000 calls (BENCH_CALLS)
              *(("analytics_app", "analytics_app", ["--customers", str(SIZE // 10), "--database", db,
                                                    "--pg-url", PG_URL.rsplit("/", 1)[0] + "/guanxi_bench_analytics"])
                for db in DATABASES),
              # forecast, attainment, year on year over BENCH_SIZE deals and orders (bench.sales_orders), each database
              *(("sales_orders", "sales_orders", ["--deals", str(SIZE), "--orders", str(SIZE), "--database", db,
                                                  "--pg-url", PG_URL.rsplit("/", 1)[0] + "/guanxi_bench_sales"])
                for db in DATABASES))
    for suite, module, argv in suites:
        if suite in SUITES:
            log(f"{suite}: {SIZE:,} rows" if argv else f"{suite}: default sizes")
            subprocess.run([sys.executable, "-m", f"bench.{module}", *argv], cwd=ROOT, check=True)
    if "service_tickets" in SUITES:  # 1,000,000 tickets (BENCH_TICKETS) on each database, kept between runs
        for db in DATABASES:
            log(f"service_tickets: {db}")
            env = environment(f"service-tickets-{db}")
            if db == "postgresql":
                env["GUANXI_DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + "/guanxi_bench_tickets"
                subprocess.run(["psql", PG_URL.rsplit("/", 1)[0] + "/postgres", "-qc",
                                "CREATE DATABASE guanxi_bench_tickets ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' "
                                "LC_CTYPE 'C.UTF-8' TEMPLATE template0"], check=False, stderr=subprocess.DEVNULL)
            (OUT / f"service-tickets-{db}").mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "bench.service_tickets"], cwd=ROOT, check=True, env=env)
    if "email" in SUITES:  # needs a database: its own SQLite under bench/out
        log(f"email: {int(os.environ.get('BENCH_EMAILS', '10000')):,} messages")
        subprocess.run([sys.executable, "-m", "bench.email_ingest"], cwd=ROOT, check=True,
                       env=environment("email-sqlite"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    side_suites()
    if "web" not in SUITES:
        return
    results = {"date": dt.date.today().isoformat(),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "size": SIZE, "databases": {}}
    previous = json.loads((OUT / "results.json").read_text()) if (OUT / "results.json").exists() else {}
    for db in DATABASES:
        kept = previous.get("databases", {}).get(db)
        if REUSE and kept and previous.get("size") == SIZE:
            seconds = kept["load_seconds"]  # same data as last run: measure again without reloading
            log(f"{db}: reusing the {SIZE:,}-contact database loaded in {seconds:.0f} s")
        else:
            log(f"{db}: loading {SIZE:,} contacts")
            reset(db)
            seconds = load(db)
            log(f"{db}: loaded in {seconds:.0f} s; measuring latency")
        entry = results["databases"][db] = {"load_seconds": seconds}
        entry["latency"] = json.loads(subprocess.run(
            [sys.executable, "-m", "bench.server_time"], env=environment(db), cwd=ROOT, check=True,
            capture_output=True, text=True).stdout)
        (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
        log(f"{db}: throughput")
        entry["throughput"] = throughput(db)
        (OUT / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()

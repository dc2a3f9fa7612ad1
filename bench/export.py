"""Time and peak memory of the list exports (CSV, XLSX, vCard) through Django, at two sizes.

    .venv/bin/python -m bench.export --rows 1000000 [--small 10000] [--formats csv,xlsx,vcf] [--keep]

For each size, `guanxi demo --size N --no-serve` fills an SQLite database in its own GUANXI_HOME
(bench/out/export/home-N, reused when it is already complete; removed afterwards unless --keep). Each
export then runs in a fresh child process, so its peak RSS (ru_maxrss) is its own: the administrator
(who sees every contact) GETs /contacts/export.<fmt> through Django's test client and consumes the
streamed response chunk by chunk, counting bytes. An XLSX above the direct-download limit becomes a
background job (run in-process by the immediate task backend) and is then downloaded, so its time is
the job's. Flat memory shows as the same anonymous peak at both sizes (total RSS also counts the
database file SQLite maps into memory, up to settings' mmap_size of 256 MB, on any big read).
Results: a Markdown table on stdout and bench/out/export/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "export"
GUANXI = ROOT / ".venv" / "bin" / "guanxi"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GUANXI_DATABASE_URL", "GUANXI_REDIS_URL")}
    env["GUANXI_HOME"] = str(home)
    env.setdefault("GUANXI_SECRET_KEY", "bench-export-not-secret")
    return env


def load(size: int) -> tuple[Path, float | None]:
    """A database of `size` demo contacts; (its home, load seconds or None when reused)."""
    home = OUT / f"home-{size}"
    done = home / "loaded"
    if done.exists():
        return home, None
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    start = time.perf_counter()
    subprocess.run([str(GUANXI), "demo", "--size", str(size), "--no-serve"], env=_env(home), check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    done.write_text(str(seconds))
    return home, seconds


def child(fmt: str) -> dict:
    """One export in this fresh process (GUANXI_HOME set by the parent)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from guanxi.core.models import User

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    start = time.perf_counter()
    first_byte = None
    response = client.get(f"/contacts/export.{fmt}")
    if response.status_code == 302:  # a big XLSX: the job ran in the request; fetch its file
        response = client.get(response["Location"].rstrip("/") + "/download/")
    assert response.status_code == 200, response.status_code
    size = lines = count = 0
    anon = rss_anon()
    for chunk in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - start
        size += len(chunk)
        lines += chunk.count(b"\n")
        count += 1
        if count % 16 == 0:
            anon = max(anon, rss_anon())
    seconds = time.perf_counter() - start
    rows = lines - 1 if fmt == "csv" else None  # vCards have a varying number of lines
    return {"seconds": round(seconds, 2), "first_byte_s": round(first_byte or seconds, 2),
            "file_mb": round(size / 2**20, 1), "rows": rows,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_anon_mb": round(max(anon, rss_anon()), 1)}


def rss_anon() -> float:
    """Resident anonymous memory (the heap, SQLite's page cache) in MB, without the database file that
    SQLite maps into memory (mmap_size, 256 MB in settings): that part of RSS is the file, shared and
    dropped by the kernel at will, and it fills up to its limit on any large read."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(home: Path, fmt: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.export", "--child", fmt], cwd=ROOT, env=_env(home),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--formats", default="csv,xlsx,vcf")
    parser.add_argument("--keep", action="store_true", help="keep the demo databases for another run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for size in dict.fromkeys((args.small, args.rows)):
        home, seconds = load(size)
        print(f"database of {size:,} contacts: " + (f"loaded in {seconds:.0f} s" if seconds else "reused"), flush=True)
        for fmt in args.formats.split(","):
            result = {"format": fmt, "contacts": size, **measure(home, fmt)}
            results.append(result)
            print(f"  {fmt:<5} {size:>9,}  {result['seconds']:>8.2f} s  first byte {result['first_byte_s']:>7.2f} s"
                  f"  peak RSS {result['peak_rss_mb']:>6.1f} MB (anonymous {result.get('peak_anon_mb', 0):>6.1f} MB)"
                  f"  file {result['file_mb']:>7.1f} MB", flush=True)
            (OUT / "results.json").write_text(json.dumps(results, indent=1))
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    print("\n| format | contacts | seconds | rows/s | first byte s | peak RSS MB | peak anonymous MB | file MB |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        rate = r["contacts"] / r["seconds"] if r["seconds"] else 0
        print(f"| {r['format']} | {r['contacts']:,} | {r['seconds']} | {rate:,.0f} | {r['first_byte_s']} | "
              f"{r['peak_rss_mb']} | {r.get('peak_anon_mb', '')} | {r['file_mb']} |")


if __name__ == "__main__":
    main()

"""Import benchmark: a generated contact CSV into a fresh SQLite database, then undo of a 100k import.

    .venv/bin/python -m bench.imports --rows 1000000

Generates the file (Chinese and English names, phones in mixed formats, emails, companies, one-line
addresses), migrates a fresh database in a temporary GUANXI_HOME, imports through the same code as the
`guanxi import` job, and prints wall time, rows/s and peak RSS at 100k rows and at the end, then the
time of undoing a separate 100k-row import."""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海燕鹏辉晨宇欣怡子涵浩然梓轩"
FIRST_EN = ["James", "Mary", "John", "Linda", "David", "Susan", "Michael", "Karen", "Peter", "Emma", "Oliver", "Sophie"]
LAST_EN = ["Smith", "Brown", "Wilson", "Taylor", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Green"]
CITIES = [("广东省", "深圳市", "南山区"), ("北京市", "北京市", "海淀区"), ("上海市", "上海市", "浦东新区"),
          ("浙江省", "杭州市", "西湖区"), ("江苏省", "南京市", "鼓楼区"), ("四川省", "成都市", "武侯区")]
ROADS = ["科技园路", "中关村大街", "世纪大道", "文三路", "中山路", "人民南路"]
WORDS = ["星辰", "华信", "东方", "瑞康", "天成", "恒通", "金桥", "博远", "新峰", "宏达"]
TRADES = ["医疗科技", "物流", "软件", "贸易", "电子", "建设", "食品", "教育科技"]
TITLES = ["经理", "总监", "采购", "工程师", "Sales Manager", "CTO", ""]
HEADER = ["姓名", "手机", "邮箱", "公司名称", "职位", "地址"]


def phone(i: int, rng: random.Random) -> str:
    n = (i * 7654321 + 12345) % 10 ** 8  # a bijection: every row its own number
    prefix = rng.choice(("138", "139", "186", "135", "158", "177"))
    body = f"{prefix}{n:08d}"
    style = i % 5
    if style == 0:
        return body
    if style == 1:
        return f"{body[:3]} {body[3:7]} {body[7:]}"
    if style == 2:
        return f"+86-{body[:3]}-{body[3:7]}-{body[7:]}"
    if style == 3:
        return f"(+86) {body}"
    return f"＋８６ {body}".translate(str.maketrans("0123456789", "０１２３４５６７８９")) if i % 10 == 4 else \
        f"+86 {body}"


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    companies = max(1, rows // 5)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            company_no = rng.randrange(companies)
            company = f"{WORDS[company_no % 10]}{TRADES[company_no // 10 % 8]}{company_no}有限公司"
            if rng.random() < 0.8:
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                local = f"user{i}"
            else:
                first, last = rng.choice(FIRST_EN), rng.choice(LAST_EN)
                name, local = f"{first} {last}", f"{first.lower()}.{last.lower()}{i}"
            email = f"{local}@example{company_no % 100}.com" if rng.random() < 0.85 else ""
            if rng.random() < 0.6:
                province, city, district = rng.choice(CITIES)
                address = f"{province}{city}{district}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
            else:
                address = ""
            out.writerow([name, phone(i, rng), email, company, rng.choice(TITLES), address])


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_parts() -> str:
    """Resident memory now, anonymous (Python's own) apart from file-backed (SQLite's memory-mapped
    database, up to mmap_size): only the first says whether memory grows with the file."""
    fields = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("RssAnon:", "RssFile:")):
                key, value = line.split(":")
                fields[key] = int(value.split()[0]) / 1024
    return f"anonymous {fields.get('RssAnon', 0):.0f} MB + file {fields.get('RssFile', 0):.0f} MB"


def cpu_s() -> tuple[float, float]:
    """CPU seconds of this process and of its finished children (the cleaning workers): on a shared,
    loaded machine they tell what the wall time would be on an idle one better than the wall time does."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--undo-rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary GUANXI_HOME")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="guanxi-bench-import-"))
    os.environ["GUANXI_HOME"] = str(home)
    os.environ.pop("GUANXI_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings"
    import subprocess

    subprocess.run([sys.executable, "-m", "guanxi.cli", "migrate", "--verbosity", "0"], check=True,
                   env={**os.environ})
    import django

    django.setup()
    from guanxi.core.models import Role
    from guanxi.core.services import create_user
    from guanxi.customers import import_services as imports

    user = create_user(None, username="importer", password="bench-password-1", role=Role.ADMIN)
    data = home / "contacts.csv"
    started = time.monotonic()
    generate(data, args.rows)
    print(f"generated {args.rows:,} rows ({data.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - started:.1f} s",
          flush=True)
    figures = {}

    def run(path: Path, rows: int, label: str):
        with open(path, "rb") as fh:
            imp = imports.upload(user, "contact", fh, path.name)
        imports.set_mapping(user, imp, imp.mapping)
        t0 = time.monotonic()
        cpu0 = cpu_s()

        def on_chunk(number: int, counts: dict) -> None:
            done = (number + 1) * imports.CHUNK
            if done in (100_000, rows) or done % 200_000 == 0:
                elapsed = time.monotonic() - t0
                print(f"  {label}: {done:,} rows in {elapsed:.1f} s ({done / elapsed:,.0f} rows/s), "
                      f"peak RSS {rss_mb():.0f} MB (now {rss_parts()})", flush=True)
                figures[done] = (elapsed, rss_mb())

        result = imports.run_import(imp.pk, on_chunk=on_chunk)
        elapsed = time.monotonic() - t0
        own, children = (b - a for a, b in zip(cpu0, cpu_s(), strict=True))
        print(f"{label}: {result.rows:,} rows, {result.created:,} created, {result.rejected:,} rejected, "
              f"{result.flagged:,} flagged in {elapsed:.1f} s ({result.rows / elapsed:,.0f} rows/s), "
              f"peak RSS {rss_mb():.0f} MB; CPU {own:.0f} s in this process, {children:.0f} s in the cleaning "
              f"workers; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
        return result, elapsed

    run(data, args.rows, "import")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_contact_fts WHERE customers_contact_fts MATCH 'zhang'")
        print(f"search index answers: {cursor.fetchone()[0]:,} contacts match 'zhang'")
    # undo of a separate 100k import (other phones: a different seed and row range)
    small = home / "undo.csv"
    rng_rows = args.undo_rows
    generate(small, rng_rows, seed=2)
    text = small.read_text(encoding="utf-8").splitlines()
    with open(small, "w", encoding="utf-8") as fh:  # new phones so no row is a duplicate of the big import
        fh.write(text[0] + "\n")
        for n, line in enumerate(text[1:]):
            cells = next(csv.reader([line]))
            cells[1] = f"199{n:08d}"
            cells[2] = f"undo{n}@example.org"
            cells[3] = f"撤销测试{n % 1000}公司"
            fh.write(",".join(f'"{c}"' for c in cells) + "\n")
    result, _elapsed = run(small, rng_rows, "import for undo")
    t0 = time.monotonic()
    imports.run_undo(result.pk)
    print(f"undo of {result.created:,} created contacts: {time.monotonic() - t0:.1f} s", flush=True)
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

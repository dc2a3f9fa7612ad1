"""Time and peak memory of customers.fileio on generated Chinese/English contact files.

    .venv/bin/python -m bench.fileio --rows 1000000 [--small 10000] [--xlsx-read]

Generates contact CSVs (UTF-8 and GB18030) of --small and --rows rows, then runs every measurement
in a fresh child process, so each peak RSS (ru_maxrss) is that step's alone: reading each CSV, and
writing CSV, XLSX and vCard from generated rows, then reading the written vCard back (and, with
--xlsx-read, the written workbook). Flat memory shows as the same peak for both sizes. Files go to
bench/out/fileio/; results are printed as a Markdown table and saved as bench/out/fileio/results.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "fileio"
HEADERS = ["姓名", "手机", "Email", "公司名称", "职位", "省", "市", "地址", "生日", "标签", "备注", "External ID"]
FIELDS = ["name", "mobile", "email", "account", "title", "province", "city", "street", "birthday", "tags", "notes",
          "external_id"]

FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 建华 志强".split()
ENGLISH = ["Alice Smith", "Bob Jones", "Carol White", "David Brown", "Emma Wilson", "Frank Moore", "Grace Lee"]
COMPANIES = ["北京星辰科技有限公司", "上海云帆贸易有限公司", "深圳前海数据服务有限公司", "Acme Trading Ltd",
             "杭州西湖软件股份有限公司", "Northwind Foods (Shanghai) Co., Ltd."]
PLACES = [("北京市", "北京市", "朝阳区建国路88号"), ("上海市", "上海市", "浦东新区世纪大道100号"),
          ("广东省", "深圳市", "南山区科技园南路1号"), ("浙江省", "杭州市", "西湖区文三路90号")]
TITLES = ["销售经理", "采购总监", "总经理", "Sales Manager", "工程师", "Head of Operations"]
TAGS = ["VIP", "潜在客户", "展会, 2024", "key account", ""]


def contacts(count: int, seed: int = 7) -> Iterator[dict[str, str]]:
    """Deterministic contact rows keyed by FIELDS, generated one at a time."""
    rng = random.Random(seed)
    for i in range(count):
        chinese = rng.random() < 0.8
        name = rng.choice(FAMILY) + rng.choice(GIVEN) if chinese else rng.choice(ENGLISH)
        province, city, street = rng.choice(PLACES)
        yield {
            "name": name,
            "mobile": f"+86 1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
            "email": f"user{i}@example.{'cn' if chinese else 'com'}",
            "account": rng.choice(COMPANIES),
            "title": rng.choice(TITLES),
            "province": province,
            "city": city,
            "street": street,
            "birthday": f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "tags": rng.choice(TAGS),
            "notes": "老客户，年度采购" if rng.random() < 0.3 else "",
            "external_id": f"EXT-{i:08d}",
        }


def generate(path: Path, count: int, encoding: str) -> None:
    if path.exists():
        return
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        for row in contacts(count):
            writer.writerow([row[k] for k in FIELDS])
    tmp.rename(path)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(task: str, arg: str) -> dict:
    """One measurement, in this (fresh) process."""
    sys.path.insert(0, str(ROOT / "src"))
    from guanxi.customers.fileio import csv_chunks, open_rows, vcard_chunks, write_xlsx

    start = time.perf_counter()
    rows = problems = size = 0
    if task == "read":
        with open_rows(arg) as table:
            for row in table:
                rows += 1
                problems += len(row.problems)
        size = Path(arg).stat().st_size
    else:
        count = int(arg)
        path = OUT / f"written-{count}.{task}"
        generated = ({HEADERS[i]: row[k] for i, k in enumerate(FIELDS)} for row in contacts(count))
        if task == "csv":
            with open(path, "wb") as f:
                for chunk in csv_chunks(HEADERS, generated):
                    f.write(chunk)
        elif task == "xlsx":
            write_xlsx(path, HEADERS, generated, title="联系人")
        elif task == "vcf":
            with open(path, "wb") as f:
                for chunk in vcard_chunks(contacts(count)):
                    f.write(chunk)
        rows, size = count, path.stat().st_size
    return {"seconds": round(time.perf_counter() - start, 2), "rows": rows, "problems": problems,
            "peak_rss_mb": round(peak_mb(), 1), "file_mb": round(size / 2**20, 1)}


def measure(task: str, arg: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.fileio", "--child", task, arg], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--xlsx-read", action="store_true", help="also read the written workbooks back")
    parser.add_argument("--child", nargs=2, metavar=("TASK", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    results = []

    def record(step: str, count: int, task: str, arg: str) -> None:
        result = {"step": step, "size": count, **measure(task, arg)}
        results.append(result)
        print(f"{step:<24} {count:>9,} rows  {result['seconds']:>7.2f} s  peak RSS {result['peak_rss_mb']:>6.1f} MB"
              f"  file {result['file_mb']:>6.1f} MB", flush=True)

    for count in (args.small, args.rows):
        for encoding in ("utf-8", "gb18030"):
            path = OUT / f"contacts-{count}-{encoding}.csv"
            generate(path, count, encoding)
            record(f"read CSV {encoding}", count, "read", str(path))
    for count in (args.small, args.rows):
        for fmt in ("csv", "xlsx", "vcf"):
            record(f"write {fmt}", count, fmt, str(count))
        record("read vcf (written)", count, "read", str(OUT / f"written-{count}.vcf"))
        if args.xlsx_read:
            record("read xlsx (written)", count, "read", str(OUT / f"written-{count}.xlsx"))
    (OUT / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print("\n| step | rows | seconds | rows/s | peak RSS MB | file MB |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        rate = r["size"] / r["seconds"] if r["seconds"] else 0
        print(f"| {r['step']} | {r['size']:,} | {r['seconds']} | {rate:,.0f} | {r['peak_rss_mb']} | {r['file_mb']} |")


if __name__ == "__main__":
    main()

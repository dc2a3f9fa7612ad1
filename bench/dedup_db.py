"""The database duplicates scan, end to end: `python -m bench.dedup_db --size 1000000`.

1. `guanxi demo --size N --no-serve` into a temporary GUANXI_HOME (SQLite), unless --home reuses one;
2. injects copies of 1 % of the contacts (bulk inserts, as an import would): homophone characters
   (王→汪, 小→晓), a dropped or doubled letter in Latin names, the phone kept or one digit off, the email
   kept or dropped, the same birthday and company;
3. runs `guanxi dedup --run` in a child process (read in keyset chunks + engine + storing the review queue)
   and reports its wall time, its own peak RSS (wait4), the pairs stored and how many injected copies
   were found, with the load average before and after.

`--home DIR` keeps the data (and reuses it on the next run, skipping steps 1–2); the contact pairs a
previous run queued are deleted first, so that every run stores its pairs anew (`--keep-queue`
measures a repeated scan over a full queue instead).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOMOPHONES = {
    "王": "汪", "汪": "王", "小": "晓", "晓": "小", "明": "铭", "伟": "玮", "丽": "莉", "静": "婧", "军": "君",
    "华": "桦", "芳": "方", "娜": "纳", "杰": "洁", "玲": "琳", "琳": "玲", "红": "宏", "英": "莹", "敏": "珉",
    "磊": "蕾", "洋": "阳", "勇": "永", "艳": "燕", "涛": "韬", "刚": "钢", "斌": "彬", "飞": "菲", "宇": "雨",
    "浩": "昊", "欣": "新", "怡": "仪", "佳": "嘉", "琪": "琦", "文": "雯", "张": "章", "李": "黎", "刘": "柳",
    "杨": "阳", "黄": "皇", "徐": "许", "许": "徐", "吴": "伍", "林": "琳", "婷": "亭", "慧": "惠", "峰": "锋",
}
GUANXI = [sys.executable, "-m", "guanxi.cli"]


def _alter_name(name: str, rng: random.Random) -> str:
    chars = list(name)
    spots = [k for k, ch in enumerate(chars) if ch in HOMOPHONES]
    if spots:
        k = rng.choice(spots)
        chars[k] = HOMOPHONES[chars[k]]
        return "".join(chars)
    letters = [k for k, ch in enumerate(chars) if ch.isalpha()]
    if len(letters) > 3:
        k = rng.choice(letters[1:])
        return name[:k] + name[k + 1:] if rng.random() < 0.5 else name[:k] + name[k] + name[k:]
    return name


def _alter_phone(phone: str, rng: random.Random) -> str:
    if not phone or rng.random() < 0.8:
        return phone
    k = rng.randrange(len(phone) - 4, len(phone))
    return phone[:k] + str((int(phone[k]) + 1) % 10) + phone[k + 1:]


def inject(share: float, seed: int) -> list[tuple[int, int]]:
    """Copies of `share` of the contacts, bulk-inserted with their phones and emails; returns (source, copy) ids."""
    from django.db import transaction

    from guanxi.customers.models import Contact, ContactMethod
    from guanxi.quality.normalize import search_text

    rng = random.Random(seed)
    total = Contact.objects.count()
    last_id = Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picks = sorted(rng.sample(range(1, last_id + 1), int(total * share)))
    sources = Contact.objects.filter(pk__in=picks).values(
        "pk", "name", "phone", "email", "birthday", "primary_account_id", "owner_id", "team_id", "title")
    made: list[tuple[int, int]] = []
    batch: list[tuple[Contact, str, str, int]] = []

    def flush() -> None:
        with transaction.atomic():
            rows = Contact.objects.bulk_create([c for c, _p, _e, _s in batch])
            made.extend((source, c.pk) for c, (_c, _p, _e, source) in zip(rows, batch, strict=True))
            methods = []
            for contact, phone, email, _source in batch:
                if phone:
                    methods.append(ContactMethod(contact=contact, kind="phone", value=phone, normalized=phone,
                                                 is_primary=True))
                if email:
                    methods.append(ContactMethod(contact=contact, kind="email", value=email, normalized=email,
                                                 is_primary=True))
            ContactMethod.objects.bulk_create(methods)
            through = Contact.accounts.through
            through.objects.bulk_create([through(contact_id=c.pk, account_id=c.primary_account_id)
                                         for c in rows if c.primary_account_id])
        batch.clear()

    for row in sources.iterator(chunk_size=5000):
        name = _alter_name(row["name"], rng)
        phone = _alter_phone(row["phone"], rng)
        email = row["email"] if rng.random() < 0.6 else ""
        contact = Contact(name=name, phone=phone, email=email, birthday=row["birthday"], title=row["title"],
                          primary_account_id=row["primary_account_id"], owner_id=row["owner_id"],
                          team_id=row["team_id"],
                          search_text=search_text(names=[name], phones=[phone], emails=[email]))
        batch.append((contact, phone, email, row["pk"]))
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="demo contacts")
    parser.add_argument("--share", type=float, default=0.01, help="share of contacts copied with typos")
    parser.add_argument("--home", default=None, help="reuse (or keep) this GUANXI_HOME")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep-queue", action="store_true",
                        help="with a reused --home: keep the pairs a previous scan queued (measures a re-scan)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="guanxi-dedup-"))
    env = {k: v for k, v in os.environ.items() if k != "GUANXI_DATABASE_URL"}
    env["GUANXI_HOME"] = str(home)
    marker = home / "dedup-bench.json"
    figures: dict[str, object] = {"size": args.size}
    if not marker.exists():
        started = time.perf_counter()
        subprocess.run([*GUANXI, "demo", "--size", str(args.size), "--no-serve"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        figures["demo_s"] = round(time.perf_counter() - started, 1)
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
        import django

        django.setup()
        started = time.perf_counter()
        injected = inject(args.share, args.seed)
        (home / "injected.json").write_text(json.dumps(injected))
        figures["injected"] = len(injected)
        figures["inject_s"] = round(time.perf_counter() - started, 1)
        marker.write_text(json.dumps(figures))
    else:
        figures.update(json.loads(marker.read_text()))
        if not args.keep_queue:
            _clear_queue(env)

    figures["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.perf_counter()
    child = subprocess.Popen([*GUANXI, "dedup", "--run", "--type", "contact"], env=env, stderr=subprocess.PIPE,
                             text=True)
    _pid, status, usage = os.wait4(child.pid, 0)
    log = child.stderr.read() if child.stderr else ""
    figures["scan_s"] = round(time.perf_counter() - started, 1)
    figures["scan_peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    figures["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if status != 0:
        print(log, file=sys.stderr)
        return 1
    figures.update(_count(env, home / "injected.json"))
    lines = log.strip().splitlines()
    figures["phases"] = [line.strip() for line in lines if " s  " in line]  # the engine's timed phases
    figures["log_tail"] = lines[-1]
    print(json.dumps(figures, ensure_ascii=False) if args.json else
          "\n".join(f"{k:>18}: {v}" for k, v in figures.items()))
    print(f"data kept in {home}", file=sys.stderr)
    return 0


def _clear_queue(env: dict[str, str]) -> None:
    code = ("import django; django.setup()\n"
            "from guanxi.quality.models import DuplicatePair\n"
            "DuplicatePair.objects.filter(kind='contact').delete()\n")
    subprocess.run([sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "guanxi.settings"},
                   check=True)


def _count(env: dict[str, str], injected: Path) -> dict[str, int]:
    """Pairs stored, and how many injected copies sit in a pair with the contact they copy."""
    code = (
        "import django, json, sys; django.setup()\n"
        "from guanxi.quality.models import DuplicatePair\n"
        "truth = {tuple(sorted(p)) for p in json.load(open(sys.argv[1]))}\n"
        "pairs = set(DuplicatePair.objects.filter(kind='contact').values_list('record_1', 'record_2'))\n"
        "print(json.dumps({'pairs_stored': len(pairs), 'injected_found': len(truth & pairs)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(injected)],
                         env={**env, "DJANGO_SETTINGS_MODULE": "guanxi.settings"},
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())

"""The email channel's ingest over BENCH_EMAILS generated messages (default 10,000; target under 2 minutes).

1. From raw bytes: `email_ingest.ingest_many` over the messages (what the IMAP poller calls: a transaction per
   CHUNK of 50; `email_ingest.ingest`, one message a transaction, was timed here before) — new mail from 2,000
   senders (a ticket each, a contact for each new sender), replies threaded by In-Reply-To or by the subject's
   ticket token, a few auto-replies and bounces; then the same messages again (all skipped by the unique
   Message-ID: the re-sync cost).
2. Through IMAP (when Dovecot is installed): the messages are APPENDed to a private Dovecot (not timed), then
   `email_imap.sync` fetches and ingests them into a second mailbox.

Each new ticket also gets its knowledge-base suggestions (ARTICLES published articles are made first, titled
after the bench's subjects), so their cost is in the figures. Token-only replies come from random senders: under
the hijack rule those not at the ticket contact's company domain open a ticket of their own.

Wall seconds and this process's CPU seconds are both reported (the database's own work is in the wall time
only — for SQLite it runs in this process, so it is in both). The database is the environment's (GUANXI_HOME
for SQLite, GUANXI_DATABASE_URL for PostgreSQL), migrated here. Acknowledgements are off (no SMTP server).

    flock /tmp/guanxi-bench.lock env GUANXI_HOME=/tmp/email-bench .venv/bin/python -m bench.email_ingest
    flock /tmp/guanxi-bench.lock env GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanxi_email_bench \
        .venv/bin/python -m bench.email_ingest

Options: `--messages N` (instead of BENCH_EMAILS), `--no-imap` (from raw bytes only), `--chunk N` (messages a
transaction, email_ingest.CHUNK), `--analyze` (PostgreSQL: ANALYZE after the first 1,000 messages, as autovacuum
would on a server that has it on). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import uuid
from email.message import EmailMessage

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from guanxi.contact_center import email_imap, email_ingest  # noqa: E402
from guanxi.contact_center.email_kb_models import KnowledgeSuggestion  # noqa: E402
from guanxi.contact_center.email_models import InboundEmail, Mailbox  # noqa: E402
from guanxi.knowledge.models import Article  # noqa: E402
from guanxi.knowledge.services import article_search_text  # noqa: E402
from guanxi.service.models import QuestionGroup, Queue  # noqa: E402

N = int(os.environ.get("BENCH_EMAILS", "10000"))
ANALYZE_AFTER: int | None = None
ARTICLES = 200
SENDERS = 2000
DOMAINS = ["xingchen.cn", "example.com.cn", "163.com", "qq.com", "huaxia-tech.cn"]
SUBJECTS = ["打印机无法连接", "发票开错了", "账号登录不了", "Order 4411 not delivered", "合同续签咨询", "退款进度"]
BOUNCE = ("From: MAILER-DAEMON@mx.bench\r\nTo: support@bench.test\r\nSubject: Undelivered Mail\r\n"
          "Message-ID: <{mid}>\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\r\n\r\n"
          "--BB\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
          "--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.bench\r\n\r\n"
          "Final-Recipient: rfc822; {to}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--BB--\r\n")
BODY = "您好，\n\n{subject}，请尽快处理。订单号 {n}。\n\n谢谢\n张经理\n" * 3


def generate(run: str) -> list[bytes]:
    rng = random.Random(7)
    raws: list[bytes] = []
    sent: list[tuple[str, str]] = []  # (message id, subject) of new mail so far
    for i in range(N):
        m = EmailMessage()
        sender = f"user{rng.randrange(SENDERS)}@{rng.choice(DOMAINS)}"
        m["From"] = f"客户{i % SENDERS} <{sender}>"
        m["To"] = "support@bench.test"
        mid = f"{run}.{i}@mx.bench"
        m["Message-ID"] = f"<{mid}>"
        roll = rng.random()
        if sent and roll < 0.20:  # a reply by In-Reply-To
            parent, subject = rng.choice(sent)
            m["Subject"] = f"Re: {subject}"
            m["In-Reply-To"] = f"<{parent}>"
            m["References"] = f"<{parent}>"
        elif sent and roll < 0.25:  # a reply carrying only the ticket token (numbers are T + 6 digits)
            m["Subject"] = f"补充 [#T{rng.randrange(1, max(2, len(sent))):06d}]"
        elif roll < 0.27:
            m["Subject"] = "自动回复：休假中"
            m["Auto-Submitted"] = "auto-replied"
        elif roll < 0.28:  # a bounce: a delivery-status report naming a failed recipient
            raws.append(BOUNCE.format(mid=mid, to=f"user{rng.randrange(SENDERS)}@{rng.choice(DOMAINS)}").encode())
            continue
        else:
            subject = f"{rng.choice(SUBJECTS)} #{i}"
            m["Subject"] = subject
            sent.append((mid, subject))
        m.set_content(BODY.format(subject=m["Subject"], n=i))
        raws.append(m.as_bytes())
    return raws


def articles() -> None:
    """ARTICLES published articles (once per database): a few per bench subject, the rest on other topics."""
    have = Article.objects.filter(title__startswith="[bench] ").count()
    topics = SUBJECTS + ["密码重置", "发货时间", "保修政策", "开票信息", "会员积分", "Data export", "API token"]
    rows = []
    for i in range(have, ARTICLES):
        title = f"[bench] {topics[i % len(topics)]} 第{i}篇"
        body = f"关于{topics[i % len(topics)]}的说明：请按以下步骤处理。第 {i} 条。"
        rows.append(Article(title=title, body=body, status="published", visibility="public",
                            search_text=article_search_text(title, body, [])))
    Article.objects.bulk_create(rows)


def mailbox(run: str, **imap) -> Mailbox:
    queue, _ = Queue.objects.get_or_create(name="email-bench")
    group, _ = QuestionGroup.objects.get_or_create(name="email-bench", defaults={"queue": queue})
    box = Mailbox(name="bench", address=f"support-{run}@bench.test", imap_host=imap.get("host", "127.0.0.1"),
                  imap_port=imap.get("port", 143), imap_security="none", imap_user=imap.get("user", "x"),
                  imap_folder=imap.get("folder", "INBOX"), question_group=group, auto_acknowledge=False)
    box.imap_password = imap.get("password", "")
    box.save()
    return box


def from_bytes(raws: list[bytes], run: str) -> dict:
    box = mailbox(run)
    messages = [(raw, None) for raw in raws]
    start, cpu = time.perf_counter(), time.process_time()
    if ANALYZE_AFTER:
        email_ingest.ingest_many(box, messages[:ANALYZE_AFTER])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        email_ingest.ingest_many(box, messages[ANALYZE_AFTER:])
    else:
        email_ingest.ingest_many(box, messages)
    first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    email_ingest.ingest_many(box, messages)
    again = time.perf_counter() - start
    counts = dict(InboundEmail.objects.filter(mailbox=box).values_list("status").annotate(
        n=Count("id")).values_list("status", "n"))
    return {"messages": len(raws), "seconds": round(first, 1), "cpu_seconds": round(first_cpu, 1),
            "per_second": round(len(raws) / first),
            "again_seconds": round(again, 1), "statuses": counts,
            "tickets_with_suggestions": KnowledgeSuggestion.objects.filter(inbound__mailbox=box)
            .values("ticket").distinct().count()}


def through_imap(raws: list[bytes], run: str) -> dict:
    from tests.contact_center.mailservers import dovecot_binary, running_dovecot

    binary = dovecot_binary()
    if binary is None:
        return {"skipped": "dovecot is not installed"}
    with running_dovecot(binary) as server:
        folder = server.new_folder()
        start = time.perf_counter()
        server.append(folder, *raws)
        appended = time.perf_counter() - start
        box = mailbox(f"{run}-imap", host=server.host, port=server.port, user=server.user,
                      password=server.password, folder=folder)
        start, cpu = time.perf_counter(), time.process_time()
        result = email_imap.sync(box)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"append_seconds": round(appended, 1), "sync_seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "per_second": round(result.fetched / seconds) if seconds else None, "fetched": result.fetched,
            "created": result.created, "error": result.error}


def main() -> None:
    global N
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=N, help="how many messages (default BENCH_EMAILS or 10000)")
    parser.add_argument("--no-imap", action="store_true", help="only from raw bytes (skip the Dovecot run)")
    parser.add_argument("--chunk", type=int, default=email_ingest.CHUNK, help="messages a transaction")
    parser.add_argument("--analyze", action="store_true",
                        help="PostgreSQL: ANALYZE once the first 1,000 messages are in (as autovacuum would)")
    args = parser.parse_args()
    N, email_ingest.CHUNK = args.messages, args.chunk
    global ANALYZE_AFTER
    ANALYZE_AFTER = 1000 if args.analyze and connection.vendor == "postgresql" else None
    settings.HOME.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    articles()
    run = uuid.uuid4().hex[:8]
    raws = generate(run)
    out = {"database": connection.vendor, "bytes_mean": round(sum(map(len, raws)) / len(raws)),
           "ingest_from_bytes": from_bytes(raws, run)}
    if not args.no_imap:
        out["ingest_through_imap"] = through_imap(generate(f"{run}-imap"), run)
    out["chunk"] = email_ingest.CHUNK
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

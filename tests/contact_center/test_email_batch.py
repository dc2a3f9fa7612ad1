"""Mail in batches (email_ingest.ingest_many, what the IMAP poll calls): a transaction per chunk of messages, each
message in a savepoint of its own. The batch stores what one-at-a-time ingest stores — threading, contacts,
deduplication by Message-ID, automatic replies kept unanswered, knowledge-base suggestions — a message the
database refuses is kept (quarantined) without losing the others, and the queries stay bounded per message."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.contact_center import email_ingest
from guanxi.contact_center.email_kb_models import KnowledgeSuggestion
from guanxi.contact_center.email_models import InboundEmail, InboundStatus
from guanxi.core.models import AuditAction, AuditEntry
from guanxi.customers.models import Contact
from guanxi.knowledge import services as kb_services
from guanxi.knowledge.models import Article
from guanxi.service.models import AgentProfile, Availability
from guanxi.service.ticket_models import EventKind, Ticket, TicketEvent
from tests.contact_center.test_email_ingest import make_mail


@pytest.fixture
def printer_article(users):
    return kb_services.create_article(users["admin"], {
        "title": "打印机无法连接怎么办", "body": "检查网线，重启打印机。", "visibility": "public",
        "status": "published"})


def question(i: int, sender: str | None = None, **headers) -> bytes:
    return make_mail(subject=f"打印机无法连接 {i}", body=f"打印机无法连接，订单 {i}。",
                     sender=sender or f"c{i}@kehu{i}.cn", message_id=f"<b{i}@mx>", **headers)


def test_a_batch_threads_dedups_and_suggests_like_one_at_a_time(mailbox, printer_article,
                                                                django_capture_on_commit_callbacks):
    messages = [
        question(1, sender="李娜 <li.na@kehu.cn>"),
        question(2, sender="li.na@kehu.cn"),  # the same sender: one contact
        make_mail(subject="Re: 打印机无法连接 1", body="还是不行", sender="li.na@kehu.cn", message_id="<r1@mx>",
                  in_reply_to="<b1@mx>"),  # threads onto the ticket of a message earlier in the batch
        make_mail(subject="自动回复", sender="x@kehu.cn", message_id="<auto@mx>", auto_submitted="auto-replied"),
        make_mail(sender="support@guanxi.test", message_id="<own@mx>"),  # our own address: never a ticket
        question(1, sender="李娜 <li.na@kehu.cn>"),  # the first message again, in the same batch
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        results = email_ingest.ingest_many(mailbox, [(raw, None) for raw in messages])
    assert [created for _row, created in results] == [True, True, True, True, True, False]
    rows = [row for row, _created in results]
    assert [r.status for r in rows[:5]] == [InboundStatus.TICKET, InboundStatus.TICKET, InboundStatus.THREADED,
                                          InboundStatus.AUTO_REPLY, InboundStatus.AUTO_REPLY]
    assert rows[2].ticket_id == rows[0].ticket_id and rows[5].pk == rows[0].pk
    assert rows[3].ticket is None and rows[4].ticket is None
    assert Ticket.objects.count() == 2 and Contact.objects.filter(email="li.na@kehu.cn").count() == 1
    assert InboundEmail.objects.filter(message_id="b1@mx").count() == 1
    for row in rows[:2]:
        assert list(KnowledgeSuggestion.objects.filter(ticket=row.ticket).values_list("article", flat=True)) == [
            printer_article.pk]
    assert Article.objects.get(pk=printer_article.pk).suggested_count == 2  # counted once per ticket
    assert callbacks  # the live events and acknowledgements wait for the commit


def refuse_subject(subject: str) -> None:
    """A database trigger that refuses a ticket with this subject (a real refusal by the database)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"CREATE TRIGGER refuse_subject BEFORE INSERT ON service_ticket WHEN NEW.subject = "
                           f"'{subject}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        else:
            cursor.execute(f"CREATE FUNCTION refuse_subject() RETURNS trigger AS $$ BEGIN IF NEW.subject = "
                           f"'{subject}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ "
                           "LANGUAGE plpgsql")
            cursor.execute("CREATE TRIGGER refuse_subject BEFORE INSERT ON service_ticket FOR EACH ROW "
                           "EXECUTE FUNCTION refuse_subject()")


def test_a_message_the_database_refuses_is_kept_and_the_rest_of_its_batch_stored(
        mailbox, printer_article, django_capture_on_commit_callbacks):
    refuse_subject("打印机无法连接 2")
    with django_capture_on_commit_callbacks(execute=True):
        results = email_ingest.ingest_many(mailbox, [(question(i), 100 + i) for i in range(1, 5)])
    statuses = [row.status for row, _created in results]
    assert statuses == [InboundStatus.TICKET, InboundStatus.QUARANTINED, InboundStatus.TICKET, InboundStatus.TICKET]
    kept = results[1][0]
    assert "refused by the test" in kept.reason and kept.raw and kept.uid == 102
    assert Ticket.objects.count() == 3 and not Contact.objects.filter(email="c2@kehu2.cn").exists()
    assert Article.objects.get(pk=printer_article.pk).suggested_count == 3  # the refused one's not counted


def ingest_queries(mailbox, messages: list[bytes], capture) -> int:
    with capture(execute=True), CaptureQueriesContext(connection) as ctx:
        email_ingest.ingest_many(mailbox, [(raw, None) for raw in messages])
    return len(ctx.captured_queries)


def test_a_batch_takes_a_bounded_number_of_queries_per_message(mailbox, printer_article,
                                                               django_capture_on_commit_callbacks):
    # New mail from 10 senders, then 20 more from the same senders: a ticket each, with its suggestions and
    # acknowledgement. One message at a time, a new ticket took 44 queries on average over the benchmark's mail
    # (bench/email_ingest.py, no acknowledgements); in chunks with a savepoint each, about 25 with a new contact
    # and 20 for a known one; now 14 and 11 (no savepoints, the events and audit entries inserted together, the
    # new contacts' duplicate check for all of them, the ticket inserted once on PostgreSQL).
    capture = django_capture_on_commit_callbacks
    first = ingest_queries(mailbox, [question(i, sender=f"s{i}@kehu.cn") for i in range(10)], capture)
    more = ingest_queries(mailbox, [question(i, sender=f"s{i % 10}@kehu.cn") for i in range(10, 30)], capture)
    again = ingest_queries(mailbox, [question(i, sender=f"s{i % 10}@kehu.cn") for i in range(10, 30)], capture)
    assert first <= 10 * 15 and more <= 20 * 12
    assert again <= 3  # all there already: one look-up for the batch


def test_a_batch_keeps_each_tickets_events_audit_and_number(mailbox, agent, support_queue,
                                                             django_capture_on_commit_callbacks):
    # The events and audit entries of a chunk are inserted together at its end, and on PostgreSQL a ticket is
    # inserted once with the number of the id it reserved: what each ticket gets is what one at a time gave it.
    queue, _group = support_queue
    AgentProfile.objects.get(user=agent).queues.add(queue)  # online: routing assigns the tickets to her
    with django_capture_on_commit_callbacks(execute=True):
        results = email_ingest.ingest_many(mailbox, [(question(i), None) for i in range(3)] + [
            (make_mail(subject="Re: 1", body="补充", sender="c1@kehu1.cn", message_id="<r@mx>",
                       in_reply_to="<b1@mx>"), None)])
    tickets = [row.ticket for row, _created in results[:3]]
    assert results[3][0].ticket_id == tickets[1].pk
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.number == f"T{ticket.pk:06d}" and ticket.owner_id == agent.pk
        assert ticket.number.lower() in ticket.search_text
        assert list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values_list("kind", flat=True)) == [
            EventKind.CREATED, EventKind.ROUTED]
        entry = AuditEntry.objects.get(object_id=ticket.pk, action=AuditAction.CREATE,
                                       content_type__model="ticket")
        assert entry.changes["owner_id"] == [None, agent.pk] and entry.object_repr.startswith(ticket.number)
    contacts = Contact.objects.filter(email__in=["c0@kehu0.cn", "c1@kehu1.cn", "c2@kehu2.cn"])
    assert AuditEntry.objects.filter(object_id__in=contacts.values("pk"), action=AuditAction.CREATE,
                                     content_type__model="contact").count() == 3
    assert AgentProfile.objects.get(user=agent).availability == Availability.ONLINE

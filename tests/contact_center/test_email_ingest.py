"""Mail in: delivered to a real Dovecot by APPEND, fetched over IMAP, ingested into tickets; acknowledgements
arrive at a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from email.message import EmailMessage

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.contact_center import email_ingest, mail
from guanxi.contact_center.email_imap import sync
from guanxi.contact_center.email_models import EmailAttachment, InboundEmail, InboundStatus, Mailbox
from guanxi.customers.models import ContactMethod
from guanxi.service import services as desk
from guanxi.service.ticket_models import MessageKind, Ticket, TicketStatus


def make_mail(subject="打印机坏了", body="你好，打印机不能用了。", sender="张伟 <Zhang.Wei@Xingchen.CN>",
              message_id="<m1@mx.xingchen.cn>", **headers) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "support@guanxi.test"
    m["Subject"] = subject
    if message_id:
        m["Message-ID"] = message_id
    for key, value in headers.items():
        m[key.replace("_", "-")] = value
    m.set_content(body)
    return m.as_bytes()


def mail_with_attachments(pdf: bytes, big_name: str, big_size: int) -> bytes:
    """A mail with a small PDF (发票.pdf) and a large zip."""
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = "王芳 <w@b.cn>", "support@guanxi.test", "附件", "<att@mx>"
    m.set_content("见附件")
    m.add_attachment(pdf, maintype="application", subtype="pdf", filename="发票.pdf")
    m.add_attachment(b"x" * big_size, maintype="application", subtype="zip", filename=big_name)
    return m.as_bytes()


def poll(mailbox, capture, **kwargs):
    with capture(execute=True):
        result = sync(Mailbox.objects.get(pk=mailbox.pk), **kwargs)
    assert result.error == ""
    return result


def test_new_mail_opens_a_ticket_for_the_sender_and_acknowledges_it(mailbox, dovecot, smtp, zhang,
                                                                    django_capture_on_commit_callbacks):
    account, contact = zhang
    dovecot.append(mailbox.imap_folder, make_mail(Cc="li@xingchen.cn"))
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert (result.fetched, result.created) == (1, 1)
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.contact, ticket.account) == ("打印机坏了", contact, account)
    assert ticket.question_group == mailbox.question_group and ticket.queue == mailbox.question_group.queue
    assert ticket.channel == "email"
    first = ticket.messages.get()
    assert first.kind == MessageKind.REPLY and first.author is None
    assert "你好，打印机不能用了。" in first.body and "li@xingchen.cn" in first.body
    row = InboundEmail.objects.get()
    assert (row.status, row.ticket, row.cc, row.uid) == (InboundStatus.TICKET, ticket, ["li@xingchen.cn"], 1)
    assert len(smtp.messages) == 1
    ack = smtp.messages[0]
    assert ack["To"] == "zhang.wei@xingchen.cn"
    assert f"[#{ticket.number}]" in ack["Subject"] and ack["In-Reply-To"] == "<m1@mx.xingchen.cn>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ticket.number in ack.get_payload()
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1 and mailbox.last_success_at is not None and mailbox.uidvalidity


def test_unknown_sender_becomes_a_contact(mailbox, dovecot, django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, make_mail(sender="王芳 <wang.fang@example.cn>"))
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    assert ticket.contact.name == "王芳" and ticket.contact.email == "wang.fang@example.cn"
    assert ContactMethod.objects.filter(contact=ticket.contact, normalized="wang.fang@example.cn").exists()


def test_replies_thread_by_in_reply_to_and_by_subject_token(mailbox, dovecot, smtp,
                                                            django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, make_mail())
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    ack_id = smtp.messages[0]["Message-ID"]
    dovecot.append(mailbox.imap_folder,
                   make_mail(subject="Re: 打印机坏了", body="型号是 HP 1020", message_id="<m2@mx>",
                             In_Reply_To=ack_id, References=f"<m1@mx.xingchen.cn> {ack_id}"),
                   make_mail(subject=f"还有问题 [#{ticket.number}]", body="又坏了", message_id="<m3@mx>"),
                   make_mail(subject="Re: 打印机坏了", body="补充", message_id="<m4@mx>",
                             In_Reply_To="<m1@mx.xingchen.cn>"))
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert result.statuses == {InboundStatus.THREADED: 3}
    assert Ticket.objects.count() == 1
    bodies = list(ticket.messages.order_by("id").values_list("body", flat=True))
    assert bodies[1:] == ["型号是 HP 1020", "又坏了", "补充"]
    assert len(smtp.messages) == 1  # replies are not acknowledged again


def test_reply_reopens_a_resolved_ticket_and_a_closed_one_gets_a_new_linked_ticket(
        mailbox, dovecot, users, django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, make_mail())
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    ticket = desk.change_status(users["admin"], ticket, TicketStatus.RESOLVED, ticket.version)
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<r1@mx>", In_Reply_To="<m1@mx.xingchen.cn>"))
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.resolved_at is None
    ticket = desk.change_status(users["admin"], ticket, TicketStatus.CLOSED, ticket.version)
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<r2@mx>", In_Reply_To="<r1@mx>"))
    poll(mailbox, django_capture_on_commit_callbacks)
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert ticket.number in new.description
    assert InboundEmail.objects.get(message_id="r2@mx").ticket == new


def test_same_message_twice_and_two_syncs_make_one_ticket(mailbox, dovecot, smtp,
                                                          django_capture_on_commit_callbacks):
    raw = make_mail()
    no_id = make_mail(message_id=None, subject="没有 Message-ID")
    dovecot.append(mailbox.imap_folder, raw, raw, no_id, no_id)  # the server holds each twice
    first = poll(mailbox, django_capture_on_commit_callbacks)
    assert (first.fetched, first.created) == (4, 2)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)  # a restart that forgot how far it got
    again = poll(mailbox, django_capture_on_commit_callbacks)
    assert (again.fetched, again.created) == (4, 0)
    with django_capture_on_commit_callbacks(execute=True):
        row, created = email_ingest.ingest(mailbox, raw)  # a second poller with the same message
    assert not created and row.ticket is not None
    assert Ticket.objects.count() == 2 and InboundEmail.objects.count() == 2
    assert len(smtp.messages) == 2


def test_uidvalidity_change_resyncs_without_duplicates(mailbox, dovecot, django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, make_mail())
    poll(mailbox, django_capture_on_commit_callbacks)
    old_validity = Mailbox.objects.get(pk=mailbox.pk).uidvalidity
    dovecot.recreate(mailbox.imap_folder)
    dovecot.append(mailbox.imap_folder, make_mail(), make_mail(message_id="<new@mx>", subject="新问题"))
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert result.resynced and (result.fetched, result.created) == (2, 1)
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != old_validity and mailbox.last_uid == 2
    assert Ticket.objects.count() == 2


DSN = (b"From: MAILER-DAEMON@mx.guanxi.test\r\nTo: support@guanxi.test\r\nSubject: Undelivered Mail\r\n"
       b"Message-ID: <dsn1@mx>\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\r\n\r\n"
       b"--BB\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
       b"--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.guanxi.test\r\n\r\n"
       b"Final-Recipient: rfc822; Zhang.Wei@Xingchen.CN\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--BB--\r\n")


def test_bounce_marks_the_address_undeliverable_and_opens_no_ticket(mailbox, dovecot, smtp, zhang,
                                                                    django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, DSN)
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert result.statuses == {InboundStatus.BOUNCE: 1}
    method = ContactMethod.objects.get(contact=zhang[1], kind="email")
    assert method.invalid_since is not None and method.invalid_reason == "Undelivered Mail"
    assert Ticket.objects.count() == 0 and smtp.messages == []
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<after-bounce@mx>"))
    poll(mailbox, django_capture_on_commit_callbacks)
    assert Ticket.objects.count() == 1 and smtp.messages == []  # no acknowledgement to a bounced address


def test_auto_reply_is_stored_but_never_acknowledged(mailbox, dovecot, smtp, django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, make_mail(subject="自动回复: 休假中", Auto_Submitted="auto-replied"),
                   make_mail(subject="Out of office", message_id="<m9@mx>", X_Autoreply="yes"))
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert result.statuses == {InboundStatus.AUTO_REPLY: 2}
    assert smtp.messages == [] and Ticket.objects.count() == 0


def test_acknowledgements_are_capped_per_sender_per_hour(mailbox, dovecot, smtp, settings,
                                                         django_capture_on_commit_callbacks):
    settings.EMAIL_ACK_PER_HOUR = 2
    dovecot.append(mailbox.imap_folder, *[make_mail(message_id=f"<loop{i}@mx>", subject=f"问题 {i}")
                                          for i in range(4)])
    poll(mailbox, django_capture_on_commit_callbacks)
    assert Ticket.objects.count() == 4 and len(smtp.messages) == 2


def test_malformed_mime_is_quarantined_with_its_reason_and_kept(mailbox, dovecot, django_capture_on_commit_callbacks):
    broken = (b"From: a@b.cn\r\nSubject: broken\r\nMessage-ID: <broken@mx>\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/mixed; boundary=\"NEVER\"\r\n\r\nno parts here at all\r\n")
    dovecot.append(mailbox.imap_folder, broken, make_mail())
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert result.statuses == {InboundStatus.QUARANTINED: 1, InboundStatus.TICKET: 1}
    row = InboundEmail.objects.get(status=InboundStatus.QUARANTINED)
    assert "broken MIME" in row.reason
    with row.raw.open("rb") as f:
        assert f.read().replace(b"\r\n", b"\n") == broken.replace(b"\r\n", b"\n")
    again = poll(mailbox, django_capture_on_commit_callbacks, since_days=2)  # reconcile: still one row
    assert again.created == 0 and InboundEmail.objects.count() == 2


def test_oversize_attachment_is_refused_with_a_visible_reason(mailbox, dovecot, settings,
                                                              django_capture_on_commit_callbacks):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 1000
    dovecot.append(mailbox.imap_folder, mail_with_attachments(b"%PDF small", "big.zip", 5000))
    poll(mailbox, django_capture_on_commit_callbacks)
    small = EmailAttachment.objects.get(filename="发票.pdf")
    with small.file.open("rb") as f:
        assert f.read() == b"%PDF small"
    big = EmailAttachment.objects.get(filename="big.zip")
    assert not big.file and big.size == 5000 and "1000 bytes" in big.refused
    body = Ticket.objects.get().messages.get().body
    assert "big.zip" in body and "refused" in body and "发票.pdf" in body


def test_unreachable_imap_server_records_the_error(mailbox):
    from tests.contact_center.conftest import free_port

    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=free_port())
    result = sync(Mailbox.objects.get(pk=mailbox.pk))
    assert "ConnectionRefused" in result.error
    mailbox.refresh_from_db()
    assert "ConnectionRefused" in mailbox.last_error and mailbox.last_error_at and mailbox.last_success_at is None


def test_wrong_password_records_the_error(mailbox, users):
    from guanxi.contact_center.email_services import update_mailbox

    update_mailbox(users["admin"], mailbox, {"imap_password": "wrong"})
    result = sync(Mailbox.objects.get(pk=mailbox.pk))
    assert result.error and Mailbox.objects.get(pk=mailbox.pk).last_error == result.error


def test_ingest_queries_do_not_grow_with_the_mailbox(mailbox, django_capture_on_commit_callbacks):
    counts = []
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as ctx:
            email_ingest.ingest(mailbox, make_mail(message_id=f"<q{i}@mx>", sender=f"p{i}@example.cn"))
        counts.append(len(ctx.captured_queries))
    assert counts[1] == counts[2] and counts[2] <= 60
    assert mail.ticket_token(f"[#{Ticket.objects.last().number}]")


def test_mail_from_our_own_address_does_not_loop_and_nul_bytes_are_dropped(mailbox, smtp,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row, _ = email_ingest.ingest(mailbox, make_mail(sender="support@guanxi.test", message_id="<own@mx>"))
        nul, _ = email_ingest.ingest(mailbox, make_mail(subject="零\x00字节", body="a\x00b", message_id="<nul@mx>"))
    assert row.status == InboundStatus.AUTO_REPLY and row.ticket is None
    assert nul.status == InboundStatus.TICKET and nul.ticket.subject == "零字节"
    assert len(smtp.messages) == 1  # only the real customer's acknowledgement


def test_a_message_over_the_size_cap_stays_on_the_server_and_is_read_once_the_cap_allows(
        mailbox, dovecot, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_MESSAGE_MAX_BYTES = 3000
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<huge@mx>", body="大" * 3000), make_mail())
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert result.statuses == {InboundStatus.QUARANTINED: 1, InboundStatus.TICKET: 1}
    row = InboundEmail.objects.get(message_id="huge@mx")
    assert row.status == InboundStatus.QUARANTINED and "larger than the 2.9 KB limit" in row.reason
    settings.EMAIL_MESSAGE_MAX_BYTES = 100_000
    again = poll(mailbox, django_capture_on_commit_callbacks, since_days=1)  # the reconcile reads it now
    assert again.created == 1 and InboundEmail.objects.get(message_id="huge@mx").status == InboundStatus.TICKET
    assert Ticket.objects.count() == 2 and InboundEmail.objects.count() == 2


def test_a_loop_with_another_auto_responder_ends_at_the_cap_and_says_why(mailbox, dovecot, smtp, settings, client,
                                                                         users, django_capture_on_commit_callbacks):
    """Their robot answers every mail it gets with a new one — no Auto-Submitted header, no reference to ours (the
    worst kind); ours acknowledges each new ticket. After EMAIL_ACK_PER_HOUR acknowledgements ours goes quiet, so
    the loop ends; every mail their robot sent is kept on a ticket, and the last one says why it got no answer."""
    robot = "noreply@partner.example.cn"
    dovecot.append(mailbox.imap_folder, make_mail(sender=robot, message_id="<r0@partner>", subject="您的来信已收到"))
    answered = 0
    for round_ in range(1, 10):
        poll(mailbox, django_capture_on_commit_callbacks)
        if len(smtp.messages) == answered:
            break  # ours said nothing new: their robot has nothing to answer
        for ack in smtp.messages[answered:]:  # their robot answers each acknowledgement with a fresh mail
            assert ack["To"] == robot
            dovecot.append(mailbox.imap_folder, make_mail(sender=robot, message_id=f"<r{round_}@partner>",
                                                          subject=f"您的来信已收到 {round_}"))
        answered = len(smtp.messages)
    assert answered == settings.EMAIL_ACK_PER_HOUR == 3 and round_ == 4  # the fourth mail got no answer
    rows = list(InboundEmail.objects.filter(from_address=robot).order_by("uid"))
    assert len(rows) == 4 and all(r.status == InboundStatus.TICKET for r in rows)  # nothing they sent is lost
    assert [bool(r.reason) for r in rows] == [False, False, False, True]
    assert rows[-1].reason == (f"No acknowledgement sent: {robot} already had 3 automatic answers in the last hour "
                               "(mail-loop guard).")
    client.force_login(users["admin"])
    panel = client.get(reverse("contact_center:ticket_email", args=[rows[-1].ticket_id])).content.decode()
    assert "mail-loop guard" in panel


def test_a_50_mb_attachment_is_refused_with_its_reason_and_the_mail_around_it_is_kept(
        mailbox, dovecot, django_capture_on_commit_callbacks):
    """A real 50 MB file under the default limits (25 MB an attachment): the message is read, the file is refused
    with the reason on the ticket, and the mails before and after it in the same poll are ingested too."""
    big = 50 * 1024 * 1024
    dovecot.append(mailbox.imap_folder, make_mail(message_id="<before@mx>", subject="之前"),
                   mail_with_attachments(b"%PDF small", "影像资料.zip", big), make_mail(message_id="<after@mx>",
                                                                                    subject="之后"))
    result = poll(mailbox, django_capture_on_commit_callbacks)
    assert result.statuses == {InboundStatus.TICKET: 3}
    refused = EmailAttachment.objects.get(filename="影像资料.zip")
    assert not refused.file and refused.size == big and "25.0 MB" in refused.refused
    body = Ticket.objects.get(subject="附件").messages.get().body
    assert "影像资料.zip" in body and "refused" in body and "发票.pdf" in body
    assert EmailAttachment.objects.get(filename="发票.pdf").file
    assert set(Ticket.objects.values_list("subject", flat=True)) == {"之前", "附件", "之后"}

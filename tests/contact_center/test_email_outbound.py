"""Mail out: an agent's reply on an email ticket reaches the customer's thread through real SMTP (aiosmtpd), and
the customer's answer to it threads back; mailbox passwords are encrypted at rest."""

from __future__ import annotations

import datetime as dt
from email.header import decode_header, make_header

from django.db import connection

from guanxi.contact_center import email_ingest
from guanxi.contact_center.email_models import Mailbox, OutboundEmail, OutboundKind
from guanxi.contact_center.email_outbound import retry_unsent
from guanxi.service import services as desk
from guanxi.service.ticket_models import Ticket
from tests.contact_center.conftest import free_port
from tests.contact_center.test_email_ingest import make_mail


def test_agent_reply_goes_out_threaded_and_the_answer_comes_back_to_the_ticket(
        mailbox, smtp, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_ingest.ingest(mailbox, make_mail(Cc="li@xingchen.cn"))
    ticket = Ticket.objects.get()
    ack = smtp.messages[0]
    with django_capture_on_commit_callbacks(execute=True):
        desk.reply(users["admin"], ticket, "请重启打印机再试。")
    assert len(smtp.messages) == 2
    sent = smtp.messages[1]
    assert sent["To"] == "zhang.wei@xingchen.cn" and sent["Cc"] == "li@xingchen.cn"
    assert str(make_header(decode_header(sent["Subject"]))) == f"Re: 打印机坏了 [#{ticket.number}]"
    assert sent["In-Reply-To"] == "<m1@mx.xingchen.cn>"
    assert sent["References"] == f"<m1@mx.xingchen.cn> {ack['Message-ID']}"
    assert sent["Auto-Submitted"] is None and "请重启打印机再试。" in sent.get_payload(decode=True).decode()
    out = OutboundEmail.objects.get(kind=OutboundKind.REPLY)
    assert out.sent_at is not None and f"<{out.message_id}>" == sent["Message-ID"]
    with django_capture_on_commit_callbacks(execute=True):
        row, created = email_ingest.ingest(mailbox, make_mail(subject="Re: 打印机坏了", body="好了，谢谢",
                                                              message_id="<m5@mx>", In_Reply_To=sent["Message-ID"]))
    assert created and row.ticket == ticket and Ticket.objects.count() == 1


def test_notes_and_tickets_not_from_email_send_nothing(mailbox, smtp, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_ingest.ingest(mailbox, make_mail())
        ticket = Ticket.objects.get()
        desk.add_note(users["admin"], ticket, "内部备注")
        other = desk.create_ticket(users["admin"], {"subject": "电话来的"})
        desk.reply(users["admin"], other, "好的")
    assert len(smtp.messages) == 1  # the acknowledgement only


def test_a_failed_send_is_kept_and_retried(mailbox, smtp, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_ingest.ingest(mailbox, make_mail())
    Mailbox.objects.filter(pk=mailbox.pk).update(smtp_port=free_port())  # the SMTP server is down
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        message = desk.reply(users["admin"], ticket, "稍等")
    out = OutboundEmail.objects.get(kind=OutboundKind.REPLY)
    assert out.sent_at is None and out.attempts == 1 and "Connection" in out.error
    assert message.pk  # the reply itself is stored whatever SMTP did
    Mailbox.objects.filter(pk=mailbox.pk).update(smtp_port=smtp.port)
    assert retry_unsent(out.created_at + dt.timedelta(minutes=2)) == 1
    assert len(smtp.messages) == 2 and OutboundEmail.objects.get(pk=out.pk).sent_at is not None


def test_passwords_are_encrypted_at_rest(mailbox, dovecot):
    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password_enc, smtp_password_enc FROM contact_center_mailbox WHERE id = %s",
                       [mailbox.pk])
        imap_column, smtp_column = cursor.fetchone()
    assert imap_column and dovecot.password not in imap_column
    assert smtp_column == ""
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == dovecot.password

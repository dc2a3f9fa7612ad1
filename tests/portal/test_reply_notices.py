"""A customer who opened a ticket in the portal is e-mailed when an agent replies in public (a real aiosmtpd): one
mail per reply with the reply and the ticket's portal link; none for an internal note, for the customer's own
message or for a ticket entered by staff; with the mail server down the reply stands and the sweep sends the
notice once the server is up, once."""

import datetime as dt
import re
from email.header import decode_header, make_header

from django.utils import timezone

from guanxi.portal import jobs
from guanxi.portal.models import ReplyNotice
from guanxi.service import customer_services
from guanxi.service import services as desk_services
from guanxi.service.ticket_models import TicketMessage
from tests.contact_center.mailservers import free_port
from tests.sales.quotes.test_quote_views import smtp_server, use_smtp


def _portal_ticket(orgs, desk):
    return customer_services.submit_ticket(orgs["contact_a"], {"subject": "发票抬头写错了",
                                                               "question_group_id": desk["billing"].pk,
                                                               "language": "en"})


def _as_agent(capture, action, ticket, body, users):
    ticket.refresh_from_db()
    with capture(execute=True):
        return action(users["admin"], ticket, body)


def test_an_agents_reply_on_a_portal_ticket_mails_its_contact_once_with_the_portal_link(
        orgs, desk, users, customers_in, smtp, client, django_capture_on_commit_callbacks):
    from tests.portal.conftest import portal_login

    ticket = _portal_ticket(orgs, desk)
    reply = _as_agent(django_capture_on_commit_callbacks, desk_services.reply, ticket, "已为您重新开具发票。", users)
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "zhang.wei@xingchen.cn"
    assert ticket.number in str(make_header(decode_header(mail["Subject"])))
    text = mail.get_payload(decode=True).decode()
    assert "已为您重新开具发票。" in text
    url = re.search(r"https?://\S+", text).group(0)
    assert url.endswith(f"/portal/tickets/{ticket.pk}/")
    page = portal_login(client, customers_in["zhang"]).get("/" + url.split("/", 3)[3])
    assert page.status_code == 200 and "已为您重新开具发票。" in page.content.decode()

    row = ReplyNotice.objects.get()
    assert row.message == reply and row.sent_at is not None and row.attempts == 1
    from guanxi.portal import notices

    assert notices.send_notices([row.pk]) == 0  # sent already: not again
    assert jobs.retry_reply_notices(timezone.now() + dt.timedelta(hours=1)) == 0
    assert len(smtp.messages) == 1


def test_no_mail_for_an_internal_note_the_customers_own_reply_or_a_ticket_entered_by_staff(
        orgs, desk, users, smtp, staff_ticket, django_capture_on_commit_callbacks):
    ticket = _portal_ticket(orgs, desk)
    _as_agent(django_capture_on_commit_callbacks, desk_services.add_note, ticket, "客户是老客户，优先处理", users)
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.customer_reply(orgs["contact_a"], ticket, "请尽快处理，谢谢")
    _as_agent(django_capture_on_commit_callbacks, desk_services.reply, staff_ticket, "打印机驱动已更新。", users)
    assert TicketMessage.objects.filter(ticket__in=[ticket, staff_ticket]).count() == 3
    assert smtp.messages == [] and not ReplyNotice.objects.exists()


def test_with_the_mail_server_down_the_reply_stands_and_the_sweep_sends_the_notice_once(
        orgs, desk, users, settings, django_capture_on_commit_callbacks):
    port = free_port()  # nothing listens here yet
    use_smtp(settings, port)
    settings.EMAIL_TIMEOUT = 5
    ticket = _portal_ticket(orgs, desk)
    reply = _as_agent(django_capture_on_commit_callbacks, desk_services.reply, ticket, "请提供订单号。", users)
    assert TicketMessage.objects.filter(pk=reply.pk).exists()  # the reply is saved
    row = ReplyNotice.objects.get(message=reply)
    assert row.sent_at is None and row.attempts == 1 and "Connection" in row.error  # kept for the sweep (and admin)

    now = timezone.now()
    assert jobs.retry_reply_notices(now) == 0  # tried just now: left alone
    with smtp_server(port) as inbox:
        assert jobs.retry_reply_notices(now + dt.timedelta(minutes=3)) == 1
        assert jobs.retry_reply_notices(now + dt.timedelta(minutes=10)) == 0
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "zhang.wei@xingchen.cn"
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and row.error == ""


def test_a_portal_ticket_the_customer_also_wrote_on_by_email_gets_the_reply_in_that_thread_only(
        orgs, desk, users, smtp, settings, django_capture_on_commit_callbacks):
    from guanxi.contact_center.email_models import InboundEmail, InboundStatus, Mailbox, Security

    mailbox = Mailbox.objects.create(name="客服", address="support@guanxi.test", imap_host="127.0.0.1",
                                     imap_user="support", smtp_host=settings.EMAIL_HOST,
                                     smtp_port=settings.EMAIL_PORT, smtp_security=Security.NONE)
    ticket = _portal_ticket(orgs, desk)
    InboundEmail.objects.create(mailbox=mailbox, message_id="abc@xingchen.cn", status=InboundStatus.THREADED,
                                from_address="zhang.wei@xingchen.cn", subject="Re: 发票抬头写错了", ticket=ticket)
    _as_agent(django_capture_on_commit_callbacks, desk_services.reply, ticket, "已为您重新开具发票。", users)
    assert len(smtp.messages) == 1  # the threaded reply, not a notice as well
    assert smtp.messages[0]["In-Reply-To"] == "<abc@xingchen.cn>"
    row = ReplyNotice.objects.get()
    assert row.sent_at is None and "thread" in row.error
    assert jobs.retry_reply_notices(timezone.now() + dt.timedelta(hours=1)) == 0

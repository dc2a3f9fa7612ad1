"""A logging address: users BCC it, or forward mail to it, from their own mail client; the mail lands on the
timelines of the contacts it was with (an email activity by that user), never as a ticket. Delivered to the real
Dovecot and read over IMAP like any mail."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.urls import reverse
from django.utils import timezone

from guanxi.activities.models import Activity
from guanxi.contact_center import email_services
from guanxi.contact_center.email_models import InboundEmail, InboundStatus
from guanxi.customers import services as customers
from guanxi.service.ticket_models import Ticket
from tests.contact_center.test_email_ingest import poll

REP = "rep.a@guanxi.test"


@pytest.fixture
def logbox(users, mailbox):
    users["rep_a"].email = "Rep.A@Guanxi.Test"
    users["rep_a"].save(update_fields=["email"])
    return email_services.update_mailbox(users["admin"], mailbox, {"mode": "logging", "address": "log@guanxi.test"})


def message(subject: str, body: str, sender: str = f"李销售 <{REP}>", to: str = "张伟 <zhang.wei@xingchen.cn>",
            message_id: str = "<log1@guanxi.test>", **headers) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = sender, to, subject, message_id
    m["Date"] = "Mon, 23 Nov 2026 10:00:00 +0800"
    for key, value in headers.items():
        m[key] = value
    m.set_content(body)
    return m


def deliver(logbox, dovecot, capture, *messages) -> None:
    dovecot.append(logbox.imap_folder, *[m.as_bytes() for m in messages])
    poll(logbox, capture)


def test_bcc_logs_the_mail_the_user_sent_on_each_contact_and_lists_unknown_addresses(
        client, users, logbox, dovecot, zhang, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    account, contact = zhang
    deliver(logbox, dovecot, django_capture_on_commit_callbacks,
            message("报价单", "张总您好，附上报价。", Cc=f"陌生人 <nobody@unknown.cn>, log@guanxi.test, {REP}"))
    activity = Activity.objects.get()
    assert (activity.kind, activity.direction, activity.contact, activity.account) == ("email", "out", contact,
                                                                                      account)
    assert activity.author == users["rep_a"] and activity.subject == "报价单"
    assert "张总您好，附上报价。" in activity.body and "zhang.wei@xingchen.cn" in activity.body
    assert activity.occurred_at.isoformat() == "2026-11-23T02:00:00+00:00"
    assert not Ticket.objects.exists()
    row = InboundEmail.objects.get()
    assert row.status == InboundStatus.LOGGED and row.unmatched == "nobody@unknown.cn"  # ours and users left out
    client.force_login(users["admin"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("contact_center:mailbox_health", args=[logbox.pk])).content.decode()
    assert 'id="unmatched"' in page and "nobody@unknown.cn" in page
    # Once, in the page: the browser's title holds the mailbox's name only (it once held the whole table too).
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert page.count('id="unmatched"') == 1 and "<" not in title and "nobody@unknown.cn" not in title
    client.force_login(users["rep_a"])
    assert "报价单" in client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()


def test_logging_the_same_mail_again_changes_nothing(logbox, dovecot, zhang, django_capture_on_commit_callbacks):
    mail = message("报价单", "附上报价。")
    deliver(logbox, dovecot, django_capture_on_commit_callbacks, mail, mail)  # e.g. BCC'd and forwarded copy
    poll(logbox, django_capture_on_commit_callbacks, since_days=30)  # and a reconcile
    assert Activity.objects.count() == 1 and InboundEmail.objects.count() == 1


FOXMAIL = """请跟进这个客户。

------------------ 原始邮件 ------------------
发件人: "张伟"<zhang.wei@xingchen.cn>;
发送时间: 2026年11月20日(星期五) 下午3:05
收件人: "李销售"<rep.a@guanxi.test>;
主题: 合同条款

合同第三条需要修改。
"""

OUTLOOK = """FYI

-----Original Message-----
From: Zhang Wei [mailto:zhang.wei@xingchen.cn]
Sent: Friday, November 20, 2026 3:05 PM
To: Rep A <rep.a@guanxi.test>
Subject: Contract terms

Clause 3 must change.
"""


@pytest.mark.parametrize(("subject", "body", "original", "text"), [
    ("转发：合同条款", FOXMAIL, "合同条款", "合同第三条需要修改。"),
    ("FW: Contract terms", OUTLOOK, "Contract terms", "Clause 3 must change."),
])
def test_a_forward_logs_the_original_as_received_from_its_sender(logbox, dovecot, zhang, subject, body, original,
                                                                 text, django_capture_on_commit_callbacks):
    _account, contact = zhang
    deliver(logbox, dovecot, django_capture_on_commit_callbacks, message(subject, body, to="log@guanxi.test"))
    activity = Activity.objects.get()
    assert (activity.direction, activity.contact, activity.subject) == ("in", contact, original)
    assert text in activity.body and "请跟进" not in activity.body and "FYI" not in activity.body
    assert timezone.localtime(activity.occurred_at).strftime("%Y-%m-%d %H:%M") == "2026-11-20 15:05"  # server's zone
    assert InboundEmail.objects.get().status == InboundStatus.LOGGED


def test_a_forward_as_attachment(logbox, dovecot, zhang, django_capture_on_commit_callbacks):
    _account, contact = zhang
    original = message("发票问题", "发票抬头错了。", sender="张伟 <zhang.wei@xingchen.cn>", to=REP,
                       message_id="<orig@xingchen.cn>")
    forward = message("Fwd: 发票问题", "见附件", to="log@guanxi.test")
    forward.add_attachment(original)
    deliver(logbox, dovecot, django_capture_on_commit_callbacks, forward)
    activity = Activity.objects.get()
    assert (activity.direction, activity.contact, activity.subject) == ("in", contact, "发票问题")
    assert "发票抬头错了。" in activity.body


def test_two_contacts_with_one_address_both_get_it(users, logbox, dovecot, zhang,
                                                   django_capture_on_commit_callbacks):
    other = customers.create_contact(users["rep_b"], {"name": "张伟（旧）", "emails": ["zhang.wei@xingchen.cn"]})
    deliver(logbox, dovecot, django_capture_on_commit_callbacks, message("报价单", "附上报价。"))
    assert set(Activity.objects.values_list("contact_id", flat=True)) == {zhang[1].pk, other.pk}


def test_mail_from_anyone_but_a_user_is_quarantined_never_logged(logbox, dovecot, zhang,
                                                                 django_capture_on_commit_callbacks):
    deliver(logbox, dovecot, django_capture_on_commit_callbacks,
            message("报价单", "附上报价。", sender="张伟 <zhang.wei@xingchen.cn>", to="log@guanxi.test"),
            message("Out of office", "away", message_id="<ooo@x>", **{"Auto-Submitted": "auto-replied"}))
    assert not Activity.objects.exists() and not Ticket.objects.exists()
    rows = {r.message_id: r for r in InboundEmail.objects.all()}
    assert rows["log1@guanxi.test"].status == InboundStatus.QUARANTINED
    assert "zhang.wei@xingchen.cn is not a Guanxi user" in rows["log1@guanxi.test"].reason
    assert rows["log1@guanxi.test"].raw  # kept whole for the administrator
    assert rows["ooo@x"].status == InboundStatus.QUARANTINED


def test_mail_with_nobody_known_is_logged_nowhere(logbox, dovecot, django_capture_on_commit_callbacks):
    deliver(logbox, dovecot, django_capture_on_commit_callbacks, message("你好", "初次联系", to="new@prospect.cn"))
    row = InboundEmail.objects.get()
    assert (row.status, row.unmatched) == (InboundStatus.NO_CONTACT, "new@prospect.cn")
    assert not Activity.objects.exists()

"""Threading by the subject token alone ("[#T000123]", no In-Reply-To we know): a token is easy to copy, so it
joins the ticket only for its contact, an address already on the ticket's mail, or the contact's own company
domain. Anyone else gets a new ticket that names the token (hijack protection)."""

from __future__ import annotations

import pytest

from guanxi.contact_center import mail
from guanxi.contact_center.email_models import InboundEmail, InboundStatus
from guanxi.service.ticket_models import Ticket
from tests.contact_center.test_email_ingest import make_mail, poll


@pytest.fixture
def first(mailbox, dovecot, zhang, django_capture_on_commit_callbacks):
    """张伟's ticket, opened by mail copied to 李 at the same company and to a partner."""
    dovecot.append(mailbox.imap_folder, make_mail(Cc="li@xingchen.cn, partner@agency.com"))
    poll(mailbox, django_capture_on_commit_callbacks)
    return Ticket.objects.get()


def send(mailbox, dovecot, capture, sender: str, number: str, n: int) -> InboundEmail:
    dovecot.append(mailbox.imap_folder, make_mail(subject=f"Re: 打印机坏了 [#{number}]", body=f"补充 {n}",
                                                  sender=sender, message_id=f"<token{n}@mx>"))
    poll(mailbox, capture)
    return InboundEmail.objects.get(message_id=f"token{n}@mx")


@pytest.mark.parametrize("sender", ["张伟 <zhang.wei@xingchen.cn>",  # the contact
                                    "partner@agency.com",  # copied on the ticket before
                                    "王强 <wang.qiang@xingchen.cn>"])  # a colleague at the contact's company
def test_the_token_threads_mail_from_people_of_the_ticket(first, mailbox, dovecot, sender,
                                                          django_capture_on_commit_callbacks):
    row = send(mailbox, dovecot, django_capture_on_commit_callbacks, sender, first.number, 1)
    assert (row.status, row.ticket) == (InboundStatus.THREADED, first)
    assert Ticket.objects.count() == 1 and "补充 1" in first.messages.order_by("-id").first().body


def test_a_stranger_with_the_token_gets_a_new_ticket_that_names_it(first, mailbox, dovecot,
                                                                   django_capture_on_commit_callbacks):
    row = send(mailbox, dovecot, django_capture_on_commit_callbacks, "mallory@evil.example", first.number, 2)
    assert row.status == InboundStatus.TICKET and row.ticket != first
    new = row.ticket
    assert new.contact.email == "mallory@evil.example" and new.subject == "Re: 打印机坏了"
    assert f"The subject names ticket {first.number}, but the sender is not on that ticket" in new.description
    assert first.messages.count() == 1  # nothing added to the real ticket


def test_a_public_mail_domain_is_no_company(mailbox, dovecot, django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, make_mail(sender="客户 <kehu@qq.com>"))
    poll(mailbox, django_capture_on_commit_callbacks)
    first = Ticket.objects.get()
    row = send(mailbox, dovecot, django_capture_on_commit_callbacks, "other@qq.com", first.number, 3)
    assert row.ticket != first and Ticket.objects.count() == 2


def test_the_rule_without_a_database():
    contact = {"zhang.wei@xingchen.cn"}
    assert mail.may_use_token("zhang.wei@xingchen.cn", contact, set())
    assert mail.may_use_token("li@xingchen.cn", contact, set())
    assert mail.may_use_token("p@agency.com", contact, {"p@agency.com"})
    assert not mail.may_use_token("x@xingchen.cn.evil.com", contact, set())
    assert not mail.may_use_token("", contact, set())
    assert not mail.may_use_token("a@qq.com", {"b@qq.com"}, set())

"""Suggested answers: each new email ticket gets the knowledge-base articles matching its question (jieba
keywords), shown on the ticket with "Insert into reply"; where an administrator allows it for the question group,
a good enough public article is mailed at once (real Dovecot in, real SMTP out) and the ticket waits on the
customer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.contact_center import email_services
from guanxi.contact_center.email_kb_models import EmailAutoResponse, KnowledgeSuggestion
from guanxi.contact_center.email_models import OutboundEmail
from guanxi.knowledge import services as kb_services
from guanxi.service.ticket_models import EventKind, MessageKind, Ticket, TicketStatus
from tests.contact_center.test_email_ingest import make_mail, poll

QUESTION = make_mail(subject="怎么重置密码？", body="你好，我忘记了登录密码，怎么重置密码？谢谢。",
                     message_id="<pw@mx.cn>")


@pytest.fixture
def articles(users):
    admin = users["admin"]
    make = kb_services.create_article
    return {
        "reset": make(admin, {"title": "如何重置密码", "body": "打开设置，点击“忘记密码”，按短信验证码重置。",
                              "visibility": "public", "status": "published"}),
        "internal": make(admin, {"title": "密码重置的内部流程", "body": "核对身份后在后台重置密码。",
                                 "visibility": "internal", "status": "published"}),
        "invoice": make(admin, {"title": "发票开具流程", "body": "开票信息需与合同一致。", "visibility": "public",
                                "status": "published"}),
        "draft": make(admin, {"title": "重置密码（草稿）", "body": "草稿", "visibility": "public"}),
    }


def text(message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def allow(users, group, **data):
    return email_services.set_auto_response(users["admin"], group, {"enabled": True, "min_score": 6, **data})


def test_a_new_email_ticket_gets_the_matching_articles_best_first(mailbox, dovecot, smtp, articles,
                                                                  django_capture_on_commit_callbacks):
    dovecot.append(mailbox.imap_folder, QUESTION)
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    suggested = list(KnowledgeSuggestion.objects.filter(ticket=ticket))
    assert [s.article for s in suggested][:2] == [articles["reset"], articles["internal"]]
    assert articles["invoice"] not in [s.article for s in suggested]  # nothing in common
    assert articles["draft"] not in [s.article for s in suggested]  # not published
    assert suggested[0].score > suggested[1].score and not any(s.sent for s in suggested)
    # No automatic answer without an administrator's permission: the ordinary acknowledgement went.
    assert [m["Auto-Submitted"] for m in smtp.messages] == ["auto-replied"]
    assert OutboundEmail.objects.get().kind == "ack" and ticket.status == TicketStatus.NEW


def test_the_panel_lists_them_and_inserts_a_link_or_the_text(client, users, mailbox, dovecot, articles,
                                                              django_capture_on_commit_callbacks,
                                                              django_assert_max_num_queries):
    dovecot.append(mailbox.imap_folder, QUESTION)
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    client.force_login(users["admin"])
    with django_assert_max_num_queries(12):
        html = client.get(reverse("contact_center:ticket_email", args=[ticket.pk])).content.decode()
    assert 'id="kb-suggestions"' in html and "如何重置密码" in html and "Insert into reply" in html
    assert f'data-insert-url="{reverse("contact_center:suggestion_text", args=[ticket.pk])}"' in html
    url = reverse("contact_center:suggestion_text", args=[ticket.pk])
    public = client.get(url, {"id": articles["reset"].pk}).json()["text"]
    assert public.startswith("如何重置密码: ") and public.endswith(f"/portal/kb/{articles['reset'].pk}/")
    internal = client.get(url, {"id": articles["internal"].pk}).json()["text"]
    assert "核对身份后在后台重置密码。" in internal and "/portal/" not in internal
    assert client.get(url, {"id": articles["invoice"].pk}).status_code == 404  # not suggested for this ticket
    assert client.get(url, {"id": "x"}).status_code == 404
    client.force_login(users["rep_b"])  # may not see the ticket
    assert client.get(url, {"id": articles["reset"].pk}).status_code == 404


def test_an_allowed_group_answers_from_the_knowledge_base_and_waits_on_the_customer(
        users, mailbox, dovecot, smtp, articles, django_capture_on_commit_callbacks):
    allow(users, mailbox.question_group)
    dovecot.append(mailbox.imap_folder, QUESTION)
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    assert len(smtp.messages) == 1  # the answer carries the ticket number: no acknowledgement besides
    answer = smtp.messages[0]
    body = text(answer)
    assert answer["Auto-Submitted"] == "auto-replied" and answer["In-Reply-To"] == "<pw@mx.cn>"
    assert f"[#{ticket.number}]" in answer["Subject"] and ticket.number in body
    assert "如何重置密码" in body and f"/portal/kb/{articles['reset'].pk}/" in body
    assert "密码重置的内部流程" not in body  # internal articles are never mailed to customers
    assert OutboundEmail.objects.get().kind == "auto"
    assert ticket.status == TicketStatus.WAITING and ticket.paused_at is not None
    note = ticket.messages.get(kind=MessageKind.NOTE)
    assert "Answered automatically" in note.body and "如何重置密码" in note.body
    event = ticket.events.get(kind=EventKind.STATUS)
    assert event.data == {"old": "new", "new": "waiting", "automatic": True} and event.actor is None
    assert KnowledgeSuggestion.objects.get(ticket=ticket, article=articles["reset"]).sent


def test_a_weak_match_only_suggests_and_a_custom_message_is_used(users, mailbox, dovecot, smtp, articles,
                                                                 django_capture_on_commit_callbacks):
    allow(users, mailbox.question_group, min_score=50)
    dovecot.append(mailbox.imap_folder, QUESTION)
    poll(mailbox, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    assert ticket.status == TicketStatus.NEW and OutboundEmail.objects.get().kind == "ack"
    assert KnowledgeSuggestion.objects.filter(ticket=ticket).exists()
    allow(users, mailbox.question_group, min_score=3, template="{customer}，您好！工单 {ticket}：\n{articles}")
    dovecot.append(mailbox.imap_folder, make_mail(subject="重置密码", body="忘记密码", message_id="<pw2@mx.cn>",
                                                  sender="王芳 <wang@example.cn>"))
    poll(mailbox, django_capture_on_commit_callbacks)
    second = Ticket.objects.exclude(pk=ticket.pk).get()
    answer = text(smtp.messages[-1])
    assert answer.startswith(f"王芳，您好！工单 {second.number}：") and "如何重置密码" in answer


def test_automatic_answers_share_the_acknowledgement_cap(settings, users, mailbox, dovecot, smtp, articles,
                                                         django_capture_on_commit_callbacks):
    settings.EMAIL_ACK_PER_HOUR = 1
    allow(users, mailbox.question_group)
    dovecot.append(mailbox.imap_folder, QUESTION,
                   make_mail(subject="还是重置密码", body="重置密码不行", message_id="<pw3@mx.cn>"))
    poll(mailbox, django_capture_on_commit_callbacks)
    assert Ticket.objects.count() == 2 and len(smtp.messages) == 1
    assert sorted(Ticket.objects.values_list("status", flat=True)) == ["new", "waiting"]


def test_only_administrators_set_automatic_answers_on_the_page(client, users, support_queue):
    _queue, group = support_queue
    url = reverse("contact_center:auto_answers")
    client.force_login(users["manager_a"])
    assert client.get(url).status_code == 403
    client.force_login(users["admin"])
    page = client.get(url).content.decode()
    assert f'data-group="{group.pk}"' in page and "{articles}" in page
    prefix = f"g{group.pk}-"
    bad = client.post(url, {"group": group.pk, prefix + "enabled": "on", prefix + "min_score": "0"})
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
    assert not EmailAutoResponse.objects.exists()
    ok = client.post(url, {"group": group.pk, prefix + "enabled": "on", prefix + "min_score": "4",
                           prefix + "max_articles": "2", prefix + "template": "工单 {ticket}"})
    assert ok.status_code == 302
    setting = EmailAutoResponse.objects.get(question_group=group)
    assert (setting.enabled, setting.min_score, setting.max_articles, setting.template) == (True, 4, 2, "工单 {ticket}")


def test_bulk_and_automatic_mail_is_never_answered(users, mailbox, dovecot, smtp, articles,
                                                   django_capture_on_commit_callbacks):
    allow(users, mailbox.question_group)
    dovecot.append(mailbox.imap_folder,
                   make_mail(subject="重置密码", body="重置密码", message_id="<bulk@mx>", Precedence="bulk"),
                   make_mail(subject="自动回复：重置密码", body="重置密码", message_id="<ooo@mx>",
                             Auto_Submitted="auto-replied"),
                   make_mail(subject="重置密码", body="重置密码", message_id="<self@mx>",
                             sender="support@guanxi.test"))
    poll(mailbox, django_capture_on_commit_callbacks)
    assert not OutboundEmail.objects.exists() and smtp.messages == [] and not Ticket.objects.exists()

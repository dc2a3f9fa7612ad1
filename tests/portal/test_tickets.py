"""Tickets in the portal: submit with a public question group and files (refused by size and type with
nothing created), the organisation's list in a fixed number of queries, isolation between organisations
(guessed ids are 404s), public replies only, reply reopening a resolved ticket, a closed ticket refusing,
and suggestions with deflection recorded in the knowledge base's search log."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.models import Notification
from guanxi.knowledge import services as kb_services
from guanxi.knowledge.models import SearchLog, SearchSource
from guanxi.service import customer_services
from guanxi.service import services as desk_services
from guanxi.service.csat_models import TicketAttachment
from guanxi.service.ticket_models import Ticket, TicketMessage, TicketStatus

from .conftest import portal_login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _submit(client, desk, **extra):
    data = {"subject": "发票抬头错误", "description": "上月发票抬头写错了，请重开。",
            "question_group_id": desk["billing"].pk, **extra}
    return client.post(reverse("portal:ticket_new"), data)


def test_a_customer_submits_a_ticket_with_a_file_and_it_is_routed_for_their_company(zhang_client, desk, orgs):
    response = _submit(zhang_client, desk, attachments=[SimpleUploadedFile("发票.pdf", PDF, "application/pdf")])
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.account == orgs["account_a"] and ticket.contact == orgs["contact_a"]
    assert ticket.number and ticket.queue == desk["general"] and ticket.channel == "portal"
    assert {"created", "routed"} <= set(ticket.events.values_list("kind", flat=True)) or \
        {"created", "unrouted"} <= set(ticket.events.values_list("kind", flat=True))  # routing ran (hours permitting)
    assert ticket.first_response_due_at is not None
    assert ticket.attachments.get().name == "发票.pdf"
    page = zhang_client.get(response["Location"]).content.decode()
    assert "发票抬头错误" in page and "发票.pdf" in page
    download = zhang_client.get(reverse("portal:attachment", args=[ticket.attachments.get().pk]))
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize("upload, reason", [
    (SimpleUploadedFile("setup.exe", b"MZ\x90\x00", "application/octet-stream"), "type"),
    (SimpleUploadedFile("photo.png", b"not a png at all", "image/png"), "content"),
    (SimpleUploadedFile("big.pdf", PDF + b"0" * 2048, "application/pdf"), "size"),
])
def test_a_refused_file_is_named_with_its_reason_and_nothing_is_created(zhang_client, desk, settings, upload,
                                                                        reason):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024
    zhang_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the reasons below are checked in English
    response = _submit(zhang_client, desk, attachments=[SimpleUploadedFile("ok.txt", b"hello", "text/plain"),
                                                        upload])
    assert response.status_code == 400
    text = response.content.decode()
    assert upload.name in text and 'data-field="attachments"' in text
    assert {"type": "not accepted", "content": "not a PNG", "size": "1.0 KB"}[reason] in text
    assert "发票抬头错误" in text  # what the customer typed is kept
    assert not Ticket.objects.exists() and not TicketAttachment.objects.exists()


def test_only_public_question_groups_are_offered_and_accepted(zhang_client, desk):
    desk["network"].public = False
    desk["network"].save()
    page = zhang_client.get(reverse("portal:ticket_new")).content.decode()
    assert desk["billing"].name in page and desk["network"].name not in page
    response = _submit(zhang_client, desk, question_group_id=desk["network"].pk)
    assert response.status_code == 400 and not Ticket.objects.exists()


def test_the_list_shows_the_organisations_tickets_in_a_fixed_number_of_queries(client, customers_in, orgs,
                                                                             staff_ticket):
    for i in range(6):
        customer_services.submit_ticket(orgs["colleague_a" if i % 2 else "contact_a"], {"subject": f"问题 {i}"})
    other = customer_services.submit_ticket(orgs["contact_b"], {"subject": "广州的问题"})
    portal_login(client, customers_in["zhang"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("portal:home"))
    queries = len(ctx.captured_queries)
    page = response.content.decode()
    assert page.count("data-ticket=") == 7  # 6 + the agent's ticket, the colleague's included
    assert other.subject not in page
    assert queries <= 6
    for i in range(6, 20):
        customer_services.submit_ticket(orgs["colleague_a"], {"subject": f"问题 {i}"})
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("portal:home"))
    assert len(ctx.captured_queries) == queries  # no query per row


def test_another_organisations_ticket_is_a_404_everywhere_and_leaks_nothing(client, customers_in, orgs,
                                                                           staff_ticket):
    attachment = SimpleUploadedFile("合同.pdf", PDF, "application/pdf")
    theirs = customer_services.submit_ticket(orgs["contact_a"], {"subject": "机密：合同金额"}, [attachment])
    portal_login(client, customers_in["li"])
    for url in (reverse("portal:ticket_detail", args=[theirs.pk]),
                reverse("portal:ticket_detail", args=[staff_ticket.pk]),
                reverse("portal:attachment", args=[theirs.attachments.get().pk])):
        response = client.get(url)
        assert response.status_code == 404 and "机密" not in response.content.decode()
    response = client.post(reverse("portal:ticket_reply", args=[theirs.pk]), {"body": "我来插一句"})
    assert response.status_code == 404
    assert not TicketMessage.objects.filter(ticket=theirs).exists()
    assert "机密" not in client.get(reverse("portal:home")).content.decode()


def test_internal_notes_are_never_shown_to_the_customer(zhang_client, desk, staff_ticket):
    agent = staff_ticket.owner
    desk_services.add_note(agent, staff_ticket, "内部：客户上次拖欠货款")
    desk_services.reply(agent, staff_ticket, "您好，请重启打印机后再试。")
    page = zhang_client.get(reverse("portal:ticket_detail", args=[staff_ticket.pk])).content.decode()
    assert "请重启打印机后再试" in page
    assert "拖欠货款" not in page


def test_a_reply_reopens_a_resolved_ticket_and_shows_for_the_agent(zhang_client, desk, staff_ticket, users):
    agent = staff_ticket.owner
    desk_services.reply(agent, staff_ticket, "已处理。")
    staff_ticket.refresh_from_db()
    desk_services.change_status(agent, staff_ticket, TicketStatus.RESOLVED, staff_ticket.version)
    response = zhang_client.post(reverse("portal:ticket_reply", args=[staff_ticket.pk]), {"body": "还是不行。"})
    assert response.status_code == 302
    staff_ticket.refresh_from_db()
    assert staff_ticket.status == TicketStatus.OPEN and staff_ticket.resolved_at is None
    message = staff_ticket.messages.get(body="还是不行。")
    assert message.kind == "reply" and message.author is None
    assert Notification.objects.filter(user=agent, link=reverse("service:ticket_detail", args=[staff_ticket.pk]),
                                       key=f"service.customer_reply.{message.pk}").exists()  # the agent is told
    client = zhang_client.__class__()
    client.force_login(users["admin"])
    page = client.get(reverse("service:ticket_detail", args=[staff_ticket.pk])).content.decode()
    assert "还是不行。" in page and "ticket-from-customer" in page


def test_a_closed_ticket_refuses_a_reply_with_a_clear_message_and_nothing_changes(zhang_client, staff_ticket):
    desk_services.change_status(staff_ticket.owner, staff_ticket, TicketStatus.CLOSED, staff_ticket.version)
    staff_ticket.refresh_from_db()
    version = staff_ticket.version
    response = zhang_client.post(reverse("portal:ticket_reply", args=[staff_ticket.pk]), {"body": "再问一下"},
                                 follow=True)
    assert "closed" in response.content.decode() or "关闭" in response.content.decode()
    staff_ticket.refresh_from_db()
    assert staff_ticket.status == TicketStatus.CLOSED and staff_ticket.version == version
    assert not staff_ticket.messages.exists()


def test_suggestions_while_writing_and_deflection(zhang_client, desk, users):
    article = kb_services.create_article(users["admin"], {"title": "发票抬头如何修改", "body": "在订单页修改发票抬头。",
                                                          "visibility": "public", "status": "published"})
    kb_services.create_article(users["admin"], {"title": "发票内部审批", "body": "内部流程", "visibility": "internal",
                                                "status": "published"})
    page = zhang_client.get(reverse("portal:suggestions"), {"subject": "发票抬头", "description": ""}).content.decode()
    assert article.title in page and "内部审批" not in page
    log = SearchLog.objects.get()
    assert log.source == SearchSource.PORTAL and log.ended_without_ticket is None
    zhang_client.post(reverse("portal:solved"))
    log.refresh_from_db()
    assert log.ended_without_ticket is True
    # The next search ends with a ticket.
    zhang_client.get(reverse("portal:suggestions"), {"subject": "发票抬头错误"})
    _submit(zhang_client, desk)
    assert SearchLog.objects.filter(ended_without_ticket=False).count() == 1


def test_searches_left_idle_count_as_deflected_by_the_sweep(zhang_client, desk, users, settings):
    import datetime as dt

    from django.utils import timezone

    from guanxi.core import sweep

    kb_services.create_article(users["admin"], {"title": "发票抬头如何修改", "body": "在订单页修改。",
                                                "visibility": "public", "status": "published"})
    zhang_client.get(reverse("portal:suggestions"), {"subject": "发票抬头"})
    log = SearchLog.objects.get()
    sweep.run_sweep(timezone.now() + dt.timedelta(minutes=settings.PORTAL_SEARCH_IDLE_MINUTES - 1))
    log.refresh_from_db()
    assert log.ended_without_ticket is None  # the visit may still end with a ticket
    sweep.run_sweep(timezone.now() + dt.timedelta(minutes=settings.PORTAL_SEARCH_IDLE_MINUTES + 1))
    log.refresh_from_db()
    assert log.ended_without_ticket is True

"""Acting from the inbox: the reply goes out on the conversation's own channel (an email ticket's by mail to a real
SMTP server, in the thread; a portal ticket's on the ticket; a chat's to the chat), internal notes stay inside, a
chat becomes a ticket or a lead or joins an existing ticket, and the pane shows the customer and their timeline."""

import pytest

from guanxi.contact_center import chat_services as cs
from guanxi.contact_center import email_ingest
from guanxi.contact_center import visitor_services as vs
from guanxi.contact_center.email_models import OutboundEmail, OutboundKind
from guanxi.sales.lead_models import Lead
from guanxi.service import customer_services
from guanxi.service.ticket_models import MessageKind, Ticket, TicketChannel

from .test_email_ingest import make_mail

pytestmark = pytest.mark.django_db


def test_an_email_ticket_is_answered_by_mail_in_its_thread(mailbox, smtp, zhang, agent, desk_setup, client,
                                                           django_capture_on_commit_callbacks):
    _account, contact = zhang
    with django_capture_on_commit_callbacks(execute=True):
        row, _created = email_ingest.ingest(mailbox, make_mail(subject="打印机坏了", message_id="<m1@mx.xingchen.cn>"))
    ticket = row.ticket
    assert ticket.channel == TicketChannel.EMAIL and len(smtp.messages) == 1  # the acknowledgement
    client.force_login(agent)
    pane = client.get(f"/cc/inbox/ticket/{ticket.pk}/").content.decode()
    assert "Reply by email" in pane and "你好，打印机不能用了。" in pane and "张伟" in pane
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/cc/inbox/ticket/{ticket.pk}/reply/", {"body": "请重启打印机试试。", "kind": "reply"})
    assert response.status_code == 302 and response["Location"] == f"/cc/inbox/ticket/{ticket.pk}/"
    assert len(smtp.messages) == 2
    mail = smtp.messages[1]
    assert mail["To"] == "zhang.wei@xingchen.cn" and mail["In-Reply-To"] == "<m1@mx.xingchen.cn>"
    assert f"[#{ticket.number}]" in mail["Subject"] and "请重启打印机试试。" in mail.get_payload(decode=True).decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/cc/inbox/ticket/{ticket.pk}/reply/", {"body": "客户很急", "kind": "note"})
    assert len(smtp.messages) == 2  # a note never leaves
    assert list(ticket.messages.filter(author=agent).values_list("kind", flat=True).order_by("id")) == [
        MessageKind.REPLY, MessageKind.NOTE]
    assert OutboundEmail.objects.filter(kind=OutboundKind.REPLY, sent_at__isnull=False).count() == 1
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.first_response_at is not None


def test_a_portal_ticket_reply_stays_on_the_ticket_and_bad_input_keeps_the_text(zhang, agent, desk_setup, client,
                                                                                smtp):
    _account, contact = zhang
    ticket = customer_services.submit_ticket(contact, {"subject": "发票问题", "description": "发票抬头错了"})
    client.force_login(agent)
    response = client.post(f"/cc/inbox/ticket/{ticket.pk}/reply/", {"body": "   ", "kind": "reply"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = client.post(f"/cc/inbox/ticket/{ticket.pk}/reply/", {"body": "<b>已重开</b>" + "x" * 50_000})
    assert response.status_code == 400 and "&lt;b&gt;已重开&lt;/b&gt;" in response.content.decode()
    client.post(f"/cc/inbox/ticket/{ticket.pk}/reply/", {"body": "已为您重开发票", "kind": "reply"})
    message = ticket.messages.get()
    assert (message.author, message.kind, message.body) == (agent, MessageKind.REPLY, "已为您重开发票")
    assert smtp.messages == []  # the portal shows it; no mail
    page = client.get(f"/cc/inbox/ticket/{ticket.pk}/").content.decode()
    assert "The customer sees the reply in the portal." in page
    assert 'id="inbox-customer"' in page and f"Ticket {ticket.number}: 发票问题" in page  # on the contact's timeline


def chat_with(site, body):
    visitor, _view = vs.track(site, {"url": "https://shop.example.cn/"})
    return cs.visitor_says(visitor, body)[0]


def test_a_chat_is_answered_and_becomes_a_ticket_or_a_lead(site, agent, desk_setup, client, zhang):
    conversation = chat_with(site, "我要退货，电话 13800138000")
    assert conversation.contact == zhang[1]  # found by the phone in the text
    client.force_login(agent)
    response = client.post(f"/cc/inbox/chat/{conversation.pk}/reply/", {"body": "好的，请提供订单号"})
    assert response.status_code == 302
    reply = conversation.messages.order_by("id").last()
    assert (reply.sender, reply.agent, reply.body) == ("agent", agent, "好的，请提供订单号")
    conversation.refresh_from_db()
    assert conversation.owner == agent
    response = client.post(f"/cc/inbox/chat/{conversation.pk}/ticket/")
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/cc/inbox/ticket/{ticket.pk}/"
    assert ticket.channel == TicketChannel.CHAT and "好的，请提供订单号" in ticket.description
    response = client.post(f"/cc/inbox/chat/{conversation.pk}/lead/")
    assert response.status_code == 302 and Lead.objects.get().name == "张伟"


def test_a_chat_joins_an_existing_ticket_as_a_note(site, agent, desk_setup, client, zhang, users):
    from guanxi.service import services as desk

    ticket = desk.create_ticket(users["admin"], {"subject": "退货", "contact_id": zhang[1].pk})
    conversation = chat_with(site, "关于我上周的退货")
    client.force_login(agent)
    response = client.post(f"/cc/inbox/chat/{conversation.pk}/link/", {"ticket": "T999999"})
    assert response.status_code == 400 and "No such ticket." in response.content.decode()
    response = client.post(f"/cc/inbox/chat/{conversation.pk}/link/", {"ticket": ticket.number.lower()})
    assert response["Location"] == f"/cc/inbox/ticket/{ticket.pk}/"
    note = ticket.messages.get()
    assert note.kind == MessageKind.NOTE and "关于我上周的退货" in note.body and f"#{conversation.pk}" in note.body
    other = desk.create_ticket(users["admin"], {"subject": "别人的"})
    client.force_login(users["rep_b"])  # may see neither the chat nor the ticket
    assert client.post(f"/cc/inbox/chat/{conversation.pk}/link/", {"ticket": other.pk}).status_code == 404

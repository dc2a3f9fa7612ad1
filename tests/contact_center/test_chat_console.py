"""The agent console (bounded queries, visibility, escaping), a chat made into a ticket or a lead, the chat websites
settings (administrators only, field errors) and the chat API."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from guanxi.contact_center import chat_services as cs
from guanxi.contact_center import visitor_services as vs
from guanxi.contact_center.chat_models import ChatSite
from guanxi.sales.lead_models import Lead
from guanxi.service.ticket_models import Ticket

pytestmark = pytest.mark.django_db
HTML = "<script>alert(1)</script>"


def chats(site, n):
    out = []
    for i in range(n):
        visitor, _view = vs.track(site, {"url": f"https://shop.example.cn/{i}", "title": f"页 {i}"})
        out.append(cs.visitor_says(visitor, f"{HTML} #{i}")[0])
    return out


def test_console_lists_visitors_and_chats_in_bounded_queries(client, site, agent, settings):
    settings.CC_MESSAGES_PER_MINUTE = 1000
    chats(site, 3)
    client.force_login(agent)
    client.get("/cc/console/")
    with CaptureQueriesContext(connection) as small:
        assert client.get("/cc/console/").status_code == 200
    n_small = len(small.captured_queries)
    conversations = chats(site, 20)
    with CaptureQueriesContext(connection) as big:
        response = client.get("/cc/console/")
    assert len(big.captured_queries) == n_small
    assert HTML not in response.content.decode()
    pane = client.get(f"/cc/console/{conversations[0].pk}/").content.decode()
    assert HTML not in pane and "&lt;script&gt;alert(1)&lt;/script&gt; #0" in pane
    assert 'id="nav-console"' in pane


def test_others_chats_are_404_and_sales_reps_see_none_waiting(client, site, agent, users):
    conversation = chats(site, 1)[0]
    client.force_login(users["rep_a"])
    assert client.get(f"/cc/console/{conversation.pk}/").status_code == 404
    assert f'data-conversation="{conversation.pk}"' not in client.get("/cc/console/").content.decode()
    assert client.post(f"/cc/console/{conversation.pk}/ticket/").status_code == 404


def test_chat_becomes_a_ticket_and_a_lead(client, site, agent, users, zhang):
    _account, contact = zhang
    visitor, _ = vs.track(site, {"url": "https://shop.example.cn/"})
    conversation, _m, _c = cs.visitor_says(visitor, "我要退货，电话 13800138000")
    assert visitor.conversations.get().contact == contact  # found by the normalised phone
    cs.agent_reply(agent, conversation, "好的")
    client.force_login(agent)
    response = client.post(f"/cc/console/{conversation.pk}/ticket/")
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/service/tickets/{ticket.pk}/"
    assert "我要退货" in ticket.subject and "好的" in ticket.description
    client.force_login(users["admin"])
    assert client.post(f"/cc/console/{conversation.pk}/lead/").status_code == 302
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.source) == ("张伟", "+8613800138000", "website")


def test_chat_websites_settings(client, users):
    client.force_login(users["rep_a"])
    assert client.get("/cc/sites/").status_code == 403
    client.force_login(users["admin"])
    bad = client.post("/cc/sites/new/", {"name": "", "allowed_origins": "https://ok.cn\nftp://x/y"})
    assert bad.status_code == 400 and not ChatSite.objects.exists()
    assert "is-invalid" in bad.content.decode()
    ok = client.post("/cc/sites/new/", {"name": "官网", "allowed_origins": "https://www.example.cn/\nhttp://localhost:8000",
                                        "active": "on"})
    assert ok.status_code == 302
    site = ChatSite.objects.get()
    assert site.allowed_origins == ["https://www.example.cn", "http://localhost:8000"] and site.active
    listing = client.get("/cc/sites/").content.decode()
    assert f'data-site="{site.public_key}"' in listing and 'id="nav-chat-sites"' in listing


def test_chat_api(client, site, agent, users, settings):
    settings.CC_MESSAGES_PER_MINUTE = 1000
    conversations = chats(site, 5)
    client.force_login(agent)
    first = client.get("/api/v1/chat/conversations", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next"]
    rest = client.get("/api/v1/chat/conversations", {"limit": 50, "cursor": first["next"]}).json()
    assert {c["id"] for c in first["items"] + rest["items"]} == {c.pk for c in conversations}
    target = conversations[0]
    messages = client.get(f"/api/v1/chat/conversations/{target.pk}/messages").json()["items"]
    assert messages[0]["body"] == f"{HTML} #0" and messages[0]["sender"] == "visitor"
    reply = client.post(f"/api/v1/chat/conversations/{target.pk}/messages", {"body": ""},
                        content_type="application/json")
    assert reply.status_code == 400 and "body" in reply.json()["errors"]
    visitor = client.get(f"/api/v1/visitors/{target.visitor_id}").json()
    assert visitor["page_views"][0]["url"] == "https://shop.example.cn/0" and visitor["page_count"] == 1
    client.force_login(users["rep_a"])
    assert client.get("/api/v1/chat/conversations").json()["items"] == []
    assert client.get(f"/api/v1/chat/conversations/{target.pk}/messages").status_code == 404
    assert client.get(f"/api/v1/visitors/{target.visitor_id}").status_code == 404
    assert client.get("/api/v1/chat/conversations", {"cursor": "garbage"}).status_code == 400


def test_a_visitor_writing_after_the_close_starts_a_new_conversation(site, agent):
    visitor, _ = vs.track(site, {"url": "https://shop.example.cn/"})
    first, _m, created = cs.visitor_says(visitor, "第一个问题")
    assert created
    again, _m, created = cs.visitor_says(visitor, "补充", conversation=first)
    assert again.pk == first.pk and not created
    cs.close(agent, first)
    later, _m, created = cs.visitor_says(visitor, "第二个问题", conversation=first)  # the socket's stale idea
    assert created and later.pk != first.pk
    with translation.override(settings.LANGUAGE_CODE):  # the system's words are stored in the site's language
        closed = gettext("The conversation was closed.")
    assert list(first.messages.values_list("body", flat=True)) == ["第一个问题", "补充", closed]

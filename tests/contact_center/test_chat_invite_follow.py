"""Proactive chat over real WebSockets (channels' communicators against guanxi.asgi.application): an agent invites a
browsing visitor — only that visitor's widget gets the greeting — and the console follows the pages a visitor opens
(the live "visitor" event of /cc/track), for the service desk only."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from guanxi.contact_center.chat_models import ChatConversation, ChatSite, Visitor

from .conftest import ORIGIN
from .test_chat_socket import agent_socket, cookie_for, run, visitor_socket

pytestmark = pytest.mark.django_db(transaction=True)
OTHER = "https://other.example.com"


def test_the_agent_invites_one_visitor_and_only_their_widget_gets_it(site, agent, users):
    other_site = ChatSite.objects.create(name="别家商城", allowed_origins=[OTHER], service_user=users["admin"])
    desk_cookie, rep_cookie = cookie_for(agent), cookie_for(users["rep_b"])

    async def scenario():
        desk = agent_socket(desk_cookie)
        assert (await desk.connect())[0]
        widgets = [visitor_socket(site.public_key), visitor_socket(site.public_key, ip="198.51.100.2"),
                   visitor_socket(other_site.public_key, origin=OTHER, ip="198.51.100.3")]
        keys = []
        for web in widgets:
            assert (await web.connect())[0]
            keys.append((await web.receive_json_from())["visitor"])
        alice, bob, carol = widgets
        alice_pk = (await sync_to_async(Visitor.objects.get)(key=keys[0])).pk
        await desk.send_json_to({"type": "invite", "visitor": alice_pk, "body": "您好，需要帮您挑选吗？"})
        invitation = await alice.receive_json_from()
        copy = await desk.receive_json_from()
        assert await bob.receive_nothing(timeout=0.2)  # another visitor of the same site
        assert await carol.receive_nothing(timeout=0.2)  # a visitor of another site
        rep = agent_socket(rep_cookie)  # a sales rep may not invite an anonymous visitor
        assert (await rep.connect())[0]
        await rep.send_json_to({"type": "invite", "visitor": alice_pk})
        refused = await rep.receive_json_from()
        await desk.send_json_to({"type": "invite", "visitor": 999999})
        unknown = await desk.receive_json_from()
        assert await alice.receive_nothing(timeout=0.2)
        for socket in (*widgets, desk, rep):
            await socket.disconnect()
        return keys[0], invitation, copy, refused, unknown

    alice_key, invitation, copy, refused, unknown = run(scenario)
    assert invitation["type"] == "message" and invitation["sender"] == "agent"
    assert invitation["body"] == "您好，需要帮您挑选吗？" and invitation["agent"] == "丽 李"
    assert copy["conversation"] == invitation["conversation"] and copy["new"] is True
    conversation = ChatConversation.objects.get()
    assert conversation.pk == invitation["conversation"] and conversation.visitor.key == alice_key
    assert conversation.owner == agent  # the inviting agent has the chat
    assert list(conversation.messages.values_list("sender", "body")) == [("agent", "您好，需要帮您挑选吗？")]
    assert refused["type"] == "error" and "visitor" in refused["errors"]
    assert unknown["errors"] == {"visitor": ["No such visitor."]}


def track(site, url: str, title: str, key: str | None = None, origin: str = ORIGIN):
    return Client().post("/cc/track", {"site": site.public_key, "visitor": key, "url": url, "title": title},
                         content_type="application/json", HTTP_ORIGIN=origin)


def test_the_console_follows_the_page_the_visitor_opens(site, agent, users):
    from guanxi.contact_center.chat_realtime import remember_loop  # noqa: F401  (the app notes its loop)

    key = track(site, "https://shop.example.cn/", "首页").json()["visitor"]
    desk_cookie, rep_cookie = cookie_for(agent), cookie_for(users["rep_a"])

    async def scenario():
        desk = agent_socket(desk_cookie)
        assert (await desk.connect())[0]
        rep = agent_socket(rep_cookie)  # not the service desk: the browsing of anonymous visitors is not theirs
        assert (await rep.connect())[0]
        web = visitor_socket(site.public_key, key)
        assert (await web.connect())[0]
        await web.receive_json_from()
        response = await sync_to_async(track)(site, "https://shop.example.cn/p/ct-9", "CT 机 9 型", key)
        followed = await desk.receive_json_from(timeout=10)
        assert await rep.receive_nothing(timeout=0.2)
        assert await web.receive_nothing(timeout=0.2)  # the visitor's own widget is not told
        refused = await sync_to_async(track)(site, "https://evil.example/x", "x", key, origin=OTHER)
        assert await desk.receive_nothing(timeout=0.2)  # a page view refused is not followed
        for socket in (desk, rep, web):
            await socket.disconnect()
        return response, followed, refused

    response, followed, refused = run(scenario)
    assert response.status_code == 200 and refused.status_code == 403
    visitor = Visitor.objects.get(key=key)
    assert followed["type"] == "visitor" and followed["visitor"] == visitor.pk
    assert (followed["url"], followed["title"], followed["pages"]) == (
        "https://shop.example.cn/p/ct-9", "CT 机 9 型", 2)
    assert visitor.current_url == "https://shop.example.cn/p/ct-9"

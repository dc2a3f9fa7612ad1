"""The web chat over real WebSockets: channels' WebsocketCommunicator against guanxi.asgi.application (the app
granian serves), with the database committed (transactional) since consumers work in other threads."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client

from guanxi.asgi import application
from guanxi.contact_center.chat_models import ChatConversation, ChatMessage, Visitor
from guanxi.customers.timeline import timeline_for
from guanxi.service.models import AgentProfile, Availability
from guanxi.service.ticket_models import Ticket

from .conftest import ORIGIN
from .ws import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)
HELLO = "您好，请问有什么可以帮您？"
HTML = '<img src=x onerror="alert(1)"><script>alert(2)</script> 你好'


def visitor_socket(site_key, key="", origin=ORIGIN, ip="127.0.0.1"):
    headers = [(b"origin", origin.encode())] if origin else []
    return WebsocketCommunicator(application, f"/ws/cc/visitor/{site_key}/?visitor={key}", headers=headers,
                                 client=(ip, 50000))


def cookie_for(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def agent_socket(cookie):
    return WebsocketCommunicator(application, "/ws/cc/agent/",
                                 headers=[(b"cookie", cookie), (b"origin", b"http://testserver")])


def run(coro):
    return async_to_sync(coro)()


def test_visitor_writes_agent_answers(site, agent):
    cookie = cookie_for(agent)

    async def scenario():
        desk = agent_socket(cookie)
        assert (await desk.connect())[0]
        web = visitor_socket(site.public_key)
        assert (await web.connect())[0]
        state = await web.receive_json_from()
        assert state["type"] == "state" and state["online"] is True and state["messages"] == []
        await web.send_json_to({"type": "message", "body": HTML})
        echo = await web.receive_json_from()
        seen = await desk.receive_json_from()
        assert seen["body"] == echo["body"] == HTML  # stored and sent as text; the pages escape it
        assert seen["sender"] == "visitor" and seen["new"] is True
        await desk.send_json_to({"type": "reply", "conversation": seen["conversation"], "body": HELLO})
        answer = await web.receive_json_from()
        assert answer["sender"] == "agent" and answer["body"] == HELLO and answer["agent"] == "丽 李"
        taken = await desk.receive_json_from()  # the chat is taken: it moves in the other agents' inboxes
        assert (taken["type"], taken["source"], taken["owner"], taken["was"]) == ("inbox", "chat", agent.pk,
                                                                                {"owner": None, "queue": None})
        assert (await desk.receive_json_from())["sender"] == "agent"  # the agents' copy of the reply
        await desk.send_json_to({"type": "link", "conversation": seen["conversation"],
                                 "url": "https://shop.example.cn/help"})
        assert (await web.receive_json_from())["sender"] == "link"
        await desk.receive_json_from()
        await desk.send_json_to({"type": "reply", "conversation": seen["conversation"], "body": "   "})
        error = await desk.receive_json_from()
        assert error["type"] == "error" and "body" in error["errors"]
        await web.disconnect()
        await desk.disconnect()
        return state["visitor"], seen["conversation"]

    key, conversation_id = run(scenario)
    conversation = ChatConversation.objects.get(pk=conversation_id)
    assert conversation.visitor.key == key and conversation.owner == agent
    assert list(conversation.messages.values_list("sender", "body"))[:2] == [
        ("visitor", HTML), ("agent", HELLO)]

    async def reconnect():  # the history comes back with the visitor's key
        web = visitor_socket(site.public_key, key)
        await web.connect()
        state = await web.receive_json_from()
        await web.disconnect()
        return state

    assert [m["body"] for m in run(reconnect)["messages"]][:2] == [HTML, HELLO]


def test_a_visitor_cannot_read_another_conversation(site, agent, users):
    from guanxi.contact_center.chat_models import ChatSite

    other_site = ChatSite.objects.create(name="别的网站", allowed_origins=["https://other.example.cn"])

    async def scenario():
        alice = visitor_socket(site.public_key)
        await alice.connect()
        alice_key = (await alice.receive_json_from())["visitor"]
        await alice.send_json_to({"type": "message", "body": "我的订单号 A-1001"})
        await alice.receive_json_from()
        bob = visitor_socket(site.public_key)
        await bob.connect()
        bob_state = await bob.receive_json_from()
        assert bob_state["visitor"] != alice_key and bob_state["messages"] == []
        await bob.send_json_to({"type": "message", "body": "bob here", "conversation": 1})
        await bob.receive_json_from()
        assert await alice.receive_nothing(timeout=0.2)
        # Alice's key on another website is not Alice there; a foreign origin or an unknown site is refused.
        mallory = visitor_socket(other_site.public_key, alice_key, origin="https://other.example.cn")
        await mallory.connect()
        assert (await mallory.receive_json_from())["messages"] == []
        refused = visitor_socket(site.public_key, alice_key, origin="https://evil.example.com")
        assert (await refused.connect())[0] is False
        unknown = visitor_socket("n" * 32, alice_key)
        assert (await unknown.connect())[0] is False
        for socket in (alice, bob, mallory):
            await socket.disconnect()

    run(scenario)
    assert ChatMessage.objects.filter(body="bob here").get().conversation.visitor.key != Visitor.objects.filter(
        conversations__messages__body__startswith="我的订单号").get().key


def test_agent_socket_needs_a_signed_in_user_who_may_see_the_chat(site, agent, users):
    rep_cookie, desk_cookie = cookie_for(users["rep_b"]), cookie_for(agent)

    async def scenario():
        anonymous = WebsocketCommunicator(application, "/ws/cc/agent/", headers=[(b"origin", b"http://testserver")])
        assert (await anonymous.connect())[0] is False
        rep = agent_socket(rep_cookie)  # a sales rep: not the service desk, owns no chat
        assert (await rep.connect())[0]
        desk = agent_socket(desk_cookie)
        await desk.connect()
        web = visitor_socket(site.public_key)
        await web.connect()
        await web.receive_json_from()
        await web.send_json_to({"type": "message", "body": "hello"})
        event = await desk.receive_json_from()
        assert await rep.receive_nothing(timeout=0.2)
        await rep.send_json_to({"type": "reply", "conversation": event["conversation"], "body": "not mine"})
        assert "conversation" in (await rep.receive_json_from())["errors"]
        await rep.send_to(text_data="not json")
        assert "type" in (await rep.receive_json_from())["errors"]
        for socket in (rep, desk, web):
            await socket.disconnect()

    run(scenario)
    assert not ChatMessage.objects.filter(body="not mine").exists()


def test_offline_message_becomes_a_ticket(site, agent):
    AgentProfile.objects.filter(user=agent).update(availability=Availability.OFF)

    async def scenario():
        web = visitor_socket(site.public_key)
        await web.connect()
        assert (await web.receive_json_from())["online"] is False
        await web.send_json_to({"type": "offline", "name": "王芳", "body": "发票开错了"})
        error = await web.receive_json_from()
        assert error["type"] == "error" and "email" in error["errors"]
        await web.send_json_to({"type": "offline", "name": "王芳", "email": "not-an-email", "body": "x"})
        assert "email" in (await web.receive_json_from())["errors"]
        await web.send_json_to({"type": "offline", "name": "王芳", "email": "Wang.Fang@Example.CN",
                                "body": "发票开错了 <b>urgent</b>"})
        done = await web.receive_json_from()
        await web.disconnect()
        return done

    done = run(scenario)
    assert done["type"] == "ticket"
    ticket = Ticket.objects.get(number=done["number"])
    assert ticket.description.startswith("发票开错了 <b>urgent</b>") and ticket.contact.email == "wang.fang@example.cn"
    assert ticket.channel == "chat"
    assert ticket.contact.name == "王芳" and Visitor.objects.get(contact=ticket.contact)


def test_email_in_chat_links_the_visitor_and_joins_the_timeline(site, agent, zhang, users,
                                                                django_assert_max_num_queries):
    account, contact = zhang
    client = Client()
    key = client.post("/cc/track", {"site": site.public_key, "url": "https://shop.example.cn/pricing",
                                     "title": "价格"}, content_type="application/json",
                      HTTP_ORIGIN=ORIGIN).json()["visitor"]
    client.post("/cc/track", {"site": site.public_key, "visitor": key, "url": "https://shop.example.cn/p/9",
                              "title": "CT 机"}, content_type="application/json", HTTP_ORIGIN=ORIGIN)

    async def scenario():
        web = visitor_socket(site.public_key, key)
        await web.connect()
        await web.receive_json_from()
        await web.send_json_to({"type": "message", "body": "我是张伟，邮箱 zhang.wei@xingchen.cn，想问报价"})
        await web.receive_json_from()
        await web.disconnect()

    run(scenario)
    visitor = Visitor.objects.get(key=key)
    assert visitor.contact == contact
    assert ChatConversation.objects.get(visitor=visitor).contact == contact
    with django_assert_max_num_queries(12):
        items = timeline_for(contact, users["admin"])
    kinds = [i.kind for i in items]
    assert "web" in kinds and "chat" in kinds
    web = next(i for i in items if i.kind == "web")
    assert "2" in web.title and "价格" in web.body and "CT 机" in web.body
    # rep_a owns the contact: they see the browsing, not the service desk's unassigned chat
    rep_kinds = [i.kind for i in timeline_for(contact, users["rep_a"])]
    assert "web" in rep_kinds and "chat" not in rep_kinds
    client.force_login(users["admin"])
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "bi-chat-dots" in page and "bi-globe2" in page  # the chat and the browsing have their own icons


def test_api_reply_reaches_the_visitor_live(site, agent):
    from guanxi.contact_center.chat_realtime import remember_loop  # noqa: F401  (the app notes its loop)

    async def scenario():
        web = visitor_socket(site.public_key)
        await web.connect()
        await web.receive_json_from()
        await web.send_json_to({"type": "message", "body": "anyone?"})
        conversation = (await web.receive_json_from())["conversation"]

        def reply():
            api = Client()
            api.force_login(agent)
            return api.post(f"/api/v1/chat/conversations/{conversation}/messages", {"body": "Yes, <i>me</i>"},
                            content_type="application/json", HTTP_X_CSRFTOKEN="x")

        response = await sync_to_async(reply)()
        got = await web.receive_json_from(timeout=10)
        await web.disconnect()
        return response, got

    response, got = run(scenario)
    assert response.status_code == 201, response.content
    assert got["body"] == "Yes, <i>me</i>" and got["sender"] == "agent"


def test_a_flood_of_socket_opens_is_refused_per_address_and_per_agent(site, agent, users, settings, caplog):
    """Opening sockets in a loop (a script, a broken page) is refused with close code 4429 and a log line; other
    addresses and other agents go on as before, and a visitor who reloads a page now and then is not counted out."""
    settings.CC_VISITOR_SOCKETS_PER_MINUTE, settings.CC_AGENT_SOCKETS_PER_MINUTE = 3, 2
    agent_cookie, other_cookie = cookie_for(agent), cookie_for(users["admin"])

    async def scenario():
        opened = []
        for _ in range(3):
            web = visitor_socket(site.public_key, ip="203.0.113.7")
            assert (await web.connect())[0]
            opened.append(web)
        assert await visitor_socket(site.public_key, ip="203.0.113.7").connect() == (False, 4429)
        other = visitor_socket(site.public_key, ip="198.51.100.20")  # another address is not affected
        assert (await other.connect())[0]
        assert (await other.receive_json_from())["type"] == "state"
        opened.append(other)
        for _ in range(2):
            desk = agent_socket(agent_cookie)
            assert (await desk.connect())[0]
            opened.append(desk)
        assert await agent_socket(agent_cookie).connect() == (False, 4429)
        admin = agent_socket(other_cookie)
        assert (await admin.connect())[0]
        opened.append(admin)
        for socket in opened:
            await socket.disconnect()

    with caplog.at_level("WARNING", logger="guanxi.contact_center.chat_consumers"):
        run(scenario)
    assert [r.getMessage() for r in caplog.records] == [
        "visitor socket refused: more than 3 opens a minute from 203.0.113.7",
        f"agent socket refused: more than 2 opens a minute from user:{agent.pk}"]
    assert Visitor.objects.filter(ip="203.0.113.7").count() == 3  # the refused one made no visitor


def test_a_flood_of_chat_messages_is_throttled_and_the_accepted_ones_stay(site, agent, settings):
    settings.CC_MESSAGES_PER_MINUTE = 3

    async def scenario():
        web = visitor_socket(site.public_key)
        assert (await web.connect())[0]
        await web.receive_json_from()
        replies = []
        for i in range(5):
            await web.send_json_to({"type": "message", "body": f"刷屏 {i}"})
            replies.append(await web.receive_json_from())
        await web.disconnect()
        return replies

    replies = run(scenario)
    assert [r["type"] for r in replies] == ["message"] * 3 + ["error"] * 2
    assert replies[-1]["errors"] == {"body": ["Too many messages; wait a minute and try again."]}
    assert list(ChatMessage.objects.order_by("id").values_list("body", flat=True)) == ["刷屏 0", "刷屏 1", "刷屏 2"]

"""The one inbox: tickets of every channel and web chats merged newest first, keyset pages over the union, filters,
counts per channel, visibility (page, pane and API) and bounded queries."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.contact_center import chat_services as cs
from guanxi.contact_center import inbox
from guanxi.contact_center import visitor_services as vs
from guanxi.contact_center.chat_models import ChatConversation
from guanxi.core.services import issue_token
from guanxi.service import customer_services
from guanxi.service import services as desk
from guanxi.service.ticket_models import Ticket
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
HTML = "<script>alert(1)</script>"


def staff_ticket(user, subject, at, **data):
    ticket = desk.create_ticket(user, {"subject": subject, **data})
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=at)
    return ticket


def email_ticket(contact, subject, at):
    with transaction.atomic():
        ticket = desk.open_ticket(None, {"subject": subject, "description": "邮件正文", "contact": contact,
                                         "account": contact.primary_account,
                                         "channel": "email"})
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=at)
    return ticket


def portal_ticket(contact, subject, at):
    ticket = customer_services.submit_ticket(contact, {"subject": subject, "description": "门户提交"})
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=at)
    return ticket


def chat(site, body, at):
    visitor, _view = vs.track(site, {"url": "https://shop.example.cn/"})
    conversation, _m, _c = cs.visitor_says(visitor, body, now=at)
    return conversation


def keys(items):
    return [i.key for i in items]


@pytest.fixture
def mixed(users, zhang, site, desk_setup):
    _account, contact = zhang
    admin = users["admin"]
    return {
        "staff": staff_ticket(admin, "电话报修", T0 - dt.timedelta(minutes=5), contact_id=contact.pk),
        "email": email_ticket(contact, "打印机坏了", T0 - dt.timedelta(minutes=1)),
        "portal": portal_ticket(contact, "发票问题", T0 - dt.timedelta(minutes=3)),
        "chat_new": chat(site, f"{HTML} 有货吗", T0 - dt.timedelta(minutes=2)),
        "chat_old": chat(site, "你好", T0 - dt.timedelta(minutes=4)),
    }


def test_channels_are_merged_newest_first(mixed, agent):
    page = inbox.inbox_page(agent, with_counts=True)
    assert keys(page.items) == [f"ticket-{mixed['email'].pk}", f"chat-{mixed['chat_new'].pk}",
                                f"ticket-{mixed['portal'].pk}", f"chat-{mixed['chat_old'].pk}",
                                f"ticket-{mixed['staff'].pk}"]
    assert [i.channel for i in page.items] == ["email", "chat", "portal", "chat", "staff"]
    assert page.counts == {"staff": 1, "email": 1, "portal": 1, "chat": 2}
    first = page.items[0]
    assert first.contact.name == "张伟" and first.account.name == "北京星辰医疗科技有限公司"
    assert first.needs_reply and first.status == "new" and first.snippet == "邮件正文"
    assert page.items[1].snippet == f"{HTML} 有货吗" and page.items[1].needs_reply
    assert page.next_cursor is None


def test_keyset_pages_are_stable_when_times_are_equal(users, zhang, site, desk_setup, agent):
    admin = users["admin"]
    tickets = [staff_ticket(admin, f"同时 {i}", T0) for i in range(5)]
    chats = [chat(site, f"同时 {i}", T0) for i in range(4)]
    seen, cursor = [], None
    for _page in range(10):
        page = inbox.inbox_page(agent, cursor=cursor, limit=2)
        seen += keys(page.items)
        # Something new arriving between two pages does not shift the following ones.
        staff_ticket(admin, "新的", T0 + dt.timedelta(minutes=1))
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = [f"ticket-{t.pk}" for t in sorted(tickets, key=lambda t: -t.pk)] + [
        f"chat-{c.pk}" for c in sorted(chats, key=lambda c: -c.pk)]
    assert seen == expected


def test_filters_channel_scope_status_and_text(mixed, agent, users):
    def only(**kw):
        return keys(inbox.inbox_page(agent, inbox.clean_filters(**kw)).items)

    assert only(channels=["email"]) == [f"ticket-{mixed['email'].pk}"]
    assert only(channels=["email", "portal"]) == [f"ticket-{mixed['email'].pk}", f"ticket-{mixed['portal'].pk}"]
    assert set(only(channels=["chat"])) == {f"chat-{mixed['chat_new'].pk}", f"chat-{mixed['chat_old'].pk}"}
    cs.agent_reply(agent, mixed["chat_old"], "我来帮您")  # the chat becomes the agent's
    desk.assign(users["admin"], mixed["portal"], agent.pk, mixed["portal"].version)
    assert set(only(scope="mine")) == {f"chat-{mixed['chat_old'].pk}", f"ticket-{mixed['portal'].pk}"}
    assert f"ticket-{mixed['portal'].pk}" not in only(scope="unassigned")
    assert set(only(scope="queues")) == {f"ticket-{t.pk}" for t in (mixed["staff"], mixed["email"],
                                                                    mixed["portal"])}
    assert set(only(statuses=["new"])) == {f"ticket-{mixed['staff'].pk}", f"ticket-{mixed['email'].pk}",
                                           f"ticket-{mixed['portal'].pk}", f"chat-{mixed['chat_new'].pk}"}
    assert only(statuses=["waiting"]) == []
    assert only(q="打印机") == [f"ticket-{mixed['email'].pk}"]
    assert only(q="有货") == [f"chat-{mixed['chat_new'].pk}"]
    assert len(only(q="张伟")) == 3  # the contact's three tickets
    mine = inbox.inbox_page(agent, inbox.clean_filters(scope="mine"))
    old = next(i for i in mine.items if i.source == "chat")
    assert not old.needs_reply and old.status == "open" and old.assignee == agent
    with pytest.raises(Exception) as bad:
        inbox.clean_filters(channels=["fax"], scope="everyone", statuses=["done"])
    assert set(bad.value.message_dict) == {"channel", "scope", "status"}


def test_visibility_page_pane_and_api(mixed, agent, users, client):
    rep_a, rep_b = users["rep_a"], users["rep_b"]
    # rep_a sees the tickets of their customer's account, no web chats; rep_b sees nothing.
    assert {i.key for i in inbox.inbox_page(rep_a).items} == {
        f"ticket-{mixed[k].pk}" for k in ("staff", "email", "portal")}
    assert inbox.inbox_page(rep_b).items == []
    client.force_login(rep_b)
    assert "inbox-empty" in client.get("/cc/inbox/").content.decode()
    assert client.get(f"/cc/inbox/ticket/{mixed['email'].pk}/").status_code == 404
    assert client.get(f"/cc/inbox/chat/{mixed['chat_new'].pk}/").status_code == 404
    assert client.post(f"/cc/inbox/ticket/{mixed['email'].pk}/reply/", {"body": "x"}).status_code == 404
    assert client.get("/cc/inbox/fax/1/").status_code == 404
    assert ApiClient(issue_token(rep_b)).get("inbox").json() == {"items": [], "next": None, "counts": {}}
    client.force_login(rep_a)
    assert client.get(f"/cc/inbox/chat/{mixed['chat_new'].pk}/").status_code == 404
    client.force_login(agent)
    page = client.get("/cc/inbox/").content.decode()
    assert HTML not in page and "&lt;script&gt;alert(1)&lt;/script&gt; 有货吗" in page
    assert 'id="nav-inbox"' in page
    pane = client.get(f"/cc/inbox/chat/{mixed['chat_new'].pk}/").content.decode()
    assert HTML not in pane and 'id="reply-form"' in pane


def test_api_lists_filters_pages_and_refuses_bad_input(mixed, agent):
    api = ApiClient(issue_token(agent))
    body = api.get("inbox", {"limit": 3}).json()
    assert [i["source"] + "-" + str(i["id"]) for i in body["items"]] == [
        f"ticket-{mixed['email'].pk}", f"chat-{mixed['chat_new'].pk}", f"ticket-{mixed['portal'].pk}"]
    assert body["counts"] == {"staff": 1, "email": 1, "portal": 1, "chat": 2}
    first = body["items"][0]
    assert first["contact"]["name"] == "张伟" and first["needs_reply"] is True and first["channel"] == "email"
    assert first["url"] == f"/service/tickets/{mixed['email'].pk}/"
    rest = api.get("inbox", {"limit": 3, "cursor": body["next"]}).json()
    assert len(rest["items"]) == 2 and rest["next"] is None and rest["counts"] is None
    only = api.get("/api/v1/inbox?channel=email&channel=portal").json()
    assert [i["channel"] for i in only["items"]] == ["email", "portal"]
    bad = api.get("inbox", {"channel": "fax", "scope": "x"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"channel", "scope"}
    for cursor in ("nonsense", "W10", "WyJpbmJveCIsWzEsMl0sMV0"):
        response = api.get("inbox", {"cursor": cursor})
        assert response.status_code == 400 and "cursor" in response.json()["errors"]


def test_queries_do_not_grow_with_the_items(users, zhang, site, desk_setup, agent, client,
                                            django_assert_max_num_queries):
    _account, contact = zhang
    admin = users["admin"]

    def add(n):
        for i in range(n):
            staff_ticket(admin, f"工单 {i}", T0, contact_id=contact.pk)
            portal_ticket(contact, f"门户 {i}", T0)
            cs.agent_reply(agent, chat(site, f"聊天 {i}", timezone.now()), "好的")

    add(2)
    client.force_login(agent)
    api = ApiClient(issue_token(agent))
    with CaptureQueriesContext(connection) as small_page:
        assert client.get("/cc/inbox/").status_code == 200
    with CaptureQueriesContext(connection) as small_api:
        assert len(api.get("inbox").json()["items"]) == 6
    add(15)
    with django_assert_max_num_queries(len(small_page.captured_queries)):
        response = client.get("/cc/inbox/")
    assert response.content.decode().count('class="list-group-item list-group-item-action gx-inbox-item"') == 50
    with django_assert_max_num_queries(len(small_api.captured_queries)):
        assert len(api.get("inbox", {"limit": 200}).json()["items"]) == 51
    assert ChatConversation.objects.count() == 17

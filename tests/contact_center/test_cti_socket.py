"""The screen pop over real WebSockets: a webhook event for a call ringing at an agent's extension reaches that
agent's socket (the one every page opens, /ws/cc/agent/?only=calls) with the caller's contact and company, or a
"create contact" link for an unknown number — and no one else's."""

import datetime as dt
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import Client

from guanxi.contact_center.call_services import sign
from guanxi.customers import services as customer_services

from .test_chat_socket import agent_socket, cookie_for

pytestmark = pytest.mark.django_db(transaction=True)
T0 = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def phone_socket(cookie):
    socket = agent_socket(cookie)
    socket.scope["query_string"] = b"only=calls"
    return socket


def webhook(pbx, **event):
    body = json.dumps({"at": T0.isoformat(), **event}).encode()
    response = Client().post(f"/cc/cti/webhook/{pbx.key}", body, content_type="application/json",
                             headers={"X-Guanxi-Signature": sign("webhook-secret", body)})
    assert response.status_code in (200, 201), response.content
    return response


def pops(pbx, cookies, events, expect):
    """Connect the sockets, post the events, and gather what each socket heard (`expect[i]` messages on the i-th;
    then nothing more)."""

    async def scenario():
        sockets = [phone_socket(c) for c in cookies]
        for s in sockets:
            assert (await s.connect())[0]
        for event in events:
            await sync_to_async(webhook)(pbx, **event)
        heard = []
        for s, n in zip(sockets, expect, strict=True):
            heard.append([await s.receive_json_from(timeout=3) for _ in range(n)])
            assert await s.receive_nothing(timeout=0.2)
        for s in sockets:
            await s.disconnect()
        return heard

    return async_to_sync(scenario)()


def test_known_caller_pops_up_for_the_ringing_agent_only(pbx, agent, agent_phone, users):
    account = customer_services.create_account(agent, {"name": "星辰医疗"})
    contact = customer_services.create_contact(agent, {"name": "王芳", "phones": ["13800138000"],
                                                       "account_ids": [account.pk]})
    ringing = {"call_id": "c-1", "event": "ringing", "caller": "13800138000", "extension": "1001", "id": "r-1"}
    queued = {"call_id": "c-1", "event": "queued", "queue": "support", "id": "q-1"}
    heard, others = pops(pbx, [cookie_for(agent), cookie_for(users["rep_a"])], [queued, ringing, ringing], [1, 0])
    pop = heard[0]
    assert pop["type"] == "call" and pop["agent"] == agent.pk and pop["number"] == "+8613800138000"
    assert pop["contact"] == {"id": contact.pk, "name": "王芳", "url": f"/contacts/{contact.pk}/"}
    assert pop["account"]["name"] == "星辰医疗" and pop["create_url"] == "" and pop["queue"] == "support"
    assert others == []  # rep_a's phone did not ring; the repeated ringing popped nothing more


def test_unknown_number_offers_create_contact(pbx, agent, agent_phone):
    event = {"call_id": "c-2", "event": "ringing", "caller": "+86 139 0013 9000", "extension": "1001"}
    [pop] = pops(pbx, [cookie_for(agent)], [event], [1])[0]
    assert pop["contact"] is None and pop["account"] is None and pop["hidden"] is False
    assert pop["create_url"] == "/contacts/new/?phone=%2B8613900139000"
    page = Client()
    page.force_login(agent)
    form = page.get(pop["create_url"]).content.decode()
    assert "+8613900139000" in form  # the new contact's phone is filled in


def test_a_customer_the_agent_may_not_see_is_not_named(pbx, agent, agent_phone, zhang):
    event = {"call_id": "c-3", "event": "ringing", "caller": "13800138000", "extension": "1001"}
    [pop] = pops(pbx, [cookie_for(agent)], [event], [1])[0]
    assert pop["contact"] is None and pop["hidden"] is True and pop["create_url"] == ""
    assert "张伟" not in json.dumps(pop, ensure_ascii=False)


def test_a_transfer_pops_up_at_the_new_agent(pbx, agent, agent_phone, users):
    from guanxi.contact_center.call_services import set_agent_phone

    set_agent_phone(users["admin"], users["rep_a"].pk, "1002")
    events = [{"call_id": "c-4", "event": "ringing", "caller": "13700137000", "extension": "1001"},
              {"call_id": "c-4", "event": "answered", "extension": "1001", "at": (T0 + dt.timedelta(seconds=5))
               .isoformat()},
              {"call_id": "c-4", "event": "transferred", "extension": "1002",
               "at": (T0 + dt.timedelta(seconds=60)).isoformat()}]
    rep_heard, agent_heard = pops(pbx, [cookie_for(users["rep_a"]), cookie_for(agent)], events, [1, 1])
    assert agent_heard[0]["agent"] == agent.pk  # the phone that rang first
    got = rep_heard[0]  # the phone the call was transferred to
    assert got["type"] == "call" and got["agent"] == users["rep_a"].pk and got["number"] == "+8613700137000"

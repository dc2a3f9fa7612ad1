"""Live inbox: a ticket filed by any channel (portal, email) or a customer's new message on one reaches the agents'
sockets as an "inbox" event after commit — ids only, and only for agents who may see the ticket."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from guanxi.contact_center import email_ingest
from guanxi.service import customer_services
from guanxi.service import services as desk

from .test_chat_socket import agent_socket, cookie_for
from .test_email_ingest import make_mail

pytestmark = pytest.mark.django_db(transaction=True)


def test_new_tickets_and_customer_messages_reach_the_agent_socket(mailbox, smtp, zhang, agent, desk_setup, users):
    _account, contact = zhang
    agent_cookie, outsider_cookie = cookie_for(agent), cookie_for(users["rep_b"])

    async def scenario():
        desk_socket, outsider = agent_socket(agent_cookie), agent_socket(outsider_cookie)
        assert (await desk_socket.connect())[0] and (await outsider.connect())[0]
        portal = await sync_to_async(customer_services.submit_ticket)(contact, {"subject": "发票问题",
                                                                              "description": "抬头错了"})
        event = await desk_socket.receive_json_from()
        assert event == {"type": "inbox", "source": "ticket", "id": portal.pk, "channel": "portal",
                         "queue": desk_setup.pk, "owner": None}
        row, _created = await sync_to_async(email_ingest.ingest)(mailbox, make_mail(subject="打印机坏了"))
        event = await desk_socket.receive_json_from()
        assert (event["type"], event["id"], event["channel"]) == ("inbox", row.ticket_id, "email")
        await sync_to_async(customer_services.customer_reply)(contact, portal, "补充：税号是 123")
        event = await desk_socket.receive_json_from()
        assert (event["type"], event["id"]) == ("inbox", portal.pk)
        assert await outsider.receive_nothing(timeout=0.2)  # rep_b may see none of these tickets
        # Nothing is sent before the transaction commits, nor when it rolls back.
        await sync_to_async(_filed_and_rolled_back)(users["admin"])
        assert await desk_socket.receive_nothing(timeout=0.2)
        await desk_socket.disconnect()
        await outsider.disconnect()

    async_to_sync(scenario)()


def _filed_and_rolled_back(admin):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        desk.create_ticket(admin, {"subject": "不会出现"})
        raise RuntimeError

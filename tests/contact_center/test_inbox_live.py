"""Live inbox: a ticket filed by any channel (portal, email) or a customer's new message on one, and a ticket or chat
that changes status or assignee, reach the agents' sockets as an "inbox" event after commit — ids only, and only
for agents who may see the item (or saw it before the change)."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from guanxi.contact_center import email_ingest, inbox
from guanxi.contact_center.chat_models import ChatConversation
from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.service import customer_services
from guanxi.service import services as desk
from guanxi.service.models import AgentProfile, Availability
from guanxi.service.ticket_models import Ticket

from .test_chat_socket import agent_socket, cookie_for, visitor_socket
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
                         "queue": desk_setup.pk, "owner": None, "visible": True}
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


def _second_agent():
    user = create_user(None, username="agent_wang", password="correct-horse-9", role=Role.SERVICE_AGENT,
                       first_name="芳", last_name="王")
    AgentProfile.objects.create(user=user, availability=Availability.OFF)
    return user


def test_status_and_assignee_changes_move_the_item_in_every_inbox_that_shows_it(zhang, agent, desk_setup, users):
    """A ticket handed on, resolved, or a chat taken: the consoles that showed it hear so, even one that will not
    see it any more (its previous assignee), and nobody else does."""
    _account, contact = zhang
    admin, wang = users["admin"], _second_agent()  # wang is in no queue: he sees only what he is given
    ticket = customer_services.submit_ticket(contact, {"subject": "退货", "description": "尺码不对"})
    ticket = desk.assign(admin, ticket, wang.pk, ticket.version)
    cookies = [cookie_for(u) for u in (agent, wang, users["rep_b"])]

    async def scenario():
        li_socket, wang_socket, outsider = (agent_socket(c) for c in cookies)
        for socket in (li_socket, wang_socket, outsider):
            assert (await socket.connect())[0]
        handed = await sync_to_async(desk.assign)(admin, ticket, agent.pk, ticket.version)
        expected = {"type": "inbox", "source": "ticket", "id": ticket.pk, "channel": "portal",
                    "queue": desk_setup.pk, "owner": agent.pk, "status": "new",
                    "was": {"owner": wang.pk, "queue": desk_setup.pk}}
        assert await li_socket.receive_json_from() == {**expected, "visible": True}  # the new assignee
        # It leaves the inbox of the one it was taken from, who may not see it any more.
        assert await wang_socket.receive_json_from() == {**expected, "visible": False}
        await sync_to_async(desk.change_status)(agent, handed, "resolved", handed.version)
        resolved = await li_socket.receive_json_from()
        assert (resolved["id"], resolved["status"], resolved["was"]["owner"]) == (ticket.pk, "resolved", agent.pk)
        assert await wang_socket.receive_nothing(timeout=0.3)  # no longer his, before or after
        assert await outsider.receive_nothing(timeout=0.1)
        for socket in (li_socket, wang_socket, outsider):
            await socket.disconnect()

    async_to_sync(scenario)()
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_a_chat_taken_or_closed_moves_in_the_other_agents_inboxes(site, agent, users):
    wang = _second_agent()
    li_cookie, wang_cookie = cookie_for(agent), cookie_for(wang)

    async def scenario():
        li_socket, wang_socket = agent_socket(li_cookie), agent_socket(wang_cookie)
        assert (await li_socket.connect())[0] and (await wang_socket.connect())[0]
        web = visitor_socket(site.public_key)
        assert (await web.connect())[0]
        await web.receive_json_from()
        await web.send_json_to({"type": "message", "body": "在吗？"})
        first = await li_socket.receive_json_from()
        assert (await wang_socket.receive_json_from())["id"] == first["id"]  # unassigned: both agents see it
        chat = first["conversation"]
        await li_socket.send_json_to({"type": "reply", "conversation": chat, "body": "在的"})
        taken = {"type": "inbox", "source": "chat", "id": chat, "channel": "chat", "queue": None,
                 "owner": agent.pk, "status": "open", "was": {"owner": None, "queue": None}}
        assert await wang_socket.receive_json_from() == {**taken, "visible": False}  # it leaves wang's inbox …
        assert await wang_socket.receive_nothing(timeout=0.3)  # … and he hears no more of it
        assert await li_socket.receive_json_from() == {**taken, "visible": True}
        assert (await li_socket.receive_json_from())["body"] == "在的"
        await li_socket.send_json_to({"type": "close", "conversation": chat})
        closed = await li_socket.receive_json_from()
        assert (closed["type"], closed["status"], closed["owner"]) == ("inbox", "closed", agent.pk)
        assert (await li_socket.receive_json_from())["status"] == "closed"  # the closing message
        assert await wang_socket.receive_nothing(timeout=0.3)
        for socket in (web, li_socket, wang_socket):
            await socket.disconnect()
        return chat

    chat = async_to_sync(scenario)()
    assert ChatConversation.objects.get(pk=chat).status == "closed"
    assert inbox.inbox_page(wang).items == [] and inbox.inbox_page(agent).items == []


def test_the_reroute_sweep_moves_the_ticket_live(zhang, agent, desk_setup, users):
    """Nobody picked the ticket up in time: the sweep takes it back to the queue, and the console hears so."""
    import datetime as dt

    from django.utils import timezone

    from guanxi.service import jobs

    _account, contact = zhang
    desk_setup.reroute_after_minutes = 5
    desk_setup.save()
    ticket = customer_services.submit_ticket(contact, {"subject": "发票", "description": "还没收到"})
    ticket = desk.assign(users["admin"], ticket, agent.pk, ticket.version)
    cookie = cookie_for(agent)

    async def scenario():
        socket = agent_socket(cookie)
        assert (await socket.connect())[0]
        assert await sync_to_async(jobs.reroute_unpicked)(timezone.now() + dt.timedelta(minutes=10)) == 1
        event = await socket.receive_json_from()
        assert (event["id"], event["owner"], event["was"]) == (ticket.pk, None,
                                                               {"owner": agent.pk, "queue": desk_setup.pk})
        await socket.disconnect()

    async_to_sync(scenario)()

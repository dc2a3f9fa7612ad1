"""The agent inbox in a real browser, on the real ASGI app (HTTP + WebSockets, see conftest.asgi_server): the page
is open, a customer files a ticket in the portal (the service call), the ticket appears in the list without a
reload, and the agent opens it and replies."""

import pytest

from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.customers import services as customers
from guanxi.service import customer_services
from guanxi.service.models import AgentProfile, Availability, Queue
from guanxi.service.ticket_models import MessageKind, Ticket

from .conftest import CHROMIUM_ARGS  # noqa: F401  (the browser fixture's settings)
from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_a_new_ticket_appears_live_and_the_agent_replies(browser, asgi_server, users):  # noqa: F811
    queue = Queue.objects.create(name="客服一组")
    agent = create_user(None, username="agent_li", password="correct-horse-9", role=Role.SERVICE_AGENT)
    AgentProfile.objects.create(user=agent, availability=Availability.OFF).queues.add(queue)
    account = customers.create_account(users["admin"], {"name": "星辰医疗"})
    contact = customers.create_contact(users["admin"], {"name": "张伟", "account_ids": [account.pk]})

    context = browser.new_context(base_url=asgi_server, locale="zh-CN")
    context.set_default_timeout(15000)
    page = context.new_page()
    log_in(page, "agent_li")
    page.click("#nav-inbox")
    expect(page.locator("#inbox-empty")).to_be_visible()
    expect(page.locator("#inbox-status")).to_have_class("badge text-bg-success ms-2")  # the socket is open

    customer_services.submit_ticket(contact, {"subject": "<i>发票</i>抬头错了", "description": "请重开发票"})
    ticket = Ticket.objects.get()
    item = page.locator(f'#inbox-items [data-key="ticket-{ticket.pk}"]')
    expect(item).to_contain_text("<i>发票</i>抬头错了")  # arrived without a reload, shown as text
    expect(page.locator("#inbox-counts [data-channel=portal] .gx-count")).to_have_text("1")
    assert page.locator("#inbox-items i:not(.bi)").count() == 0

    item.locator("a").click()
    expect(page.locator("#pane-title")).to_contain_text("抬头错了")
    expect(page.locator("#pane-log")).to_contain_text("请重开发票")
    expect(page.locator("#inbox-customer")).to_contain_text("张伟")
    expect(item).to_have_class("list-group-item list-group-item-action gx-inbox-item active")
    page.fill("#reply-body", "已为您重开，请查收。")
    page.click("#reply-send")
    expect(page.locator("#pane-log")).to_contain_text("已为您重开，请查收。")
    message = ticket.messages.get()
    assert (message.author, message.kind) == (agent, MessageKind.REPLY)
    context.close()


def test_a_ticket_handed_to_another_agent_leaves_the_open_inbox(browser, asgi_server, users):  # noqa: F811
    from guanxi.service import services as desk

    queue = Queue.objects.create(name="客服一组")
    li, wang = (create_user(None, username=name, password="correct-horse-9", role=Role.SERVICE_AGENT)
                for name in ("agent_li", "agent_wang"))
    AgentProfile.objects.create(user=li, availability=Availability.OFF).queues.add(queue)
    AgentProfile.objects.create(user=wang, availability=Availability.OFF)  # in no queue: sees what he is given
    contact = customers.create_contact(users["admin"], {"name": "张伟"})
    ticket = customer_services.submit_ticket(contact, {"subject": "退货申请", "description": "尺码不对"})
    ticket = desk.assign(users["admin"], Ticket.objects.get(pk=ticket.pk), wang.pk, ticket.version)

    context = browser.new_context(base_url=asgi_server, locale="zh-CN")
    context.set_default_timeout(15000)
    page = context.new_page()
    log_in(page, "agent_wang")
    page.click("#nav-inbox")
    item = page.locator(f'#inbox-items [data-key="ticket-{ticket.pk}"]')
    expect(item).to_contain_text("退货申请")
    expect(page.locator("#inbox-status")).to_have_class("badge text-bg-success ms-2")  # the socket is open

    desk.assign(users["admin"], ticket, li.pk, ticket.version)
    expect(item).to_have_count(0)  # moved out without a reload
    expect(page.locator("#inbox-empty")).to_be_visible()
    context.close()

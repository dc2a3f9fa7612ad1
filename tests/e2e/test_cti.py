"""The screen pop in a real browser: an agent's page (the real ASGI app under granian, as in test_chat) shows the
caller's card with the contact's name when the cloud PBX's webhook says their phone rings, and offers "create
contact" (the form prefilled with the number) for an unknown number. The phone numbers on a contact's page carry
a call button."""

import json
import urllib.request

import pytest

from guanxi.contact_center.call_services import save_connection, set_agent_phone, sign
from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.customers import services as customer_services

from .conftest import CHROMIUM_ARGS  # noqa: F401  (the browser fixture's settings)
from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def ring(server, pbx, call_id, caller):
    body = json.dumps({"call_id": call_id, "event": "ringing", "at": "2026-11-24T10:00:00+08:00",
                       "caller": caller, "extension": "1001"}).encode()
    request = urllib.request.Request(f"{server}/cc/cti/webhook/{pbx.key}", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Guanxi-Signature": sign("webhook-secret", body)})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def test_incoming_call_pops_up_the_callers_card(browser, asgi_server, users):  # noqa: F811
    agent = create_user(None, username="agent_li", password="correct-horse-9", role=Role.SERVICE_AGENT)
    set_agent_phone(users["admin"], agent.pk, "1001")
    pbx = save_connection(users["admin"], None, {"name": "云总机", "kind": "webhook", "secret": "webhook-secret",
                                                 "active": True})
    contact = customer_services.create_contact(agent, {"name": "王芳", "phones": ["13800138000"]})

    context = browser.new_context(base_url=asgi_server, locale="zh-CN")
    context.set_default_timeout(15000)
    page = context.new_page()
    log_in(page, "agent_li")
    page.goto(f"/contacts/{contact.pk}/")
    expect(page.locator('#gx-phone[data-connected="1"]')).to_be_attached()
    expect(page.locator("main .gx-call-button").first).to_be_visible()  # beside the contact's phone number

    ring(asgi_server, pbx, "c-1", "13800138000")
    card = page.locator('#gx-phone [data-call]').first
    expect(card.locator(".gx-call-contact")).to_have_text("王芳")
    expect(card.locator(".gx-call-number")).to_have_text("+8613800138000")

    ring(asgi_server, pbx, "c-2", "139 0013 9000")
    unknown = page.locator("#gx-phone .gx-call-create")
    expect(unknown).to_be_visible()
    unknown.click()
    page.wait_for_url("**/contacts/new/**")
    expect(page.locator("#id_phones")).to_have_value("+8613900139000")
    context.close()

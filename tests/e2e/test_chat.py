"""The web chat in a real browser, served over ASGI (HTTP + WebSockets: the asgi_server fixture). A shop page on
another origin carries the widget; an agent in a second browser context answers from the console; the shop page
shows the reply."""

import pytest

from guanxi.contact_center.chat_models import ChatConversation, ChatSite
from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.service.models import AgentProfile, Availability

from .conftest import CHROMIUM_ARGS  # noqa: F401  (the browser fixture's settings)
from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


def test_visitor_chats_and_the_agent_answers_from_the_console(browser, asgi_server, shop_server, users):
    SHOP, pages = shop_server
    site = ChatSite.objects.create(name="商城", allowed_origins=[SHOP], service_user=users["admin"])
    agent = create_user(None, username="agent_li", password="correct-horse-9", role=Role.SERVICE_AGENT)
    AgentProfile.objects.create(user=agent, availability=Availability.ONLINE)
    shop_html = ('<!doctype html><html lang="zh-CN"><head><title>星辰商城</title></head><body><h1>商城</h1>'
                 f'<script src="{asgi_server}/cc/widget.js" data-site="{site.public_key}" async></script>'
                 '</body></html>')

    visitor_context = browser.new_context(locale="zh-CN")
    visitor_context.set_default_timeout(15000)
    pages["html"] = shop_html.encode()
    shop = visitor_context.new_page()
    shop.goto(f"{SHOP}/products")
    shop.click("#gx-chat-button")
    expect(shop.locator("#gx-chat-form")).to_be_visible()
    shop.fill("#gx-chat-input", "<b>你好</b>，CT 机有货吗？")
    shop.click("#gx-chat-send")
    expect(shop.locator("#gx-chat-log")).to_contain_text("<b>你好</b>，CT 机有货吗？")  # shown as text

    agent_context = browser.new_context(base_url=asgi_server, locale="zh-CN")
    agent_context.set_default_timeout(15000)
    desk = agent_context.new_page()
    log_in(desk, "agent_li")
    expect(desk.locator("#nav-console")).to_be_attached()
    desk.goto("/cc/console/")
    conversation = ChatConversation.objects.get()
    expect(desk.locator("#visitor-list")).to_contain_text(f"{SHOP}/products")
    desk.click(f'#chat-list [data-conversation="{conversation.pk}"] a')
    expect(desk.locator("#chat-log")).to_contain_text("<b>你好</b>，CT 机有货吗？")
    expect(desk.locator("#console-status")).to_have_class("badge text-bg-success ms-2")
    desk.fill("#reply-body", "有的，今天可以发货。")
    desk.click("#reply-send")
    expect(desk.locator("#chat-log")).to_contain_text("有的，今天可以发货。")
    expect(shop.locator("#gx-chat-log")).to_contain_text("有的，今天可以发货。")
    assert shop.locator("#gx-chat-log b").count() == 0  # the visitor's HTML was never parsed
    assert conversation.messages.count() == 2
    visitor_context.close()
    agent_context.close()


def open_conversation(browser, asgi_server):
    """agent_li, signed in in a browser context of their own, on the (only) conversation in the console."""
    agent_context = browser.new_context(base_url=asgi_server, locale="zh-CN")
    agent_context.set_default_timeout(15000)
    desk = agent_context.new_page()
    log_in(desk, "agent_li")
    desk.goto(f"/cc/console/{ChatConversation.objects.get().pk}/")
    return agent_context, desk


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_agent_sends_a_document_and_the_visitor_downloads_it(browser, asgi_server, shop_server, users, settings,
                                                                 tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    SHOP, pages = shop_server
    site = ChatSite.objects.create(name="商城", allowed_origins=[SHOP], service_user=users["admin"])
    agent = create_user(None, username="agent_li", password="correct-horse-9", role=Role.SERVICE_AGENT)
    AgentProfile.objects.create(user=agent, availability=Availability.ONLINE)
    pages["html"] = ('<!doctype html><html lang="zh-CN"><head><title>星辰商城</title></head><body><h1>商城</h1>'
                     f'<script src="{asgi_server}/cc/widget.js" data-site="{site.public_key}" async></script>'
                     '</body></html>').encode()
    visitor_context = browser.new_context(locale="zh-CN", accept_downloads=True)
    visitor_context.set_default_timeout(15000)
    shop = visitor_context.new_page()
    shop.goto(f"{SHOP}/products")
    shop.click("#gx-chat-button")
    shop.fill("#gx-chat-input", "请发一下产品手册")
    shop.click("#gx-chat-send")
    expect(shop.locator("#gx-chat-log")).to_contain_text("请发一下产品手册")

    agent_context, desk = open_conversation(browser, asgi_server)
    desk.set_input_files("#document-file", files=[{"name": "产品手册.pdf", "mimeType": "application/pdf",
                                                   "buffer": PDF}])
    desk.click("#document-send")
    expect(desk.locator("#chat-log .gx-document")).to_have_text("产品手册.pdf")

    link = shop.locator("#gx-chat-log a.gx-document")
    expect(link).to_have_text("产品手册.pdf")  # arrived live in the widget
    with shop.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "产品手册.pdf"
    assert open(download.value.path(), "rb").read() == PDF
    visitor_context.close()
    agent_context.close()


def test_a_customer_signed_in_to_the_portal_chats_as_themselves(browser, asgi_server, users, zhang):
    from guanxi.contact_center import chat_services
    from tests.portal.conftest import PASSWORD, make_portal_user

    _account, contact = zhang
    site = ChatSite.objects.create(name="客户门户", service_user=users["admin"])
    chat_services.save_site(users["admin"], site, {"name": site.name, "on_portal": True})
    agent = create_user(None, username="agent_li", password="correct-horse-9", role=Role.SERVICE_AGENT)
    AgentProfile.objects.create(user=agent, availability=Availability.ONLINE)
    customer = make_portal_user(contact, "zhang.wei@xingchen.cn", "张伟")

    context = browser.new_context(base_url=asgi_server, locale="zh-CN")
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto("/portal/login/")
    page.fill("input[name=email]", customer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#portal-login")
    expect(page.locator("#portal-user")).to_have_text("张伟")
    page.click("#gx-chat-button")  # the portal carries the widget
    page.fill("#gx-chat-input", "我的工单什么时候处理？")
    page.click("#gx-chat-send")
    expect(page.locator("#gx-chat-log")).to_contain_text("我的工单什么时候处理？")
    conversation = ChatConversation.objects.get()
    assert conversation.contact == contact and conversation.visitor.contact == contact
    context.close()


def test_on_a_phone_the_widget_fills_the_screen_and_the_visitor_chats(browser, asgi_server, shop_server, users):
    SHOP, pages = shop_server
    site = ChatSite.objects.create(name="商城", allowed_origins=[SHOP], service_user=users["admin"])
    agent = create_user(None, username="agent_li", password="correct-horse-9", role=Role.SERVICE_AGENT)
    AgentProfile.objects.create(user=agent, availability=Availability.ONLINE)
    pages["html"] = ('<!doctype html><html lang="zh-CN"><head><title>星辰商城</title>'
                     '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><h1>商城</h1>'
                     f'<script src="{asgi_server}/cc/widget.js" data-site="{site.public_key}" async></script>'
                     '</body></html>').encode()
    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 667}, is_mobile=True,
                                has_touch=True)
    phone.set_default_timeout(15000)
    shop = phone.new_page()
    shop.goto(f"{SHOP}/products")
    shop.tap("#gx-chat-button")
    expect(shop.locator("#gx-chat-form")).to_be_visible()
    box = shop.locator("#gx-chat-panel").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 667
    assert box["width"] == 375  # the whole width of the phone, not a 320 px box off its edge
    for target in ("#gx-chat-input", "#gx-chat-send", "#gx-chat-close", "#gx-chat-button"):
        assert shop.locator(target).bounding_box()["height"] >= 40, target  # a finger can hit it
    send = shop.locator("#gx-chat-send").bounding_box()
    assert send["x"] + send["width"] <= 375 and send["y"] + send["height"] <= 667  # in view, not pushed off
    expect(shop.locator("#gx-chat-title")).to_have_text("在线客服")
    expect(shop.locator("#gx-chat-close")).to_have_attribute("aria-label", "关闭")
    shop.fill("#gx-chat-input", "手机上能下单吗？")
    shop.tap("#gx-chat-send")
    expect(shop.locator("#gx-chat-log")).to_contain_text("手机上能下单吗？")

    agent_context, desk = open_conversation(browser, asgi_server)
    expect(desk.locator("#chat-log")).to_contain_text("手机上能下单吗？")
    desk.fill("#reply-body", "可以，直接点购买。")
    desk.click("#reply-send")
    expect(shop.locator("#gx-chat-log")).to_contain_text("可以，直接点购买。")
    shop.tap("#gx-chat-close")
    expect(shop.locator("#gx-chat-panel")).to_be_hidden()
    phone.close()
    agent_context.close()

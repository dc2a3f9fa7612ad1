"""The web chat in a real browser. pytest-django's live server speaks WSGI only, so this test serves the real ASGI
application (HTTP + WebSockets) with granian embedded in a thread of the test process (same in-memory test
database), with static files from the finders. A shop page on another origin carries the widget; an agent in a
second browser context answers from the console; the shop page shows the reply."""

import asyncio
import http.server
import socket
import threading
import time

import pytest
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from guanxi.contact_center.chat_models import ChatConversation, ChatSite
from guanxi.core.models import Role
from guanxi.core.services import create_user
from guanxi.service.models import AgentProfile, Availability

from .conftest import CHROMIUM_ARGS  # noqa: F401  (the browser fixture's settings)
from .test_browser import expect, log_in

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def asgi_server(transactional_db):
    from django.db import connection
    from granian.constants import Interfaces
    from granian.server.embed import Server

    from guanxi.asgi import application

    # The server's threads close their connections after each request, so the test database can be dropped.
    kept_age, connection.settings_dict["CONN_MAX_AGE"] = connection.settings_dict["CONN_MAX_AGE"], 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Server(ASGIStaticFilesHandler(application), address="127.0.0.1", port=port,
                    interface=Interfaces.ASGINL, websockets=True, log_enabled=False)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(server.stop)
    thread.join(timeout=10)
    connection.settings_dict["CONN_MAX_AGE"] = kept_age


@pytest.fixture
def shop_server():
    """The company's website: another origin (localhost, where the CRM is 127.0.0.1), on loopback too, since
    Chromium lets no public page reach a loopback address. Serves the page set in `pages`."""
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get("html", b"")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{httpd.server_address[1]}", pages
    httpd.shutdown()


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

"""Playwright (sync API) against pytest-django's live server, driving Debian's Chromium."""

import asyncio
import http.server
import os
import shutil
import socket
import threading
import time

import pytest
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by fixtures) must not refuse it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GUANXI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a fresh browser context (its own cookies) per call; all are closed at the end."""
    contexts = []

    def make(**kwargs):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      viewport=kwargs.pop("viewport", {"width": 1280, "height": 860}), **kwargs)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def asgi_server(transactional_db):
    """pytest-django's live server speaks WSGI only: this serves the real ASGI application (HTTP + WebSockets) with
    granian embedded in a thread of the test process (same test database), with static files from the finders."""
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

"""The one ASGI app: HTTP through Django's WSGI handler on a fixed pool of threads; WebSockets through Channels.

Django's own ASGI handler runs each request in a new thread, so a thread's database connection
is thrown away with it: every request paid a new connection (SQLite: the schema parsed again and a
cold page cache; PostgreSQL: a pool hand-out). A fixed pool of threads keeps one persistent
connection per thread (docs/benchmarks.md has the figures). WebSockets (the contact centre's web chat) go to
Channels' consumers, whose database work runs on Channels' one database thread.
"""

import os

from a2wsgi import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

wsgi_bridge = WSGIMiddleware(get_wsgi_application(), workers=int(os.environ.get("GUANXI_THREADS", "8")))


async def http_application(scope, receive, send):
    """a2wsgi reads a request body with run_coroutine_threadsafe(receive()), which takes only a coroutine; granian's
    receive() returns another kind of awaitable (every POST body failed with a 500 under `guanxi serve`)."""

    async def receive_coroutine():
        return await receive()

    return await wsgi_bridge(scope, receive_coroutine, send)


from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from guanxi.contact_center.chat_realtime import remember_loop  # noqa: E402
from guanxi.contact_center.chat_routing import websocket_urlpatterns  # noqa: E402

application = remember_loop(ProtocolTypeRouter({
    "http": http_application,
    "websocket": URLRouter(websocket_urlpatterns),
}))

"""The one ASGI app: HTTP through Django's WSGI handler on a fixed pool of threads.

Django's own ASGI handler runs each request in a new thread, so a thread's database connection
is thrown away with it: every request paid a new connection (SQLite: the schema parsed again and a
cold page cache; PostgreSQL: a pool hand-out). A fixed pool of threads keeps one persistent
connection per thread (docs/benchmarks.md has the figures). WebSocket routes join here later.
"""

import os

from a2wsgi import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = WSGIMiddleware(get_wsgi_application(), workers=int(os.environ.get("GUANXI_THREADS", "8")))

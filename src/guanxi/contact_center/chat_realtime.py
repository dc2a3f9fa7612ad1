"""Group names and broadcasting of chat events.

Each visitor's sockets (one per open tab) listen on the visitor's group, which carries their conversation (a
visitor has one open conversation at a time, so it is the conversation's group); agents' consoles listen on the
agents group: new conversations, every message, visitor activity (each console keeps what its user may see).

Code running in a request thread (the HTTP views and the API) broadcasts through the event loop that serves
the sockets: the in-memory layer's queues belong to that loop and must not be touched from another thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

AGENTS = "cc.agents"
_loop: asyncio.AbstractEventLoop | None = None


def visitor_group(visitor_id: int) -> str:
    return f"cc.visitor.{visitor_id}"


def remember_loop(app):
    """ASGI middleware: note the serving event loop, so that request threads can broadcast through it."""

    async def wrapped(scope, receive, send):
        global _loop
        _loop = asyncio.get_running_loop()
        return await app(scope, receive, send)

    return wrapped


async def send_event(group: str, event: dict[str, Any]) -> None:
    await get_channel_layer().group_send(group, {"type": "cc.event", "event": event})


def broadcast(group: str, event: dict[str, Any]) -> None:
    """Send an event to a group from synchronous code (fire and forget when a serving loop runs elsewhere)."""
    loop = _loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is not None and loop.is_running() and running is not loop:
        future = asyncio.run_coroutine_threadsafe(send_event(group, event), loop)
        future.add_done_callback(lambda f: f.exception())  # never leave an exception unretrieved
    elif running is not None:
        running.create_task(send_event(group, event))
    else:
        async_to_sync(send_event)(group, event)


def broadcast_message(event: dict[str, Any]) -> None:
    broadcast(visitor_group(event["visitor"]), event)
    broadcast(AGENTS, event)

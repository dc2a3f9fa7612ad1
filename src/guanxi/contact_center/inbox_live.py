"""Live updates of the inbox: when a ticket is filed (any channel) or its customer writes, and when a ticket or a web
chat changes status, assignee or queue (taken, handed on, resolved, closed, re-routed), the agents' consoles get an
"inbox" event after commit. It carries ids only — each open inbox page fetches its own visible list again, so
nothing an agent may not see reaches their browser. The agent socket passes the event on to agents who may see
the item now, or who saw it before the change (`was`: its old assignee and queue), so that the item leaves the
inbox of an agent it was taken from. Web chat messages also reach the consoles as "message" events."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .chat_realtime import AGENTS, broadcast


def inbox_event(ticket) -> dict:
    return {"type": "inbox", "source": "ticket", "id": ticket.pk, "channel": ticket.channel,
            "queue": ticket.queue_id, "owner": ticket.owner_id}


def _after_commit(event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: broadcast(AGENTS, event))


def on_ticket_activity(sender, ticket, **kwargs) -> None:
    """Receiver of service.signals.ticket_activity and reply_added: broadcast once the change is committed."""
    _after_commit(inbox_event(ticket))


def on_ticket_moved(sender, ticket, before: dict[str, Any], **kwargs) -> None:
    """Receiver of service.signals.ticket_moved: the new state, and who had it before."""
    _after_commit({**inbox_event(ticket), "status": ticket.status,
                   "was": {"owner": before.get("owner_id"), "queue": before.get("queue_id")}})


def chat_moved(conversation, was_owner: int | None, was_queue: int | None) -> None:
    """A web chat was taken, closed or reopened (call inside the transaction that changed it)."""
    from guanxi.service.ticket_models import TicketChannel

    _after_commit({"type": "inbox", "source": "chat", "id": conversation.pk, "channel": TicketChannel.CHAT,
                   "queue": conversation.queue_id, "owner": conversation.owner_id, "status": conversation.status,
                   "was": {"owner": was_owner, "queue": was_queue}})

"""Live updates of the inbox: when a ticket is filed (any channel) or its customer writes, the agents' consoles
get an "inbox" event after commit. It carries ids only — each open inbox page fetches its own visible list again,
so nothing an agent may not see reaches their browser (the agent socket also checks the ticket before passing
the event on). Web chat messages already reach the consoles as "message" events."""

from __future__ import annotations

from django.db import transaction

from .chat_realtime import AGENTS, broadcast


def inbox_event(ticket) -> dict:
    return {"type": "inbox", "source": "ticket", "id": ticket.pk, "channel": ticket.channel,
            "queue": ticket.queue_id, "owner": ticket.owner_id}


def on_ticket_activity(sender, ticket, **kwargs) -> None:
    """Receiver of service.signals.ticket_activity and reply_added: broadcast once the change is committed."""
    event = inbox_event(ticket)
    transaction.on_commit(lambda: broadcast(AGENTS, event))

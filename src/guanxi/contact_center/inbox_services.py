"""What an agent does from the inbox beyond the channels' own services: reply on the conversation's own channel,
and link a web chat to an existing ticket (its transcript lands on the ticket as an internal note).

A ticket's reply is service.reply() whatever its channel: the email channel listens to it and mails the customer
in the same thread; the portal shows it. A chat's reply goes to the visitor's widget live.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.records import fail, int_or_none
from guanxi.service import services as desk
from guanxi.service.ticket_models import Ticket, TicketMessage, TicketStatus

from . import chat_services as cs
from .chat_models import ChatConversation, ChatMessage
from .chat_realtime import broadcast_message


def reply_to_ticket(agent: User, ticket: Ticket, body: Any, note: bool = False) -> TicketMessage:
    return (desk.add_note if note else desk.reply)(agent, ticket, body)


def reply_to_chat(agent: User, conversation: ChatConversation, body: Any) -> ChatMessage:
    """The agent's answer, shown live in the visitor's widget and on the other consoles (after commit)."""
    return _live(conversation, cs.agent_reply(agent, conversation, body))


def push_document_to_chat(agent: User, conversation: ChatConversation, file: Any) -> ChatMessage:
    """A file for the visitor: offered in their widget at once (a link only they can open, for a while)."""
    return _live(conversation, cs.push_document(agent, conversation, file))


def _live(conversation: ChatConversation, message: ChatMessage) -> ChatMessage:
    conversation.refresh_from_db()
    event = cs.message_event(message, conversation)
    transaction.on_commit(lambda: broadcast_message(event))
    return message


def find_ticket(agent: User, reference: Any, field: str = "ticket") -> Ticket:
    """A ticket the agent may see, by number (T000012) or id; closed ones take no more messages."""
    text = str(reference or "").strip()[:30]
    pk = int_or_none(text)
    query = Q(number__iexact=text) | (Q(pk=pk) if pk else Q(pk__in=[]))
    ticket = Ticket.objects.visible_to(agent).filter(query).first() if text else None
    if ticket is None:
        fail({field: [_("No such ticket.")]})
    if ticket.status == TicketStatus.CLOSED:
        fail({field: [_("This ticket is closed: reopen it or open a new one.")]})
    return ticket


@transaction.atomic
def link_chat_to_ticket(agent: User, conversation: ChatConversation, reference: Any) -> Ticket:
    """The chat is about an existing ticket: its transcript is added to the ticket as an internal note."""
    ticket = find_ticket(agent, reference)
    transcript = cs.transcript(conversation)
    if not transcript:
        raise ValidationError({"ticket": [_("The chat has no messages yet.")]})
    header = _("Web chat #%(id)s") % {"id": conversation.pk}
    desk.add_note(agent, ticket, f"{header}\n\n{transcript}")
    return ticket

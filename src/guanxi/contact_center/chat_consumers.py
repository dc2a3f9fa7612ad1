"""The chat's WebSocket consumers: a visitor's widget (/ws/cc/visitor/<site key>/?visitor=<key>) and an agent's
console (/ws/cc/agent/, signed in through the session). Messages are JSON objects with a "type".

visitor → server: message {body} · identify {name, email, phone} · offline {name, email, phone, body}
server → visitor: state {visitor, online, messages} · message {...; a pushed document: sender "document", document,
  size, url} · ticket {number} · error {errors}
agent → server: reply {conversation, body} · invite {visitor, body} · link {conversation, url} · close {conversation}
server → agent: message {...} · visitor {visitor, url, title, pages} · inbox {source, id, channel, queue, owner,
  visible, and when it moved: status, was {owner, queue}} · error {errors} · call {agent, call, number, contact,
  account, create_url} (the screen pop, to the agent whose phone rings; a socket opened with ?only=calls, as every page
  opens it, hears nothing else)
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from . import chat_services as cs
from . import visitor_services as vs
from .chat_models import SERVICE_ROLES, ChatConversation, Visitor, is_own_origin
from .chat_realtime import AGENTS, send_event, visitor_group

VISITOR_COOKIE = "gx_visitor"
TOO_MANY_OPENS = 4429  # the close code of a socket refused for opening too often (HTTP's 429)
logger = logging.getLogger(__name__)


def opens_allowed(kind: str, who: Any, limit: int) -> bool:
    """Count one socket open of `who` (a visitor's IP address, an agent's user id); False past `limit` a minute,
    with a log line for the administrator. A flood is refused before it costs a query."""
    try:
        vs.check_rate(f"ws-{kind}:{who}", limit)
    except vs.RateLimited:
        logger.warning("%s socket refused: more than %s opens a minute from %s", kind, limit, who)
        return False
    return True


def _errors(exc: Exception) -> dict[str, list[str]]:
    if isinstance(exc, ValidationError):
        return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": list(exc.messages)}
    if isinstance(exc, vs.RateLimited):
        return {"body": [_("Too many messages; wait a minute and try again.")]}
    return {"__all__": [str(exc) or _("You may not do this.")]}


class JsonConsumer(AsyncJsonWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = json.loads(text_data or "")
        except ValueError:
            content = None
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "errors": {"type": [_("Send a JSON object with a type.")]}})
            return
        try:
            await self.receive_json(content)
        except (ValidationError, PermissionDenied, vs.RateLimited) as exc:
            await self.send_json({"type": "error", "errors": _errors(exc)})

    def header(self, name: bytes) -> str:
        for key, value in self.scope.get("headers", []):
            if key == name:
                return value.decode("latin-1")
        return ""


class VisitorConsumer(JsonConsumer):
    visitor: Visitor | None = None
    conversation: ChatConversation | None = None  # the open one, as far as this socket knows

    @database_sync_to_async
    def _open(self, site_key: str, key: str | None) -> tuple[Visitor, dict] | int:
        """The visitor and their state, or the close code: 4429 (a flood from the address), 4403 (no such site,
        or a page of another origin)."""
        client = self.scope.get("client") or [None]
        if not opens_allowed("visitor", client[0] or "unknown", settings.CC_VISITOR_SOCKETS_PER_MINUTE):
            return TOO_MANY_OPENS
        site, origin = vs.site_by_key(site_key), self.header(b"origin")
        if site is None or not site.allows(origin):
            return 4403
        visitor = vs.visitor_for(site, key, user_agent=self.header(b"user-agent"), ip=client[0])
        visitor.site = site
        if site.on_portal and is_own_origin(origin):  # a customer signed in to the portal is who is chatting
            from guanxi.portal.session import user_in_session

            customer = user_in_session(self.scope.get("session"))
            if customer is not None:
                vs.link_contact(visitor, customer.contact)
        conversation = cs.open_conversation(visitor)
        messages = [cs.message_event(m, conversation) for m in cs.history(conversation)]
        return visitor, {"type": "state", "visitor": visitor.key, "online": cs.agents_online(site),
                         "messages": messages}

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        key = (query.get("visitor") or [None])[0] or self.scope.get("cookies", {}).get(VISITOR_COOKIE)
        opened = await self._open(self.scope["url_route"]["kwargs"]["site_key"], key)
        if isinstance(opened, int):
            await self.close(code=opened)
            return
        self.visitor, state = opened
        await self.channel_layer.group_add(visitor_group(self.visitor.pk), self.channel_name)
        await self.accept()
        await self.send_json(state)

    async def disconnect(self, code):
        if self.visitor is not None:
            await self.channel_layer.group_discard(visitor_group(self.visitor.pk), self.channel_name)

    @database_sync_to_async
    def _say(self, body: Any) -> dict:
        conversation, message, created = cs.visitor_says(self.visitor, body, conversation=self.conversation,
                                                         language=self.header(b"accept-language"))
        self.conversation = conversation
        return {**cs.message_event(message, conversation), "new": created}

    @database_sync_to_async
    def _identify(self, content: dict) -> None:
        errors: dict[str, list[str]] = {}
        name, email, phone = vs.clean_identity(content, errors)
        if errors:
            raise ValidationError(errors)
        vs.identify(self.visitor, name=name, email=email, phone=phone)

    @database_sync_to_async
    def _offline(self, content: dict) -> str:
        self.visitor.refresh_from_db()
        return cs.offline_message(self.visitor.site, self.visitor, content).number

    async def receive_json(self, content, **kwargs):
        kind = content["type"]
        if kind == "message":
            event = await self._say(content.get("body"))
            await send_event(visitor_group(self.visitor.pk), event)
            await send_event(AGENTS, event)
        elif kind == "identify":
            await self._identify(content)
            await self.send_json({"type": "identified"})
        elif kind == "offline":
            number = await self._offline(content)
            await self.send_json({"type": "ticket", "number": number})
        else:
            await self.send_json({"type": "error", "errors": {"type": [_("Unknown message type.")]}})

    async def cc_event(self, message):
        event = message["event"]
        if self.conversation is not None and event.get("conversation") == self.conversation.pk:
            self.conversation.status = event.get("status", self.conversation.status)
        await self.send_json(event)


class AgentConsumer(JsonConsumer):
    user = None
    calls_only = False

    @database_sync_to_async
    def _profile(self) -> tuple[bool, set[int]]:
        from guanxi.service.models import Queue

        user = self.user
        queues = set(Queue.objects.filter(agents__user_id=user.pk).values_list("pk", flat=True)) | set(
            Queue.objects.filter(supervisor_id=user.pk).values_list("pk", flat=True))
        return bool(user.visible_team_ids()), queues

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        if not await database_sync_to_async(opens_allowed)("agent", f"user:{user.pk}",
                                                           settings.CC_AGENT_SOCKETS_PER_MINUTE):
            await self.close(code=TOO_MANY_OPENS)
            return
        self.user = user
        self.admin = user.is_administrator
        self.service = user.role in SERVICE_ROLES
        self.manager, self.queue_ids = await self._profile()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.calls_only = (query.get("only") or [""])[0] == "calls"  # the screen pop of every page (phone.js)
        await self.channel_layer.group_add(AGENTS, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.user is not None:
            await self.channel_layer.group_discard(AGENTS, self.channel_name)

    @database_sync_to_async
    def _may_see(self, conversation_id: int) -> bool:
        return ChatConversation.objects.visible_to(self.user).filter(pk=conversation_id).exists()

    @database_sync_to_async
    def _may_see_ticket(self, ticket_id: int) -> bool:
        from guanxi.service.ticket_models import Ticket

        return Ticket.objects.visible_to(self.user).filter(pk=ticket_id).exists()

    def _sees_state(self, source: Any, owner: Any, queue: Any) -> bool:
        """Whether the user sees a ticket or chat with this assignee and queue, by the rules that need no query
        (Ticket's and ChatConversation's visible_to: the assignee; the service desk sees its queues' tickets, and
        the unassigned chats of its queues or of none)."""
        if self.admin or (owner is not None and owner == self.user.pk):
            return True
        if not self.service:
            return False
        if source == "chat":
            return owner is None and (queue is None or queue in self.queue_ids)
        return queue is not None and queue in self.queue_ids

    async def sees(self, event: dict) -> bool:
        if event.get("type") == "call":  # a screen pop: for the agent whose phone rings only
            return event.get("agent") == self.user.pk
        if self.calls_only:
            return False
        if "conversation" not in event:  # visitor activity: for the service desk
            return self.admin or self.service
        if self._sees_state("chat", event.get("owner"), event.get("queue")):
            return True
        return self.manager and await self._may_see(event["conversation"])

    async def sees_now(self, event: dict) -> bool:
        """An "inbox" event's ticket or chat: whether the user may see it as it is now."""
        source = event.get("source")
        if self._sees_state(source, event.get("owner"), event.get("queue")):
            return True
        if source == "chat":
            return self.manager and await self._may_see(event.get("id"))
        return await self._may_see_ticket(event.get("id"))

    async def cc_event(self, message):
        event = message["event"]
        if event.get("type") == "inbox" and not self.calls_only:
            # A ticket or chat filed, written on or moved (ids only): for those who see it now, and for those who
            # saw it before the change ("visible": false — it leaves their inbox and console).
            was = event.get("was")
            visible = await self.sees_now(event)
            if visible or (isinstance(was, dict) and self._sees_state(event.get("source"), was.get("owner"),
                                                                      was.get("queue"))):
                await self.send_json({**event, "visible": visible})
        elif await self.sees(event):
            await self.send_json(event)

    def _conversation(self, value: Any) -> ChatConversation:
        from guanxi.core.records import int_or_none

        found = ChatConversation.objects.visible_to(self.user).select_related("visitor").filter(
            pk=int_or_none(value)).first()
        if found is None:
            raise ValidationError({"conversation": [_("No such conversation.")]})
        return found

    @database_sync_to_async
    def _act(self, content: dict) -> dict | None:
        from guanxi.core.records import int_or_none

        kind = content["type"]
        if kind == "invite":
            visitor = Visitor.objects.visible_to(self.user).filter(pk=int_or_none(content.get("visitor"))).first()
            if visitor is None:
                raise ValidationError({"visitor": [_("No such visitor.")]})
            conversation, message = cs.invite(self.user, visitor, content.get("body"))
            return {**cs.message_event(message, conversation), "new": True}
        conversation = self._conversation(content.get("conversation"))
        if kind == "reply":
            message = cs.agent_reply(self.user, conversation, content.get("body"))
        elif kind == "link":
            message = cs.push_link(self.user, conversation, content.get("url"))
        elif kind == "close":
            message = cs.close(self.user, conversation)
            if message is None:
                return None
        else:
            raise ValidationError({"type": [_("Unknown message type.")]})
        conversation.refresh_from_db()
        event = cs.message_event(message, conversation)
        if kind == "link":
            event["sender"] = "link"
        return event

    async def receive_json(self, content, **kwargs):
        event = await self._act(content)
        if event is not None:
            await send_event(visitor_group(event["visitor"]), event)
            await send_event(AGENTS, event)



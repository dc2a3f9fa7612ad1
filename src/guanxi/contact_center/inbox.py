"""The one inbox: every channel's conversations in one list, newest first, for an agent.

A source (like the 360° timeline's) turns one kind of conversation into InboxItems: `InboxSource` with a key
("ticket", "chat"; a phone helper registers "call"), the channels it serves, and `rows(user, filters)` — a
queryset that went through `visible_to(user)` with everything a row shows joined in (one query per source,
however many rows) — and `item(row)`. `register()` adds a source; `inbox_page` merges them by time with keyset
paging over the union: the cursor carries the last (time, source, id), and every source continues strictly
after it in the order (time, source, id) descending, so equal times never repeat or skip a row.

Tickets of every channel (email, portal, web form, phone, staff, API, chat) that are being worked on come from
the ticket source; open web chats from the chat source. Statuses are the inbox's own: `new` (nobody answered
yet; for a chat: nobody took it), `open`, `waiting` (on the customer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.paging import decode_cursor, encode_cursor
from guanxi.service.models import Queue
from guanxi.service.ticket_models import ACTIVE, MessageKind, Ticket, TicketChannel, TicketMessage

from .chat_models import ChatConversation, ChatMessage, ChatStatus, Sender

SNIPPET = 140
MAX_LIMIT = 200
SCOPES = {"all": gettext_lazy("All I may see"), "mine": gettext_lazy("Mine"),
          "queues": gettext_lazy("My queues"), "unassigned": gettext_lazy("Unassigned")}
STATUSES = {"new": gettext_lazy("New"), "open": gettext_lazy("Open"), "waiting": gettext_lazy("Waiting on customer")}
CHANNELS = dict(TicketChannel.choices)  # a source with another channel adds its label with register()
ICONS = {"staff": "person-badge", "email": "envelope", "portal": "person-workspace", "chat": "chat-dots",
         "web_form": "ui-checks", "phone": "telephone", "api": "code-slash"}


@dataclass
class InboxItem:
    source: str  # the registry key: "ticket", "chat" …
    channel: str
    pk: int
    subject: str
    snippet: str
    contact: Any
    account: Any
    status: str  # new / open / waiting
    assignee: Any
    queue: Any
    at: dt.datetime  # the last activity; the list is ordered by it
    needs_reply: bool
    url: str  # the record's own page

    @property
    def key(self) -> str:
        return f"{self.source}-{self.pk}"

    @property
    def channel_label(self) -> str:
        return str(CHANNELS.get(self.channel, self.channel))

    @property
    def icon(self) -> str:
        return ICONS.get(self.channel, "inbox")

    @property
    def status_label(self) -> str:
        return str(STATUSES.get(self.status, self.status))


@dataclass(frozen=True)
class InboxFilters:
    channels: tuple[str, ...] = ()
    scope: str = "all"
    statuses: tuple[str, ...] = ()
    q: str = ""


@dataclass
class InboxPage:
    items: list[InboxItem]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class InboxSource:
    key: str
    channels: tuple[str, ...]
    time_field: str
    rows: Callable[[Any, InboxFilters], QuerySet]  # visible, filtered, joined; not ordered
    item: Callable[[Any], InboxItem]
    channel_field: str | None = None  # the rows' channel column, when they have several


_sources: dict[str, InboxSource] = {}


def register(source: InboxSource, labels: dict[str, Any] | None = None,
             icons: dict[str, str] | None = None) -> InboxSource:
    """Add a source; `labels` and `icons` (Bootstrap icon names) for channels the ticket model does not know."""
    _sources[source.key] = source
    CHANNELS.update(labels or {})
    ICONS.update(icons or {})
    return source


def sources() -> list[InboxSource]:
    return list(_sources.values())


def clean_filters(channels: list[str] | tuple[str, ...] = (), scope: str | None = None,
                  statuses: list[str] | tuple[str, ...] = (), q: str | None = None) -> InboxFilters:
    """Filters from request parameters; an unknown value is a ValidationError under its field."""
    errors: dict[str, list[str]] = {}
    channels = tuple(dict.fromkeys(c for c in channels if c))
    if any(c not in CHANNELS for c in channels):
        errors["channel"] = [_("Choose channels from: %(choices)s.") % {"choices": ", ".join(CHANNELS)}]
    scope = scope or "all"
    if scope not in SCOPES:
        errors["scope"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(SCOPES)}]
    statuses = tuple(dict.fromkeys(s for s in statuses if s))
    if any(s not in STATUSES for s in statuses):
        errors["status"] = [_("Choose statuses from: %(choices)s.") % {"choices": ", ".join(STATUSES)}]
    q = (q or "").strip()
    if len(q) > 200 or "\x00" in q:
        errors["q"] = [_("At most %(max)s characters.") % {"max": 200}]
    if errors:
        raise ValidationError(errors)
    return InboxFilters(channels=channels, scope=scope, statuses=statuses, q=q)


# ------------------------------------------------------------------ paging over the union

def _encode(item: InboxItem) -> str:
    return encode_cursor("inbox", [item.at.isoformat(), item.source], item.pk)


def _decode(cursor: str) -> tuple[dt.datetime, str, int]:
    value, pk = decode_cursor(cursor, "inbox", None)
    try:
        at, source = value
        moment = dt.datetime.fromisoformat(at)
        if not isinstance(source, str) or pk < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationError({"cursor": [_("This page link is not valid any more; start from the first page.")]})
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)), source, pk


def _after(qs: QuerySet, source: InboxSource, cursor: tuple[dt.datetime, str, int]) -> QuerySet:
    """The rows strictly after the cursor in the order (time, source, id) descending."""
    at, key, pk = cursor
    name = source.time_field
    if source.key < key:
        return qs.filter(**{f"{name}__lte": at})
    if source.key > key:
        return qs.filter(**{f"{name}__lt": at})
    return qs.filter(Q(**{f"{name}__lte": at}) & (Q(**{f"{name}__lt": at}) | Q(pk__lt=pk)))


def _serves(source: InboxSource, filters: InboxFilters) -> bool:
    return not filters.channels or bool(set(source.channels) & set(filters.channels))


def inbox_page(user, filters: InboxFilters | None = None, cursor: str | None = None, limit: int = 50,
               with_counts: bool = False) -> InboxPage:
    """One page of the user's inbox (newest activity first); `with_counts` adds the count per channel (under the
    same filters but the channel). One query per source, plus one per source for the counts."""
    filters = filters or InboxFilters()
    limit = max(1, min(limit, MAX_LIMIT))
    after = _decode(cursor) if cursor else None
    rows: list[InboxItem] = []
    for source in _sources.values():
        if not _serves(source, filters):
            continue
        qs = source.rows(user, filters)
        if source.channel_field and filters.channels:
            qs = qs.filter(**{f"{source.channel_field}__in": filters.channels})
        if after is not None:
            qs = _after(qs, source, after)
        rows += [source.item(r) for r in qs.order_by(f"-{source.time_field}", "-pk")[: limit + 1]]
    rows.sort(key=lambda i: (i.at, i.source, i.pk), reverse=True)
    page = InboxPage(items=rows[:limit], next_cursor=_encode(rows[limit - 1]) if len(rows) > limit else None)
    if with_counts:
        page.counts = channel_counts(user, filters)
    return page


def channel_counts(user, filters: InboxFilters) -> dict[str, int]:
    counts: dict[str, int] = {}
    for source in _sources.values():
        qs = source.rows(user, filters).order_by()
        if source.channel_field:
            for channel, n in qs.values_list(source.channel_field).annotate(n=Count("pk")).values_list(
                    source.channel_field, "n"):
                counts[channel] = counts.get(channel, 0) + n
        else:
            counts[source.channels[0]] = counts.get(source.channels[0], 0) + qs.count()
    return {c: counts[c] for c in CHANNELS if counts.get(c)}


# ------------------------------------------------------------------ shared filters

def my_queue_ids(user) -> QuerySet:
    return Queue.objects.filter(Q(agents__user_id=user.pk) | Q(supervisor_id=user.pk)).values("pk")


def scoped(qs: QuerySet, user, scope: str) -> QuerySet:
    if scope == "mine":
        return qs.filter(owner_id=user.pk)
    if scope == "unassigned":
        return qs.filter(owner__isnull=True)
    if scope == "queues":
        return qs.filter(queue_id__in=my_queue_ids(user))
    return qs


# ------------------------------------------------------------------ tickets of every channel

def _ticket_rows(user, filters: InboxFilters) -> QuerySet:
    qs = Ticket.objects.visible_to(user).filter(status__in=filters.statuses or ACTIVE)
    qs = scoped(qs, user, filters.scope)
    if filters.q:
        qs = qs.filter(Q(subject__icontains=filters.q) | Q(contact__name__icontains=filters.q)
                       | Q(number__iexact=filters.q))
    replies = TicketMessage.objects.filter(ticket=OuterRef("pk"), kind=MessageKind.REPLY).order_by("-created_at",
                                                                                                  "-id")
    return (qs.select_related("contact", "account", "owner", "queue").defer("description", "lapsed_agents")
            .annotate(inbox_snippet=Subquery(replies.annotate(s=Substr("body", 1, SNIPPET)).values("s")[:1]),
                      inbox_description=Substr("description", 1, SNIPPET),
                      inbox_last_author=Subquery(replies.annotate(a=Coalesce("author_id", Value(0))).values("a")[:1])))


def _ticket_item(t: Ticket) -> InboxItem:
    return InboxItem(
        source="ticket", channel=t.channel, pk=t.pk, subject=f"{t.number} {t.subject}",
        snippet=t.inbox_snippet or t.inbox_description or "", contact=t.contact, account=t.account,
        status=t.status, assignee=t.owner, queue=t.queue, at=t.updated_at,
        needs_reply=t.first_response_at is None or t.inbox_last_author == 0,
        url=reverse("service:ticket_detail", args=[t.pk]))


# ------------------------------------------------------------------ web chats

def _chat_rows(user, filters: InboxFilters) -> QuerySet:
    qs = ChatConversation.objects.visible_to(user).filter(status=ChatStatus.OPEN)
    if filters.statuses:
        wanted = Q(pk__in=[])
        if "new" in filters.statuses:
            wanted |= Q(owner__isnull=True)
        if "open" in filters.statuses:
            wanted |= Q(owner__isnull=False)
        qs = qs.filter(wanted)
    qs = scoped(qs, user, filters.scope)
    if filters.q:
        qs = qs.filter(Q(contact__name__icontains=filters.q) | Exists(ChatMessage.objects.filter(
            conversation=OuterRef("pk"), body__icontains=filters.q)))
    last = ChatMessage.objects.filter(conversation=OuterRef("pk")).order_by("-at", "-id")
    return (qs.select_related("contact__primary_account", "owner", "queue")
            .annotate(inbox_snippet=Subquery(last.annotate(s=Substr("body", 1, SNIPPET)).values("s")[:1]),
                      inbox_sender=Subquery(last.values("sender")[:1])))


def _chat_item(c: ChatConversation) -> InboxItem:
    contact = c.contact
    return InboxItem(
        source="chat", channel=TicketChannel.CHAT, pk=c.pk,
        subject=_("Web chat #%(id)s") % {"id": c.pk}, snippet=c.inbox_snippet or "", contact=contact,
        account=contact.primary_account if contact else None, status="open" if c.owner_id else "new",
        assignee=c.owner, queue=c.queue, at=c.last_message_at, needs_reply=c.inbox_sender == Sender.VISITOR,
        url=reverse("contact_center:conversation", args=[c.pk]))


register(InboxSource(key="ticket", channels=tuple(TicketChannel.values), time_field="updated_at",
                     rows=_ticket_rows, item=_ticket_item, channel_field="channel"))
register(InboxSource(key="chat", channels=(TicketChannel.CHAT,), time_field="last_message_at",
                     rows=_chat_rows, item=_chat_item))

"""Tickets, their conversation (public replies and internal notes) and their event log."""

from __future__ import annotations

import operator
from functools import reduce
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.access import VisibleQuerySet
from guanxi.core.mixins import OwnedModel, TimestampedModel, VersionedModel
from guanxi.core.models import Role

if TYPE_CHECKING:
    from guanxi.core.models import User


class TicketStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket", "New")
    OPEN = "open", pgettext_lazy("ticket", "Open")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", pgettext_lazy("ticket", "Resolved")
    CLOSED = "closed", pgettext_lazy("ticket", "Closed")


# Statuses an agent is working on: they count against capacity and their SLA clock runs (unless paused).
ACTIVE = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)
# Allowed moves; resolved → open is the reopen. A closed ticket is final.
TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.NEW: {TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.OPEN: {TicketStatus.WAITING, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.WAITING: {TicketStatus.OPEN, TicketStatus.RESOLVED, TicketStatus.CLOSED},
    TicketStatus.RESOLVED: {TicketStatus.OPEN, TicketStatus.CLOSED},
    TicketStatus.CLOSED: set(),
}
# The SLA clock stops in these (waiting on the customer; resolved until reopened or closed).
PAUSED = (TicketStatus.WAITING, TicketStatus.RESOLVED)


class Priority(models.TextChoices):
    LOW = "low", pgettext_lazy("priority", "Low")
    NORMAL = "normal", pgettext_lazy("priority", "Normal")
    HIGH = "high", pgettext_lazy("priority", "High")
    URGENT = "urgent", pgettext_lazy("priority", "Urgent")

    @classmethod
    def raised(cls, value: str) -> str:
        order = list(cls.values)
        return order[min(order.index(value) + 1, len(order) - 1)]


class TicketChannel(models.TextChoices):
    """The door a ticket came in by: the unified inbox filters and the KPIs split by it."""

    STAFF = "staff", _("Entered by staff")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    PORTAL = "portal", _("Customer portal")
    CHAT = "chat", _("Web chat")
    WEB_FORM = "web_form", _("Web form")
    PHONE = "phone", pgettext_lazy("channel", "Phone")
    API = "api", _("API")


def ticket_search_text(number: str | None, subject: str) -> str:
    return f"{number or ''} {subject}".lower().strip()


# Up to this many accounts, a user's visible accounts go into the ticket query as a list of ids.
INLINE_ACCOUNTS = 1000


def _few_or_all(ids: models.QuerySet) -> list[int] | models.QuerySet:
    """The ids themselves when there are at most INLINE_ACCOUNTS (one query), else the query as a subquery.

    The same tickets either way. With the ids, PostgreSQL estimates how many tickets they hold (a rep's 250
    accounts: 50,000 of a million) and drives the (account, updated_at, id, search_text) index with them: a
    rep's search probes their customers' tickets in that index alone (core.search, `visible_branches`). With a
    subquery it can only test each row it reads against it. (SQLite uses the same index either way.)"""
    few = list(ids[: INLINE_ACCOUNTS + 1])
    return few if len(few) <= INLINE_ACCOUNTS else ids


class TicketQuerySet(VisibleQuerySet):
    def visibility_rule(self, user: User) -> Q:
        """Who sees a ticket, beyond administrators (all):

        - its assignee (the `owner`), the managers of the assignee's team subtree, and shares — core's rule;
        - a service agent or manager: every ticket of the queues they belong to or supervise;
        - anyone: the tickets they requested, and those of accounts they may see (so a sales rep sees
          their customers' tickets beside the account).
        """
        return reduce(operator.or_, self._rule_branches(user))

    def _rule_branches(self, user: User) -> list[Q]:
        from guanxi.customers.models import Account

        from .models import Queue

        # The user's own (assigned, their teams', shared) and requested tickets: few, found by small indexes.
        branches = [super().visibility_rule(user) | Q(requester_id=user.pk)]
        if user.role in (Role.SERVICE_AGENT, Role.SERVICE_MANAGER):
            queues = Queue.objects.filter(Q(agents__user_id=user.pk) | Q(supervisor_id=user.pk))
            branches.append(Q(queue_id__in=queues.values("pk")))
        else:
            branches.append(Q(account__in=_few_or_all(Account.objects.visible_to(user).values_list("pk", flat=True))))
        return branches

    def visible_branches(self, user: User) -> list[models.QuerySet]:
        """`visible_to(user)` (a user who is not an administrator) split by the branches of its rule, each a
        queryset that its own index finds; together they hold every ticket the user may see. core.search
        probes them one by one: on PostgreSQL a rep's customers' tickets are then tested in the (account, …,
        search_text) index alone, which the rule's OR as a whole cannot use."""
        return self._branch_querysets(self._rule_branches(user))

    def _branch_querysets(self, branches: list[Q]) -> list[models.QuerySet]:
        return [self.model._base_manager.filter(branch) for branch in branches]

    def visible_with_branches(self, user: User | None) -> tuple[TicketQuerySet, list[models.QuerySet] | None]:
        """`visible_to(user)` and, for a user who sees few tickets (`few_visible`), `visible_branches(user)`,
        reading the rule's parts (shares, teams, the user's accounts) once for both; None for everyone else."""
        if not self.few_visible(user) or not user.is_active:
            return self.visible_to(user), None
        branches = self._rule_branches(user)
        return self.filter(reduce(operator.or_, branches)), self._branch_querysets(branches)

    def few_visible(self, user: User | None) -> bool:
        """Whether `user` likely sees a small share of all tickets: everyone but administrators and the service
        desk (whose queues hold most of them) sees tickets through their own customers. Search then tests a
        common word against the user's tickets first (core.search `visible_first`), found through the
        visibility indexes, instead of walking every ticket in date order for the few that are theirs."""
        return bool(user and user.is_authenticated and not user.is_administrator
                    and user.role not in (Role.SERVICE_AGENT, Role.SERVICE_MANAGER))


class Ticket(OwnedModel, VersionedModel, TimestampedModel):
    """A customer's question. `owner` is the assignee (so core's visibility rule covers them and their managers).

    SLA: the due times are stored and swept. While the ticket waits on the customer (or is resolved), the
    clock is paused from `paused_at`; leaving the pause moves the due times on by the paused business minutes.
    """

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    question_group = models.ForeignKey("service.QuestionGroup", verbose_name=_("question group"), null=True,
                                       blank=True, on_delete=models.SET_NULL, related_name="tickets")
    queue = models.ForeignKey("service.Queue", verbose_name=_("queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="tickets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(_("channel"), max_length=10, choices=TicketChannel.choices,
                               default=TicketChannel.STAFF)
    status = models.CharField(_("status"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW)
    # Indexed by (account, updated_at, id, search_text) below, which serves what an index on the column would.
    account = models.ForeignKey("customers.Account", verbose_name=_("account"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tickets", db_index=False)
    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tickets")
    # What the question is about: an order of the ticket's account, a product of the catalogue.
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="tickets")
    # Indexed by (product, updated_at, id) below: a popular product's tickets are listed newest first.
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tickets", db_index=False)
    # Indexed where set only (below): most tickets come from customers, and SQLite's statistics on a mostly
    # empty column made "requester is me OR …" in the visibility rule look like a full scan.
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+", db_index=False)
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    # Routing state: when it was given to the assignee, when they picked it up, who let it lapse.
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up"), null=True, blank=True)
    lapsed_agents = models.JSONField(default=list, blank=True, editable=False)
    # SLA.
    sla_policy = models.ForeignKey("service.SlaPolicy", verbose_name=_("SLA policy"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    response_warned = models.BooleanField(default=False)
    response_breached = models.BooleanField(_("first response breached"), default=False)
    resolution_warned = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False)
    paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    paused_minutes = models.FloatField(_("SLA paused (business minutes)"), default=0)
    merged_into = models.ForeignKey("self", verbose_name=_("merged into"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="merged_from")
    # Lower-cased number and subject: searched through core.search (FTS5 trigram / pg_trgm), kept by save().
    search_text = models.TextField(default="", editable=False)

    objects = TicketQuerySet.as_manager()
    # Two-character search terms (most Chinese words) use the search index too (core.search.install_index).
    search_pairs_indexed = True

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["owner", "status", "updated_at", "id"]),
            models.Index(fields=["team", "updated_at", "id"]),
            models.Index(fields=["queue", "status", "updated_at", "id"]),
            # With the search text: a rep's search for a common word tests their customers' tickets in this
            # index alone (SQLite: 50,000 tickets in 5 ms, against 45 ms reading the rows).
            models.Index(fields=["account", "updated_at", "id", "search_text"], name="service_tic_account_search"),
            models.Index(fields=["requester"], condition=Q(requester__isnull=False), name="service_tic_requester"),
            models.Index(fields=["status", "priority", "updated_at", "id"]),
            models.Index(fields=["channel", "status", "updated_at", "id"]),
            models.Index(fields=["product", "updated_at", "id"], name="service_tic_product"),
            # The sweep: due times of tickets still being worked on.
            models.Index(fields=["status", "first_response_due_at"]),
            models.Index(fields=["status", "resolution_due_at"]),
            models.Index(fields=["status", "assigned_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.number or self.pk} {self.subject}"

    def save(self, *args, **kwargs) -> None:
        self.search_text = ticket_search_text(self.number, self.subject)
        fields = kwargs.get("update_fields")
        if fields is not None and "search_text" not in fields and {"number", "subject"} & set(fields):
            kwargs["update_fields"] = [*fields, "search_text"]
        super().save(*args, **kwargs)

    @property
    def assignee(self):
        return self.owner

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE


class MessageKind(models.TextChoices):
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=5, choices=MessageKind.choices, default=MessageKind.REPLY)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [models.Index(fields=["ticket", "created_at", "id"])]

    def __str__(self) -> str:
        return self.body[:50]


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    ROUTED = "routed", _("Routed")
    UNROUTED = "unrouted", _("Not routed")
    ASSIGNED = "assigned", _("Assigned")
    REROUTED = "rerouted", _("Re-routed")
    STATUS = "status", _("Status changed")
    WARNED = "warned", _("SLA warning")
    ESCALATED = "escalated", _("Escalated")
    MERGED = "merged", _("Merged")
    SLA = "sla", _("SLA recomputed")
    SPLIT = "split", _("Split")


class TicketEvent(models.Model):
    """What happened to a ticket (routing decisions, escalations, status changes), shown on it.

    `data` holds the facts (reason codes, ids, old/new values); the page words them in the reader's language.
    """

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=10, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [models.Index(fields=["ticket", "created_at", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.data}"

"""The service desk's set-up: business calendars, queues, question groups, agents and SLA policies.

Tickets, their messages and their event log are in `ticket_models` (imported here so Django finds them).
The routing and business-time arithmetic are plain modules (`routing`, `business_time`); the methods
`to_calendar`, `to_routing` … turn these rows into their values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.customers.models import Classification

from . import routing
from .business_time import Calendar
from .csat_models import SatisfactionResponse, SurveyMail, TicketAttachment  # noqa: F401
from .nps_models import NpsInvitation, NpsResponse, NpsSurvey  # noqa: F401
from .ticket_models import Priority, Ticket, TicketEvent, TicketMessage, TicketStatus  # noqa: F401


class BusinessCalendar(models.Model):
    """Working hours, public holidays and make-up working days (调休), editable by an administrator.

    The default one is seeded from `holidays_cn` (see the data migration); `to_calendar` gives the
    `business_time.Calendar` the SLA arithmetic uses, built once per saved version.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    hours = models.JSONField(_("working hours"), default=dict, blank=True,
                             help_text=_('Per weekday, e.g. {"mon": ["09:00-12:00", "13:30-18:00"], "sat": []}.'))
    makeup_hours = models.JSONField(_("hours on make-up working days"), null=True, blank=True)
    holidays = models.JSONField(_("holidays"), default=dict, blank=True, help_text=_('{"2026-10-01": "National Day"}'))
    workdays = models.JSONField(_("make-up working days"), default=dict, blank=True)
    is_default = models.BooleanField(_("default calendar"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name

    def to_calendar(self) -> Calendar:
        key = (self.pk, self.updated_at)
        cached = _calendars.get(key)
        if cached is None:
            data = {"timezone": self.timezone, "hours": self.hours or {}, "holidays": self.holidays or {},
                    "workdays": self.workdays or {}}
            if self.makeup_hours is not None:
                data["makeup_hours"] = self.makeup_hours
            cached = Calendar.from_dict(data)
            if len(_calendars) > 100:
                _calendars.clear()
            _calendars[key] = cached
        return cached


# (pk, updated_at) → Calendar: a calendar's day spans are cached inside it, so keep the object.
_calendars: dict[tuple, Calendar] = {}


# Within `settings_read_once`: what the SLA clock reads of the desk's settings, kept for the block.
_settings_memo: ContextVar[dict[tuple, Any] | None] = ContextVar("service_settings_memo", default=None)


@contextlib.contextmanager
def settings_read_once() -> Iterator[None]:
    """Tickets filed inside (a batch of email in one transaction) read the SLA policies and the default calendar
    once. An administrator's change made meanwhile applies from the next block, as it would to a ticket filed
    a moment earlier."""
    token = _settings_memo.set({})
    try:
        yield
    finally:
        _settings_memo.reset(token)


def read_once(key: tuple, read: Callable[[], Any]) -> Any:
    memo = _settings_memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def default_calendar() -> Calendar:
    def read() -> Calendar:
        row = BusinessCalendar.objects.order_by("-is_default", "pk").first()
        return row.to_calendar() if row else Calendar()

    return read_once(("default_calendar",), read)


class Queue(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    strategy = models.CharField(_("routing strategy"), max_length=20, default=routing.Strategy.ROUND_ROBIN,
                                choices=[(routing.Strategy.ROUND_ROBIN.value, _("Round robin")),
                                         (routing.Strategy.LEAST_LOADED.value, _("Least loaded")),
                                         (routing.Strategy.SKILLS_BASED.value, _("Skills-based"))])
    is_senior = models.BooleanField(_("senior queue"), default=False,
                                    help_text=_("Takes the tickets of high-value customers first."))
    senior_queue = models.ForeignKey("self", verbose_name=_("senior queue"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     limit_choices_to={"is_senior": True})
    senior_for = models.JSONField(_("senior for classifications"), default=list, blank=True,
                                  help_text=_('Account classifications that go to the senior queue first, e.g. ["A"].'))
    senior_from_value = models.DecimalField(
        _("senior from predicted value"), max_digits=16, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Accounts whose predicted lifetime value (12 months, base currency, from the latest scoring "
                    "run) is at least this go to the senior queue first too; empty: by classification only."))
    required_skills = models.JSONField(_("required skills"), default=list, blank=True)
    reroute_after_minutes = models.PositiveIntegerField(
        _("re-route after (minutes)"), null=True, blank=True, default=15,
        help_text=_("A ticket nobody picks up within this time goes to someone else; empty: never."))
    reassign_on_breach = models.BooleanField(
        _("reassign at a missed first response"), default=True,
        help_text=_("When the first-response target is missed, the ticket goes to another agent of the queue."))
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("supervisor"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="supervised_queues")
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="queues")

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def to_routing(self) -> routing.Queue:
        return routing.Queue(
            id=self.pk, strategy=routing.Strategy(self.strategy), required_skills=frozenset(self.required_skills or ()),
            senior_queue=self.senior_queue_id, senior_for=frozenset(self.senior_for or ()),
            reroute_minutes=self.reroute_after_minutes, supervisor_id=self.supervisor_id)


class QuestionGroup(models.Model):
    """A category of question (a tree); its tickets go to its queue, or to the nearest ancestor's."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("parent group"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    queue = models.ForeignKey(Queue, verbose_name=_("default queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="question_groups")
    skills = models.JSONField(_("required skills"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    public = models.BooleanField(_("offered in the customer portal"), default=True)

    class Meta:
        verbose_name = _("question group")
        verbose_name_plural = _("question groups")
        ordering = ["parent_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="question_group_unique_name")]

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name

    def routing_queue(self) -> Queue | None:
        group, seen = self, set()
        while group is not None and group.pk not in seen:
            if group.queue_id:
                return group.queue
            seen.add(group.pk)
            group = group.parent
        return None


class Availability(models.TextChoices):
    ONLINE = routing.Availability.ONLINE.value, _("Online")
    AWAY = routing.Availability.AWAY.value, _("Away")
    OFF = routing.Availability.OFF.value, pgettext_lazy("availability", "Off")


class AgentProfile(models.Model):
    """A user who answers tickets: skills (skill → level 1–5), languages, capacity, availability, queues."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                related_name="agent_profile")
    skills = models.JSONField(_("skills"), default=dict, blank=True, help_text=_('{"billing": 3, "network": 5}'))
    languages = models.JSONField(_("languages"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity (open tickets)"), default=10,
                                                validators=[MaxValueValidator(1000)])
    availability = models.CharField(_("availability"), max_length=10, choices=Availability.choices,
                                    default=Availability.OFF)
    queues = models.ManyToManyField(Queue, verbose_name=_("queues"), blank=True, related_name="agents")
    working_hours = models.ForeignKey(BusinessCalendar, verbose_name=_("working hours"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    last_assigned_at = models.DateTimeField(_("last given a ticket"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return str(self.user)

    def to_routing(self, open_count: int, queue_ids: frozenset[int]) -> routing.Agent:
        return routing.Agent(
            id=self.user_id, queues=queue_ids, skills={k: int(v) for k, v in (self.skills or {}).items()},
            languages=frozenset(filter(None, map(routing.primary_language, self.languages or ()))),
            capacity=self.capacity, open_count=open_count,
            availability=routing.Availability(self.availability),
            working_hours=self.working_hours.to_calendar() if self.working_hours_id else None)


class SlaPolicy(models.Model):
    """Targets in business minutes for a priority and an account classification (blank: any classification)."""

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    classification = models.CharField(_("classification"), max_length=1, blank=True, default="",
                                      choices=Classification.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response within (business minutes)"),
                                                         validators=[MinValueValidator(1)])
    resolution_minutes = models.PositiveIntegerField(_("resolution within (business minutes)"),
                                                     validators=[MinValueValidator(1)])
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "classification"]
        constraints = [models.UniqueConstraint(fields=["priority", "classification"], name="sla_policy_unique")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def matching(cls, priority: str, classification: str) -> SlaPolicy | None:
        """The policy for this classification, else the one for any classification."""
        def read() -> SlaPolicy | None:
            rows = {p.classification: p for p in cls.objects.filter(priority=priority,
                                                                     classification__in=[classification or "", ""])}
            return rows.get(classification or "") or rows.get("")

        return read_once(("sla_policy", priority, classification or ""), read)

from .canned_models import CannedReply  # noqa: E402,F401

"""Ticket routing: which agent gets a new ticket, as a pure function of the current state.

Why a plain module: the routing decision must be provably right — never over an agent's capacity, fair
over time, the same answer for the same state — and that is far easier to test (with hypothesis over
random states) when the decision is a function of plain values rather than of the database. The service
app loads the state (agents with their open-ticket counts, the queue, when each agent was last given a
ticket), calls `route`, and writes the assignment in its own transaction.

    decision = route(ticket, queue, agents, now, last_assigned, senior=queues.get(queue.senior_queue))
    if decision.agent_id is None:  # decision.reason says why: no agent with the skill, all at capacity…

Eligibility (every strategy): member of the queue, not excluded for this ticket (let it lapse before),
every required skill (queue's and ticket's), the ticket's language, availability ONLINE and inside the
agent's working hours, open tickets below capacity. Among the eligible, the queue's strategy ranks:

- round-robin: the agent given a ticket least recently (never first), then the lowest id;
- least loaded: the lowest open/capacity ratio, then fewer open tickets, then least recently assigned, id;
- skills-based: the highest summed skill level over the ticket's required and preferred skills, then as
  least loaded.

High-value tickets (a customer value class the queue lists in `senior_for`, or `Ticket.high_value` set by the
app from the customer's predicted value) try the senior queue first
and fall back to their own queue when no senior agent is eligible. `reroute_due` finds assigned tickets
nobody picked up within the queue's `reroute_minutes`; `lapse` takes the ticket back from that agent and
excludes them so the next `route` picks someone else.

For large teams build an `AgentIndex` once per state (agents by queue and by skill) and keep it current
with `index.update(agent)`; `route` gives the same decision with or without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from guanxi.service.business_time import Calendar, is_business_time

__all__ = [
    "Agent",
    "AgentIndex",
    "Availability",
    "Decision",
    "Reason",
    "Reroute",
    "Queue",
    "Strategy",
    "Ticket",
    "assign",
    "lapse",
    "reroute_due",
    "route",
]

AgentId = int
QueueId = int



def primary_language(code: str | None) -> str | None:
    """The language part of a code, lower-cased: "zh-hans" (Django's, a portal ticket's), "zh-CN" and "zh" are all
    "zh", so a ticket in simplified Chinese goes to an agent who speaks "zh". None for no language."""
    return (code or "").strip().replace("_", "-").split("-")[0].lower() or None

class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFF = "off"


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    SKILLS_BASED = "skills_based"


class Reason(StrEnum):
    """Why a decision came out as it did; the app turns the code and its details into a translated message."""

    ASSIGNED = "assigned"
    NO_MEMBERS = "no_members"  # nobody belongs to the queue
    ONLY_EXCLUDED = "only_excluded"  # every member already let this ticket lapse
    MISSING_SKILL = "missing_skill"  # no member has the skills (Decision.skills)
    MISSING_LANGUAGE = "missing_language"  # no member with the skills speaks the language
    NONE_AVAILABLE = "none_available"  # such agents exist but none is online in working hours
    ALL_AT_CAPACITY = "all_at_capacity"  # those online are all at their capacity


@dataclass(frozen=True)
class Agent:
    """An agent as routing sees them. `skills` maps a skill to a level (1 = basic … 5 = expert)."""

    id: AgentId
    queues: frozenset[QueueId] = frozenset()
    skills: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    languages: frozenset[str] = frozenset()
    capacity: int = 10
    open_count: int = 0
    availability: Availability = Availability.ONLINE
    working_hours: Calendar | None = None  # None: available whenever ONLINE

    def __post_init__(self) -> None:
        if self.capacity < 0 or self.open_count < 0:
            raise ValueError("capacity and open_count must not be negative")
        object.__setattr__(self, "skills", MappingProxyType(dict(self.skills)))
        object.__setattr__(self, "queues", frozenset(self.queues))
        object.__setattr__(self, "languages", frozenset(self.languages))

    def available_at(self, now: dt.datetime) -> bool:
        if self.availability is not Availability.ONLINE:
            return False
        return self.working_hours is None or is_business_time(self.working_hours, now)

    @property
    def has_room(self) -> bool:
        return self.open_count < self.capacity

    @property
    def load(self) -> float:
        return self.open_count / self.capacity if self.capacity else float("inf")


@dataclass(frozen=True)
class Queue:
    """A question group's queue. `senior_queue` takes the tickets of customers whose class is in `senior_for`."""

    id: QueueId
    strategy: Strategy = Strategy.ROUND_ROBIN
    required_skills: frozenset[str] = frozenset()
    senior_queue: QueueId | None = None
    senior_for: frozenset[str] = frozenset({"A"})
    reroute_minutes: int | None = 15  # None: never re-routed automatically
    supervisor_id: int | None = None


@dataclass(frozen=True)
class Ticket:
    id: int
    queue_id: QueueId
    created_at: dt.datetime
    required_skills: frozenset[str] = frozenset()
    preferred_skills: frozenset[str] = frozenset()  # ranks agents in skills-based queues, never excludes
    language: str | None = None
    value_class: str | None = None  # the account's classification or predicted-value class ("A", "B", …)
    # The app found the customer's predicted value at or above the queue's senior threshold: high value
    # whatever the class (the stored score is read by the app; this module stays free of the database).
    high_value: bool = False
    assigned_to: AgentId | None = None
    assigned_at: dt.datetime | None = None
    picked_up_at: dt.datetime | None = None  # the agent opened it or answered
    excluded: frozenset[AgentId] = frozenset()  # agents who let it lapse (or declined it)


@dataclass(frozen=True)
class Decision:
    ticket_id: int
    agent_id: AgentId | None
    reason: Reason
    queue_id: QueueId | None = None  # the queue the agent was chosen from
    senior: bool = False  # the ticket is high-value and the senior queue was tried first
    senior_reason: Reason | None = None  # why the senior queue could not take it (then fell back)
    skills: frozenset[str] = frozenset()  # MISSING_SKILL: the skills nobody in the queue has
    language: str | None = None  # MISSING_LANGUAGE: the language nobody speaks

    @property
    def detail(self) -> str:
        """An English explanation for logs (the UI translates the reason code instead)."""
        text = {
            Reason.ASSIGNED: f"assigned to agent {self.agent_id} from queue {self.queue_id}",
            Reason.NO_MEMBERS: "no agent belongs to the queue",
            Reason.ONLY_EXCLUDED: "every agent of the queue already let this ticket lapse",
            Reason.MISSING_SKILL: f"no agent with skill {', '.join(sorted(self.skills))}",
            Reason.MISSING_LANGUAGE: f"no agent with the skills speaks {self.language}",
            Reason.NONE_AVAILABLE: "no agent with the skills and language is online in working hours",
            Reason.ALL_AT_CAPACITY: "all agents online are at capacity",
        }[self.reason]
        if self.senior and self.senior_reason is not None:
            text += f" (senior queue: {self.senior_reason.value})"
        return text


class AgentIndex:
    """Agents by queue and by skill, built once per state; `route` then looks only at likely candidates."""

    def __init__(self, agents: Iterable[Agent]) -> None:
        self.agents: dict[AgentId, Agent] = {}
        self._by_queue: dict[QueueId, set[AgentId]] = {}
        self._by_skill: dict[str, set[AgentId]] = {}
        for agent in agents:
            self.update(agent)

    def update(self, agent: Agent) -> None:
        """Add an agent or replace them with a newer state (open count, availability, skills…)."""
        old = self.agents.get(agent.id)
        self.agents[agent.id] = agent
        if old is not None and old.queues == agent.queues and old.skills.keys() == agent.skills.keys():
            return
        if old is not None:
            for queue in old.queues:
                self._by_queue[queue].discard(agent.id)
            for skill in old.skills:
                self._by_skill[skill].discard(agent.id)
        for queue in agent.queues:
            self._by_queue.setdefault(queue, set()).add(agent.id)
        for skill, level in agent.skills.items():
            if level > 0:
                self._by_skill.setdefault(skill, set()).add(agent.id)

    def members(self, queue: QueueId, skills: frozenset[str]) -> tuple[list[Agent], list[Agent]]:
        """(the queue's members, those of them with every skill in `skills`)."""
        ids = self._by_queue.get(queue, set())
        members = [self.agents[i] for i in ids]
        if not skills:
            return members, members
        skilled = set(ids)
        for skill in sorted(skills, key=lambda s: len(self._by_skill.get(s, ()))):
            skilled &= self._by_skill.get(skill, set())
            if not skilled:
                break
        return members, [self.agents[i] for i in skilled]


def _has_skills(agent: Agent, skills: frozenset[str]) -> bool:
    return all(agent.skills.get(skill, 0) > 0 for skill in skills)


def _stamp(last_assigned: Mapping[AgentId, dt.datetime], agent_id: AgentId) -> tuple[bool, dt.datetime | None]:
    # Never assigned sorts first; datetimes never compare with None because the flag differs first.
    stamp = last_assigned.get(agent_id)
    return (stamp is not None, stamp)


def _rank_key(strategy: Strategy, wanted: frozenset[str], last_assigned: Mapping[AgentId, dt.datetime]):
    if strategy is Strategy.ROUND_ROBIN:
        return lambda a: (_stamp(last_assigned, a.id), a.id)
    if strategy is Strategy.LEAST_LOADED:
        return lambda a: (a.load, a.open_count, _stamp(last_assigned, a.id), a.id)
    return lambda a: (
        -sum(a.skills.get(s, 0) for s in wanted),
        a.load,
        a.open_count,
        _stamp(last_assigned, a.id),
        a.id,
    )


def _pick(
    ticket: Ticket,
    queue: Queue,
    agents: Sequence[Agent] | AgentIndex,
    now: dt.datetime,
    last_assigned: Mapping[AgentId, dt.datetime],
) -> Decision:
    required = queue.required_skills | ticket.required_skills
    if isinstance(agents, AgentIndex):
        members, skilled = agents.members(queue.id, required)
    else:
        members = [a for a in agents if queue.id in a.queues]
        skilled = [a for a in members if _has_skills(a, required)]
    if not members:
        return Decision(ticket.id, None, Reason.NO_MEMBERS, queue.id)
    if ticket.excluded:
        skilled = [a for a in skilled if a.id not in ticket.excluded]
        if all(a.id in ticket.excluded for a in members):
            return Decision(ticket.id, None, Reason.ONLY_EXCLUDED, queue.id)
    if not skilled:
        missing = frozenset(s for s in required if not any(a.skills.get(s, 0) > 0 for a in members))
        return Decision(ticket.id, None, Reason.MISSING_SKILL, queue.id, skills=missing or required)
    speaking = skilled if ticket.language is None else [a for a in skilled if ticket.language in a.languages]
    if not speaking:
        return Decision(ticket.id, None, Reason.MISSING_LANGUAGE, queue.id, language=ticket.language)
    available = [a for a in speaking if a.availability is Availability.ONLINE]
    if available:
        # Working hours are the same calendar for many agents: ask each calendar once per decision.
        in_hours: dict[int, bool] = {}
        kept = []
        for agent in available:
            cal = agent.working_hours
            if cal is None:
                kept.append(agent)
                continue
            key = id(cal)
            if key not in in_hours:
                in_hours[key] = is_business_time(cal, now)
            if in_hours[key]:
                kept.append(agent)
        available = kept
    if not available:
        return Decision(ticket.id, None, Reason.NONE_AVAILABLE, queue.id)
    with_room = [a for a in available if a.open_count < a.capacity]
    if not with_room:
        return Decision(ticket.id, None, Reason.ALL_AT_CAPACITY, queue.id)
    best = min(with_room, key=_rank_key(queue.strategy, required | ticket.preferred_skills, last_assigned))
    return Decision(ticket.id, best.id, Reason.ASSIGNED, queue.id)


def route(
    ticket: Ticket,
    queue: Queue,
    agents: Iterable[Agent] | AgentIndex,
    now: dt.datetime,
    last_assigned: Mapping[AgentId, dt.datetime] | None = None,
    *,
    senior: Queue | None = None,
) -> Decision:
    """The agent for `ticket` in `queue` (or None with the reason), given the agents' current state.

    `last_assigned` maps an agent to when they were last given a ticket (round-robin order and every
    strategy's tie-break). `senior` is the queue named by `queue.senior_queue`: high-value tickets try it
    first. The answer depends only on the arguments (not on the order of `agents`).
    """
    last = last_assigned or {}
    pool = agents if isinstance(agents, AgentIndex) else list(agents)
    high_value = ticket.high_value or (ticket.value_class is not None and ticket.value_class in queue.senior_for)
    if high_value and senior is not None and senior.id != queue.id:
        first = _pick(ticket, senior, pool, now, last)
        if first.agent_id is not None:
            return replace(first, senior=True)
        fallback = _pick(ticket, queue, pool, now, last)
        return replace(fallback, senior=True, senior_reason=first.reason)
    return _pick(ticket, queue, pool, now, last)


def assign(ticket: Ticket, agent: Agent, now: dt.datetime) -> tuple[Ticket, Agent]:
    """The ticket and agent after an assignment (what the app writes): one more open ticket for the agent."""
    if agent.open_count >= agent.capacity:
        raise ValueError(f"agent {agent.id} is at capacity")
    return (
        replace(ticket, assigned_to=agent.id, assigned_at=now, picked_up_at=None),
        replace(agent, open_count=agent.open_count + 1),
    )


@dataclass(frozen=True)
class Reroute:
    ticket_id: int
    queue_id: QueueId
    lapsed_agent: AgentId
    due_at: dt.datetime  # when the pick-up time ran out
    supervisor_id: int | None  # whom to tell


def reroute_due(tickets: Iterable[Ticket], queues: Mapping[QueueId, Queue], now: dt.datetime) -> list[Reroute]:
    """Assigned tickets nobody picked up within their queue's `reroute_minutes` (wall-clock), oldest first."""
    due = []
    for ticket in tickets:
        if ticket.assigned_to is None or ticket.assigned_at is None or ticket.picked_up_at is not None:
            continue
        queue = queues.get(ticket.queue_id)
        if queue is None or queue.reroute_minutes is None:
            continue
        deadline = ticket.assigned_at + dt.timedelta(minutes=queue.reroute_minutes)
        if deadline <= now:
            due.append(Reroute(ticket.id, queue.id, ticket.assigned_to, deadline, queue.supervisor_id))
    due.sort(key=lambda r: (r.due_at, r.ticket_id))
    return due


def lapse(ticket: Ticket) -> Ticket:
    """The ticket taken back from the agent who let it lapse; `route` will not offer it to them again."""
    if ticket.assigned_to is None:
        return ticket
    return replace(
        ticket,
        assigned_to=None,
        assigned_at=None,
        picked_up_at=None,
        excluded=ticket.excluded | {ticket.assigned_to},
    )

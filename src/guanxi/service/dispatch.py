"""The database side of routing and of the SLA clock: load the state `routing.route` needs (with the agents'
rows locked), write its decision; compute, pause and resume due times with `business_time`.

Called inside the services' and sweep handlers' transactions. Agents are locked in id order with
SELECT … FOR UPDATE before their open tickets are counted, so two tickets routed at once can never both
take an agent's last free place (on SQLite the write lock serialises transactions anyway).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import Count

from guanxi.analytics.score_models import CustomerScore
from guanxi.core.deferred import save_later
from guanxi.core.models import User

from . import routing
from .business_time import Calendar, add_business, business_minutes_between
from .models import AgentProfile, BusinessCalendar, Queue, SlaPolicy, default_calendar, read_once
from .ticket_models import ACTIVE, EventKind, Ticket, TicketEvent


def calendar_for(ticket: Ticket) -> Calendar:
    """The SLA policy's calendar, else the queue's, else the default one."""
    if ticket.sla_policy_id and ticket.sla_policy.calendar_id:
        return ticket.sla_policy.calendar.to_calendar()
    if ticket.queue_id and ticket.queue.calendar_id:
        return ticket.queue.calendar.to_calendar()
    return default_calendar()


def _match_policy(ticket: Ticket) -> Calendar | None:
    """Set the policy matching the ticket's priority and its account's classification; its calendar, or None
    (and no due times) when no policy matches."""
    classification = ticket.account.classification if ticket.account_id else ""
    ticket.sla_policy = SlaPolicy.matching(ticket.priority, classification)
    if ticket.sla_policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        return None
    return calendar_for(ticket)


def start_sla(ticket: Ticket, now: dt.datetime) -> None:
    """Due times from the policy matching the ticket's priority and its account's classification."""
    cal = _match_policy(ticket)
    if cal is None:
        return
    ticket.first_response_due_at = add_business(cal, now, ticket.sla_policy.first_response_minutes)
    ticket.resolution_due_at = add_business(cal, now, ticket.sla_policy.resolution_minutes)


def recompute_sla(ticket: Ticket, now: dt.datetime, warning: dt.timedelta) -> None:
    """After a change of priority or account: the matching policy's targets counted again from the ticket's
    creation, plus the business time it spent paused. A target already met keeps its time; a breach already
    recorded stays recorded unless the new due time is still ahead."""
    cal = _match_policy(ticket)
    if cal is None:
        return
    paused = ticket.paused_minutes
    if ticket.paused_at is not None and now > ticket.paused_at:  # paused now: the clock stopped at paused_at
        paused += business_minutes_between(cal, ticket.paused_at, now)
    ticket.first_response_due_at = add_business(cal, ticket.created_at, ticket.sla_policy.first_response_minutes
                                                + paused)
    ticket.resolution_due_at = add_business(cal, ticket.created_at, ticket.sla_policy.resolution_minutes + paused)
    for due, warned, breached in (("first_response_due_at", "response_warned", "response_breached"),
                                  ("resolution_due_at", "resolution_warned", "resolution_breached")):
        ahead = getattr(ticket, due) - now
        if ahead > warning:
            setattr(ticket, warned, False)
        if ahead > dt.timedelta(0):
            setattr(ticket, breached, False)
    if ticket.paused_at is not None:  # the pause so far is counted; resume_sla adds what follows from now
        ticket.paused_minutes, ticket.paused_at = paused, now


def pause_sla(ticket: Ticket, now: dt.datetime) -> None:
    if ticket.paused_at is None:
        ticket.paused_at = now


def resume_sla(ticket: Ticket, now: dt.datetime, warning: dt.timedelta) -> float:
    """Move the due times on by the business minutes paused; returns them."""
    if ticket.paused_at is None:
        return 0.0
    cal = calendar_for(ticket)
    minutes = business_minutes_between(cal, ticket.paused_at, now) if now > ticket.paused_at else 0.0
    ticket.paused_at = None
    ticket.paused_minutes += minutes
    if minutes <= 0:
        return 0.0
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        ticket.first_response_due_at = add_business(cal, ticket.first_response_due_at, minutes)
        if ticket.first_response_due_at - now > warning:
            ticket.response_warned = False
    if ticket.resolution_due_at is not None:
        ticket.resolution_due_at = add_business(cal, ticket.resolution_due_at, minutes)
        if ticket.resolution_due_at - now > warning:
            ticket.resolution_warned = False
    return minutes


def _open_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (Ticket.objects.filter(owner_id__in=user_ids, status__in=ACTIVE).values("owner_id")
            .annotate(n=Count("id")))
    return {row["owner_id"]: row["n"] for row in rows}


def predicted_high_value(ticket: Ticket, queue: Queue) -> bool:
    """Whether the ticket's account has a stored lifetime value (analytics' latest scoring run) at or above the
    queue's `senior_from_value`. No threshold, no account or no score: False (classification decides alone)."""
    if queue.senior_from_value is None or not ticket.account_id:
        return False
    clv = CustomerScore.objects.filter(account_id=ticket.account_id).values_list("clv", flat=True).first()
    return clv is not None and clv >= float(queue.senior_from_value)


def queue_agents(queue_ids: list[int], other_work: Callable[[list[int]], dict[int, int]] | None = None,
                 ) -> tuple[list[AgentProfile], list[routing.Agent], dict[int, dt.datetime]]:
    """The queues' agents (locked) as routing sees them, with when each was last given work. Their load is their
    active tickets, plus what `other_work` counts per user id (a channel's open chats)."""
    members = read_once(("queue_members", tuple(queue_ids)),  # once a batch of email (settings_read_once)
                         lambda: list(AgentProfile.queues.through.objects.filter(queue_id__in=queue_ids)))
    member_ids = sorted({m.agentprofile_id for m in members})
    memberships: dict[int, set[int]] = {}
    for m in members:
        memberships.setdefault(m.agentprofile_id, set()).add(m.queue_id)
    profiles = list(AgentProfile.objects.select_for_update().filter(pk__in=member_ids).order_by("pk"))
    working = {p.working_hours_id for p in profiles if p.working_hours_id}
    calendars = BusinessCalendar.objects.in_bulk(working)
    for p in profiles:
        if p.working_hours_id:
            p.working_hours = calendars[p.working_hours_id]
    user_ids = [p.user_id for p in profiles]
    counts = _open_counts(user_ids)
    for user_id, n in (other_work(user_ids) if other_work and user_ids else {}).items():
        counts[user_id] = counts.get(user_id, 0) + n
    agents = [p.to_routing(counts.get(p.user_id, 0), frozenset(memberships.get(p.pk, ()))) for p in profiles]
    return profiles, agents, {p.user_id: p.last_assigned_at for p in profiles if p.last_assigned_at}


def route_ticket(ticket: Ticket, now: dt.datetime, actor: User | None = None) -> routing.Decision | None:
    """Give the ticket to an agent of its queue (a high-value customer's to the senior queue first) and log
    the decision. None when the ticket has no queue. The caller saves the ticket."""
    if ticket.queue_id is None:
        return None
    queue = ticket.queue
    senior = queue.senior_queue
    queue_ids = [queue.pk] + ([senior.pk] if senior else [])
    profiles, agents, last = queue_agents(queue_ids)
    group = ticket.question_group
    request = routing.Ticket(
        id=ticket.pk, queue_id=queue.pk, created_at=ticket.created_at or now,
        required_skills=frozenset(group.skills or ()) if group else frozenset(),
        language=routing.primary_language(ticket.language),
        value_class=(ticket.account.classification or None) if ticket.account_id else None,
        high_value=senior is not None and predicted_high_value(ticket, queue),
        excluded=frozenset(ticket.lapsed_agents or ()))
    decision = routing.route(request, queue.to_routing(), agents, now, last,
                             senior=senior.to_routing() if senior else None)
    data = {"reason": decision.reason.value, "queue": decision.queue_id, "senior": decision.senior,
            "senior_reason": decision.senior_reason.value if decision.senior_reason else None,
            "skills": sorted(decision.skills), "language": decision.language,
            "predicted_value": request.high_value}
    if decision.agent_id is not None:
        profile = next(p for p in profiles if p.user_id == decision.agent_id)
        ticket.set_owner(profile.user)
        ticket.assigned_at = now
        ticket.picked_up_at = None
        if decision.queue_id != ticket.queue_id:
            ticket.queue = Queue.objects.get(pk=decision.queue_id)
        profile.last_assigned_at = now
        profile.save(update_fields=["last_assigned_at"])
        data["agent"] = decision.agent_id
        data["agent_name"] = str(profile.user)
    save_later(TicketEvent(ticket=ticket, actor=actor,
                           kind=EventKind.ROUTED if decision.agent_id else EventKind.UNROUTED, data=data))
    return decision


def has_room(user: User) -> bool:
    """Lock the user's agent row and tell whether they are below capacity (users without a profile: yes)."""
    profile = AgentProfile.objects.select_for_update().filter(user=user).first()
    return profile is None or _open_counts([user.pk]).get(user.pk, 0) < profile.capacity

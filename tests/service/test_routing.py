"""Ticket routing: capacity never exceeded, fair over time, deterministic, skills/languages/availability respected,
high-value tickets to the senior queue first, re-routing of tickets nobody picked up."""

import datetime as dt
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.service.business_time import Calendar
from guanxi.service.routing import (
    Agent,
    AgentIndex,
    Availability,
    Queue,
    Reason,
    Strategy,
    Ticket,
    assign,
    lapse,
    reroute_due,
    route,
)

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 4, 3, 0, tzinfo=UTC)  # Tuesday 11:00 in Shanghai
Q = 1
SENIOR = 2


def ticket(n: int = 1, **kw) -> Ticket:
    return Ticket(id=n, queue_id=kw.pop("queue_id", Q), created_at=NOW, **kw)


def agent(n: int, **kw) -> Agent:
    kw.setdefault("queues", frozenset({Q}))
    return Agent(id=n, **kw)


def run(queue: Queue, agents: list[Agent], tickets: list[Ticket], *, senior=None, use_index=False):
    """Route the tickets one by one, applying each assignment as the app would; returns agents and decisions."""
    state = {a.id: a for a in agents}
    index = AgentIndex(agents) if use_index else None
    last: dict[int, dt.datetime] = {}
    decisions = []
    for i, t in enumerate(tickets):
        now = NOW + dt.timedelta(seconds=i)
        d = route(t, queue, index or state.values(), now, last, senior=senior)
        decisions.append(d)
        if d.agent_id is not None:
            _, state[d.agent_id] = assign(t, state[d.agent_id], now)
            last[d.agent_id] = now
            if index:
                index.update(state[d.agent_id])
    return state, decisions


def test_round_robin_spreads_within_one():
    queue = Queue(Q, Strategy.ROUND_ROBIN)
    agents = [agent(i, capacity=100) for i in range(1, 8)]
    _, decisions = run(queue, agents, [ticket(n) for n in range(100)])
    counts = Counter(d.agent_id for d in decisions)
    assert set(counts) == {a.id for a in agents}
    assert max(counts.values()) - min(counts.values()) <= 1
    # In turn: the first seven go to seven different agents, lowest id first.
    assert [d.agent_id for d in decisions[:8]] == [1, 2, 3, 4, 5, 6, 7, 1]


def test_least_loaded_keeps_loads_within_one():
    queue = Queue(Q, Strategy.LEAST_LOADED)
    agents = [agent(i, capacity=50, open_count=c) for i, c in enumerate([5, 0, 3, 0, 9], start=1)]
    state, decisions = run(queue, agents, [ticket(n) for n in range(60)])
    loads = [a.open_count for a in state.values()]
    assert max(loads) - min(loads) <= 1
    # The least loaded agents were served first: agent 5 (9 open) got nothing until others reached 9.
    assert 5 not in [d.agent_id for d in decisions[:25]]


def test_least_loaded_compares_load_relative_to_capacity():
    queue = Queue(Q, Strategy.LEAST_LOADED)
    agents = [agent(1, capacity=10, open_count=4), agent(2, capacity=4, open_count=2)]
    assert route(ticket(), queue, agents, NOW).agent_id == 1  # 40 % beats 50 %


def test_skills_based_picks_the_most_skilled_then_least_loaded():
    queue = Queue(Q, Strategy.SKILLS_BASED)
    agents = [
        agent(1, skills={"billing": 2}),
        agent(2, skills={"billing": 5}, open_count=3),
        agent(3, skills={"billing": 5, "vat": 4}, open_count=4),
        agent(4, skills={"network": 5}),
    ]
    assert route(ticket(required_skills=frozenset({"billing"})), queue, agents, NOW).agent_id == 2
    t = ticket(required_skills=frozenset({"billing"}), preferred_skills=frozenset({"vat"}))
    assert route(t, queue, agents, NOW).agent_id == 3
    same_level = [agent(5, skills={"billing": 5}, open_count=1), *agents]
    assert route(ticket(required_skills=frozenset({"billing"})), queue, same_level, NOW).agent_id == 5


def test_required_skills_and_language_are_respected():
    queue = Queue(Q, Strategy.ROUND_ROBIN, required_skills=frozenset({"invoice"}))
    agents = [
        agent(1, skills={"invoice": 3}, languages=frozenset({"zh"})),
        agent(2, skills={"invoice": 3, "refund": 1}, languages=frozenset({"zh", "en"})),
        agent(3, skills={"refund": 5}, languages=frozenset({"en"})),
    ]
    assert route(ticket(language="en"), queue, agents, NOW).agent_id == 2
    assert route(ticket(required_skills=frozenset({"refund"})), queue, agents, NOW).agent_id == 2
    d = route(ticket(required_skills=frozenset({"customs"})), queue, agents, NOW)
    assert (d.agent_id, d.reason, d.skills) == (None, Reason.MISSING_SKILL, frozenset({"customs"}))
    assert "customs" in d.detail
    d = route(ticket(language="ja"), queue, agents, NOW)
    assert (d.agent_id, d.reason, d.language) == (None, Reason.MISSING_LANGUAGE, "ja")


def test_away_off_and_outside_working_hours_are_never_chosen():
    queue = Queue(Q, Strategy.LEAST_LOADED)
    evenings = Calendar(timezone="Asia/Shanghai", week=(((18 * 60, 23 * 60),),) * 7)
    agents = [
        agent(1, availability=Availability.AWAY),
        agent(2, availability=Availability.OFF),
        agent(3, working_hours=evenings),  # online, but 11:00 in Shanghai is outside their hours
        agent(4, open_count=9),
    ]
    assert route(ticket(), queue, agents, NOW).agent_id == 4
    d = route(ticket(), queue, agents[:3], NOW)
    assert (d.agent_id, d.reason) == (None, Reason.NONE_AVAILABLE)
    evening = dt.datetime(2025, 3, 4, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai
    assert route(ticket(), queue, agents[:3], evening).agent_id == 3


def test_reasons_when_nobody_can_take_it():
    queue = Queue(Q)
    assert route(ticket(), queue, [agent(1, queues=frozenset({9}))], NOW).reason is Reason.NO_MEMBERS
    full = [agent(1, capacity=2, open_count=2), agent(2, capacity=0)]
    d = route(ticket(), queue, full, NOW)
    assert (d.agent_id, d.reason, d.detail) == (None, Reason.ALL_AT_CAPACITY, "all agents online are at capacity")
    d = route(ticket(excluded=frozenset({1, 2})), queue, [agent(1), agent(2)], NOW)
    assert d.reason is Reason.ONLY_EXCLUDED


def test_high_value_goes_to_the_senior_queue_first_and_falls_back_when_seniors_are_full():
    queue = Queue(Q, senior_queue=SENIOR, senior_for=frozenset({"A", "VIP"}))
    senior = Queue(SENIOR, Strategy.LEAST_LOADED)
    agents = [agent(1), agent(2), agent(10, queues=frozenset({SENIOR}), capacity=1)]
    d = route(ticket(value_class="A"), queue, agents, NOW, senior=senior)
    assert (d.agent_id, d.queue_id, d.senior, d.senior_reason) == (10, SENIOR, True, None)
    # An ordinary customer stays in the ordinary queue.
    assert route(ticket(value_class="C"), queue, agents, NOW, senior=senior).agent_id == 1
    # The only senior is full: the ticket falls back to its own queue, and says why.
    agents[2] = agent(10, queues=frozenset({SENIOR}), capacity=1, open_count=1)
    d = route(ticket(value_class="VIP"), queue, agents, NOW, senior=senior)
    assert (d.agent_id, d.queue_id, d.senior, d.senior_reason) == (1, Q, True, Reason.ALL_AT_CAPACITY)
    assert "senior queue: all_at_capacity" in d.detail


def test_high_predicted_value_counts_as_high_value_whatever_the_class():
    """The app reads the stored lifetime value against the queue's threshold and passes the answer in."""
    queue = Queue(Q, senior_queue=SENIOR, senior_for=frozenset({"A"}))
    senior = Queue(SENIOR)
    agents = [agent(1), agent(10, queues=frozenset({SENIOR}))]
    d = route(ticket(value_class="C", high_value=True), queue, agents, NOW, senior=senior)
    assert (d.agent_id, d.queue_id, d.senior) == (10, SENIOR, True)
    assert route(ticket(value_class="C"), queue, agents, NOW, senior=senior).queue_id == Q
    assert route(ticket(high_value=True), queue, agents, NOW).queue_id == Q  # no senior queue: its own


def test_reroute_after_n_minutes_excludes_the_agent_who_let_it_lapse():
    queue = Queue(Q, Strategy.ROUND_ROBIN, reroute_minutes=10, supervisor_id=77)
    agents = [agent(1), agent(2)]
    t = ticket(5)
    d = route(t, queue, agents, NOW)
    assert d.agent_id == 1
    t, _ = assign(t, agents[0], NOW)
    picked = assign(ticket(6), agents[1], NOW)[0]
    picked = Ticket(**{**picked.__dict__, "picked_up_at": NOW + dt.timedelta(minutes=1)})
    queues = {Q: queue}
    assert reroute_due([t, picked], queues, NOW + dt.timedelta(minutes=9, seconds=59)) == []
    due = reroute_due([t, picked], queues, NOW + dt.timedelta(minutes=10))
    assert [(r.ticket_id, r.lapsed_agent, r.supervisor_id) for r in due] == [(5, 1, 77)]
    assert due[0].due_at == NOW + dt.timedelta(minutes=10)
    back = lapse(t)
    assert back.assigned_to is None and back.excluded == {1}
    # Agent 1 is still the round-robin favourite (never mind the last-assigned stamps): excluded anyway.
    assert route(back, queue, agents, NOW + dt.timedelta(minutes=10)).agent_id == 2
    # If agent 2 lets it lapse too, nobody is left and the reason says so.
    again = lapse(assign(back, agents[1], NOW)[0])
    assert route(again, queue, agents, NOW).reason is Reason.ONLY_EXCLUDED


def test_queues_without_reroute_time_are_never_rerouted():
    queue = Queue(Q, reroute_minutes=None)
    t, _ = assign(ticket(), agent(1), NOW)
    assert reroute_due([t], {Q: queue}, NOW + dt.timedelta(days=3)) == []


def test_index_gives_the_same_decisions_as_a_scan():
    rng = random.Random(7)
    skills = ["billing", "network", "vat", "returns"]
    agents = [
        agent(
            i,
            queues=frozenset(rng.sample([Q, SENIOR, 3], rng.randint(1, 2))),
            skills={s: rng.randint(1, 5) for s in rng.sample(skills, rng.randint(0, 3))},
            languages=frozenset(rng.sample(["zh", "en"], rng.randint(1, 2))),
            capacity=rng.randint(0, 4),
            availability=rng.choice(list(Availability)),
        )
        for i in range(60)
    ]
    for strategy in Strategy:
        queue = Queue(Q, strategy, senior_queue=SENIOR)
        senior = Queue(SENIOR, strategy)
        tickets = [
            ticket(
                n,
                required_skills=frozenset(rng.sample(skills, rng.randint(0, 2))),
                language=rng.choice([None, "zh", "en"]),
                value_class=rng.choice(["A", "B"]),
            )
            for n in range(150)
        ]
        scanned = run(queue, agents, tickets, senior=senior)
        indexed = run(queue, agents, tickets, senior=senior, use_index=True)
        assert scanned == indexed


# -- properties --------------------------------------------------------------------------------------

SKILLS = ["a", "b", "c"]
agents_st = st.lists(
    st.builds(
        lambda i, queues, skills, langs, cap, used, avail: Agent(
            id=i,
            queues=frozenset(queues),
            skills=skills,
            languages=frozenset(langs),
            capacity=cap,
            open_count=min(used, cap),
            availability=avail,
        ),
        st.integers(0, 10**6),
        st.sets(st.sampled_from([Q, SENIOR]), min_size=1),
        st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5)),
        st.sets(st.sampled_from(["zh", "en"])),
        st.integers(0, 4),
        st.integers(0, 4),
        st.sampled_from(list(Availability)),
    ),
    min_size=0,
    max_size=12,
    unique_by=lambda a: a.id,
)
tickets_st = st.lists(
    st.builds(
        lambda skills, lang, value: (frozenset(skills), lang, value),
        st.sets(st.sampled_from(SKILLS), max_size=2),
        st.sampled_from([None, "zh", "en"]),
        st.sampled_from([None, "A", "B"]),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(agents=agents_st, specs=tickets_st, strategy=st.sampled_from(list(Strategy)))
def test_capacity_is_never_exceeded_and_refusals_are_true(agents, specs, strategy):
    queue = Queue(Q, strategy, senior_queue=SENIOR)
    senior = Queue(SENIOR, strategy)
    tickets = [ticket(n, required_skills=s, language=lang, value_class=v) for n, (s, lang, v) in enumerate(specs)]
    state, decisions = run(queue, agents, tickets, senior=senior)
    for a in state.values():
        assert a.open_count <= a.capacity
    for t, d in zip(tickets, decisions, strict=True):
        if d.agent_id is None:
            continue
        chosen = state[d.agent_id]
        assert d.queue_id in chosen.queues
        assert all(chosen.skills.get(s, 0) > 0 for s in t.required_skills)
        assert t.language is None or t.language in chosen.languages
        assert chosen.availability is Availability.ONLINE
    # Replaying the same state gives the same answers, whatever the order agents are listed in.
    shuffled = list(agents)
    random.Random(len(agents)).shuffle(shuffled)
    assert run(queue, shuffled, tickets, senior=senior) == (state, decisions)


@settings(max_examples=200, deadline=None)
@given(agents=agents_st, specs=tickets_st)
def test_an_agent_is_refused_only_when_no_eligible_agent_has_room(agents, specs):
    queue = Queue(Q, Strategy.LEAST_LOADED)
    for n, (skills, lang, _) in enumerate(specs):
        d = route(ticket(n, required_skills=skills, language=lang), queue, agents, NOW)
        eligible = [
            a
            for a in agents
            if Q in a.queues
            and all(a.skills.get(s, 0) > 0 for s in skills)
            and (lang is None or lang in a.languages)
            and a.availability is Availability.ONLINE
            and a.open_count < a.capacity
        ]
        if eligible:
            best = min(a.open_count / a.capacity for a in eligible)
            chosen = next(a for a in agents if a.id == d.agent_id)
            assert chosen.open_count / chosen.capacity == best  # least loaded really is the least loaded
        else:
            assert d.agent_id is None and d.reason is not Reason.ASSIGNED

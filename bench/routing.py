"""Service-desk engines benchmark: `python -m bench.routing [--agents 500] [--tickets 10000] [--decisions 1000]`.

Routing: builds a team of N agents (20 queues, each agent in 1–3 of them, 15 skills with levels, zh/en/ja,
capacities 15–40, 80 % online, half of them on the Chinese office calendar) carrying M open tickets, then
times `route` for 1,000 new tickets (mixed strategies, required skills, languages, 10 % high-value with a
senior queue), applying each assignment before the next decision as the app would. Both ways are measured:
a plain scan over the agent list, and an `AgentIndex` built once per state (its build time is reported);
also the worst case of one queue holding every agent, and `reroute_due` over all open tickets.

Business time: 10,000 `add_business` deadlines (random starts 2024–2026, targets 30 minutes to 5 working
days) on the official calendar, cold (empty per-day cache) and warm, and 10,000 `business_minutes_between`.

Prints p50/p95/max per decision and totals, with the machine and the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import time
from collections import Counter

from guanxi.service.business_time import add_business, business_minutes_between
from guanxi.service.holidays_cn import china_calendar
from guanxi.service.routing import (
    Agent,
    AgentIndex,
    Availability,
    Queue,
    Strategy,
    Ticket,
    assign,
    reroute_due,
    route,
)

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 4, 3, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Shanghai
SKILLS = [f"skill{i}" for i in range(15)]
QUEUES = 20
SENIOR = 100


def make_state(n_agents: int, n_tickets: int, rng: random.Random, *, one_queue: bool = False):
    cal = china_calendar()
    agents = []
    for i in range(1, n_agents + 1):
        queues = {SENIOR} if i % 25 == 0 else set()
        queues |= {0} if one_queue else set(rng.sample(range(QUEUES), rng.randint(1, 3)))
        agents.append(
            Agent(
                id=i,
                queues=frozenset(queues),
                skills={s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(2, 6))},
                languages=frozenset({"zh"} | ({"en"} if rng.random() < 0.5 else set()) | (
                    {"ja"} if rng.random() < 0.1 else set())),
                capacity=rng.randint(15, 40),
                availability=rng.choices(list(Availability), weights=(80, 10, 10))[0],
                working_hours=cal if i % 2 else None,
            )
        )
    # The open tickets, spread over the agents up to their capacity: the state the app loads.
    open_tickets = []
    room = {a.id: a.capacity for a in agents}
    ids = [a.id for a in agents]
    for n in range(n_tickets):
        agent_id = rng.choice(ids)
        while room[agent_id] == 0:
            agent_id = rng.choice(ids)
        room[agent_id] -= 1
        queue = 0 if one_queue else rng.randrange(QUEUES)
        assigned = NOW - dt.timedelta(minutes=rng.randint(0, 600))
        picked = assigned + dt.timedelta(minutes=1) if rng.random() < 0.9 else None
        open_tickets.append(Ticket(n, queue, assigned, assigned_to=agent_id, assigned_at=assigned, picked_up_at=picked))
    return agents, open_tickets


def new_tickets(count: int, rng: random.Random, *, one_queue: bool) -> list[Ticket]:
    return [
        Ticket(
            id=10**6 + n,
            queue_id=0 if one_queue else rng.randrange(QUEUES),
            created_at=NOW,
            required_skills=frozenset(rng.sample(SKILLS, rng.choice((0, 1, 1, 2)))),
            preferred_skills=frozenset(rng.sample(SKILLS, 1)),
            language=rng.choice((None, None, "zh", "en")),
            value_class="A" if rng.random() < 0.1 else "B",
        )
        for n in range(count)
    ]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(times_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(pct(times_ms, 50), 3),
        "p95_ms": round(pct(times_ms, 95), 3),
        "max_ms": round(max(times_ms), 3),
        "mean_ms": round(statistics.fmean(times_ms), 3),
    }


def bench_routing(args: argparse.Namespace, *, one_queue: bool) -> dict:
    rng = random.Random(args.seed)
    agents, open_tickets = make_state(args.agents, args.tickets, rng, one_queue=one_queue)
    t0 = time.perf_counter()
    counts = Counter(t.assigned_to for t in open_tickets)
    agents = [Agent(**{**a.__dict__, "open_count": counts.get(a.id, 0)}) for a in agents]
    count_ms = (time.perf_counter() - t0) * 1000
    strategies = list(Strategy)
    queues = {
        q: Queue(q, strategies[q % 3], senior_queue=SENIOR, reroute_minutes=15, supervisor_id=1)
        for q in range(QUEUES)
    }
    senior = Queue(SENIOR, Strategy.LEAST_LOADED)
    tickets = new_tickets(args.decisions, random.Random(args.seed + 1), one_queue=one_queue)
    out: dict = {"agents": len(agents), "open_tickets": len(open_tickets), "open_counts_ms": round(count_ms, 2)}
    for mode in ("scan", "index"):
        state = {a.id: a for a in agents}
        t0 = time.perf_counter()
        index = AgentIndex(agents) if mode == "index" else None
        build_ms = (time.perf_counter() - t0) * 1000
        last: dict[int, dt.datetime] = {}
        times, assigned = [], 0
        for i, ticket in enumerate(tickets):
            now = NOW + dt.timedelta(milliseconds=i)
            t0 = time.perf_counter()
            decision = route(ticket, queues[ticket.queue_id], index or state.values(), now, last, senior=senior)
            times.append((time.perf_counter() - t0) * 1000)
            if decision.agent_id is not None:
                assigned += 1
                _, state[decision.agent_id] = assign(ticket, state[decision.agent_id], now)
                last[decision.agent_id] = now
                if index is not None:
                    index.update(state[decision.agent_id])
        out[mode] = {**summary(times), "assigned": assigned, "refused": len(tickets) - assigned}
        if index is not None:
            out[mode]["index_build_ms"] = round(build_ms, 2)
    t0 = time.perf_counter()
    due = reroute_due(open_tickets, queues if not one_queue else {0: queues[0]}, NOW)
    out["reroute_due_ms"] = round((time.perf_counter() - t0) * 1000, 2)
    out["reroute_due_found"] = len(due)
    return out


def bench_business_time(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    span = int((dt.datetime(2026, 12, 1, tzinfo=UTC) - dt.datetime(2024, 1, 1, tzinfo=UTC)).total_seconds())
    starts = [dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=rng.randrange(span)) for _ in range(10_000)]
    targets = [rng.choice((30, 60, 240, 450, 900, 2250)) for _ in starts]  # up to 5 working days of 7.5 h
    out = {}
    cal = china_calendar()
    for label in ("cold", "warm"):  # the first pass fills the calendar's per-day cache, the second reuses it
        t0 = time.perf_counter()
        deadlines = [add_business(cal, s, m) for s, m in zip(starts, targets, strict=True)]
        out[f"add_business_10k_{label}_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    t0 = time.perf_counter()
    for s, d in zip(starts, deadlines, strict=True):
        business_minutes_between(cal, s, d)
    out["between_10k_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    report = {
        "date": dt.datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "routing_20_queues": bench_routing(args, one_queue=False),
        "routing_one_queue_of_all": bench_routing(args, one_queue=True),
        "business_time": bench_business_time(args),
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{report['date']}  {report['machine']}  load {report['load_before']} → {report['load_after']}")
    for case in ("routing_20_queues", "routing_one_queue_of_all"):
        r = report[case]
        print(f"\n{case}: {r['agents']} agents, {r['open_tickets']} open tickets (open counts "
              f"{r['open_counts_ms']} ms, reroute_due {r['reroute_due_ms']} ms → {r['reroute_due_found']} due)")
        for mode in ("scan", "index"):
            m = r[mode]
            extra = f", index built in {m['index_build_ms']} ms" if "index_build_ms" in m else ""
            print(f"  {mode:5}  p50 {m['p50_ms']} ms  p95 {m['p95_ms']} ms  max {m['max_ms']} ms  "
                  f"({m['assigned']} assigned, {m['refused']} refused{extra})")
    print("\nbusiness time:", ", ".join(f"{k} {v}" for k, v in report["business_time"].items()))


if __name__ == "__main__":
    main()

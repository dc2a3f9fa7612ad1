"""Lead assignment: which rule takes a new lead and which of its reps gets it. No Django here.

Rules are tried in order; the first active rule whose conditions all hold (an empty condition matches
anything) takes the lead. Within a rule the reps take turns (round-robin): the next eligible member after
the one who got the rule's last lead, in the rule's member order, skipping members who are inactive.
Region and industry routing is a rule with a province (or city) or an industry condition.

`pick(rules, lead)` is deterministic: the same rules and the same lead give the same rep, so two workers
agree, and the service stores the rule's new `last_user_id` in the same transaction as the lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    id: int
    members: Sequence[int]  # user ids, in turn order
    sources: frozenset[str] = field(default_factory=frozenset)
    industries: frozenset[str] = field(default_factory=frozenset)
    provinces: frozenset[str] = field(default_factory=frozenset)
    last_user_id: int | None = None
    active: bool = True

    def matches(self, lead: Mapping[str, str]) -> bool:
        for values, key in ((self.sources, "source"), (self.industries, "industry"), (self.provinces, "province")):
            if values and (lead.get(key) or "") not in values:
                return False
        return True


@dataclass(frozen=True)
class Choice:
    rule_id: int
    user_id: int


def next_member(members: Sequence[int], last_user_id: int | None, eligible: set[int] | frozenset[int]) -> int | None:
    """The member after `last_user_id` (wrapping round) who is eligible; None when nobody is."""
    ordered = [m for m in members if m in eligible]
    if not ordered:
        return None
    if last_user_id in members:
        start = list(members).index(last_user_id) + 1
        rotated = list(members[start:]) + list(members[:start])
        for member in rotated:
            if member in eligible:
                return member
    return ordered[0]


def pick(rules: Iterable[Rule], lead: Mapping[str, str], active_users: set[int] | frozenset[int]) -> Choice | None:
    """The first matching rule that has an eligible member, and that member; None when no rule applies."""
    for rule in rules:
        if not rule.active or not rule.matches(lead):
            continue
        user_id = next_member(rule.members, rule.last_user_id, active_users)
        if user_id is not None:
            return Choice(rule.id, user_id)
    return None

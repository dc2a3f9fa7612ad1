"""Net promoter score arithmetic, without a database: what a 0–10 answer counts as, the score of a set of answers,
and why a contact is left out of a survey. The NPS survey's services, its pages and the KPI dashboard all count
with these functions, so they agree.

    >>> category(9), category(7), category(6)
    ('promoter', 'passive', 'detractor')
    >>> breakdown(promoters=5, passives=3, detractors=2).score
    Decimal('30.0')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MIN_SCORE, MAX_SCORE = 0, 10
PROMOTER_FROM, PASSIVE_FROM = 9, 7  # 9–10 promoters, 7–8 passives, 0–6 detractors
PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
CATEGORIES = (PROMOTER, PASSIVE, DETRACTOR)
TENTH = Decimal("0.1")

# Why a contact of the chosen ones gets no survey e-mail, in the order they are checked.
NO_CONSENT, NO_EMAIL, UNDELIVERABLE, RECENT = "no_consent", "no_email", "undeliverable", "recent"
SKIP_REASONS = (NO_CONSENT, NO_EMAIL, UNDELIVERABLE, RECENT)


def parse_score(value: Any) -> int | None:
    """A score from a form or JSON: a whole number 0–10 (as a number or its digits); anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isdecimal() or not text.isascii() or len(text) > 2:
            return None
        value = int(text)
    if not isinstance(value, int) or not MIN_SCORE <= value <= MAX_SCORE:
        return None
    return value


def category(score: int) -> str:
    """promoter (9–10), passive (7–8) or detractor (0–6); a score outside 0–10 is a ValueError."""
    if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
        raise ValueError(f"an NPS score is a whole number from 0 to 10, not {score!r}")
    if score >= PROMOTER_FROM:
        return PROMOTER
    return PASSIVE if score >= PASSIVE_FROM else DETRACTOR


def score_range(which: str) -> str:
    """The scores of a category as text: "9–10", "7–8", "0–6"."""
    low, high = {PROMOTER: (PROMOTER_FROM, MAX_SCORE), PASSIVE: (PASSIVE_FROM, PROMOTER_FROM - 1),
                 DETRACTOR: (MIN_SCORE, PASSIVE_FROM - 1)}[which]
    return f"{low}–{high}"


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, one decimal rounded half up; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def score(promoters: int, passives: int, detractors: int) -> Decimal | None:
    """The NPS: % promoters − % detractors of all answers, −100 to 100, one decimal (half up); None without any."""
    for n in (promoters, passives, detractors):
        if n < 0:
            raise ValueError("counts are never negative")
    return percent(promoters - detractors, promoters + passives + detractors)


@dataclass(frozen=True)
class Breakdown:
    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> Decimal | None:
        return score(self.promoters, self.passives, self.detractors)

    def share(self, which: str) -> Decimal | None:
        """The share of promoters, passives or detractors in percent (one decimal); None without answers."""
        return percent({PROMOTER: self.promoters, PASSIVE: self.passives, DETRACTOR: self.detractors}[which],
                        self.responses)


def breakdown(promoters: int = 0, passives: int = 0, detractors: int = 0) -> Breakdown:
    score(promoters, passives, detractors)  # refuses negative counts
    return Breakdown(promoters, passives, detractors)


def tally(scores: list[int]) -> Breakdown:
    """The breakdown of a list of scores (for files and tests; the database counts with filtered aggregates)."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for s in scores:
        counts[category(s)] += 1
    return Breakdown(counts[PROMOTER], counts[PASSIVE], counts[DETRACTOR])


def skip_reason(*, consent: bool, email: str, undeliverable: bool, surveyed_recently: bool) -> str | None:
    """Why a contact gets no survey (the first that applies), or None when they get one: no marketing consent, no
    e-mail address, an address mail bounced from, or surveyed within the quiet period already."""
    if not consent:
        return NO_CONSENT
    if not email:
        return NO_EMAIL
    if undeliverable:
        return UNDELIVERABLE
    if surveyed_recently:
        return RECENT
    return None

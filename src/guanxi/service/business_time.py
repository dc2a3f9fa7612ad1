"""SLA arithmetic in business time: deadlines and elapsed time that count only working hours.

Why a plain module: SLA targets ("first response within 4 working hours") must skip nights, lunch
breaks, weekends and Chinese public holidays, yet count the Saturdays and Sundays that are worked in
exchange (调休). That arithmetic is easy to get subtly wrong and needs no database, so it lives here,
never imports Django, and is tested on its own; the service app stores the resulting deadlines in UTC
`due_at` columns that the once-a-minute sweep compares with the clock.

    cal = Calendar.from_dict({"timezone": "Asia/Shanghai",
                              "hours": {"mon": ["09:00-12:00", "13:30-18:00"], ...},
                              "holidays": {"2025-10-01": "National Day"}, "workdays": {"2025-09-28": "..."}})
    due = add_business(cal, created_at, 240)            # 4 working hours later, an aware UTC datetime
    used = business_minutes_between(cal, created_at, now)

A `SlaClock` accumulates business time across pauses (waiting on the customer).

The walk goes day by day over each day's working spans (never minute by minute); each day's spans are
computed once per calendar and cached. Working hours are local wall-clock times in the calendar's zone;
spans are converted to UTC, so a zone with daylight saving time counts real elapsed time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "Calendar",
    "ClockEvent",
    "SlaClock",
    "add_business",
    "business_minutes_between",
    "business_time_between",
    "is_business_time",
    "next_business_moment",
    "replay",
]

UTC = dt.UTC
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ONE_DAY = dt.timedelta(days=1)
# A calendar with no working time at all would make add_business walk forever: give up after this many
# consecutive days without a working minute (ten years).
MAX_EMPTY_DAYS = 3660

Span = tuple[int, int]  # minutes after local midnight, start < end <= 1440


def _parse_hhmm(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 1440 or not 0 <= int(minutes or 0) < 60:
        raise ValueError(f"not a time of day: {text!r}")
    return value


def _parse_span(item: str | Sequence[str]) -> Span:
    """'09:00-12:00' or ('09:00', '12:00') → (540, 720)."""
    if isinstance(item, str):
        start, sep, end = item.partition("-")
        if not sep:
            raise ValueError(f"not a span of hours (HH:MM-HH:MM): {item!r}")
    else:
        start, end = item
    return _parse_hhmm(start), _parse_hhmm(end)


def _format_span(span: Span) -> str:
    return "{:02d}:{:02d}-{:02d}:{:02d}".format(*divmod(span[0], 60), *divmod(span[1], 60))


def _check_spans(spans: Sequence[Span], what: str) -> tuple[Span, ...]:
    spans = tuple((int(s), int(e)) for s, e in spans)
    previous_end = 0
    for start, end in spans:
        if not 0 <= start < end <= 1440:
            raise ValueError(f"{what}: span {_format_span((start, end))} must start before it ends, within a day")
        if start < previous_end:
            raise ValueError(f"{what}: spans must be in order and must not overlap")
        previous_end = end
    return spans


def _check_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")


STANDARD_DAY: tuple[Span, ...] = ((9 * 60, 12 * 60), (13 * 60 + 30, 18 * 60))
STANDARD_WEEK: tuple[tuple[Span, ...], ...] = (STANDARD_DAY,) * 5 + ((), ())


@dataclass(frozen=True, eq=False)
class Calendar:
    """Working hours per weekday in one time zone, public holidays and make-up working days.

    `week` has seven entries, Monday first, each a tuple of (start, end) minutes after local midnight.
    A holiday has no working hours whatever its weekday; a make-up working day (调休, usually a Saturday
    or Sunday) is worked with `makeup_hours`, by default the hours of the first weekday that has any.
    """

    timezone: str = "Asia/Shanghai"
    week: tuple[tuple[Span, ...], ...] = STANDARD_WEEK
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    makeup_hours: tuple[Span, ...] | None = None
    names: Mapping[dt.date, str] = field(default_factory=dict, repr=False)  # what each special day is
    _tz: ZoneInfo = field(init=False, repr=False)
    _makeup: tuple[Span, ...] = field(init=False, repr=False)
    _cache: dict[dt.date, tuple[tuple[dt.datetime, dt.datetime], ...]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", ZoneInfo(self.timezone))
        if len(self.week) != 7:
            raise ValueError("week needs seven days of hours, Monday first")
        week = tuple(_check_spans(day, WEEKDAYS[i]) for i, day in enumerate(self.week))
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"a date cannot be both a holiday and a working day: {min(both).isoformat()}")
        # Left as None, make-up days follow the week's first working day (also after the week is edited).
        if self.makeup_hours is not None:
            object.__setattr__(self, "makeup_hours", _check_spans(self.makeup_hours, "makeup_hours"))
        makeup = self.makeup_hours if self.makeup_hours is not None else next((day for day in week if day), ())
        object.__setattr__(self, "_makeup", makeup)

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    def hours_on(self, day: dt.date) -> tuple[Span, ...]:
        """The working spans of a local date, in minutes after midnight."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self._makeup
        return self.week[day.weekday()]

    def spans(self, day: dt.date) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
        """The working spans of a local date as UTC datetimes (cached per date)."""
        cached = self._cache.get(day)
        if cached is None:
            midnight = dt.datetime(day.year, day.month, day.day, tzinfo=self._tz)
            # Wall-clock arithmetic on the local midnight, then to UTC: right across a DST change too.
            cached = tuple(
                (
                    (midnight + dt.timedelta(minutes=start)).astimezone(UTC),
                    (midnight + dt.timedelta(minutes=end)).astimezone(UTC),
                )
                for start, end in self.hours_on(day)
            )
            self._cache[day] = cached
        return cached

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self._tz).date()

    # -- editable data -------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: Calendar | None = None) -> Calendar:
        """A calendar from plain data (JSON): every key optional, missing ones taken from `base`.

        {"timezone": "Asia/Shanghai",
         "hours": {"mon": ["09:00-12:00", "13:30-18:00"], ..., "sat": []},
         "makeup_hours": ["09:00-18:00"],
         "holidays": {"2025-10-01": "National Day", ...}  (or a list of dates),
         "workdays": {"2025-09-28": "National Day", ...}}
        """
        base = base or cls()
        unknown = set(data) - {"timezone", "hours", "makeup_hours", "holidays", "workdays", "source", "years"}
        if unknown:
            raise ValueError(f"unknown calendar keys: {', '.join(sorted(unknown))}")
        week = list(base.week)
        for key, spans in (data.get("hours") or {}).items():
            if key not in WEEKDAYS:
                raise ValueError(f"unknown weekday {key!r} (use {', '.join(WEEKDAYS)})")
            week[WEEKDAYS.index(key)] = tuple(_parse_span(item) for item in spans)
        names = dict(base.names)
        holidays = _dates(data.get("holidays"), names) if "holidays" in data else base.holidays
        workdays = _dates(data.get("workdays"), names) if "workdays" in data else base.workdays
        makeup: tuple[Span, ...] | None = base.makeup_hours
        if "makeup_hours" in data:
            raw = data["makeup_hours"]
            makeup = None if raw is None else tuple(_parse_span(item) for item in raw)
        return cls(
            timezone=data.get("timezone", base.timezone),
            week=tuple(week),
            holidays=holidays,
            workdays=workdays,
            makeup_hours=makeup,
            names=names,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data that `from_dict` reads back into an equal calendar."""
        return {
            "timezone": self.timezone,
            "hours": {WEEKDAYS[i]: [_format_span(s) for s in day] for i, day in enumerate(self.week)},
            "makeup_hours": None if self.makeup_hours is None else [_format_span(s) for s in self.makeup_hours],
            "holidays": {d.isoformat(): self.names.get(d, "") for d in sorted(self.holidays)},
            "workdays": {d.isoformat(): self.names.get(d, "") for d in sorted(self.workdays)},
        }


def _dates(raw: Mapping[str, str] | Iterable[str] | None, names: dict[dt.date, str]) -> frozenset[dt.date]:
    if raw is None:
        return frozenset()
    items = raw.items() if isinstance(raw, Mapping) else ((d, "") for d in raw)
    out = set()
    for text, name in items:
        day = dt.date.fromisoformat(text)
        if name:
            names[day] = name
        out.add(day)
    return frozenset(out)


def _to_delta(minutes: float | dt.timedelta) -> dt.timedelta:
    delta = minutes if isinstance(minutes, dt.timedelta) else dt.timedelta(minutes=minutes)
    if delta < dt.timedelta(0):
        raise ValueError("business time to add must not be negative")
    return delta


def add_business(cal: Calendar, start: dt.datetime, minutes: float | dt.timedelta) -> dt.datetime:
    """The UTC moment `minutes` of working time after `start`.

    A deadline that uses up a span exactly lands on that span's closing time (18:00, not 09:00 the
    next working day). Adding 0 gives the first working moment at or after `start`.
    """
    _check_aware(start, "start")
    remaining = _to_delta(minutes)
    start = start.astimezone(UTC)
    day = cal.local_date(start)
    empty = 0
    while True:
        spans = cal.spans(day)
        for span_start, span_end in spans:
            if span_end <= start:
                continue
            begin = span_start if span_start > start else start
            available = span_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        empty = 0 if spans else empty + 1
        if empty > MAX_EMPTY_DAYS:
            raise ValueError("the calendar has no working time for ten years after the start")
        day += ONE_DAY


def business_time_between(cal: Calendar, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Working time from `a` to `b` (negative when `b` is before `a`)."""
    _check_aware(a, "a")
    _check_aware(b, "b")
    if b < a:
        return -business_time_between(cal, b, a)
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = dt.timedelta(0)
    day, last = cal.local_date(a), cal.local_date(b)
    while day <= last:
        for span_start, span_end in cal.spans(day):
            low = span_start if span_start > a else a
            high = span_end if span_end < b else b
            if high > low:
                total += high - low
        day += ONE_DAY
    return total


def business_minutes_between(cal: Calendar, a: dt.datetime, b: dt.datetime) -> float:
    """Working minutes from `a` to `b` (fractional when the ends carry seconds)."""
    return business_time_between(cal, a, b) / dt.timedelta(minutes=1)


def is_business_time(cal: Calendar, moment: dt.datetime) -> bool:
    """Whether `moment` falls inside a working span (start included, closing time excluded)."""
    _check_aware(moment, "moment")
    moment = moment.astimezone(UTC)
    return any(start <= moment < end for start, end in cal.spans(cal.local_date(moment)))


def next_business_moment(cal: Calendar, moment: dt.datetime) -> dt.datetime:
    """`moment` itself when it is working time, else the next opening (UTC)."""
    return add_business(cal, moment, 0)


# -- the SLA clock ----------------------------------------------------------------------------------


class ClockEvent(StrEnum):
    PAUSE = "pause"  # waiting on the customer, or resolved
    RESUME = "resume"  # the customer answered, or the ticket was reopened


@dataclass(frozen=True)
class SlaClock:
    """Business time used against an SLA target, pausing while the ticket waits on the customer.

    Stored on a ticket as two columns: `elapsed` (business time of the finished running periods) and
    `running_since` (None while paused). Every transition returns a new clock.
    """

    elapsed: dt.timedelta = dt.timedelta(0)
    running_since: dt.datetime | None = None

    @classmethod
    def start(cls, at: dt.datetime) -> SlaClock:
        _check_aware(at, "at")
        return cls(running_since=at.astimezone(UTC))

    @property
    def paused(self) -> bool:
        return self.running_since is None

    def pause(self, cal: Calendar, at: dt.datetime) -> SlaClock:
        """Stop counting at `at`; pausing a paused clock changes nothing."""
        if self.running_since is None:
            return self
        self._check_not_before(at)
        return SlaClock(self.elapsed + business_time_between(cal, self.running_since, at), None)

    def resume(self, at: dt.datetime) -> SlaClock:
        """Count again from `at`; resuming a running clock changes nothing."""
        _check_aware(at, "at")
        if self.running_since is not None:
            return self
        return SlaClock(self.elapsed, at.astimezone(UTC))

    def elapsed_at(self, cal: Calendar, now: dt.datetime) -> dt.timedelta:
        """Business time used up to `now`."""
        if self.running_since is None:
            return self.elapsed
        self._check_not_before(now)
        return self.elapsed + business_time_between(cal, self.running_since, now)

    def deadline(self, cal: Calendar, target: float | dt.timedelta) -> dt.datetime | None:
        """When the target (minutes or a timedelta of business time) is reached, if the clock runs on.

        None while paused: no breach can happen then, and the sweep has nothing to wait for. When the
        target was already used up before the last resume, the deadline is the resume itself.
        """
        if self.running_since is None:
            return None
        left = _to_delta(target) - self.elapsed
        return add_business(cal, self.running_since, max(left, dt.timedelta(0)))

    def remaining_at(self, cal: Calendar, target: float | dt.timedelta, now: dt.datetime) -> dt.timedelta:
        """Business time left before the breach (negative once breached)."""
        return _to_delta(target) - self.elapsed_at(cal, now)

    def breached_at(self, cal: Calendar, target: float | dt.timedelta, now: dt.datetime) -> bool:
        return self.elapsed_at(cal, now) > _to_delta(target)

    def _check_not_before(self, at: dt.datetime) -> None:
        _check_aware(at, "at")
        if self.running_since is not None and at < self.running_since:
            raise ValueError("a clock event cannot be earlier than the clock's last start")


def replay(cal: Calendar, start: dt.datetime, events: Iterable[tuple[dt.datetime, ClockEvent | str]]) -> SlaClock:
    """The clock after the ticket's pause/resume history (events in time order)."""
    clock = SlaClock.start(start)
    last = start
    for at, kind in events:
        _check_aware(at, "event time")
        if at < last:
            raise ValueError("clock events must be in time order")
        last = at
        clock = clock.pause(cal, at) if ClockEvent(kind) is ClockEvent.PAUSE else clock.resume(at)
    return clock

"""SLA business time: working hours with a lunch break, weekends, Chinese holidays and make-up days, pauses."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.service.business_time import (
    Calendar,
    ClockEvent,
    SlaClock,
    add_business,
    business_minutes_between,
    business_time_between,
    is_business_time,
    next_business_moment,
    replay,
)
from guanxi.service.holidays_cn import china_calendar, load_cn_holidays

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
CAL = china_calendar()  # 09:00–12:00 + 13:30–18:00 Monday–Friday, 7.5 h a day, official holidays


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(SH)


def test_within_one_morning():
    assert local(add_business(CAL, at(2025, 3, 4, 9, 0), 90)) == at(2025, 3, 4, 10, 30)


def test_lunch_break_is_not_counted():
    # Tuesday 11:00 + 2 h: one hour before lunch, one after it starts at 13:30.
    assert local(add_business(CAL, at(2025, 3, 4, 11, 0), 120)) == at(2025, 3, 4, 14, 30)
    assert business_minutes_between(CAL, at(2025, 3, 4, 11, 0), at(2025, 3, 4, 14, 30)) == 120


def test_start_during_lunch_counts_from_reopening():
    assert local(add_business(CAL, at(2025, 3, 4, 12, 40), 30)) == at(2025, 3, 4, 14, 0)


def test_across_a_weekend():
    # Friday 17:00 + 2 h: one hour on Friday, then Monday 09:00–10:00.
    assert local(add_business(CAL, at(2025, 3, 7, 17, 0), 120)) == at(2025, 3, 10, 10, 0)
    assert business_minutes_between(CAL, at(2025, 3, 7, 17, 0), at(2025, 3, 10, 10, 0)) == 120
    # Saturday and Sunday hold no working time at all.
    assert business_minutes_between(CAL, at(2025, 3, 8, 0, 0), at(2025, 3, 10, 0, 0)) == 0


def test_deadline_landing_exactly_at_closing_time_stays_that_day():
    # 14:00 + 4 h = 18:00 the same day, not 09:00 the next working day.
    due = add_business(CAL, at(2025, 3, 4, 14, 0), 240)
    assert local(due) == at(2025, 3, 4, 18, 0)
    # And one more minute spills into the next morning.
    assert local(add_business(CAL, at(2025, 3, 4, 14, 0), 241)) == at(2025, 3, 5, 9, 1)
    # Closing time itself is no longer working time.
    assert not is_business_time(CAL, due)
    assert local(next_business_moment(CAL, due)) == at(2025, 3, 5, 9, 0)


def test_national_day_week_with_its_make_up_weekend_days():
    # 2025: Oct 1–8 off; Sunday Sep 28 and Saturday Oct 11 are worked (调休).
    assert at(2025, 9, 28).date() in CAL.workdays and at(2025, 10, 11).date() in CAL.workdays
    # Saturday Sep 27 17:00 is not working time: the clock starts on the make-up Sunday.
    assert local(add_business(CAL, at(2025, 9, 27, 17, 0), 60)) == at(2025, 9, 28, 10, 0)
    # Tuesday Sep 30 17:00 + 2 h: 1 h on Sep 30, the whole holiday skipped, 1 h on Thursday Oct 9.
    assert local(add_business(CAL, at(2025, 9, 30, 17, 0), 120)) == at(2025, 10, 9, 10, 0)
    # Friday Oct 10 17:00 + 2 h: the make-up Saturday Oct 11 is worked.
    assert local(add_business(CAL, at(2025, 10, 10, 17, 0), 120)) == at(2025, 10, 11, 10, 0)
    # The whole holiday week holds no working time; the two make-up days hold 7.5 h each.
    assert business_minutes_between(CAL, at(2025, 10, 1), at(2025, 10, 9)) == 0
    assert business_minutes_between(CAL, at(2025, 9, 27), at(2025, 9, 29)) == 450


def test_spring_festival_2026():
    # 2026: Feb 15–23 off; Saturday Feb 14 and Saturday Feb 28 are worked.
    assert local(add_business(CAL, at(2026, 2, 13, 17, 0), 120)) == at(2026, 2, 14, 10, 0)
    assert local(add_business(CAL, at(2026, 2, 14, 17, 0), 120)) == at(2026, 2, 24, 10, 0)
    assert business_minutes_between(CAL, at(2026, 2, 15), at(2026, 2, 24)) == 0


def test_utc_start_and_utc_result():
    start = dt.datetime(2025, 3, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    due = add_business(CAL, start, 60)
    assert due.tzinfo is UTC
    assert due == dt.datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
    # A UTC evening is already the next morning in Shanghai.
    assert add_business(CAL, dt.datetime(2025, 3, 4, 23, 30, tzinfo=UTC), 30) == dt.datetime(
        2025, 3, 5, 1, 30, tzinfo=UTC
    )


def test_zero_minutes_means_the_next_working_moment():
    assert local(add_business(CAL, at(2025, 3, 8, 10, 0), 0)) == at(2025, 3, 10, 9, 0)
    assert local(add_business(CAL, at(2025, 3, 4, 10, 0), 0)) == at(2025, 3, 4, 10, 0)


def test_between_is_antisymmetric_and_counts_seconds():
    a, b = at(2025, 3, 4, 9, 0, 30), at(2025, 3, 4, 9, 2)
    assert business_minutes_between(CAL, a, b) == 1.5
    assert business_minutes_between(CAL, b, a) == -1.5


def test_dst_zone_counts_real_time():
    # Europe/Berlin springs forward at 02:00 on 2025-03-30: a 24-hour desk works 23 hours that Sunday.
    cal = Calendar(timezone="Europe/Berlin", week=(((0, 1440),),) * 7)
    day = dt.datetime(2025, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert business_minutes_between(cal, day, day + dt.timedelta(days=1)) == 23 * 60


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business(CAL, dt.datetime(2025, 3, 4, 9, 0), 10)
    with pytest.raises(ValueError, match="negative"):
        add_business(CAL, at(2025, 3, 4, 9, 0), -1)
    with pytest.raises(ValueError, match="no working time"):
        add_business(Calendar(week=((),) * 7), at(2025, 3, 4), 1)
    with pytest.raises(ValueError, match="overlap"):
        Calendar.from_dict({"hours": {"mon": ["09:00-12:00", "11:00-13:00"]}})
    with pytest.raises(ValueError, match="weekday"):
        Calendar.from_dict({"hours": {"monday": ["09:00-12:00"]}})
    with pytest.raises(ValueError, match="both a holiday and a working day"):
        Calendar.from_dict({"holidays": ["2025-10-01"], "workdays": ["2025-10-01"]})


def test_calendar_is_editable_data():
    cal = Calendar.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "hours": {"mon": ["08:30-17:30"], "sat": ["10:00-12:00"]},
            "holidays": {"2025-03-04": "company outing"},
            "workdays": ["2025-03-09"],
        }
    )
    assert cal.names[dt.date(2025, 3, 4)] == "company outing"
    assert business_minutes_between(cal, at(2025, 3, 3), at(2025, 3, 4)) == 9 * 60  # Monday's own hours
    assert business_minutes_between(cal, at(2025, 3, 4), at(2025, 3, 5)) == 0  # the outing
    assert business_minutes_between(cal, at(2025, 3, 8), at(2025, 3, 9)) == 120  # Saturday mornings
    assert business_minutes_between(cal, at(2025, 3, 9), at(2025, 3, 10)) == 9 * 60  # make-up Sunday
    again = Calendar.from_dict(cal.to_dict())
    assert again.to_dict() == cal.to_dict()


def test_seed_file_covers_recent_years_and_sources_itself():
    data = load_cn_holidays()
    assert data["years"][0] <= 2024 and data["years"][1] >= 2026
    assert "chinesecalendar" in data["source"]
    assert data["holidays"]["2025-10-01"] == "National Day"
    assert data["workdays"]["2025-09-28"] == "National Day"


def test_sla_clock_pauses_while_waiting_on_the_customer():
    opened = at(2025, 3, 4, 9, 0)
    clock = SlaClock.start(opened)
    assert local(clock.deadline(CAL, 240)) == at(2025, 3, 4, 14, 30)
    # Waiting on the customer from 10:00 (1 h used) to the next morning 09:30.
    clock = clock.pause(CAL, at(2025, 3, 4, 10, 0))
    assert clock.paused and clock.deadline(CAL, 240) is None
    assert clock.elapsed_at(CAL, at(2025, 3, 4, 17, 0)) == dt.timedelta(hours=1)
    clock = clock.resume(at(2025, 3, 5, 9, 30))
    # Three hours left from 09:30: 2.5 h before lunch, 0.5 h after.
    assert local(clock.deadline(CAL, 240)) == at(2025, 3, 5, 14, 0)
    assert clock.remaining_at(CAL, 240, at(2025, 3, 5, 11, 30)) == dt.timedelta(hours=1)
    assert not clock.breached_at(CAL, 240, at(2025, 3, 5, 14, 0))
    assert clock.breached_at(CAL, 240, at(2025, 3, 5, 14, 1))


def test_sla_clock_replay_and_idempotent_events():
    events = [
        (at(2025, 3, 4, 10, 0), ClockEvent.PAUSE),
        (at(2025, 3, 4, 11, 0), "pause"),  # a second pause changes nothing
        (at(2025, 3, 5, 9, 30), "resume"),
        (at(2025, 3, 5, 9, 45), "resume"),
    ]
    clock = replay(CAL, at(2025, 3, 4, 9, 0), events)
    assert clock == SlaClock(dt.timedelta(hours=1), at(2025, 3, 5, 9, 30).astimezone(UTC))
    with pytest.raises(ValueError, match="time order"):
        replay(CAL, at(2025, 3, 4, 9, 0), list(reversed(events)))


def test_sla_clock_target_used_up_before_resume():
    clock = SlaClock(dt.timedelta(hours=5)).resume(at(2025, 3, 5, 9, 30))
    assert local(clock.deadline(CAL, 240)) == at(2025, 3, 5, 9, 30)
    assert clock.breached_at(CAL, 240, at(2025, 3, 5, 9, 30))


# -- properties --------------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 12, 1), timezones=st.just(UTC)
)
minutes = st.integers(min_value=0, max_value=60 * 24 * 20)


@settings(max_examples=300, deadline=None)
@given(start=moments, m=minutes)
def test_add_then_measure_gives_back_the_minutes(start, m):
    due = add_business(CAL, start, m)
    assert due >= start
    assert business_time_between(CAL, start, due) == dt.timedelta(minutes=m)


@settings(max_examples=300, deadline=None)
@given(start=moments, m=minutes, extra=st.integers(min_value=0, max_value=600))
def test_add_is_monotonic_in_minutes(start, m, extra):
    assert add_business(CAL, start, m) <= add_business(CAL, start, m + extra)


@settings(max_examples=200, deadline=None)
@given(a=moments, b=moments, c=moments)
def test_between_adds_up_over_a_middle_point(a, b, c):
    a, b, c = sorted((a, b, c))
    assert business_time_between(CAL, a, b) + business_time_between(CAL, b, c) == business_time_between(CAL, a, c)


@settings(max_examples=200, deadline=None)
@given(start=moments, m=st.integers(min_value=1, max_value=60 * 24 * 20))
def test_a_positive_deadline_is_inside_or_at_the_end_of_working_time(start, m):
    due = add_business(CAL, start, m)
    just_before = due - dt.timedelta(microseconds=1)
    assert is_business_time(CAL, just_before)


def test_round_the_clock_desk_and_minute_precision_spans():
    cal = Calendar.from_dict({"hours": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    assert local(add_business(cal, at(2025, 3, 8, 23, 0), 120)) == at(2025, 3, 9, 1, 0)
    assert cal.to_dict()["hours"]["sun"] == ["00:00-24:00"]


def test_engines_never_import_django():
    import subprocess
    import sys

    code = (
        "import sys, guanxi.service.routing, guanxi.service.business_time, guanxi.service.holidays_cn;"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

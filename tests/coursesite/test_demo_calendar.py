"""The demo's calendar, by hand: the weeks of a course, and dates moved by whole weeks on the
course's wall clock, across daylight-saving changes (Europe/Berlin has them, Istanbul not)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coursesite.course_file.load import course_file_load
from coursesite.course_file.spec import CoursePlan
from coursesite.demo import calendar_shift, date_shift, instant_shift, week_of, weeks_to_week
from tests.conftest import EXAMPLE_COURSE

BERLIN = ZoneInfo("Europe/Berlin")
ISTANBUL = ZoneInfo("Europe/Istanbul")
FIRST_DAY = date(2024, 10, 7)  # a Monday


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2024, 10, 7), 1),
        (date(2024, 10, 13), 1),  # the first Sunday
        (date(2024, 10, 14), 2),
        (date(2024, 12, 2), 9),
        (date(2024, 12, 8), 9),
        (date(2024, 10, 6), 0),  # the day before the course
    ],
)
def test_it_numbers_the_weeks_from_the_first_day(day, week):
    assert week_of(starts_on=FIRST_DAY, day=day) == week


def test_it_counts_the_first_week_from_its_monday_when_the_course_starts_midweek():
    wednesday = date(2024, 10, 9)
    assert week_of(starts_on=wednesday, day=date(2024, 10, 7)) == 1
    assert week_of(starts_on=wednesday, day=date(2024, 10, 14)) == 2


@pytest.mark.parametrize(
    ("as_of", "weeks"),
    [
        (date(2024, 12, 2), 0),  # the Monday of week 9 already
        (date(2024, 12, 8), 0),  # its Sunday
        (date(2024, 12, 9), 1),
        (date(2025, 3, 4), 13),
        (date(2026, 11, 28), 103),
        (date(2024, 10, 7), -8),  # back in time: the first day becomes week 9
    ],
)
def test_it_moves_the_course_so_that_the_as_of_date_falls_in_week_9(as_of, weeks):
    assert weeks_to_week(starts_on=FIRST_DAY, as_of=as_of) == weeks
    assert week_of(starts_on=date_shift(FIRST_DAY, weeks=weeks), day=as_of) == 9


def test_it_moves_a_date_by_whole_weeks_so_its_weekday_stays():
    assert date_shift(date(2024, 10, 9), weeks=65) == date(2026, 1, 7)  # Wednesdays both
    assert date_shift(date(2024, 10, 9), weeks=-2) == date(2024, 9, 25)


def test_it_keeps_a_due_time_in_a_zone_without_daylight_saving():
    due = datetime(2024, 11, 5, 23, 59, tzinfo=ISTANBUL)
    moved = instant_shift(due, weeks=13, zone=ISTANBUL)
    assert moved == datetime(2025, 2, 4, 20, 59, tzinfo=UTC)
    assert moved.tzinfo is UTC


def test_it_keeps_the_wall_clock_when_the_clocks_go_back_in_between():
    # 17:10 summer time (15:10 UTC), a week later 17:10 winter time (16:10 UTC).
    opens = datetime(2024, 10, 22, 17, 10, tzinfo=BERLIN)
    assert instant_shift(opens, weeks=1, zone=BERLIN) == datetime(2024, 10, 29, 16, 10, tzinfo=UTC)


def test_it_keeps_the_wall_clock_when_moving_back_across_the_spring_change():
    due = datetime(2025, 4, 1, 23, 59, tzinfo=BERLIN)  # summer time, 21:59 UTC
    assert instant_shift(due, weeks=-1, zone=BERLIN) == datetime(2025, 3, 25, 22, 59, tzinfo=UTC)


def test_it_reads_the_wall_clock_in_the_course_zone_whatever_zone_the_instant_has():
    in_utc = datetime(2024, 10, 22, 15, 10, tzinfo=UTC)  # 17:10 in Berlin
    assert instant_shift(in_utc, weeks=1, zone=BERLIN) == datetime(2024, 10, 29, 16, 10, tzinfo=UTC)


def test_it_moves_a_time_the_clocks_skip_to_the_hour_after():
    # 02:30 on 2025-03-30 does not exist in Berlin: the clocks jump from 02:00 to 03:00.
    night = datetime(2025, 3, 23, 2, 30, tzinfo=BERLIN)
    moved = instant_shift(night, weeks=1, zone=BERLIN)
    assert moved == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert moved.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"


def test_it_keeps_the_pass_through_an_hour_the_clocks_repeat():
    first = datetime(2024, 10, 20, 2, 30, tzinfo=BERLIN)  # summer time
    assert instant_shift(first, weeks=1, zone=BERLIN) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    second = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN)  # winter time, 01:30 UTC
    assert instant_shift(second, weeks=52, zone=BERLIN) == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)


def test_it_refuses_a_time_without_a_zone():
    with pytest.raises(ValueError, match="no time zone"):
        instant_shift(datetime(2024, 10, 22, 17, 10), weeks=1, zone=BERLIN)


class Read(Exception):
    """Stops a load once the course file is read: the plan is all the test needs."""


def demo_plan() -> CoursePlan:
    def stop(plan: CoursePlan) -> CoursePlan:
        raise Read(plan)

    with pytest.raises(Read) as read:
        course_file_load(path=EXAMPLE_COURSE, adjust=stop)
    return read.value.args[0]


def later(moment: datetime | None, weeks: int) -> datetime | None:
    """Istanbul keeps one offset all year, so there a wall-clock week is 7 x 24 hours."""
    return None if moment is None else moment + timedelta(weeks=weeks)


def test_it_moves_every_date_of_the_course_file_and_nothing_else():
    plan = demo_plan()
    unchanged = copy.deepcopy(plan)
    moved = calendar_shift(plan, weeks=13)
    assert plan == unchanged, "the plan it was given changed"
    assert (moved.facts.starts_on, moved.facts.ends_on) == (date(2025, 1, 6), date(2025, 4, 27))
    assert moved.facts.groups_locked_at == datetime(2025, 2, 9, 20, 59, tzinfo=UTC)
    assert [(item.opens_at, item.due_at) for item in moved.items()] == [
        (later(item.opens_at, 13), later(item.due_at, 13)) for item in plan.items()
    ]
    a1 = moved.items()[2]
    assert (a1.slug, a1.due_at) == ("a1", datetime(2025, 2, 4, 20, 59, tzinfo=UTC))
    assert [m.date for m in moved.meetings] == [date_shift(m.date, weeks=13) for m in plan.meetings]
    assert [(m.starts_at, m.ends_at) for m in moved.meetings] == [
        (m.starts_at, m.ends_at) for m in plan.meetings
    ]
    assert [e.date for e in moved.events] == [
        e.date and date_shift(e.date, weeks=13) for e in plan.events
    ]
    assert (
        replace(
            moved,
            facts=plan.facts,
            categories=plan.categories,
            meetings=plan.meetings,
            events=plan.events,
        )
        == plan
    )

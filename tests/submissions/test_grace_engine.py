"""``grace_compute``: lateness, grace days and penalties, computed from scratch.

Every expected value below is written out by hand from the rules in ``submissions.grace``.
Times carry explicit UTC offsets so that each case says exactly which instant it means; the
course is in America/New_York unless a case says otherwise (October 2024 there is UTC-4).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from coursesite.models.grades import AfterPool, PartialDay
from submissions import grace
from submissions.grace import Due, Extension, GraceLedger, HandIn, Policy, grace_compute

NEW_YORK = "America/New_York"
ISTANBUL = "Europe/Istanbul"
ITEMS = (
    ("hw1", "2024-10-09T23:59:00-04:00", True),
    ("hw2", "2024-10-16T23:59:00-04:00", True),
    ("quiz1", "2024-10-10T12:00:00-04:00", False),
)
FALL_BACK = (("hw1", "2024-11-02T23:59:00-04:00", True),)
SPRING_FORWARD = (("hw1", "2024-03-09T23:59:00-05:00", True),)

# (days_late, grace_days_used, penalty_percent, pool_left after the item)
Row = tuple[int, int, str, int]


@dataclass(frozen=True)
class Case:
    handins: tuple[tuple[str, str, str], ...]
    expected: dict[tuple[str, str], Row]
    pools: dict[str, int]
    items: tuple[tuple[str, str | None, bool], ...] = ITEMS
    extensions: tuple[tuple[str, str, str], ...] = ()
    students: tuple[str, ...] = ("carol",)
    zone: str = NEW_YORK
    policy: dict[str, Any] = field(default_factory=dict)


def case(name: str, *handins: tuple[str, str, str], **kwargs: Any) -> Any:
    return pytest.param(Case(handins=handins, **kwargs), id=name)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def run(case: Case) -> GraceLedger:
    return grace_compute(
        policy=Policy(time_zone=case.zone, **case.policy),
        items=[Due(item, None if due is None else at(due), uses) for item, due, uses in case.items],
        students=case.students,
        extensions=[Extension(student, item, at(due)) for student, item, due in case.extensions],
        handins=[HandIn(student, item, at(when)) for student, item, when in case.handins],
    )


PERCENT_10 = {"after_pool": "percent_per_day", "penalty_percent_per_day": Decimal(10)}

CASES = [
    case(
        "on-time-to-the-second",
        ("carol", "hw1", "2024-10-09T23:59:00-04:00"),
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "one-second-late-is-one-day",
        ("carol", "hw1", "2024-10-09T23:59:01-04:00"),
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "exactly-24-hours-late-is-one-day",
        ("carol", "hw1", "2024-10-10T23:59:00-04:00"),
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "24-hours-and-1-second-late-is-two-days",
        ("carol", "hw1", "2024-10-10T23:59:01-04:00"),
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "a-day-early",
        ("carol", "hw1", "2024-10-08T23:59:00-04:00"),
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "slack-to-its-last-second",
        ("carol", "hw1", "2024-10-10T00:14:00-04:00"),
        policy={"slack": timedelta(minutes=15)},
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "slack-one-second-past",
        ("carol", "hw1", "2024-10-10T00:14:01-04:00"),
        policy={"slack": timedelta(minutes=15)},
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "slack-does-not-stretch-the-second-day",
        ("carol", "hw1", "2024-10-11T00:00:00-04:00"),
        policy={"slack": timedelta(minutes=15)},
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "extension-makes-it-on-time",
        ("carol", "hw1", "2024-10-11T10:00:00-04:00"),
        extensions=(("carol", "hw1", "2024-10-12T23:59:00-04:00"),),
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "extension-revoked",
        ("carol", "hw1", "2024-10-11T10:00:00-04:00"),
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "late-against-the-extension",
        ("carol", "hw1", "2024-10-13T01:00:00-04:00"),
        extensions=(("carol", "hw1", "2024-10-12T23:59:00-04:00"),),
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "another-students-extension-does-not-apply",
        ("carol", "hw1", "2024-10-11T10:00:00-04:00"),
        students=("carol", "erin"),
        extensions=(("erin", "hw1", "2024-10-12T23:59:00-04:00"),),
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5, "erin": 7},
    ),
    case(
        "due-as-written",
        ("carol", "hw1", "2024-10-10T12:00:00-04:00"),
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "due-moved-later-after-the-hand-in",
        ("carol", "hw1", "2024-10-10T12:00:00-04:00"),
        items=(("hw1", "2024-10-11T23:59:00-04:00", True),),
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "due-moved-earlier-after-the-hand-in",
        ("carol", "hw1", "2024-10-10T12:00:00-04:00"),
        items=(("hw1", "2024-10-08T23:59:00-04:00", True),),
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "active-submission-is-the-early-one",
        ("carol", "hw1", "2024-10-09T20:00:00-04:00"),
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "active-submission-is-the-late-one",
        ("carol", "hw1", "2024-10-11T08:00:00-04:00"),
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "pool-runs-out-zero",
        ("carol", "hw1", "2024-10-15T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T23:59:00-04:00"),
        expected={("carol", "hw1"): (6, 6, "0", 1), ("carol", "hw2"): (2, 0, "100", 1)},
        pools={"carol": 1},
    ),
    case(
        "pool-runs-out-percent-per-day",
        ("carol", "hw1", "2024-10-15T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T23:59:00-04:00"),
        policy=PERCENT_10,
        expected={("carol", "hw1"): (6, 6, "0", 1), ("carol", "hw2"): (2, 1, "10", 0)},
        pools={"carol": 0},
    ),
    case(
        "pool-runs-out-no-credit-after-1",
        ("carol", "hw1", "2024-10-15T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T23:59:00-04:00"),
        policy={"after_pool": "no_credit_after", "late_days_after_pool": 1},
        expected={("carol", "hw1"): (6, 6, "0", 1), ("carol", "hw2"): (2, 1, "0", 0)},
        pools={"carol": 0},
    ),
    case(
        "pool-runs-out-no-credit-after-0",
        ("carol", "hw1", "2024-10-15T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T23:59:00-04:00"),
        policy={"after_pool": "no_credit_after", "late_days_after_pool": 0},
        expected={("carol", "hw1"): (6, 6, "0", 1), ("carol", "hw2"): (2, 0, "100", 1)},
        pools={"carol": 1},
    ),
    case(
        "empty-pool-percent-per-day",
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        policy={"pool_days": 0, "after_pool": "percent_per_day", "penalty_percent_per_day": 25},
        expected={("carol", "hw1"): (3, 0, "75", 0)},
        pools={"carol": 0},
    ),
    case(
        "percent-per-day-caps-at-100",
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        policy={"pool_days": 0, "after_pool": "percent_per_day", "penalty_percent_per_day": 40},
        expected={("carol", "hw1"): (3, 0, "100", 0)},
        pools={"carol": 0},
    ),
    case(
        "percent-per-day-fractional-rate",
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        policy={
            "pool_days": 0,
            "after_pool": "percent_per_day",
            "penalty_percent_per_day": Decimal("12.5"),
        },
        expected={("carol", "hw1"): (3, 0, "37.5", 0)},
        pools={"carol": 0},
    ),
    case(
        "percent-reaching-100-keeps-the-pool",
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        policy={"pool_days": 1, "after_pool": "percent_per_day", "penalty_percent_per_day": 50},
        expected={("carol", "hw1"): (3, 0, "100", 1)},
        pools={"carol": 1},
    ),
    case(
        "no-days-spent-on-zero-credit-pool-kept-for-later",
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T23:59:00-04:00"),
        policy={"pool_days": 2},
        expected={("carol", "hw1"): (3, 0, "100", 2), ("carol", "hw2"): (2, 2, "0", 0)},
        pools={"carol": 0},
    ),
    case(
        "per-item-cap-with-percent-per-day",
        ("carol", "hw1", "2024-10-13T23:59:00-04:00"),
        policy={"per_item_cap": 2, **PERCENT_10},
        expected={("carol", "hw1"): (4, 2, "20", 5)},
        pools={"carol": 5},
    ),
    case(
        "per-item-cap-covers-all",
        ("carol", "hw1", "2024-10-11T23:59:00-04:00"),
        policy={"per_item_cap": 2},
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "per-item-cap-leaves-zero-credit",
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        policy={"per_item_cap": 2},
        expected={("carol", "hw1"): (3, 0, "100", 7)},
        pools={"carol": 7},
    ),
    case(
        "item-off-the-pool-zero",
        ("carol", "quiz1", "2024-10-10T12:00:01-04:00"),
        expected={("carol", "quiz1"): (1, 0, "100", 7)},
        pools={"carol": 7},
    ),
    case(
        "item-off-the-pool-percent-per-day",
        ("carol", "quiz1", "2024-10-12T11:00:00-04:00"),
        policy=PERCENT_10,
        expected={("carol", "quiz1"): (2, 0, "20", 7)},
        pools={"carol": 7},
    ),
    case(
        "item-off-the-pool-no-credit-after-2-at-2",
        ("carol", "quiz1", "2024-10-12T12:00:00-04:00"),
        policy={"after_pool": "no_credit_after", "late_days_after_pool": 2},
        expected={("carol", "quiz1"): (2, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "item-off-the-pool-no-credit-after-2-at-3",
        ("carol", "quiz1", "2024-10-12T12:00:01-04:00"),
        policy={"after_pool": "no_credit_after", "late_days_after_pool": 2},
        expected={("carol", "quiz1"): (3, 0, "100", 7)},
        pools={"carol": 7},
    ),
    case(
        "no-credit-after-2-with-2-uncovered",
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        policy={"pool_days": 1, "after_pool": "no_credit_after", "late_days_after_pool": 2},
        expected={("carol", "hw1"): (3, 1, "0", 0)},
        pools={"carol": 0},
    ),
    case(
        "no-credit-after-2-with-3-uncovered",
        ("carol", "hw1", "2024-10-13T23:59:00-04:00"),
        policy={"pool_days": 1, "after_pool": "no_credit_after", "late_days_after_pool": 2},
        expected={("carol", "hw1"): (4, 0, "100", 1)},
        pools={"carol": 1},
    ),
    case(
        "drawn-in-due-order-not-input-order",
        ("carol", "hw2", "2024-10-17T23:59:00-04:00"),
        ("carol", "hw1", "2024-10-12T23:59:00-04:00"),
        policy={"pool_days": 3},
        expected={("carol", "hw1"): (3, 3, "0", 0), ("carol", "hw2"): (1, 0, "100", 0)},
        pools={"carol": 0},
    ),
    case(
        "drawn-in-order-of-extended-due-dates",
        ("carol", "hw1", "2024-10-21T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T23:59:00-04:00"),
        extensions=(("carol", "hw1", "2024-10-20T23:59:00-04:00"),),
        policy={"pool_days": 2},
        expected={("carol", "hw2"): (2, 2, "0", 0), ("carol", "hw1"): (1, 0, "100", 0)},
        pools={"carol": 0},
    ),
    case(
        "same-due-date-drawn-in-item-key-order",
        ("carol", "b-lab", "2024-10-10T12:00:00-04:00"),
        ("carol", "a-lab", "2024-10-10T12:00:00-04:00"),
        items=(
            ("b-lab", "2024-10-09T23:59:00-04:00", True),
            ("a-lab", "2024-10-09T23:59:00-04:00", True),
        ),
        policy={"pool_days": 1},
        expected={("carol", "a-lab"): (1, 1, "0", 0), ("carol", "b-lab"): (1, 0, "100", 0)},
        pools={"carol": 0},
    ),
    case(
        "no-due-date-is-never-late",
        ("carol", "reading", "2025-01-01T00:00:00-05:00"),
        items=(("reading", None, True),),
        expected={("carol", "reading"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "fall-back-one-calendar-day-is-25-real-hours",
        ("carol", "hw1", "2024-11-03T23:59:00-05:00"),
        items=FALL_BACK,
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "fall-back-24-real-hours-is-23-wall-hours",
        ("carol", "hw1", "2024-11-03T22:59:00-05:00"),
        items=FALL_BACK,
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "fall-back-one-calendar-day-and-1-second",
        ("carol", "hw1", "2024-11-03T23:59:01-05:00"),
        items=FALL_BACK,
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "fall-back-24-real-hours-ignored-is-on-time",
        ("carol", "hw1", "2024-11-03T22:59:00-05:00"),
        items=FALL_BACK,
        policy={"partial_day": "ignored"},
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "fall-back-25-real-hours-ignored-is-one-day",
        ("carol", "hw1", "2024-11-03T23:59:00-05:00"),
        items=FALL_BACK,
        policy={"partial_day": "ignored"},
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "repeated-hour-late-in-real-time-earlier-on-the-wall",
        ("carol", "hw1", "2024-11-03T01:10:00-05:00"),
        items=(("hw1", "2024-11-03T01:50:00-04:00", True),),
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "repeated-hour-early-in-real-time-later-on-the-wall",
        ("carol", "hw1", "2024-11-03T01:50:00-04:00"),
        items=(("hw1", "2024-11-03T01:10:00-05:00", True),),
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "spring-forward-one-calendar-day-is-23-real-hours",
        ("carol", "hw1", "2024-03-10T23:59:00-04:00"),
        items=SPRING_FORWARD,
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "spring-forward-24-real-hours-is-25-wall-hours",
        ("carol", "hw1", "2024-03-11T00:59:00-04:00"),
        items=SPRING_FORWARD,
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "spring-forward-24-real-hours-ignored",
        ("carol", "hw1", "2024-03-11T00:59:00-04:00"),
        items=SPRING_FORWARD,
        policy={"partial_day": "ignored"},
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "istanbul-exactly-24-hours-handed-in-as-utc",
        ("carol", "hw1", "2024-11-03T20:59:00+00:00"),
        items=(("hw1", "2024-11-02T23:59:00+03:00", True),),
        zone=ISTANBUL,
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "istanbul-has-no-fall-back-so-25-hours-is-two-days",
        ("carol", "hw1", "2024-11-03T23:59:00-05:00"),
        items=FALL_BACK,
        zone=ISTANBUL,
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5},
    ),
    case(
        "ignored-a-second-under-a-day-is-on-time",
        ("carol", "hw1", "2024-10-10T23:58:59-04:00"),
        policy={"partial_day": "ignored"},
        expected={("carol", "hw1"): (0, 0, "0", 7)},
        pools={"carol": 7},
    ),
    case(
        "ignored-exactly-a-day",
        ("carol", "hw1", "2024-10-10T23:59:00-04:00"),
        policy={"partial_day": "ignored"},
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "ignored-47-hours-is-one-day",
        ("carol", "hw1", "2024-10-11T22:59:00-04:00"),
        policy={"partial_day": "ignored"},
        expected={("carol", "hw1"): (1, 1, "0", 6)},
        pools={"carol": 6},
    ),
    case(
        "student-without-hand-ins-keeps-the-full-pool",
        ("carol", "hw1", "2024-10-11T23:59:00-04:00"),
        students=("carol", "erin"),
        expected={("carol", "hw1"): (2, 2, "0", 5)},
        pools={"carol": 5, "erin": 7},
    ),
    case(
        "group-deliverable-three-members-different-pools",
        ("carol", "hw1", "2024-10-09T20:00:00-04:00"),
        ("erin", "hw1", "2024-10-15T23:59:00-04:00"),
        ("frank", "hw1", "2024-10-16T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T12:00:00-04:00"),
        ("erin", "hw2", "2024-10-18T12:00:00-04:00"),
        ("frank", "hw2", "2024-10-18T12:00:00-04:00"),
        students=("carol", "erin", "frank"),
        policy=PERCENT_10,
        expected={
            ("carol", "hw1"): (0, 0, "0", 7),
            ("erin", "hw1"): (6, 6, "0", 1),
            ("frank", "hw1"): (7, 7, "0", 0),
            ("carol", "hw2"): (2, 2, "0", 5),
            ("erin", "hw2"): (2, 1, "10", 0),
            ("frank", "hw2"): (2, 0, "20", 0),
        },
        pools={"carol": 5, "erin": 0, "frank": 0},
    ),
    case(
        "group-extension-expanded-to-each-member",
        ("carol", "hw1", "2024-10-09T20:00:00-04:00"),
        ("erin", "hw1", "2024-10-15T23:59:00-04:00"),
        ("frank", "hw1", "2024-10-16T23:59:00-04:00"),
        ("carol", "hw2", "2024-10-18T12:00:00-04:00"),
        ("erin", "hw2", "2024-10-18T12:00:00-04:00"),
        ("frank", "hw2", "2024-10-18T12:00:00-04:00"),
        students=("carol", "erin", "frank"),
        extensions=(
            ("carol", "hw2", "2024-10-17T23:59:00-04:00"),
            ("erin", "hw2", "2024-10-17T23:59:00-04:00"),
            ("frank", "hw2", "2024-10-17T23:59:00-04:00"),
        ),
        policy=PERCENT_10,
        expected={
            ("carol", "hw1"): (0, 0, "0", 7),
            ("erin", "hw1"): (6, 6, "0", 1),
            ("frank", "hw1"): (7, 7, "0", 0),
            ("carol", "hw2"): (1, 1, "0", 6),
            ("erin", "hw2"): (1, 1, "0", 0),
            ("frank", "hw2"): (1, 0, "10", 0),
        },
        pools={"carol": 6, "erin": 0, "frank": 0},
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_it_computes_days_late_grace_days_and_penalty(case: Case) -> None:
    ledger = run(case)
    got = {
        key: (row.days_late, row.grace_days_used, row.penalty_percent, row.pool_left)
        for key, row in ledger.lateness.items()
    }
    expected = {
        key: (days, used, Decimal(penalty), left)
        for key, (days, used, penalty, left) in case.expected.items()
    }
    assert (got, ledger.pool_left) == (expected, case.pools)


@pytest.mark.parametrize(
    ("items", "submitted", "policy", "late_by"),
    [
        pytest.param(FALL_BACK, "2024-11-03T23:59:00-05:00", {}, timedelta(days=1), id="25h-real"),
        pytest.param(
            FALL_BACK, "2024-11-03T22:59:00-05:00", {}, timedelta(hours=23), id="24h-real"
        ),
        pytest.param(
            SPRING_FORWARD, "2024-03-10T23:59:00-04:00", {}, timedelta(days=1), id="23h-real"
        ),
        pytest.param(
            (("hw1", "2024-11-03T01:50:00-04:00", True),),
            "2024-11-03T01:10:00-05:00",
            {},
            timedelta(minutes=20),
            id="repeated-hour-uses-real-delay",
        ),
        pytest.param(
            ITEMS,
            "2024-10-10T00:10:00-04:00",
            {"slack": timedelta(minutes=15)},
            timedelta(0),
            id="inside-slack-is-zero",
        ),
        pytest.param(
            ITEMS,
            "2024-10-10T00:20:00-04:00",
            {"slack": timedelta(minutes=15)},
            timedelta(minutes=21),
            id="past-slack-counts-from-due",
        ),
        pytest.param(
            ITEMS,
            "2024-10-10T23:58:59-04:00",
            {"partial_day": "ignored"},
            timedelta(hours=23, minutes=59, seconds=59),
            id="ignored-keeps-the-measured-delay",
        ),
    ],
)
def test_it_measures_late_by_on_the_course_wall_clock(
    items: tuple[tuple[str, str, bool], ...],
    submitted: str,
    policy: dict[str, Any],
    late_by: timedelta,
) -> None:
    case = Case(
        handins=(("carol", "hw1", submitted),), expected={}, pools={}, items=items, policy=policy
    )
    assert run(case).lateness["carol", "hw1"].late_by == late_by


def test_it_reports_the_effective_due_date_and_the_hand_in_time() -> None:
    case = Case(
        handins=(("carol", "hw1", "2024-10-13T01:00:00-04:00"),),
        extensions=(("carol", "hw1", "2024-10-12T23:59:00-04:00"),),
        expected={},
        pools={},
    )
    row = run(case).lateness["carol", "hw1"]
    assert (row.student, row.item, row.due_at, row.submitted_at) == (
        "carol",
        "hw1",
        at("2024-10-12T23:59:00-04:00"),
        at("2024-10-13T01:00:00-04:00"),
    )


NAIVE = "2024-10-10T12:00:00"
AWARE = "2024-10-10T12:00:00-04:00"


@pytest.mark.parametrize(
    ("items", "extensions", "handins", "message"),
    [
        pytest.param(ITEMS, (), (("carol", "hw9", AWARE),), "item 'hw9'", id="unknown-item"),
        pytest.param(ITEMS, (), (("dave", "hw1", AWARE),), "student 'dave'", id="unknown-student"),
        pytest.param(
            ITEMS, (("dave", "hw1", AWARE),), (), "student 'dave'", id="extension-unknown-student"
        ),
        pytest.param(
            ITEMS, (("carol", "hw9", AWARE),), (), "item 'hw9'", id="extension-unknown-item"
        ),
        pytest.param(ITEMS, (), (("carol", "hw1", NAIVE),), "naive", id="naive-hand-in"),
        pytest.param(ITEMS, (("carol", "hw1", NAIVE),), (), "naive", id="naive-extension"),
        pytest.param((("hw1", NAIVE, True),), (), (), "naive", id="naive-due-date"),
        pytest.param(
            ITEMS,
            (),
            (("carol", "hw1", AWARE), ("carol", "hw1", AWARE)),
            "active submission",
            id="two-hand-ins-for-one-item",
        ),
        pytest.param(
            ITEMS,
            (("carol", "hw1", AWARE), ("carol", "hw1", AWARE)),
            (),
            "twice",
            id="two-extensions-for-one-item",
        ),
        pytest.param(
            (("hw1", AWARE, True), ("hw1", AWARE, False)), (), (), "twice", id="item-listed-twice"
        ),
    ],
)
def test_it_refuses_inputs_it_cannot_place(
    items: tuple[tuple[str, str, bool], ...],
    extensions: tuple[tuple[str, str, str], ...],
    handins: tuple[tuple[str, str, str], ...],
    message: str,
) -> None:
    case = Case(handins=handins, expected={}, pools={}, items=items, extensions=extensions)
    with pytest.raises(ValueError, match=message):
        run(case)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        pytest.param({"time_zone": "Mars/Olympus"}, "time zone", id="unknown-zone"),
        pytest.param({"partial_day": "rounded"}, "partial_day", id="unknown-partial-day"),
        pytest.param({"after_pool": "halve"}, "after_pool", id="unknown-after-pool"),
        pytest.param({"after_pool": "percent_per_day"}, "penalty_percent", id="percent-no-rate"),
        pytest.param(
            {"after_pool": "percent_per_day", "penalty_percent_per_day": Decimal(101)},
            "penalty_percent",
            id="percent-over-100",
        ),
        pytest.param({"after_pool": "no_credit_after"}, "late_days_after", id="no-credit-no-n"),
        pytest.param({"pool_days": -1}, "negative", id="negative-pool"),
        pytest.param({"slack": timedelta(minutes=-1)}, "negative", id="negative-slack"),
    ],
)
def test_it_refuses_a_policy_it_cannot_apply(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Policy(**{"time_zone": NEW_YORK, **policy})


def test_it_uses_the_values_of_the_course_policy_choices() -> None:
    assert (
        PartialDay.COUNTS.value,
        PartialDay.IGNORED.value,
    ) == (grace.PARTIAL_DAY_COUNTS, grace.PARTIAL_DAY_IGNORED)
    assert set(AfterPool.values) == {
        grace.AFTER_POOL_ZERO,
        grace.AFTER_POOL_PERCENT_PER_DAY,
        grace.AFTER_POOL_NO_CREDIT_AFTER,
    }
    assert set(PartialDay.values) == {grace.PARTIAL_DAY_COUNTS, grace.PARTIAL_DAY_IGNORED}


def random_course(seed: int) -> Case:
    rng = random.Random(seed)
    students = tuple(f"student{n:02}" for n in range(30))
    items = tuple((f"hw{n}", f"2024-10-{10 + n:02}T23:59:00-04:00", n % 3 != 0) for n in range(6))
    handins = tuple(
        (
            student,
            item,
            f"2024-10-{10 + n + rng.randint(-1, 4):02}T{rng.randint(0, 23):02}:00:00-04:00",
        )
        for student in students
        for n, (item, _, _) in enumerate(items)
        if rng.random() < 0.9
    )
    extensions = tuple(
        (student, item, f"2024-10-{12 + n:02}T23:59:00-04:00")
        for student in students
        for n, (item, _, _) in enumerate(items)
        if rng.random() < 0.1
    )
    return Case(
        handins=handins,
        expected={},
        pools={},
        items=items,
        extensions=extensions,
        students=students,
        policy={"pool_days": 5, "per_item_cap": 3, **PERCENT_10},
    )


def shuffled(case: Case, rng: random.Random) -> Case:
    def mix(rows: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(rng.sample(rows, len(rows)))

    return replace(
        case,
        handins=mix(case.handins),
        items=mix(case.items),
        extensions=mix(case.extensions),
        students=mix(case.students),
    )


def test_it_gives_the_same_ledger_in_the_same_order_whatever_the_input_order() -> None:
    course = random_course(seed=541)
    baseline = run(course)
    rng = random.Random(7)
    for _ in range(5):
        ledger = run(shuffled(course, rng))
        assert ledger == baseline
        assert (list(ledger.lateness), list(ledger.pool_left)) == (
            list(baseline.lateness),
            list(baseline.pool_left),
        )

"""The fair assignment of presenters: every rule holds for many rosters and seeds, checked both by
``assignment_problems`` and by the independent check below; the same input gives the same
assignment; an impossible input is refused with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import pytest

from presentations.assignment import (
    AssignmentError,
    Pin,
    Slot,
    assignment_compute,
    assignment_problems,
)
from tests.conftest import REPO

ROLES = ("overview", "strengths", "weaknesses")
Groups = dict[tuple[str, str], list[str]]


def roster(size: int) -> list[str]:
    return [f"student{number:02d}" for number in range(1, size + 1)]


def papers(count: int = 10, first_week: int = 5, roles: tuple[str, ...] = ROLES) -> list[Slot[str]]:
    """One paper a week, as in the demo course."""
    return [
        Slot(f"paper-w{week:02d}", week, roles) for week in range(first_week, first_week + count)
    ]


def broken_rules(
    students: Sequence[str],
    slots: Sequence[Slot[str]],
    blocked: Sequence[tuple[str, int]],
    pins: Sequence[Pin[str, str]],
    per_role: int,
    groups: Groups,
) -> list[str]:
    """The rules of the assignment, checked here without the module's own check."""
    broken = []
    places = [(slot.key, role) for slot in slots for role in slot.roles]
    if sorted(groups) != sorted(places):
        broken.append("the groups are not exactly the presenting roles")
    sizes = [len(groups.get(place, [])) for place in places]
    if min(sizes) < per_role or max(sizes) - min(sizes) > 1:
        broken.append(f"group sizes {sorted(set(sizes))}")
    if sum(sizes) != max(len(places) * per_role, len(students)):
        broken.append(f"{sum(sizes)} places")
    counts = Counter(name for group in groups.values() for name in group)
    if set(counts) - set(students):
        broken.append(f"strangers {set(counts) - set(students)}")
    every = [counts[name] for name in students]
    if max(every) - min(every) > 1:
        broken.append(f"counts {sorted(set(every))}")
    weeks_off = {(name, week) for name, week in blocked}
    for name in students:
        mine = [
            (slot.key, role, slot.week)
            for slot in slots
            for role in slot.roles
            if name in groups.get((slot.key, role), [])
        ]
        if len({key for key, _, _ in mine}) != len(mine):
            broken.append(f"{name} holds two roles of a slot")
        for (_, role, _), (key, next_role, _) in pairwise(mine):
            if role == next_role:
                broken.append(f"{name} holds {role} twice in a row (up to {key})")
        broken += [
            f"{name} presents in blocked week {w}" for _, _, w in mine if (name, w) in weeks_off
        ]
    for pin in pins:
        if pin.student not in groups.get((pin.slot, pin.role), []):
            broken.append(f"{pin} not kept")
    return broken


def assign_and_check(
    students: list[str],
    slots: list[Slot[str]],
    *,
    blocked: Sequence[tuple[str, int]] = (),
    pins: Sequence[Pin[str, str]] = (),
    per_role: int = 1,
    seed: int = 0,
) -> Groups:
    groups = assignment_compute(
        students=students,
        slots=slots,
        blocked=blocked,
        pins=pins,
        presenters_per_role=per_role,
        seed=seed,
    )
    assert broken_rules(students, slots, blocked, pins, per_role, groups) == []
    problems = assignment_problems(
        students=students,
        slots=slots,
        blocked=blocked,
        assignment=groups,
        presenters_per_role=per_role,
        pins=pins,
    )
    assert problems == []
    return groups


@pytest.mark.parametrize("seed", range(20))
def test_it_keeps_every_rule_for_the_demo_roster(seed: int) -> None:
    groups = assign_and_check(roster(12), papers(), seed=seed)
    counts = Counter(name for group in groups.values() for name in group)
    # 30 roles for 12 students: six present three times and six twice.
    assert sorted(Counter(counts.values()).items()) == [(2, 6), (3, 6)]


BLOCKED = [("student01", 5), ("student01", 6), ("student02", 9), ("student03", 14)]
PINS = [
    Pin("student04", "paper-w05", "overview"),
    Pin("student04", "paper-w08", "overview"),
    Pin("student05", "paper-w05", "strengths"),
]


# Five students cannot fill three roles of two in a slot (refused below).
ROSTERS = [(5, 1), (13, 1), (13, 2), (30, 1), (30, 2), (61, 1), (61, 2)]


@pytest.mark.parametrize(("size", "per_role"), ROSTERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_keeps_every_rule_for_other_rosters_with_blocked_weeks_and_pins(
    size: int, per_role: int, seed: int
) -> None:
    # Two pins to the overview need a third presentation between them, more than a student
    # of the larger rosters gives.
    pins = PINS if size <= 13 else PINS[::2]
    assign_and_check(
        roster(size), papers(), blocked=BLOCKED, pins=pins, per_role=per_role, seed=seed
    )


def test_it_lets_everybody_present_once_when_there_are_more_students_than_roles() -> None:
    groups = assign_and_check(roster(61), papers(), per_role=2)
    assert sorted(Counter(len(group) for group in groups.values()).items()) == [(2, 29), (3, 1)]
    assert Counter(name for group in groups.values() for name in group) == dict.fromkeys(
        roster(61), 1
    )


def test_it_finds_the_few_assignments_of_a_small_class_with_two_roles() -> None:
    # Five students, two roles of two in each of ten slots: each student presents eight times
    # and must alternate roles, so few assignments exist.
    assign_and_check(roster(5), papers(roles=("overview", "strengths")), per_role=2)


def test_it_gives_the_same_assignment_for_the_same_input() -> None:
    first = assign_and_check(roster(13), papers(), blocked=BLOCKED, pins=PINS, seed=5)
    again = assign_and_check(roster(13), papers(), blocked=BLOCKED, pins=PINS, seed=5)
    assert again == first


def test_it_gives_other_assignments_for_other_seeds() -> None:
    assignments = [assign_and_check(roster(12), papers(), seed=seed) for seed in range(5)]
    assert len({json.dumps(sorted(a.items())) for a in assignments}) > 1


SCRIPT = """
import json
from presentations.assignment import Slot, assignment_compute
slots = [Slot(f"p{w}", w, ("overview", "strengths", "weaknesses")) for w in range(5, 15)]
students = [f"s{n:02d}" for n in range(13)]
found = assignment_compute(students=students, slots=slots, blocked=[("s01", 6)], seed=9)
print(json.dumps(sorted(found.items())))
"""


def test_it_gives_the_same_assignment_whatever_the_interpreter_s_hash_seed() -> None:
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize(
    ("students", "slots", "blocked", "pins", "per_role", "reason"),
    [
        (
            roster(12), papers(), [(name, 7) for name in roster(12)], [], 1,
            "only 0 students are free to present in week 7, but the 3 roles of paper-w07 need",
        ),
        (
            roster(5), papers(), [], [], 2,
            "only 5 students are free to present in week 5, but the 3 roles of paper-w05 need "
            "at least 6",
        ),
        ([], papers(), [], [], 1, "the course has no students to present the papers"),
        (
            roster(12), papers(), [("student01", 5)], [Pin("student01", "paper-w05", "overview")],
            1, "student01 is pinned to the overview of paper-w05 in week 5, a week they are "
            "blocked",
        ),
        (
            roster(12), papers(), [], [Pin("zoe", "paper-w05", "overview")], 1,
            "zoe is pinned to the overview of paper-w05 but is not a student of the course",
        ),
        (
            roster(12), papers(), [], [Pin("student01", "paper-w05", "qa")], 1,
            "which is not a presenting role of that slot",
        ),
        (
            roster(12), papers(),
            [("student01", 6)],
            [Pin("student01", "paper-w05", "overview"), Pin("student01", "paper-w07", "overview")],
            1, "with no slot between them to hold another role",
        ),
        (
            roster(5), papers(roles=("overview",)), [], [], 1,
            "the slots have only one role to present (overview)",
        ),
        (
            roster(12), papers(), [("student01", week) for week in range(5, 14)], [], 1,
            "student01 is free to present in only 1 slot(s), but every student presents at "
            "least 2 times",
        ),
    ],
)  # fmt: skip
def test_it_refuses_an_impossible_input_and_says_why(
    students: list[str],
    slots: list[Slot[str]],
    blocked: list[tuple[str, int]],
    pins: list[Pin[str, str]],
    per_role: int,
    reason: str,
) -> None:
    with pytest.raises(AssignmentError) as refused:
        assignment_compute(
            students=students,
            slots=slots,
            blocked=blocked,
            pins=pins,
            presenters_per_role=per_role,
        )
    assert reason in refused.value.message


def test_it_says_when_it_tried_every_way_and_found_none() -> None:
    # Three students, two roles in four slots: each presents in every slot but one, and the
    # blocked weeks leave student03 too few slots to alternate roles.
    with pytest.raises(AssignmentError, match="every way to fill the slots was tried"):
        assignment_compute(
            students=roster(3),
            slots=papers(4, roles=("overview", "strengths")),
            blocked=[("student01", 8), ("student03", 6), ("student03", 7)],
        )


def test_it_refuses_a_student_given_twice() -> None:
    with pytest.raises(ValueError, match="the student student01 is given twice"):
        assignment_compute(students=["student01", "student01"], slots=papers())


def test_it_assigns_nothing_without_presenting_roles() -> None:
    assert assignment_compute(students=roster(3), slots=papers(roles=())) == {}


# assignment_problems on hand-made assignments: each breaks one rule.

TWO_SLOTS = papers(2, roles=("overview", "strengths"))
FINE: Groups = {
    ("paper-w05", "overview"): ["student01"],
    ("paper-w05", "strengths"): ["student02"],
    ("paper-w06", "overview"): ["student02"],
    ("paper-w06", "strengths"): ["student01"],
}


def problems_of(
    groups: Groups,
    *,
    students: list[str] | None = None,
    blocked: Sequence[tuple[str, int]] = (),
    pins: Sequence[Pin[str, str]] = (),
) -> list[str]:
    return assignment_problems(
        students=roster(2) if students is None else students,
        slots=TWO_SLOTS,
        blocked=blocked,
        assignment=groups,
        pins=pins,
    )


def test_it_finds_no_problem_in_a_fair_assignment() -> None:
    assert problems_of(FINE) == []


@pytest.mark.parametrize(
    ("change", "options", "expected"),
    [
        (
            {("paper-w06", "overview"): ["student01"], ("paper-w06", "strengths"): ["student02"]},
            {},
            [
                "student01 holds the overview of paper-w05 and then of paper-w06, two "
                "presentations in a row: a student never holds the same role in two "
                "presentations in a row",
                "student02 holds the strengths of paper-w05 and then of paper-w06, two "
                "presentations in a row: a student never holds the same role in two "
                "presentations in a row",
            ],
        ),
        (
            {("paper-w05", "strengths"): ["student01"]},
            {},
            [
                "student01 presents 3 times but student02 1: every student presents about "
                "equally often (counts differ by at most one)",
                "student01 holds both the overview and the strengths of paper-w05: a student "
                "holds one role per slot",
                "student01 holds the strengths of paper-w05 and then of paper-w06, two "
                "presentations in a row: a student never holds the same role in two "
                "presentations in a row",
            ],
        ),
        (
            {},
            {"blocked": [("student02", 6)]},
            [
                "student02 presents in paper-w06 in week 6, a week they are blocked: a "
                "student never presents in a week they are blocked"
            ],
        ),
        (
            {("paper-w05", "strengths"): ["zoe"]},
            {},
            [
                "zoe holds the strengths of paper-w05 but is not a student of the course: a "
                "presenter is a student of the course",
            ],
        ),
        (
            {},
            {"pins": [Pin("student02", "paper-w05", "overview")]},
            [
                "student02 is pinned to the overview of paper-w05 but does not hold it: a "
                "pinned place is kept"
            ],
        ),
        (
            {("paper-w06", "strengths"): []},
            {},
            [
                "the strengths of paper-w06 has 0 presenter(s), fewer than 1: group sizes are "
                "at least the presenters per role and differ by at most one",
                "there are 3 presenter places, but 4 roles of at least 1 presenter(s) and 2 "
                "students make 4: the places are max(roles x presenters per role, students)",
            ],
        ),
        (
            {("paper-w05", "qa"): ["student01"]},
            {},
            [
                "the qa of paper-w05 is not a presenting role of a slot: only presenting roles "
                "of the slots have presenters"
            ],
        ),
    ],
)
def test_it_names_the_student_the_slot_and_the_rule_of_each_problem(
    change: Groups, options: dict[str, Any], expected: list[str]
) -> None:
    problems = problems_of({**FINE, **change}, **options)
    assert sorted(problems) == sorted(expected)


def test_it_finds_the_uneven_counts_and_group_sizes_of_a_lopsided_assignment() -> None:
    lopsided = {
        ("paper-w05", "overview"): ["student01", "student02", "student03"],
        ("paper-w05", "strengths"): ["student04"],
        ("paper-w06", "overview"): ["student04"],
        ("paper-w06", "strengths"): ["student05"],
    }
    problems = problems_of(lopsided, students=roster(6))
    assert any("has 3 presenters but the strengths of paper-w05 1" in p for p in problems)
    assert any("presents 2 times but student06 0" in p for p in problems)

"""The gradebook engine: every rule of ``coursesite.gradebook.engine``, worked out by hand.

The course is COMP541 as ``examples/comp541-fall2024.yaml`` grades it (a test below holds the two
together): categories Self-Assessment Quiz 2, Programming Assignments 20, Midterm Exam 17, Course
Project 36, Paper Presentations 10, Paper Reviews 5, Class Participation 10. A total is
sum(category weight x category percent) / sum(weights counted); the comment beside each case
shows that sum. Times are in the course's zone, Europe/Istanbul.

Most cases change one thing of FULL, a student with every item graded at the end of the term:

    quiz 80, 60 (shared 1:1)                    -> 70       x 2  =  140
    A1-A4 90, 80, 70, 60 (5 each)               -> 75       x 20 = 1500
    midterm 64                                  -> 64       x 17 = 1088
    project 100, 90, 80, 70, 60, 50 (2,4,6,8,12,4): 2520/36 = 70  x 36 = 2520
    paper presentation 85                       -> 85       x 10 =  850
    reviews 10, 9, ..., 1 of 10 each            -> 55       x 5  =  275
    participation 90                            -> 90       x 10 =  900
                                                        total 7273 / 100 = 72.73

REST = 4753 is that sum without the Course Project (7273 - 2520).

MID is a student in week 8 (Nov 25): quizzes 80, 60; A1 90, A2 80 (A3, A4 not due); midterm
64; proposal 100 (the rest of the project not due); reviews w05-w07 10, 9, 8 (w08 on not due);
no paper presentation or participation yet (no due date: pending):

    current: (140 + 20 x 85 + 1088 + 36 x 100 + 5 x 90) / 80 = 6978 / 80 = 87.225 -> 87.23
    final:   (140 + 20 x 42.5 + 1088 + 36 x 200/36 + 0 + 5 x 27 + 0) / 100 = 2413 / 100 = 24.13
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from coursesite.gradebook.engine import (
    EXCUSED,
    GRADED,
    MISSING,
    MISSING_WORK,
    PENDING,
    PENDING_GRADING,
    REQUIRED_NOT_PASSED,
    CategorySpec,
    ItemSpec,
    LetterStep,
    Mark,
    StudentGrade,
    course_grades,
    student_grade,
)
from tests.conftest import EXAMPLE_COURSE

ZONE = ZoneInfo("Europe/Istanbul")
HALF = Fraction(1, 2)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


# (category, weight, ((slug, max points, own weight, due), ...)), as the course file has them.
DEMO: tuple[tuple[str, str, tuple[tuple[str, str, str | None, str | None], ...]], ...] = (
    ("Self-Assessment Quiz", "2", (
        ("quiz-theory", "100", None, "2024-10-09 23:59"),
        ("quiz-programming", "100", None, "2024-10-20 23:59"),
    )),
    ("Programming Assignments", "20", (
        ("a1", "100", "5", "2024-11-05 23:59"),
        ("a2", "100", "5", "2024-11-19 23:59"),
        ("a3", "100", "5", "2024-12-03 23:59"),
        ("a4", "100", "5", "2024-12-24 23:59"),
    )),
    ("Midterm Exam", "17", (("midterm", "100", None, None),)),
    ("Course Project", "36", (
        ("proposal", "100", "2", "2024-11-17 23:59"),
        ("progress-presentation", "100", "4", "2024-12-17 12:00"),
        ("progress-report", "100", "6", "2024-12-22 23:59"),
        ("final-presentation", "100", "8", "2025-01-21 12:00"),
        ("final-report", "100", "12", "2025-01-25 23:59"),
        ("contribution", "100", "4", None),
    )),
    ("Paper Presentations", "10", (("paper-presentation", "100", None, None),)),
    ("Paper Reviews", "5", tuple(
        (f"review-w{week:02}", "10", None, due)
        for week, due in zip(range(5, 15), (
            "2024-11-07 23:59", "2024-11-14 23:59", "2024-11-21 23:59", "2024-11-28 23:59",
            "2024-12-05 23:59", "2024-12-12 23:59", "2024-12-19 23:59", "2024-12-26 23:59",
            "2025-01-02 23:59", "2025-01-09 23:59",
        ), strict=True)
    )),
    ("Class Participation", "10", (("participation", "100", None, None),)),
)  # fmt: skip
REQUIRED = {"quiz-theory": "50", "quiz-programming": "50"}
CATEGORY_IDS = {name: n for n, (name, _, _) in enumerate(DEMO, start=1)}
ITEM_IDS = {
    slug: n for n, (slug, *_) in enumerate((i for _, _, items in DEMO for i in items), start=1)
}
SCALE = tuple(
    LetterStep(letter, Decimal(minimum))
    for letter, minimum in (
        ("A", 90), ("A-", 85), ("B+", 80), ("B", 75), ("B-", 70), ("C+", 65), ("C", 60),
        ("D", 50), ("F", 0),
    )
)  # fmt: skip

END = at("2025-02-01 12:00")  # every due date has passed
WEEK_8 = at("2024-11-25 12:00")
REVIEWS = {f"review-w{week:02}": str(15 - week) for week in range(5, 15)}  # 10, 9, ..., 1
FULL = {
    "quiz-theory": "80", "quiz-programming": "60",
    "a1": "90", "a2": "80", "a3": "70", "a4": "60",
    "midterm": "64",
    "proposal": "100", "progress-presentation": "90", "progress-report": "80",
    "final-presentation": "70", "final-report": "60", "contribution": "50",
    "paper-presentation": "85",
    **REVIEWS,
    "participation": "90",
}  # fmt: skip
MID = {
    "quiz-theory": "80", "quiz-programming": "60", "a1": "90", "a2": "80", "midterm": "64",
    "proposal": "100", "review-w05": "10", "review-w06": "9", "review-w07": "8",
}  # fmt: skip
# The Course Project with its last two items sharing the 16 left by the others by max points:
# the final report of 300 points takes 16 x 300/400 = 12, the contribution 16 x 100/400 = 4.
MIXED = {"final-report": {"weight": None, "max_points": "300"}, "contribution": {"weight": None}}
NINETY = {slug: "9" if slug.startswith("review") else "90" for slug in FULL}


def without(scores: Mapping[str, str], *slugs: str) -> dict[str, str]:
    return {slug: points for slug, points in scores.items() if slug not in slugs}


@dataclass(frozen=True)
class Case:
    scores: Mapping[str, str]  # slug -> points, or "EX" for excused
    current: str | None
    final: str | None
    letter: str | None
    now: datetime = END
    # Checked for the categories and items named; flags and dropped items always.
    categories: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    states: Mapping[str, str] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    extensions: Mapping[str, datetime] = field(default_factory=dict)
    handed_in: tuple[str, ...] = ()
    drop_lowest: Mapping[str, int] = field(default_factory=dict)
    category_weights: Mapping[str, str] = field(default_factory=dict)
    item_changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    unreleased: tuple[str, ...] = ()
    released_only: bool = False


def case(name: str, **kwargs: Any) -> Any:
    return pytest.param(Case(**kwargs), id=name)


def structure(case: Case) -> tuple[list[CategorySpec], list[ItemSpec]]:
    categories, items = [], []
    for name, weight, members in DEMO:
        category = CATEGORY_IDS[name]
        categories.append(
            CategorySpec(
                id=category,
                name=name,
                weight=Decimal(case.category_weights.get(name, weight)),
                drop_lowest=case.drop_lowest.get(name, 0),
            )
        )
        for slug, max_points, own, due in members:
            spec: dict[str, Any] = {"max_points": max_points, "weight": own}
            spec.update(case.item_changes.get(slug, {}))
            items.append(
                ItemSpec(
                    id=ITEM_IDS[slug],
                    category=category,
                    max_points=Decimal(spec["max_points"]),
                    weight=None if spec["weight"] is None else Decimal(spec["weight"]),
                    due_at=None if due is None else at(due),
                    released=slug not in case.unreleased,
                    required_to_pass=slug in REQUIRED,
                    pass_mark=Decimal(REQUIRED[slug]) if slug in REQUIRED else None,
                )
            )
    return categories, items


def mark(slug: str, points: str, student: int = 1) -> Mark:
    if points == "EX":
        return Mark(student, ITEM_IDS[slug], None, excused=True)
    return Mark(student, ITEM_IDS[slug], Decimal(points))


def grade_of(case: Case) -> StudentGrade:
    categories, items = structure(case)
    return student_grade(
        student=1,
        categories=categories,
        items=items,
        marks={ITEM_IDS[slug]: mark(slug, points) for slug, points in case.scores.items()},
        extensions={ITEM_IDS[slug]: due for slug, due in case.extensions.items()},
        handed_in=[ITEM_IDS[slug] for slug in case.handed_in],
        now=case.now,
        letter_scale=SCALE,
        released_only=case.released_only,
    )


def shown(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


CASES = [
    case("all-graded", scores=FULL, current="72.73", final="72.73", letter="B-",
         categories={"Self-Assessment Quiz": ("70.00", "70.00"),
                     "Programming Assignments": ("75.00", "75.00"),
                     "Course Project": ("70.00", "70.00"), "Paper Reviews": ("55.00", "55.00")}),
    # Weights.
    # A1 90 -> 10 on its own 5%: 80 points x 5 / 100 = 4 off: 72.73 - 4 = 68.73.
    case("own-weight-is-that-many-percent", scores=FULL | {"a1": "10"},
         current="68.73", final="68.73", letter="C+",
         categories={"Programming Assignments": ("55.00", "55.00")}),
    # The ten reviews share the 5% by max points, 0.5% each: w05 10 -> 0 takes 0.5 off.
    case("shared-weight-by-max-points", scores=FULL | {"review-w05": "0"},
         current="72.23", final="72.23", letter="B-",
         categories={"Paper Reviews": ("45.00", "45.00")}),
    # Mixed: own 2, 4, 6, 8; the final report (180 of 300 = 60%) and the contribution (50 of 100)
    # share 16 as 12 and 4, the weights the course gives them: the same 70 and 72.73.
    # Shared equally (8 and 8) it would be 2480/36 = 68.89.
    case("mixed-category-shares-the-rest-by-max-points",
         scores=FULL | {"final-report": "180"}, item_changes=MIXED,
         current="72.73", final="72.73", letter="B-",
         categories={"Course Project": ("70.00", "70.00")}),
    # Weight changes mid-term, same scores as all-graded:
    # Midterm 17 -> 27 and Participation 10 -> 0: (7273 - 1088 + 27 x 64 - 900) / 100 = 70.13.
    case("new-category-weights-same-scores", scores=FULL,
         category_weights={"Midterm Exam": "27", "Class Participation": "0"},
         current="70.13", final="70.13", letter="B-",
         categories={"Class Participation": ("90.00", "90.00")}),
    # A1 5 -> 8, A4 5 -> 2: (720 + 400 + 350 + 120) / 20 = 79.5; 7273 - 1500 + 1590 = 7363.
    case("new-item-weights-same-scores", scores=FULL,
         item_changes={"a1": {"weight": "8"}, "a4": {"weight": "2"}},
         current="73.63", final="73.63", letter="B-",
         categories={"Programming Assignments": ("79.50", "79.50")}),
    # Every category weighing 0: each still has its percent (by points where its items share
    # the weight, now 0, by the own weights elsewhere), and the total is their plain average,
    # (70 + 75 + 64 + 70 + 85 + 55 + 90) / 7 = 72.714.
    case("every-category-weighing-0", scores=FULL,
         category_weights={name: "0" for name in CATEGORY_IDS}, current="72.71", final="72.71",
         letter="B-", categories={"Self-Assessment Quiz": ("70.00", "70.00"),
                                  "Programming Assignments": ("75.00", "75.00")}),
    # Excused.
    # The last review (1 of 10) excused: 54 / 90 = 60; 7273 - 275 + 300 = 7298.
    case("excused-shared-item-its-weight-to-the-others", scores=FULL | {"review-w14": "EX"},
         current="72.98", final="72.98", letter="B-", states={"review-w14": EXCUSED},
         categories={"Paper Reviews": ("60.00", "60.00")}),
    # The proposal (own 2%) excused, every project item has its own weight: renormalised over
    # 34: 2320 / 34 = 68.2352...; total (4753 + 36 x 2320/34) / 100 = 72.0947 -> 72.09.
    # Rounding the category first would give (4753 + 36 x 68.24) / 100 = 72.0964 -> 72.10.
    case("excused-own-weight-renormalised-and-rounded-once", scores=FULL | {"proposal": "EX"},
         current="72.09", final="72.09", letter="B-",
         categories={"Course Project": ("68.24", "68.24")}),
    # Mixed, the contribution excused: the final report alone shares the 16.
    # (200 + 360 + 480 + 560 + 16 x 60) / 36 = 2560 / 36 = 71.11; (4753 + 2560) / 100.
    case("mixed-category-excused-shared-item", scores=FULL | {"final-report": "180",
         "contribution": "EX"}, item_changes=MIXED, current="73.13", final="73.13",
         letter="B-", categories={"Course Project": ("71.11", "71.11")}),
    # Mixed, the proposal (own 2) excused: the shared pair now splits 18 as 13.5 and 4.5.
    # (360 + 480 + 560 + 13.5 x 60 + 4.5 x 50) / 36 = 2435 / 36 = 67.64; (4753 + 2435) / 100.
    case("mixed-category-excused-own-weight-goes-to-the-shared", scores=FULL | {
         "final-report": "180", "proposal": "EX"}, item_changes=MIXED, current="71.88",
         final="71.88", letter="B-", categories={"Course Project": ("67.64", "67.64")}),
    # The whole Paper Presentations category excused: it leaves; (7273 - 850) / 90 = 71.37.
    case("whole-category-excused-leaves-the-total", scores=FULL | {"paper-presentation": "EX"},
         current="71.37", final="71.37", letter="B-",
         categories={"Paper Presentations": (None, None)}),
    case("everything-excused", scores={slug: "EX" for slug in FULL}, current=None, final=None,
         letter=None, categories={"Course Project": (None, None)}),
    # Drop lowest.
    # Two reviews dropped: 1 and 2; 52 / 80 = 65; 7273 - 275 + 325 = 7323.
    case("drop-lowest-two", scores=FULL, drop_lowest={"Paper Reviews": 2},
         current="73.23", final="73.23", letter="B-", dropped=("review-w13", "review-w14"),
         categories={"Paper Reviews": ("65.00", "65.00")}, states={"review-w14": GRADED}),
    # Two reviews tie at 5: the earlier (w06) is dropped. 69 / 90 = 76.67;
    # (7273 - 275 + 5 x 69/90 x 100) / 100 = 73.8133.
    case("drop-lowest-tie-goes-to-the-earlier",
         scores=FULL | {r: "8" for r in REVIEWS} | {"review-w06": "5", "review-w09": "5"},
         drop_lowest={"Paper Reviews": 1}, current="73.81", final="73.81", letter="B-",
         dropped=("review-w06",), categories={"Paper Reviews": ("76.67", "76.67")}),
    # w14 excused is never dropped: the lowest left (w13, 2) is; 52 / 80 = 65.
    case("drop-lowest-never-an-excused-one", scores=FULL | {"review-w14": "EX"},
         drop_lowest={"Paper Reviews": 1}, current="73.23", final="73.23", letter="B-",
         dropped=("review-w13",), states={"review-w14": EXCUSED}),
    # Items with an own weight are never dropped: the assignments stay as they are.
    case("drop-lowest-never-an-own-weight", scores=FULL,
         drop_lowest={"Programming Assignments": 1}, current="72.73", final="72.73",
         letter="B-", categories={"Programming Assignments": ("75.00", "75.00")}),
    # Mixed, progress report 10% (own 6) the lowest: the contribution (50%, shared) is dropped
    # instead and the final report takes the 16: (200 + 360 + 60 + 560 + 16 x 60) / 36 = 2140/36.
    case("drop-lowest-in-a-mixed-category-only-among-the-shared",
         scores=FULL | {"final-report": "180", "progress-report": "10"}, item_changes=MIXED,
         drop_lowest={"Course Project": 1}, current="68.93", final="68.93", letter="C+",
         dropped=("contribution",), categories={"Course Project": ("59.44", "59.44")}),
    # Week 8, reviews 3, 9, 6 and seven not due, drop 5: only the three known are candidates,
    # and two of them go (3 and 6), leaving w06. current 90 -> same 87.225 as MID;
    # final 9 / 80 (w06 and the seven pending of 10 each) = 11.25:
    # (140 + 850 + 1088 + 200 + 0 + 5 x 11.25 + 0) / 100 = 23.3425.
    case("drop-lowest-never-a-pending-one-and-leaves-one",
         scores=MID | {"review-w05": "3", "review-w06": "9", "review-w07": "6"}, now=WEEK_8,
         drop_lowest={"Paper Reviews": 5}, current="87.23", final="23.34", letter="F",
         dropped=("review-w05", "review-w07"), states={"review-w08": PENDING},
         categories={"Paper Reviews": ("90.00", "11.25")}),
    # Current and final, missing and pending.
    # 87.225 is rounded half up (half-even would give 87.22).
    case("week-8-current-and-final", scores=MID, now=WEEK_8, current="87.23", final="24.13",
         letter="F",
         categories={"Programming Assignments": ("85.00", "42.50"),
                     "Course Project": ("100.00", "5.56"), "Paper Presentations": (None, "0.00"),
                     "Paper Reviews": ("90.00", "27.00")},
         states={"a3": PENDING, "paper-presentation": PENDING, "midterm": GRADED}),
    # A2 not handed in, due Nov 19: missing, 0 in both. current A 45:
    # (140 + 900 + 1088 + 3600 + 450) / 80 = 77.225; final A 22.5: 2413 - 400 = 2013.
    case("missing-counts-zero", scores=without(MID, "a2"), now=WEEK_8, current="77.23",
         final="20.13", letter="F", states={"a2": MISSING}, flags=(MISSING_WORK,),
         categories={"Programming Assignments": ("45.00", "22.50")}),
    # An extension to Nov 30 makes it pending: left out of current (A 90):
    # (140 + 1800 + 1088 + 3600 + 450) / 80 = 88.475; final counts it 0 as before.
    case("extension-moves-the-due", scores=without(MID, "a2"), now=WEEK_8,
         extensions={"a2": at("2024-11-30 23:59")}, current="88.48", final="20.13",
         letter="F", states={"a2": PENDING}),
    case("extension-that-has-passed", scores=without(MID, "a2"), now=WEEK_8,
         extensions={"a2": at("2024-11-22 23:59")}, current="77.23", final="20.13",
         letter="F", states={"a2": MISSING}, flags=(MISSING_WORK,)),
    case("handed-in-not-graded-is-pending", scores=without(MID, "a2"), now=WEEK_8,
         handed_in=("a2",), current="88.48", final="20.13", letter="F", states={"a2": PENDING},
         flags=(PENDING_GRADING,)),
    case("handed-in-and-graded", scores=MID, now=WEEK_8, handed_in=("a2",), current="87.23",
         final="24.13", letter="F", states={"a2": GRADED}),
    # At the due instant itself A2 is not yet late; every other item is as at WEEK_8.
    case("due-this-instant-is-pending", scores=without(MID, "a2"),
         now=at("2024-11-19 23:59"), current="88.48", final="20.13", letter="F",
         states={"a2": PENDING}),
    case("a-second-past-due-is-missing", scores=without(MID, "a2"),
         now=at("2024-11-19 23:59") + timedelta(seconds=1), current="77.23", final="20.13",
         letter="F", states={"a2": MISSING}, flags=(MISSING_WORK,)),
    # Participation has no due date: pending, never missing. (7273 - 900) / 90 = 70.81;
    # final counts it 0: 6373 / 100.
    case("no-due-date-is-never-missing", scores=without(FULL, "participation"),
         current="70.81", final="63.73", letter="C", states={"participation": PENDING},
         categories={"Class Participation": (None, "0.00")}),
    case("nothing-due-yet", scores={}, now=at("2024-10-01 09:00"), current=None, final="0.00",
         letter="F", states={"quiz-theory": PENDING},
         categories={"Self-Assessment Quiz": (None, "0.00")}),
    # Mixed project on Dec 23: proposal 100, progress presentation 90 and report 80 graded,
    # contribution 50; the final presentation and report not due. current keeps the
    # contribution at its 4 and renormalises: (200 + 360 + 480 + 200) / 16 = 77.5, rather than
    # hand it the 8 + 12 of the pending two (which would give (1040 + 24 x 50) / 36 = 62.22);
    # final 1240 / 36 = 34.44. current (4753 + 36 x 77.5) / 100; final (4753 + 1240) / 100.
    case("mixed-category-current-keeps-the-final-weights",
         scores=without(FULL, "final-presentation", "final-report"), item_changes=MIXED,
         now=at("2024-12-23 12:00"), current="75.43", final="59.93", letter="D",
         categories={"Course Project": ("77.50", "34.44")}, states={"final-report": PENDING}),
    # The required quizzes.
    # 49.99 is below the pass mark 50: quiz (49.99 + 60) / 2 = 54.995 -> 55.00;
    # (7133 + 2 x 54.995) / 100 = 72.4299.
    case("required-quiz-below-the-pass-mark", scores=FULL | {"quiz-theory": "49.99"},
         current="72.43", final="72.43", letter="B-", flags=(REQUIRED_NOT_PASSED,),
         categories={"Self-Assessment Quiz": ("55.00", "55.00")}),
    case("required-quiz-on-the-pass-mark", scores=FULL | {"quiz-theory": "50"},
         current="72.43", final="72.43", letter="B-"),
    # Missing by Nov 25: both flags; quiz 40 in both: current 6978 - 60 = 6918 / 80 = 86.475.
    case("required-quiz-missing", scores=without(MID, "quiz-programming"), now=WEEK_8,
         current="86.48", final="23.53", letter="F", flags=(REQUIRED_NOT_PASSED, MISSING_WORK)),
    case("required-quiz-excused", scores=FULL | {"quiz-theory": "EX"},
         current="72.53", final="72.53", letter="B-", states={"quiz-theory": EXCUSED}),
    case("required-quiz-not-due-yet", scores={}, now=at("2024-10-09 23:00"), current=None,
         final="0.00", letter="F"),
    # Letters: 90% everywhere is 90.00, on the bound of A.
    case("letter-on-the-bound", scores=NINETY, current="90.00", final="90.00", letter="A"),
    # Half a point less on a quiz (1% of the grade): 89.995 rounds half up to 90.00, an A.
    case("letter-half-a-hundredth-below-rounds-up", scores=NINETY | {"quiz-theory": "89.5"},
         current="90.00", final="90.00", letter="A"),
    case("letter-below-the-bound", scores=NINETY | {"quiz-theory": "89.4"},
         current="89.99", final="89.99", letter="A-"),
    # The late penalty is inside the score: A1 90 late by 20% was recorded as 72, and 72 is
    # what counts: (72 + 80 + 70 + 60) / 4 = 70.5; 7273 - 1500 + 1410 = 7183. (Taking the 20%
    # off again would give A1 57.6, 66.9 and 71.11.)
    case("late-penalty-not-applied-twice", scores=FULL | {"a1": "72"},
         current="71.83", final="71.83", letter="B-",
         categories={"Programming Assignments": ("70.50", "70.50")}),
    # Release: the midterm unreleased. Staff see it graded; the student does not: pending,
    # (7273 - 1088) / 83 = 74.518 in current, 6185 / 100 in final.
    case("unreleased-item-in-the-staff-view", scores=FULL, unreleased=("midterm",),
         current="72.73", final="72.73", letter="B-", states={"midterm": GRADED}),
    case("unreleased-item-in-the-students-view", scores=FULL, unreleased=("midterm",),
         released_only=True, current="74.52", final="61.85", letter="C",
         states={"midterm": PENDING}, categories={"Midterm Exam": (None, "0.00")}),
    # A failing unreleased quiz neither shows nor flags: quiz 60 in current,
    # (7133 + 120) / 100; 30 in final, (7133 + 60) / 100.
    case("unreleased-failing-quiz-in-the-students-view", scores=FULL | {"quiz-theory": "40"},
         unreleased=("quiz-theory",), released_only=True, current="72.53", final="71.93",
         letter="B-", categories={"Self-Assessment Quiz": ("60.00", "30.00")}),
    case("unreleased-failing-quiz-in-the-staff-view", scores=FULL | {"quiz-theory": "40"},
         unreleased=("quiz-theory",), current="72.33", final="72.33", letter="B-",
         flags=(REQUIRED_NOT_PASSED,)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_it_grades_by_the_rules(case: Case) -> None:
    grade = grade_of(case)
    slugs = {item_id: slug for slug, item_id in ITEM_IDS.items()}
    assert (shown(grade.current), shown(grade.final), grade.letter) == (
        case.current,
        case.final,
        case.letter,
    )
    assert grade.flags == list(case.flags)
    assert {slugs[i] for i, item in grade.items.items() if item.dropped} == set(case.dropped)
    for name, expected in case.categories.items():
        category = CATEGORY_IDS[name]
        assert (
            shown(grade.categories_current[category]),
            shown(grade.categories_final[category]),
        ) == expected, name
    for slug, state in case.states.items():
        assert grade.items[ITEM_IDS[slug]].state == state, slug


def test_it_uses_the_demo_courses_weights() -> None:
    """The structure above is the course file's, so the cases are against the real weights."""
    grading = yaml.safe_load(EXAMPLE_COURSE.read_text())["grading"]
    from_file = tuple(
        (
            category["category"],
            str(category["weight"]),
            tuple(
                (
                    item["slug"],
                    str(item["points"]),
                    None if "weight" not in item else str(item["weight"]),
                    item.get("due"),
                )
                for item in category["items"]
            ),
        )
        for category in grading
    )
    required = {
        item["slug"]: str(item["pass_mark"])
        for category in grading
        for item in category["items"]
        if item.get("required_to_pass")
    }
    assert (from_file, required) == (DEMO, REQUIRED)
    # The cases choose their own drop-lowest; the file drops each student's lowest review.
    dropping = {c["category"]: c["drop_lowest"] for c in grading if c.get("drop_lowest")}
    assert dropping == {"Paper Reviews": 1}


def test_it_shows_each_items_points_and_percent() -> None:
    grade = grade_of(
        Case(
            scores=without(MID, "a2") | {"quiz-theory": "49.99", "review-w05": "7.5",
                                         "midterm": "EX"},
            now=WEEK_8, current=None, final=None, letter=None,
            unreleased=("review-w06",), released_only=True,
        )
    )  # fmt: skip
    shown_items = {
        slug: (item.state, shown(item.points), shown(item.percent))
        for slug, item in ((slug, grade.items[ITEM_IDS[slug]]) for slug in ITEM_IDS)
        if slug in ("quiz-theory", "review-w05", "a2", "a3", "midterm", "review-w06")
    }
    assert shown_items == {
        "quiz-theory": (GRADED, "49.99", "49.99"),
        "review-w05": (GRADED, "7.5", "75.00"),
        "a2": (MISSING, "0", "0.00"),
        "a3": (PENDING, None, None),
        "midterm": (EXCUSED, None, None),
        "review-w06": (PENDING, None, None),
    }


def test_it_rounds_the_exact_value_not_a_rounded_quotient() -> None:
    """10 + 100 + 10 points sharing a category of 20%: 91.83 of 120 is 76.525% exactly, 76.53.

    Divided in 28-digit decimals on the way (percents 95.9, 82.24, 0 with weights 20 x 10/120,
    20 x 100/120, 20 x 10/120) the average comes out a hair below 76.525 and rounds to 76.52.
    """
    category = CategorySpec(1, "Homework", Decimal(20))
    items = [
        ItemSpec(1, 1, Decimal(10)),
        ItemSpec(2, 1, Decimal(100)),
        ItemSpec(3, 1, Decimal(10)),
    ]
    marks = {
        1: Mark(1, 1, Decimal("9.59")),
        2: Mark(1, 2, Decimal("82.24")),
        3: Mark(1, 3, Decimal(0)),
    }
    grade = student_grade(student=1, categories=[category], items=items, marks=marks, now=END)
    assert (str(grade.categories_final[1]), str(grade.final)) == ("76.53", "76.53")


def test_it_rounds_an_items_percent_half_up() -> None:
    # 100.01 of 200 is 50.005%.
    category = CategorySpec(1, "Exam", Decimal(100))
    items = [ItemSpec(1, 1, Decimal(200))]
    grade = student_grade(
        student=1, categories=[category], items=items,
        marks={1: Mark(1, 1, Decimal("100.01"))}, now=END,
    )  # fmt: skip
    assert (str(grade.items[1].percent), str(grade.final)) == ("50.01", "50.01")


def test_it_keeps_each_students_marks_extensions_and_hand_ins_apart() -> None:
    """Carol's score, extension and hand-in are hers: Erin, with none, has A2 missing."""
    categories, items = structure(Case(scores={}, current=None, final=None, letter=None))
    carol, erin = 1, 2
    grades = course_grades(
        students=[carol, erin],
        categories=categories,
        items=items,
        marks=[mark(slug, points, carol) for slug, points in without(MID, "a2").items()]
        + [mark("a1", "40", erin), mark("a1", "99", 3)],
        extensions={(carol, ITEM_IDS["a2"]): at("2024-11-30 23:59")},
        handed_in=[(carol, ITEM_IDS["a3"])],
        now=WEEK_8,
        letter_scale=SCALE,
    )
    a1, a2, a3 = (ITEM_IDS[slug] for slug in ("a1", "a2", "a3"))
    assert set(grades) == {carol, erin}
    assert [grades[carol].items[i].state for i in (a1, a2, a3)] == [GRADED, PENDING, PENDING]
    assert grades[carol].flags == [PENDING_GRADING]
    assert (str(grades[carol].current), str(grades[carol].final)) == ("88.48", "20.13")
    erin_items = grades[erin].items
    assert [erin_items[i].state for i in (a1, a2, a3)] == [GRADED, MISSING, PENDING]
    assert shown(erin_items[a1].points) == "40"
    assert REQUIRED_NOT_PASSED in grades[erin].flags


def test_it_gives_no_letter_without_a_scale() -> None:
    categories, items = structure(Case(scores={}, current=None, final=None, letter=None))
    grade = student_grade(
        student=1, categories=categories, items=items,
        marks={ITEM_IDS[slug]: mark(slug, points) for slug, points in FULL.items()}, now=END,
    )  # fmt: skip
    assert (str(grade.final), grade.letter) == ("72.73", None)


def weighted_average(
    items: list[ItemSpec], weight: Mapping[int, Fraction], points: Mapping[int, Fraction | None]
) -> Fraction | None:
    if not items:
        return None
    got = {i.id: Fraction(points[i.id] or 0) for i in items}
    most = {i.id: Fraction(i.max_points) for i in items}
    weights = sum(weight[i.id] for i in items)
    if weights == 0:
        return 100 * sum(got.values()) / sum(most.values())
    return sum(weight[i] * 100 * got[i] / most[i] for i in got) / weights


def plainly(
    categories: list[CategorySpec],
    items: list[ItemSpec],
    marks: Mapping[int, Mark],
    handed_in: set[int],
    released_only: bool,
) -> tuple[Any, ...]:
    """The module doc's rules done the plain way, in fractions: item states, each counting
    item's weight, weighted averages, renormalised totals, rounded half up at the end."""

    def cents(value: Fraction | None) -> str | None:
        return None if value is None else str(Decimal(math.floor(value * 100 + HALF)).scaleb(-2))

    points: dict[int, Fraction | None] = {}  # None while pending; excused items left out
    for item in items:
        mark = marks.get(item.id)
        if released_only and not item.released:
            points[item.id] = None
        elif mark is not None and mark.excused:
            continue
        elif mark is not None and mark.points is not None:
            points[item.id] = Fraction(mark.points)
        elif item.id in handed_in or item.due_at is None or item.due_at >= END:
            points[item.id] = None
        else:
            points[item.id] = Fraction(0)
    current, final, dropped = {}, {}, set()
    for category in categories:
        members = [i for i in items if i.category == category.id and i.id in points]
        known = [i for i in members if i.weight is None and points[i.id] is not None]
        ranked = sorted(known, key=lambda i: (points[i.id] or 0) / Fraction(i.max_points))
        dropped |= {i.id for i in ranked[: min(category.drop_lowest, max(0, len(known) - 1))]}
        counting = [i for i in members if i.id not in dropped]
        own = sum(Fraction(i.weight) for i in counting if i.weight is not None)
        shared = sum(Fraction(i.max_points) for i in counting if i.weight is None)
        left = max(Fraction(0), Fraction(category.weight) - own) if shared else Fraction(0)
        weight = {
            i.id: Fraction(i.weight)
            if i.weight is not None
            else left * Fraction(i.max_points) / shared
            for i in counting
        }
        known_counting = [i for i in counting if points[i.id] is not None]
        current[category.id] = weighted_average(known_counting, weight, points)
        final[category.id] = weighted_average(counting, weight, points)

    def total(percents: dict[int, Fraction | None]) -> Fraction | None:
        counted = [(Fraction(c.weight), percents[c.id]) for c in categories]
        counted = [(weight, percent) for weight, percent in counted if percent is not None]
        weights = sum(weight for weight, _ in counted)
        if not counted:
            return None
        if weights == 0:
            return sum(percent for _, percent in counted) / len(counted)
        return sum(weight * percent for weight, percent in counted) / weights

    return (
        cents(total(current)),
        cents(total(final)),
        {key: cents(value) for key, value in current.items()},
        {key: cents(value) for key, value in final.items()},
        dropped,
    )


def random_course(rng: random.Random) -> tuple[list[CategorySpec], list[ItemSpec]]:
    categories, items = [], []
    for n in range(rng.randint(1, 4)):
        weight, drop = rng.choice((0, 2, 5, 17, 20, 36)), rng.choice((0, 0, 1, 2))
        categories.append(CategorySpec(n, f"category {n}", Decimal(weight), drop))
        for _ in range(rng.randint(1, 5)):
            own = rng.choice((None, None, None, "0", "2", "2.5", "5"))
            items.append(
                ItemSpec(
                    id=len(items),
                    category=n,
                    max_points=Decimal(rng.choice(("1", "2.5", "3", "7", "10", "12", "100"))),
                    weight=None if own is None else Decimal(own),
                    due_at=rng.choice((None, END - timedelta(days=1), END + timedelta(days=1))),
                    released=rng.random() < 0.8,
                )
            )
    return categories, items


def test_it_agrees_with_the_rules_done_plainly_in_fractions() -> None:
    """Random courses and scores: the engine's one-pass arithmetic gives what the rules say."""
    rng = random.Random(541)
    for _ in range(300):
        categories, items = random_course(rng)
        marks = {}
        for item in items:
            roll = rng.random()
            if roll < 0.15:
                marks[item.id] = Mark(1, item.id, None, excused=True)
            elif roll < 0.8:
                hundredths = rng.randint(0, int(item.max_points * 100))
                marks[item.id] = Mark(1, item.id, Decimal(hundredths).scaleb(-2))
        handed_in = {item.id for item in items if rng.random() < 0.1}
        released_only = rng.random() < 0.3
        grade = student_grade(
            student=1, categories=categories, items=items, marks=marks, handed_in=handed_in,
            now=END, released_only=released_only,
        )  # fmt: skip
        assert (
            shown(grade.current),
            shown(grade.final),
            {key: shown(value) for key, value in grade.categories_current.items()},
            {key: shown(value) for key, value in grade.categories_final.items()},
            {item for item, item_grade in grade.items.items() if item_grade.dropped},
        ) == plainly(categories, items, marks, handed_in, released_only)

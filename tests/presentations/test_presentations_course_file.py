"""The ``papers``, ``presentations`` and ``reviews`` sections of the course file: what they
create, that loading the same file again or the course's own dump changes nothing, and the
errors of bad sections, each with its file, line and key.

Every file here is the small course below, or a variation of it written by a function.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.utils import timezone

from coursesite.course_file.dump import course_file_dump
from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.models import Course
from grading.models import RubricEvaluation
from presentations.models import PresentationPolicy, PresentationSlot, SlotRole

pytestmark = pytest.mark.django_db

Document = dict[str, Any]


def meeting(kind: str, day: str, start: str = "16:00", end: str = "17:10") -> dict[str, str]:
    return {"kind": kind, "date": day, "start": start, "end": end}


def a_paper(key: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "title": f"The {key} paper", "authors": "A. Author", "year": 2015} | more


COURSE: Document = {
    "course": {
        "slug": "papers-fall2024",
        "code": "COMP541",
        "title": "Deep Learning",
        "term": "Fall 2024",
        "time_zone": "Europe/Istanbul",
        "starts_on": "2024-10-07",
        "ends_on": "2025-01-26",
    },
    "people": [
        {"username": "aerdem", "name": "Aykut Erdem", "role": "instructor"},
        {"username": "abond", "name": "Andrew Bond", "role": "ta"},
        *(
            {"username": f"student0{n}", "name": f"Student {n}", "role": "student"}
            for n in range(1, 5)
        ),
    ],
    "grading": [
        {
            "category": "Paper Presentations",
            "weight": 60,
            "items": [{"slug": "paper-presentation", "title": "Paper presentation", "points": 100}],
        },
        {
            "category": "Paper Reviews",
            "weight": 40,
            "items": [
                {"slug": "review-w05", "title": "Review (week 5)", "points": 10},
                {"slug": "review-w06", "title": "Review (week 6)", "points": 10},
            ],
        },
    ],
    "rubrics": [
        {
            "slug": "overview",
            "title": "Overview of a paper",
            "criteria": [{"title": "Clarity", "points": 10}],
        },
    ],
    "papers": [
        a_paper("alexnet", week=5, review="review-w05"),
        a_paper("dropout", week=6, review="review-w06"),
        a_paper("batchnorm", week=7),
        a_paper("resnet"),
    ],
    "presentations": {
        "item": "paper-presentation",
        "presenters_per_role": 1,
        "seed": 7,
        "roles": [
            {"role": "overview", "minutes": 14, "rubric": "overview"},
            {"role": "strengths", "minutes": 8},
            {"role": "weaknesses", "minutes": 8},
            {"role": "qa", "minutes": 10},
        ],
        "blocked": [
            {"student": "student02", "weeks": [5, 7], "reason": "A conference"},
            {"student": "student03", "weeks": [6]},
        ],
    },
    "reviews": {"late": "accepted", "late_penalty_percent": 20, "shown_after_deadline": True},
    "schedule": [
        {
            "week": 5,
            "topic": "Convolutional Neural Networks",
            # The problem session is not the week's last meeting.
            "meetings": [
                meeting("lecture", "2024-11-05"),
                meeting("problem_session", "2024-11-06", "14:30", "15:40"),
                meeting("lecture", "2024-11-07"),
            ],
        },
        {
            "week": 6,
            "topic": "Understanding CNNs",
            "meetings": [meeting("lecture", "2024-11-12"), meeting("lecture", "2024-11-14")],
        },
    ],
}  # fmt: skip


def write(directory: Path, change: Callable[[Document], None] | None = None) -> Path:
    document = copy.deepcopy(COURSE)
    if change is not None:
        change(document)
    path = directory / "course.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load(directory: Path, change: Callable[[Document], None] | None = None) -> Course:
    course, _ = course_file_load(path=write(directory, change))
    return course


def facts(course: Course) -> dict[str, Any]:
    """What the sections wrote, by natural keys, so that two loads of a course compare."""
    policy = PresentationPolicy.objects.filter(course=course).select_related("item").first()
    return {
        "policy": policy
        and (
            policy.item.slug if policy.item else None,
            policy.presenters_per_role,
            policy.seed,
            policy.late_reviews,
            policy.late_review_penalty_percent,
            policy.reviews_shown_after_deadline,
        ),
        "roles": [
            (plan.role, plan.minutes, plan.rubric.slug if plan.rubric else None, plan.position)
            for plan in course.role_plans.select_related("rubric")
        ],
        "blocked": sorted(
            (row.student.username, row.week, row.reason)
            for row in course.blocked_weeks.select_related("student")
        ),
        "slots": sorted(
            (
                slot.paper.key,
                slot.date,
                [(role.role, role.minutes, role.position) for role in slot.roles.all()],
            )
            for slot in PresentationSlot.objects.filter(paper__course=course)
            .select_related("paper")
            .prefetch_related("roles")
        ),
        "papers": [
            (paper.key, paper.week, paper.review_item.slug if paper.review_item else None)
            for paper in course.papers.select_related("review_item").order_by("key")
        ],
    }


ROLES = [
    ("overview", 14, 0),
    ("strengths", 8, 1),
    ("weaknesses", 8, 2),
    ("qa", 10, 3),
]


def test_it_writes_the_policy_roles_blocked_weeks_slots_and_review_items(tmp_path: Path) -> None:
    assert facts(load(tmp_path)) == {
        "policy": ("paper-presentation", 1, 7, "accepted", Decimal(20), True),
        "roles": [
            ("overview", 14, "overview", 0),
            ("strengths", 8, None, 1),
            ("weaknesses", 8, None, 2),
            ("qa", 10, None, 3),
        ],
        "blocked": [
            ("student02", 5, "A conference"),
            ("student02", 7, "A conference"),
            ("student03", 6, ""),
        ],
        # The week's problem session, else its last meeting, else no date; no week, no slot.
        "slots": [
            ("alexnet", date(2024, 11, 6), ROLES),
            ("batchnorm", None, ROLES),
            ("dropout", date(2024, 11, 14), ROLES),
        ],
        "papers": [
            ("alexnet", 5, "review-w05"),
            ("batchnorm", 7, None),
            ("dropout", 6, "review-w06"),
            ("resnet", None, None),
        ],
    }


def test_it_changes_nothing_when_the_same_file_is_loaded_again(tmp_path: Path) -> None:
    load(tmp_path)
    _, changes = course_file_load(path=write(tmp_path))
    assert changes.summary() == "nothing changed"


def test_it_plans_the_course_s_four_roles_when_the_file_lists_none(tmp_path: Path) -> None:
    def no_roles(document: Document) -> None:
        del document["presentations"]["roles"]

    course = load(tmp_path, no_roles)
    assert facts(course)["roles"] == [(role, minutes, None, p) for role, minutes, p in ROLES]


def test_it_moves_a_slot_with_its_paper_and_drops_a_role_no_longer_planned(
    tmp_path: Path,
) -> None:
    course = load(tmp_path)

    def changed(document: Document) -> None:
        document["papers"][0]["week"] = 6
        document["papers"][1]["week"] = 5
        del document["presentations"]["roles"][2]

    _, changes = course_file_load(path=write(tmp_path, changed))
    roles = [("overview", 14, 0), ("strengths", 8, 1), ("qa", 10, 2)]
    assert facts(course)["slots"] == [
        ("alexnet", date(2024, 11, 14), roles),
        ("batchnorm", None, roles),
        ("dropout", date(2024, 11, 6), roles),
    ]
    assert changes.deleted["slot roles"] == 3


def test_it_removes_the_slots_roles_and_blocked_weeks_of_a_file_without_the_section(
    tmp_path: Path,
) -> None:
    course = load(tmp_path)

    def without(document: Document) -> None:
        del document["presentations"]

    load(tmp_path, without)
    found = facts(course)
    assert (found["roles"], found["blocked"], found["slots"]) == ([], [], [])
    # The reviews section keeps its part of the policy; the presentations' part is the default.
    assert found["policy"] == (None, 1, 0, "accepted", Decimal(20), True)


def test_it_gives_the_reviews_defaults_to_a_file_without_the_reviews_section(
    tmp_path: Path,
) -> None:
    course = load(tmp_path)

    def without(document: Document) -> None:
        del document["reviews"]

    load(tmp_path, without)
    assert facts(course)["policy"] == ("paper-presentation", 1, 7, "accepted", Decimal(0), False)


def test_it_refuses_to_drop_a_role_whose_presenters_were_evaluated(tmp_path: Path) -> None:
    course = load(tmp_path)
    role = SlotRole.objects.get(slot__paper__key="alexnet", role="weaknesses")
    now = timezone.now()
    RubricEvaluation.objects.create(
        rubric=course.rubrics.get(slug="overview"),
        item=course.items.get(slug="paper-presentation"),
        subject=role.subject,
        grader=User.objects.get(username="aerdem"),
        points=Decimal(8),
        created_at=now,
        updated_at=now,
    )
    before = facts(course)

    def fewer_roles(document: Document) -> None:
        del document["presentations"]["roles"][2]

    with pytest.raises(CourseFileError, match="alexnet: Weaknesses, whose presenters staff"):
        course_file_load(path=write(tmp_path, fewer_roles))
    assert facts(course) == before


# The dump: load(dump(course)) is the course.


def dumped(course: Course, directory: Path) -> Path:
    path = directory / "dump.yaml"
    path.write_text(course_file_dump(course), encoding="utf-8")
    return path


def test_it_dumps_the_sections_as_the_file_wrote_them(tmp_path: Path) -> None:
    document = yaml.safe_load(course_file_dump(load(tmp_path)))
    assert document["presentations"] == COURSE["presentations"]
    assert document["reviews"] == COURSE["reviews"]
    by_key = sorted(document["papers"], key=lambda paper: paper["key"])
    assert by_key == sorted(COURSE["papers"], key=lambda paper: paper["key"])


def test_it_reloads_its_dump_without_a_change(tmp_path: Path) -> None:
    course = load(tmp_path)
    first = course_file_dump(course)
    _, changes = course_file_load(path=dumped(course, tmp_path))
    assert changes.summary() == "nothing changed"
    assert course_file_dump(course) == first


def test_it_recreates_a_deleted_course_from_its_dump(tmp_path: Path) -> None:
    course = load(tmp_path)
    before = facts(course)
    path = dumped(course, tmp_path)
    course.items.all().delete()
    course.delete()
    again, _ = course_file_load(path=path)
    assert facts(again) == before


def test_it_dumps_a_course_without_presentations_without_the_sections(tmp_path: Path) -> None:
    def bare(document: Document) -> None:
        del document["presentations"], document["reviews"]

    document = yaml.safe_load(course_file_dump(load(tmp_path, bare)))
    assert "presentations" not in document
    assert "reviews" not in document


# Bad sections: FILE:LINE: key.path: problem, with LINE where the fault is (a week in a list
# of weeks has no line of its own: the line is that of its list).


def set_in(path: tuple[Any, ...], value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


ROLE = ("presentations", "roles", 1)
BLOCK = ("presentations", "blocked", 0)

BAD_FILES = [
    (
        set_in((*ROLE, "role"), "summary"),
        "presentations.roles[1].role",
        "'summary' is not a role (use one of overview, strengths, weaknesses, qa)",
        "role: summary",
    ),
    (
        set_in((*ROLE, "role"), "overview"),
        "presentations.roles[1].role",
        "the role 'overview' is listed twice",
        "role: overview",
    ),
    (
        set_in((*ROLE, "minutes"), 0),
        "presentations.roles[1].minutes",
        "0 is not between 1 and 240",
        "minutes: 0",
    ),
    (
        set_in((*ROLE, "rubric"), "strengths"),
        "presentations.roles[1].rubric",
        "no rubric of the file has the slug 'strengths' (the file's rubrics: overview)",
        "rubric: strengths",
    ),
    (
        set_in(("presentations", "roles", 3, "rubric"), "overview"),
        "presentations.roles[3].rubric",
        "'qa' belongs to the whole class; only a presenting role",
        "rubric: overview",
    ),
    (
        set_in((*BLOCK, "student"), "abond"),
        "presentations.blocked[0].student",
        "'abond' is not a student of the course (see people)",
        "student: abond",
    ),
    (
        set_in((*BLOCK, "weeks"), [5, 0]),
        "presentations.blocked[0].weeks[1]",
        "0 is not between 1 and 60",
        "weeks:",
    ),
    (
        set_in((*BLOCK, "weeks"), [5, "five"]),
        "presentations.blocked[0].weeks[1]",
        "expected a whole number, found 'five'",
        "weeks:",
    ),
    (
        set_in((*BLOCK, "weeks"), [5, 5]),
        "presentations.blocked[0].weeks[1]",
        "'student02' is blocked in week 5 twice",
        "weeks:",
    ),
    (
        set_in(("presentations", "presenters_per_role"), 0),
        "presentations.presenters_per_role",
        "0 is not between 1 and 100",
        "presenters_per_role: 0",
    ),
    (
        set_in(("presentations", "item"), "final-exam"),
        "presentations.item",
        "no graded item has the slug 'final-exam'",
        "item: final-exam",
    ),
    (
        set_in(("papers", 1, "review"), "review-w05"),
        "papers[1].review",
        "the item 'review-w05' already holds the reviews of the paper 'alexnet'",
        "review: review-w05",
    ),
    (
        set_in(("reviews", "late"), "sometimes"),
        "reviews.late",
        "'sometimes' is not a rule for late reviews (use one of accepted, refused)",
        "late: sometimes",
    ),
    (
        set_in(("reviews", "late"), "refused"),
        "reviews.late_penalty_percent",
        "a penalty on late reviews needs late: accepted",
        "late_penalty_percent: 20",
    ),
    (
        set_in(("reviews", "late_penalty_percent"), 120),
        "reviews.late_penalty_percent",
        "120 is out of range (0 to 100)",
        "late_penalty_percent: 120",
    ),
]


@pytest.mark.parametrize(("change", "key", "problem", "line_holds"), BAD_FILES)
def test_it_refuses_a_bad_section_naming_the_file_line_and_key(
    change: Callable[[Document], None], key: str, problem: str, line_holds: str, tmp_path: Path
) -> None:
    course = load(tmp_path)
    before = facts(course)
    path = write(tmp_path, change)
    with pytest.raises(CourseFileError) as caught:
        course_file_load(path=path)
    error = caught.value
    assert str(error).startswith(f"{path}:{error.line}: {key}: "), str(error)
    assert problem in error.problem
    assert error.line is not None
    assert line_holds in path.read_text(encoding="utf-8").splitlines()[error.line - 1]
    assert facts(course) == before

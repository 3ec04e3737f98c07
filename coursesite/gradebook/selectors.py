"""Reads of the gradebook: the course's structure and Scores loaded in a fixed number of queries,
whatever the number of students, then handed to the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.models import User
from django.utils import timezone

from coursesite.answers import next_moment
from coursesite.gradebook import engine
from coursesite.gradebook.work import course_work
from coursesite.models import (
    Course,
    GradeCategory,
    GradeItem,
    LetterGrade,
    Membership,
    RegradeRequest,
    RegradeState,
    Role,
    Score,
    ScoreChange,
)


class ScoreCell(NamedTuple):
    """What the gradebook shows of a Score. A plain tuple: building thousands of model
    instances would cost more than computing the whole course's grades."""

    student_id: int
    item_id: int
    points: Decimal | None
    excused: bool
    comment: str
    late_penalty_percent: Decimal


SCORE_CELL_FIELDS = (
    "student_id",
    "item_id",
    "points",
    "excused",
    "comment",
    "late_penalty_percent",
)


@dataclass
class GradebookRow:
    """One student's line: who they are, their Scores by item id, and their computed grade."""

    membership: Membership
    scores: dict[int, ScoreCell]
    grade: engine.StudentGrade

    @property
    def student(self) -> User:
        return self.membership.user


@dataclass
class Gradebook:
    course: Course
    categories: list[GradeCategory]
    items: list[GradeItem]
    letter_scale: list[LetterGrade]
    rows: list[GradebookRow]
    released_only: bool
    # The next moment the gradebook changes by the clock alone: work due then turns missing.
    changes_at: datetime | None = None

    def sections(self) -> list[str]:
        return sorted({row.membership.section for row in self.rows if row.membership.section})


def category_specs(categories: list[GradeCategory]) -> list[engine.CategorySpec]:
    return [engine.CategorySpec(c.pk, c.name, c.weight, c.drop_lowest) for c in categories]


def item_specs(items: list[GradeItem]) -> list[engine.ItemSpec]:
    return [
        engine.ItemSpec(
            id=item.pk,
            category=item.category_id,
            max_points=item.max_points,
            weight=item.weight,
            due_at=item.due_at,
            released=item.released,
            required_to_pass=item.required_to_pass,
            pass_mark=item.pass_mark,
        )
        for item in items
    ]


def course_items(course: Course) -> list[GradeItem]:
    """The course's items in the gradebook's column order: by category, then position."""
    return list(
        GradeItem.objects.filter(course=course)
        .select_related("category")
        .order_by("category__position", "category__name", "position", "pk")
    )


def gradebook_read(
    *,
    course: Course,
    released_only: bool = False,
    section: str | None = None,
    student: User | None = None,
    now: datetime | None = None,
) -> Gradebook:
    """The course's gradebook; ``released_only`` is a student's view (unreleased items pending).

    ``section`` and ``student`` narrow the rows. Five queries, whatever the course's size, and
    one or more per registered work source (``gradebook.work``).
    """
    memberships = Membership.objects.filter(course=course, role=Role.STUDENT).select_related("user")
    if section:
        memberships = memberships.filter(section=section)
    if student is not None:
        memberships = memberships.filter(user=student)
    members = list(memberships.order_by("user__last_name", "user__first_name", "user__username"))
    student_ids = [m.user_id for m in members]
    categories = list(GradeCategory.objects.filter(course=course).order_by("position", "name"))
    items = course_items(course)
    scale = list(LetterGrade.objects.filter(course=course).order_by("-minimum"))
    scores: dict[int, dict[int, ScoreCell]] = {pk: {} for pk in student_ids}
    score_rows = Score.objects.filter(item__course=course)
    if student is not None or section:
        score_rows = score_rows.filter(student_id__in=student_ids)
    for values in score_rows.values_list(*SCORE_CELL_FIELDS):
        score = ScoreCell(*values)
        if score.student_id in scores:
            scores[score.student_id][score.item_id] = score
    work = course_work(course)
    grades = engine.course_grades(
        students=student_ids,
        categories=category_specs(categories),
        items=item_specs(items),
        marks=[
            engine.Mark(s.student_id, s.item_id, s.points, s.excused)
            for by_item in scores.values()
            for s in by_item.values()
        ],
        extensions=work.extensions,
        handed_in=work.handed_in,
        now=now or timezone.now(),
        letter_scale=[engine.LetterStep(step.letter, step.minimum) for step in scale],
        released_only=released_only,
    )
    rows = [GradebookRow(m, scores[m.user_id], grades[m.user_id]) for m in members]
    changes_at = next_moment([*(item.due_at for item in items), *work.extensions.values()])
    return Gradebook(course, categories, items, scale, rows, released_only, changes_at)


def score_history(*, score: Score) -> list[ScoreChange]:
    """Every change to a Score, oldest first, with who made it."""
    return list(score.changes.select_related("changed_by").order_by("changed_at", "pk"))


def regrade_requests_open(*, course: Course) -> list[RegradeRequest]:
    """The course's regrade requests waiting for an answer, oldest first."""
    return list(
        RegradeRequest.objects.filter(item__course=course, state=RegradeState.OPEN)
        .select_related("item", "student")
        .order_by("created_at", "pk")
    )


def regrade_requests_list(
    *, course: Course, student: User | None = None, state: str | None = None
) -> list[RegradeRequest]:
    """The course's regrade requests, newest first: all of them, or one student's; ``state``
    keeps only the open or the answered ones. One query."""
    requests = RegradeRequest.objects.filter(item__course=course)
    if student is not None:
        requests = requests.filter(student=student)
    if state:
        requests = requests.filter(state=state)
    return list(
        requests.select_related("item", "student", "answered_by").order_by("-created_at", "-pk")
    )

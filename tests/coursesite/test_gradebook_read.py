"""``gradebook_read``: a course's gradebook from the database, in a fixed number of queries.

The personas' course has one category (Quizzes, 100%) with the quiz (10 points, due Oct 9 2024
23:59 in Istanbul); tests add what they need. Every read is at NOW, after the quiz's due date.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AbstractUser

from coursesite.gradebook.engine import (
    GRADED,
    MISSING,
    MISSING_WORK,
    PENDING,
    PENDING_GRADING,
    REQUIRED_NOT_PASSED,
)
from coursesite.gradebook.selectors import Gradebook, GradebookRow, gradebook_read
from coursesite.gradebook.services import item_release
from coursesite.groups import group_create, group_invite, invitation_accept
from coursesite.models import (
    Course,
    GradeCategory,
    GradeItem,
    LetterGrade,
    Membership,
    Role,
    Score,
    ScoreSource,
)
from coursesite.services import score_record
from submissions.models import Extension, Submission
from tests.conftest import Personas, make_member

ZONE = ZoneInfo("Europe/Istanbul")
NOW = datetime(2024, 11, 1, 12, 0, tzinfo=ZONE)
# Students with their users, the categories, the items, the letter scale, the Scores; then the
# submissions app's hand-in source: group memberships, live extensions, active hand-ins; and
# the presentations app's: submitted reviews.
QUERIES = 9


def record(
    item: GradeItem, student: AbstractUser, points: str, *, by: AbstractUser, **extra: Any
) -> Score:
    return score_record(
        item=item, student=student, points=Decimal(points), source=ScoreSource.MANUAL,
        changed_by=by, reason="entered by hand", **extra,
    )  # fmt: skip


def hand_in(item: GradeItem, student: AbstractUser, *, active: bool = True) -> Submission:
    return Submission.objects.create(
        item=item, student=student, submitted_by=student, submitted_at=NOW, file="handins/a.zip",
        filename="a.zip", sha256="0" * 64, size=1, kind="zip", active=active,
    )  # fmt: skip


def extend(item: GradeItem, student: AbstractUser, due: str, *, by: AbstractUser) -> Extension:
    return Extension.objects.create(
        item=item, student=student, due_at=datetime.fromisoformat(due).replace(tzinfo=ZONE),
        reason="ill", granted_by=by, granted_at=NOW,
    )  # fmt: skip


def enrol(course: Course, first: int, count: int, section: str = "") -> list[AbstractUser]:
    students = [
        make_member(course, f"student{n:02}", Role.STUDENT) for n in range(first, first + count)
    ]
    Membership.objects.filter(user__in=students, course=course).update(section=section)
    return students


def row_of(book: Gradebook, student: AbstractUser) -> GradebookRow:
    (row,) = (row for row in book.rows if row.student.pk == student.pk)
    return row


def homework(course: Course, slug: str, **fields: Any) -> GradeItem:
    category, _ = GradeCategory.objects.get_or_create(
        course=course, name="Homework", defaults={"weight": Decimal(0)}
    )
    return GradeItem.objects.create(
        course=course, category=category, slug=slug, title=slug, max_points=Decimal(100), **fields
    )


def give_work(personas: Personas, students: list[AbstractUser], report: GradeItem) -> None:
    """A score, a hand-in waiting to be graded and an extension for every student."""
    for student in students:
        record(personas.quiz, student, "7", by=personas.alice)
        hand_in(report, student)
        extend(report, student, "2024-11-20 23:59", by=personas.alice)


def test_it_reads_a_course_in_the_same_queries_for_3_and_30_students(
    personas: Personas, django_assert_num_queries
) -> None:
    course = personas.course
    report = homework(course, "report", due_at=datetime(2024, 10, 20, 23, 59, tzinfo=ZONE))
    few = [personas.carol, *enrol(course, 1, 2, "S1")]
    give_work(personas, few, report)
    with django_assert_num_queries(QUERIES):
        book = gradebook_read(course=course, now=NOW)
        seen = [
            (row.student.username, row.membership.section, len(row.scores)) for row in book.rows
        ]
    assert len(seen) == 3
    give_work(personas, enrol(course, 3, 27, "S2"), report)
    with django_assert_num_queries(QUERIES):
        book = gradebook_read(course=course, now=NOW)
        seen = [
            (row.student.username, row.membership.section, len(row.scores)) for row in book.rows
        ]
    assert len(seen) == 30
    assert {row.grade.items[report.pk].state for row in book.rows} == {PENDING}
    for narrowed in ({"section": "S2"}, {"student": personas.carol}, {"released_only": True}):
        with django_assert_num_queries(QUERIES):
            gradebook_read(course=course, now=NOW, **narrowed)


def test_it_never_counts_another_courses_scores(personas: Personas) -> None:
    """Carol is a student of both courses; each gradebook has only its own items' scores."""
    other = personas.other_course
    Membership.objects.create(course=other, user=personas.carol, role=Role.STUDENT)
    olga = make_member(other, "olga", Role.INSTRUCTOR)
    other_quiz = homework(other, "quiz", due_at=personas.quiz.due_at)
    record(personas.quiz, personas.carol, "9", by=personas.alice)
    record(other_quiz, personas.carol, "20", by=olga)
    record(other_quiz, personas.dave, "100", by=olga)

    book = gradebook_read(course=personas.course, now=NOW)
    assert [row.student.username for row in book.rows] == ["carol"]
    (row,) = book.rows
    assert set(row.scores) == set(row.grade.items) == {personas.quiz.pk}
    assert (str(row.grade.final), str(row.grade.items[personas.quiz.pk].points)) == (
        "90.00",
        "9.00",
    )

    other_book = gradebook_read(course=other, now=NOW)
    assert [r.student.username for r in other_book.rows] == ["carol", "dave"]
    assert {r.student.username: set(r.scores) for r in other_book.rows} == {
        "carol": {other_quiz.pk},
        "dave": {other_quiz.pk},
    }
    assert str(row_of(other_book, personas.carol).grade.final) == "20.00"


def test_it_narrows_the_rows_to_a_section_or_a_student(personas: Personas) -> None:
    erin, frank = enrol(personas.course, 1, 2)
    Membership.objects.filter(user=personas.carol).update(section="S1")
    Membership.objects.filter(user=erin).update(section="S2")
    Membership.objects.filter(user=frank).update(section="S1")
    for student, points in ((personas.carol, "9"), (erin, "5"), (frank, "3")):
        record(personas.quiz, student, points, by=personas.alice)

    def finals(**narrowed: Any) -> dict[str, str]:
        book = gradebook_read(course=personas.course, now=NOW, **narrowed)
        return {row.student.username: str(row.grade.final) for row in book.rows}

    assert finals() == {"carol": "90.00", "student01": "50.00", "student02": "30.00"}
    assert finals(section="S1") == {"carol": "90.00", "student02": "30.00"}
    assert finals(student=erin) == {"student01": "50.00"}
    assert finals(section="S2", student=personas.carol) == {}
    assert finals(student=personas.dave) == {}
    assert finals(student=personas.alice) == {}


def no_work(personas: Personas) -> None:
    return None


def live_extension(personas: Personas) -> None:
    extend(personas.quiz, personas.carol, "2024-11-05 23:59", by=personas.alice)


def passed_extension(personas: Personas) -> None:
    extend(personas.quiz, personas.carol, "2024-10-20 23:59", by=personas.alice)


def revoked_extension(personas: Personas) -> None:
    extension = extend(personas.quiz, personas.carol, "2024-11-05 23:59", by=personas.alice)
    Extension.objects.filter(pk=extension.pk).update(revoked_at=NOW, revoked_by=personas.alice)


def active_hand_in(personas: Personas) -> None:
    hand_in(personas.quiz, personas.carol)


def inactive_hand_in(personas: Personas) -> None:
    hand_in(personas.quiz, personas.carol, active=False)


def another_students_work(personas: Personas) -> None:
    (erin,) = enrol(personas.course, 1, 1)
    hand_in(personas.quiz, erin)
    extend(personas.quiz, erin, "2024-11-05 23:59", by=personas.alice)


@pytest.mark.parametrize(
    ("work", "state", "flags"),
    [
        (no_work, MISSING, [MISSING_WORK]),
        (live_extension, PENDING, []),
        (passed_extension, MISSING, [MISSING_WORK]),
        (revoked_extension, MISSING, [MISSING_WORK]),
        (active_hand_in, PENDING, [PENDING_GRADING]),
        (inactive_hand_in, MISSING, [MISSING_WORK]),
        (another_students_work, MISSING, [MISSING_WORK]),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_it_tells_missing_from_pending_by_extensions_and_hand_ins(
    personas: Personas, work, state: str, flags: list[str]
) -> None:
    """Carol has no score on the quiz, due before NOW: what the submissions app knows decides."""
    work(personas)
    row = row_of(gradebook_read(course=personas.course, now=NOW), personas.carol)
    assert (row.grade.items[personas.quiz.pk].state, row.grade.flags) == (state, flags)
    # Missing counts 0 in both totals; pending leaves current and counts 0 in final.
    current = None if row.grade.current is None else str(row.grade.current)
    assert (current, str(row.grade.final)) == ("0.00" if state == MISSING else None, "0.00")


def test_it_counts_a_groups_hand_in_for_each_member(personas: Personas) -> None:
    erin, _frank = enrol(personas.course, 1, 2)
    report = homework(personas.course, "report", due_at=datetime(2024, 10, 20, 23, 59, tzinfo=ZONE))
    group = group_create(course=personas.course, founder=personas.carol, name="Neurons")
    invitation_accept(
        invitation=group_invite(group=group, invited_by=personas.carol, invited=erin), by=erin
    )
    Submission.objects.create(
        item=report, group=group, submitted_by=erin, submitted_at=NOW, file="handins/r.zip",
        filename="r.zip", sha256="1" * 64, size=1, kind="zip",
    )  # fmt: skip
    book = gradebook_read(course=personas.course, now=NOW)
    states = {row.student.username: row.grade.items[report.pk].state for row in book.rows}
    assert states == {"carol": PENDING, "student01": PENDING, "student02": MISSING}


def test_it_grades_with_the_courses_weights_drops_and_letters(personas: Personas) -> None:
    """Quizzes 40% (two of 10 points, drop the lowest; the first required, pass mark 5),
    Homework 60% (hw1 of 100 with its own 45%, hw2 sharing the other 15).

    Carol: quiz 4 (dropped, but below the pass mark), quiz2 9 -> 90%; hw1 80, hw2 60 ->
    (45 x 80 + 15 x 60) / 60 = 75%; total (40 x 90 + 60 x 75) / 100 = 81.00, a B.
    """
    course = personas.course
    GradeCategory.objects.filter(pk=personas.quiz.category_id).update(weight=40, drop_lowest=1)
    GradeItem.objects.filter(pk=personas.quiz.pk).update(required_to_pass=True, pass_mark=5)
    quiz2 = GradeItem.objects.create(
        course=course, category_id=personas.quiz.category_id, slug="quiz2", title="Quiz 2",
        max_points=Decimal(10), due_at=personas.quiz.due_at, position=1,
    )  # fmt: skip
    hw1 = homework(course, "hw1", weight=Decimal(45))
    hw2 = homework(course, "hw2")
    GradeCategory.objects.filter(name="Homework").update(weight=60)
    for letter, minimum in (("A", 90), ("B", 80), ("F", 0)):
        LetterGrade.objects.create(course=course, letter=letter, minimum=minimum)
    for item, points in ((personas.quiz, "4"), (quiz2, "9"), (hw1, "80"), (hw2, "60")):
        record(item, personas.carol, points, by=personas.alice)

    grade = row_of(gradebook_read(course=course, now=NOW), personas.carol).grade
    categories = {c.name: c.pk for c in GradeCategory.objects.filter(course=course)}
    assert (str(grade.final), grade.letter, grade.flags) == ("81.00", "B", [REQUIRED_NOT_PASSED])
    assert grade.items[personas.quiz.pk].dropped
    assert {name: str(grade.categories_final[pk]) for name, pk in categories.items()} == {
        "Quizzes": "90.00",
        "Homework": "75.00",
    }


def test_it_uses_the_points_of_a_late_score_as_they_are(personas: Personas) -> None:
    """9 of 10 handed in late by 20% was recorded as 7.2: the gradebook counts 7.2, once."""
    record(personas.quiz, personas.carol, "7.2", by=personas.alice,
           late_penalty_percent=Decimal(20))  # fmt: skip
    row = row_of(gradebook_read(course=personas.course, now=NOW), personas.carol)
    item = row.grade.items[personas.quiz.pk]
    assert (str(item.points), str(item.percent), str(row.grade.final)) == ("7.20", "72.00", "72.00")
    assert row.scores[personas.quiz.pk].late_penalty_percent == Decimal(20)


def test_it_shows_a_student_only_released_items(personas: Personas) -> None:
    record(personas.quiz, personas.carol, "8", by=personas.alice)
    GradeItem.objects.filter(pk=personas.quiz.pk).update(released=False)

    def quiz_of(released_only: bool) -> tuple[str, str | None, str]:
        row = row_of(
            gradebook_read(course=personas.course, now=NOW, released_only=released_only),
            personas.carol,
        )
        item = row.grade.items[personas.quiz.pk]
        return item.state, None if item.points is None else str(item.points), str(row.grade.final)

    assert quiz_of(released_only=False) == (GRADED, "8.00", "80.00")
    assert quiz_of(released_only=True) == (PENDING, None, "0.00")
    item_release(item=GradeItem.objects.get(pk=personas.quiz.pk), released=True)
    assert quiz_of(released_only=True) == (GRADED, "8.00", "80.00")

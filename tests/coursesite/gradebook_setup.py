"""A small semester for the gradebook API's tests, on top of the personas' course.

Weights: Quizzes 20 (the quiz, 10 points, due in the past, not released), Assignments 80 (A1,
100 points, due in the past, released; A2, 100 points, due next month, not released).
Carol (section 01) has 8 on the quiz with a comment and 90 on A1 after a 10% late penalty;
Erin Erdem (section 02) is excused from the quiz and has nothing on A1 (missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.utils import timezone
from rest_framework.test import APIClient

from coursesite.gradebook.services import item_release
from coursesite.models import GradeCategory, GradeItem, LetterGrade, Membership, Role, ScoreSource
from coursesite.services import score_record
from tests.conftest import Personas, make_member

COURSE = "/api/v1/courses/dl-fall2024"


@dataclass
class Semester:
    personas: Personas
    erin: AbstractUser
    quiz: GradeItem
    a1: GradeItem
    a2: GradeItem

    def client(self, user: AbstractUser | None) -> APIClient:
        return self.personas.client(user)


def enrol(personas: Personas, username: str, **fields: str) -> AbstractUser:
    """A student of the personas' course, with a name, a section and SIS ids."""
    user = make_member(personas.course, username, Role.STUDENT)
    Membership.objects.filter(course=personas.course, user=user).update(
        section=fields.pop("section", ""),
        sis_user_id=fields.pop("sis_user_id", ""),
        sis_login_id=fields.pop("sis_login_id", ""),
    )
    if fields:
        for name, value in fields.items():
            setattr(user, name, value)
        user.save()
    return user


def record(item: GradeItem, student: AbstractUser, points: Decimal | None, **extra) -> None:
    score_record(
        item=item, student=student, points=points, source=ScoreSource.MANUAL,
        changed_by=None, reason="set up", **extra,
    )  # fmt: skip


def semester(personas: Personas) -> Semester:
    course = personas.course
    GradeCategory.objects.filter(course=course, name="Quizzes").update(weight=Decimal(20))
    assignments = GradeCategory.objects.create(
        course=course, name="Assignments", weight=Decimal(80), position=1
    )
    a1 = GradeItem.objects.create(
        course=course, category=assignments, slug="a1", title="A1: MLP", max_points=Decimal(100),
        due_at=timezone.now() - timedelta(days=3), position=1,
    )  # fmt: skip
    a2 = GradeItem.objects.create(
        course=course, category=assignments, slug="a2", title="A2: CNN", max_points=Decimal(100),
        due_at=timezone.now() + timedelta(days=30), position=2,
    )  # fmt: skip
    LetterGrade.objects.create(course=course, letter="A", minimum=Decimal(85))
    LetterGrade.objects.create(course=course, letter="C", minimum=Decimal(50))
    LetterGrade.objects.create(course=course, letter="F", minimum=Decimal(0))
    Membership.objects.filter(course=course, user=personas.carol).update(
        section="01", sis_user_id="S1001", sis_login_id="carol@uni.example"
    )
    personas.carol.first_name, personas.carol.last_name = "Carol", "Chen"
    personas.carol.save()
    erin = enrol(
        personas, "erin", section="02", sis_user_id="S1002", first_name="Erin", last_name="Erdem"
    )
    record(personas.quiz, personas.carol, Decimal(8), comment="Good work")
    record(
        a1, personas.carol, Decimal(90), comment="Late by a day",
        late_penalty_percent=Decimal(10),
    )  # fmt: skip
    record(personas.quiz, erin, None, excused=True)
    item_release(item=a1, released=True)
    a1.refresh_from_db()
    return Semester(personas=personas, erin=erin, quiz=personas.quiz, a1=a1, a2=a2)

"""Paper fixtures: the personas' course with weekly review items, papers, a presentation policy
and slots whose roles the students hold.

Carol and Erin are students of the course; Frank is a third one who presents with Carol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from coursesite.models import Course, GradeCategory, GradeItem, Role
from presentations.models import (
    LateReviews,
    Paper,
    PaperReview,
    PresentationPolicy,
    PresentationSlot,
    Presenter,
    SlotRole,
)
from presentations.reviews import review_save, review_submit
from tests.conftest import Personas, make_member

ROLE_MINUTES = {"overview": 14, "strengths": 8, "weaknesses": 8, "qa": 10}
FULL_REVIEW = {
    "summary": "AlexNet trains a deep CNN on ImageNet with GPUs.",
    "strengths": "ReLUs and dropout make a large network trainable.",
    "weaknesses": "No study of which of its choices matter most.",
    "suggestions": "Ablate each choice on a smaller data set.",
    "questions": "Would batch normalization replace local response normalization?",
}


def review_item(course: Course, slug: str, due_at: datetime | None) -> GradeItem:
    category, _ = GradeCategory.objects.get_or_create(
        course=course, name="Paper Reviews", defaults={"weight": Decimal(5)}
    )
    return GradeItem.objects.create(
        course=course, category=category, slug=slug, title=f"Paper review ({slug})",
        max_points=Decimal(10), due_at=due_at,
    )  # fmt: skip


def paper(course: Course, key: str, week: int | None, item: GradeItem | None) -> Paper:
    return Paper.objects.create(
        course=course, key=key, title=f"The {key} paper", authors="A. Author and B. Author",
        year=2012, venue="NeurIPS", url=f"https://papers.example.org/{key}", week=week,
        review_item=item,
    )  # fmt: skip


def policy(course: Course, **fields: Any) -> PresentationPolicy:
    return PresentationPolicy.objects.create(course=course, **fields)


def slot(
    of: Paper, on: date | None, presenters: dict[str, list[User]] | None = None
) -> PresentationSlot:
    """A slot with the four roles of the course; ``presenters`` by role."""
    made = PresentationSlot.objects.create(paper=of, date=on)
    for position, (role, minutes) in enumerate(ROLE_MINUTES.items()):
        slot_role = SlotRole.objects.create(
            slot=made, role=role, minutes=minutes, position=position
        )
        for student in (presenters or {}).get(role, []):
            Presenter.objects.create(slot=made, slot_role=slot_role, student=student)
    return made


def written(of: Paper, student: User, now: datetime, **parts: str) -> PaperReview:
    """A draft with every part written (``parts`` change some)."""
    return review_save(paper=of, student=student, parts={**FULL_REVIEW, **parts}, now=now)


def submitted(of: Paper, student: User, now: datetime) -> PaperReview:
    return review_submit(review=written(of, student, now), now=now)


@dataclass
class Papers:
    """Three papers: AlexNet, whose reviews are due in two days; Dropout, whose reviews were due
    yesterday; ResNet, which has no review. The course accepts late reviews with a 20% penalty
    and does not show the class each other's reviews."""

    personas: Personas
    carol: User
    erin: User
    frank: User
    alexnet: Paper
    dropout: Paper
    resnet: Paper
    policy: PresentationPolicy

    @property
    def course(self) -> Course:
        return self.personas.course

    def policy_set(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self.policy, name, value)
        self.policy.save(update_fields=list(fields))


@pytest.fixture
def papers(personas: Personas) -> Papers:
    course = personas.course
    now = timezone.now()
    carol = cast(User, personas.carol)
    erin = cast(User, make_member(course, "erin", Role.STUDENT))
    frank = cast(User, make_member(course, "frank", Role.STUDENT))
    erin.first_name, erin.last_name = "Erin", "Yilmaz"
    erin.save(update_fields=["first_name", "last_name"])
    alexnet = paper(
        course, "alexnet", 5, review_item(course, "review-w05", now + timedelta(days=2))
    )
    dropout = paper(
        course, "dropout", 6, review_item(course, "review-w06", now - timedelta(days=1))
    )
    resnet = paper(course, "resnet", 7, None)
    slot(
        alexnet,
        date(2024, 11, 8),
        {"overview": [carol, frank], "strengths": [erin], "weaknesses": []},
    )
    slot(dropout, date(2024, 11, 15), {"weaknesses": [carol]})
    return Papers(
        personas=personas, carol=carol, erin=erin, frank=frank, alexnet=alexnet,
        dropout=dropout, resnet=resnet,
        policy=policy(
            course, late_reviews=LateReviews.ACCEPTED,
            late_review_penalty_percent=Decimal(20), reviews_shown_after_deadline=False,
        ),
    )  # fmt: skip

"""What rubric grading needs to know of presentations and reviews.

``role:N`` is a presentation role of a slot: its presenters share the points, scored with the
rubric the course plans for that role, and go to the course's presentation item. ``review:N``
is a submitted paper review, scored with its review item's rubric, less the course's late
penalty when it came late.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse

from coursesite.models import GradeItem
from grading.models import Rubric
from grading.rubrics import SubjectSource, Work, item_rubric, subject_pk
from presentations.models import (
    PRESENTING_ROLES,
    PaperReview,
    PresentationPolicy,
    RolePlan,
    SlotRole,
)
from presentations.reviews import PARTS, review_penalty_percent


def _pk(subject: str) -> int:
    return subject_pk(subject) or 0


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.username)


class RoleSource(SubjectSource):
    kind = "role"

    def claims(self, item: GradeItem) -> bool:
        return PresentationPolicy.objects.filter(course_id=item.course_id, item=item).exists()

    def _roles(self, item: GradeItem) -> list[SlotRole]:
        return list(
            SlotRole.objects.filter(
                slot__paper__course_id=item.course_id, role__in=PRESENTING_ROLES
            )
            .select_related("slot__paper")
            .prefetch_related("presenters__student")
            .order_by("slot__date", "slot__paper__week", "slot__paper__key", "position")
        )

    def _work(self, role: SlotRole) -> Work:
        presenters = list(role.presenters.all())
        names = ", ".join(_name(p.student) for p in presenters) or "nobody yet"
        when = f" on {role.slot.date:%b %d}" if role.slot.date else ""
        return Work(
            role.subject,
            f"{role.slot.paper.key}{when}: {role.get_role_display()} ({names})",
            tuple(p.student_id for p in presenters),
            role.slot.date,
        )

    def works(self, item: GradeItem) -> list[Work]:
        return [self._work(role) for role in self._roles(item) if role.presenters.all()]

    def work(self, item: GradeItem, subject: str) -> Work | None:
        role = (
            SlotRole.objects.filter(
                pk=_pk(subject),
                slot__paper__course_id=item.course_id,
                role__in=PRESENTING_ROLES,
            )
            .select_related("slot__paper")
            .prefetch_related("presenters__student")
            .first()
        )
        if role is None or not self.claims(item):
            return None
        return self._work(role)

    def rubric(self, item: GradeItem, subject: str) -> Rubric | None:
        role = SlotRole.objects.filter(pk=_pk(subject)).values_list("role", flat=True)
        plan = (
            RolePlan.objects.filter(course_id=item.course_id, role__in=role)
            .select_related("rubric")
            .first()
        )
        return plan.rubric if plan is not None and plan.rubric is not None else item_rubric(item)

    def context(self, item: GradeItem, subject: str) -> dict[str, Any]:
        role = SlotRole.objects.select_related("slot__paper").get(pk=_pk(subject))
        paper = role.slot.paper
        links = [(paper.title, paper.url)] if paper.url else []
        return {
            "parts": [("Role", f"{role.get_role_display()}, {role.minutes} minutes")],
            "links": links,
        }


class ReviewSource(SubjectSource):
    kind = "review"

    def claims(self, item: GradeItem) -> bool:
        return item.reviewed_papers.exists()

    def _reviews(self, item: GradeItem) -> Any:
        return (
            PaperReview.objects.filter(paper__review_item=item, submitted_at__isnull=False)
            .select_related("paper", "student")
            .order_by("submitted_at", "pk")
        )

    def _work(self, review: PaperReview) -> Work:
        late = " (late)" if review.late else ""
        return Work(
            review.subject,
            f"{_name(review.student)} on {review.paper.key}{late}",
            (review.student_id,),
        )

    def works(self, item: GradeItem) -> list[Work]:
        return [self._work(review) for review in self._reviews(item)]

    def work(self, item: GradeItem, subject: str) -> Work | None:
        review = self._reviews(item).filter(pk=_pk(subject)).first()
        return None if review is None else self._work(review)

    def penalty_percent(self, item: GradeItem, subject: str) -> Decimal:
        review = (
            PaperReview.objects.filter(pk=_pk(subject), late=True)
            .select_related("paper__course")
            .first()
        )
        return Decimal(0) if review is None else review_penalty_percent(review)

    def context(self, item: GradeItem, subject: str) -> dict[str, Any]:
        review = PaperReview.objects.select_related("paper").get(pk=_pk(subject))
        paper = review.paper
        return {
            "parts": [(part.label, getattr(review, part.name)) for part in PARTS],
            "links": [(paper.title, paper.url)] if paper.url else [],
            "page": reverse("review", args=[item.course.slug, paper.key]),
        }

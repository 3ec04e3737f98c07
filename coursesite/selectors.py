"""Reads of the course layer, with the joins their callers need."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from coursesite.models import Course, CourseEvent, GradeCategory, GradeItem, Membership, Role
from coursesite.permissions import courses_of


def course_list(*, user: User) -> QuerySet[Course]:
    """The caller's courses, newest term first, each annotated with the caller's ``role``."""
    role = Membership.objects.filter(course=OuterRef("pk"), user=user).values("role")[:1]
    return courses_of(user).annotate(role=Subquery(role)).order_by("-starts_on", "slug")


def course_detail(*, slug: str) -> Course:
    """A course with its schedule and grade structure loaded in a fixed handful of queries."""
    return (
        Course.objects.select_related("grace_policy")
        .prefetch_related(
            "lectures",
            Prefetch("events", queryset=CourseEvent.objects.select_related("item")),
            Prefetch(
                "categories",
                queryset=GradeCategory.objects.prefetch_related(
                    Prefetch("items", queryset=GradeItem.objects.order_by("position"))
                ),
            ),
        )
        .get(slug=slug)
    )


def course_student_find(*, course: Course, username: str) -> User | None:
    """The student of the course with this username, or None (unknown, or not a student)."""
    membership = (
        Membership.objects.select_related("user")
        .filter(course=course, role=Role.STUDENT, user__username=username)
        .first()
    )
    return membership.user if membership else None

"""Reads of hand-ins: a course's grace-day ledger, and who handed in what."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import QuerySet

from coursesite.models import Course, GradeItem, GroupMembership, Membership, ProjectGroup, Role
from submissions import grace
from submissions.models import Extension, Submission


def course_policy(course: Course) -> grace.Policy:
    policy = course.grace_policy
    return grace.Policy(
        time_zone=course.time_zone,
        pool_days=policy.pool_days,
        per_item_cap=policy.per_item_cap,
        slack=timedelta(minutes=policy.slack_minutes),
        partial_day=policy.partial_day,
        after_pool=policy.after_pool,
        penalty_percent_per_day=policy.penalty_percent_per_day,
        late_days_after_pool=policy.late_days_after_pool,
    )


def grace_ledger(*, course: Course) -> grace.GraceLedger:
    """Lateness and grace days of every student of the course, recomputed from the database.

    A group's hand-in and a group's extension count for each of its members. Six queries,
    whatever the size of the course.
    """
    students = list(
        Membership.objects.filter(course=course, role=Role.STUDENT).values_list(
            "user_id", flat=True
        )
    )
    enrolled = set(students)
    members: dict[int, list[int]] = defaultdict(list)
    for group_id, student_id in GroupMembership.objects.filter(course=course).values_list(
        "group_id", "student_id"
    ):
        members[group_id].append(student_id)
    items = [
        grace.Due(item=pk, due_at=due_at, uses_grace_days=uses)
        for pk, due_at, uses in GradeItem.objects.filter(course=course).values_list(
            "pk", "due_at", "uses_grace_days"
        )
    ]
    extensions = [
        grace.Extension(student=student, item=item, due_at=due_at)
        for student_id, group_id, item, due_at in Extension.objects.filter(
            item__course=course, revoked_at__isnull=True
        ).values_list("student_id", "group_id", "item_id", "due_at")
        for student in ([student_id] if student_id else members[group_id])
    ]
    handins = [
        grace.HandIn(student=student, item=item, submitted_at=submitted_at)
        for student_id, group_id, item, submitted_at in Submission.objects.filter(
            item__course=course, active=True
        ).values_list("student_id", "group_id", "item_id", "submitted_at")
        for student in ([student_id] if student_id else members[group_id])
        if student in enrolled
    ]
    return grace.grace_compute(
        policy=course_policy(course),
        items=items,
        students=students,
        extensions=extensions,
        handins=handins,
    )


def submissions_of(
    *, item: GradeItem, student: User | None = None, group: ProjectGroup | None = None
) -> QuerySet[Submission]:
    """The hand-ins of one student (or one group) for one item, newest first."""
    owner = {"student": student} if student else {"group": group}
    return (
        Submission.objects.filter(item=item, **owner)
        .select_related("submitted_by")
        .order_by("-submitted_at", "-pk")
    )


def group_of(*, course: Course, student: User) -> ProjectGroup | None:
    membership = (
        GroupMembership.objects.filter(course=course, student=student)
        .select_related("group")
        .first()
    )
    return membership.group if membership else None

"""Access to hand-ins: a student reaches their own (and their group's), staff reach their course's.

Anything else answers 404, whether it exists or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404

from coursesite.models import Course, GroupMembership, Membership
from coursesite.models.course import STAFF_ROLES
from coursesite.permissions import access_course
from submissions.models import Assignment, Deliverable, Submission

HandInItem = Assignment | Deliverable


def access_handin_item(
    user: User | AnonymousUser, course_slug: str, kind: type[HandInItem], pk: int
) -> tuple[Course, Membership | None, HandInItem]:
    """An assignment or deliverable of a course the user belongs to."""
    course, membership = access_course(user, course_slug)
    handin = kind.objects.select_related("item").filter(pk=pk, item__course=course).first()
    if handin is None:
        raise Http404
    handin.item.course = course  # the same row, read with its grace policy
    return course, membership, handin


def access_submission(user: User | AnonymousUser, pk: int) -> tuple[Submission, bool]:
    """A submission and whether the user is staff of its course.

    A student reaches a submission that is theirs or their project group's.
    """
    if not user.is_authenticated:
        raise Http404
    submission = (
        Submission.objects.select_related(
            "item__course__grace_policy", "student", "group", "submitted_by"
        )
        .filter(pk=pk)
        .first()
    )
    if submission is None:
        raise Http404
    staff = _reaches(user, submission.item.course_id, submission.student_id, submission.group_id)
    return submission, staff


@dataclass(frozen=True)
class Reach:
    """What a polled answer needs of a hand-in's access, read without loading any row whole:
    the course, and whether the user is its staff."""

    course_id: int
    staff: bool


def reach_submission(user: User | AnonymousUser, pk: int) -> Reach:
    """``access_submission``'s decision for a submission, in two or three small queries; the
    same 404 for everything it refuses."""
    if not user.is_authenticated:
        raise Http404
    row = (
        Submission.objects.filter(pk=pk)
        .values_list("item__course_id", "student_id", "group_id")
        .first()
    )
    if row is None:
        raise Http404
    course_id, student_id, group_id = row
    return Reach(course_id, _reaches(user, course_id, student_id, group_id))


def reach_handin_item(
    user: User | AnonymousUser, course_slug: str, kind: type[HandInItem], pk: int
) -> Reach:
    """``access_handin_item``'s decision for an assignment or deliverable, in two small
    queries; the same 404 for everything it refuses."""
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.filter(course__slug=course_slug, user=user, active=True)
        .values_list("course_id", "role")
        .first()
    )
    if membership is not None:
        course_id, staff = membership[0], membership[1] in STAFF_ROLES
    else:
        found = Course.objects.filter(slug=course_slug).values_list("pk", flat=True).first()
        if found is None or not user.is_superuser:
            raise Http404
        course_id, staff = found, True
    if not kind.objects.filter(pk=pk, item__course_id=course_id).exists():
        raise Http404
    return Reach(course_id, staff)


def _reaches(user: User, course_id: int, student_id: int | None, group_id: int | None) -> bool:
    """Whether the user, who reaches the hand-in, is staff of its course; Http404 when the user
    does not reach it: staff reach every hand-in of their course, a student their own and their
    group's."""
    if user.is_superuser:
        return True
    role = (
        Membership.objects.filter(course_id=course_id, user=user, active=True)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise Http404
    if role in STAFF_ROLES:
        return True
    if student_id == user.pk:
        return False
    if group_id and GroupMembership.objects.filter(group_id=group_id, student=user).exists():
        return False
    raise Http404

"""Access to hand-ins: a student reaches their own (and their group's), staff reach their course's.

Anything else answers 404, whether it exists or not.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404

from coursesite.models import Course, GroupMembership, Membership
from coursesite.permissions import access_course, is_course_staff
from submissions.models import Assignment, Deliverable, Submission

HandInItem = Assignment | Deliverable


def access_handin_item(
    user: User | AnonymousUser, course_slug: str, kind: type[HandInItem], pk: int
) -> tuple[Course, Membership | None, HandInItem]:
    """An assignment or deliverable of a course the user belongs to."""
    course, membership = access_course(user, course_slug)
    handin = kind.objects.select_related("item__course").filter(pk=pk, item__course=course).first()
    if handin is None:
        raise Http404
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
    course = submission.item.course
    if user.is_superuser:
        return submission, True
    membership = Membership.objects.filter(course=course, user=user, active=True).first()
    if membership is None:
        raise Http404
    if is_course_staff(membership):
        return submission, True
    if submission.student_id == user.pk:
        return submission, False
    if (
        submission.group_id
        and GroupMembership.objects.filter(group_id=submission.group_id, student=user).exists()
    ):
        return submission, False
    raise Http404

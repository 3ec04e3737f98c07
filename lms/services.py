"""Writes of the LMS link: linking an LMS course to a coursesite course, and tying an LMS user to
the coursesite user a launch matched them to."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from lti_tool.models import LtiContext, LtiUser

from coursesite.models import Course, Membership
from coursesite.models.course import STAFF_ROLES
from lms.models import CourseLink


def may_link(*, course: Course, user: User) -> bool:
    """Whether the user may link an LMS course to this course: an active instructor or TA of it,
    or a superuser."""
    return user.is_superuser or (
        Membership.objects.filter(
            course=course, user=user, role__in=STAFF_ROLES, active=True
        ).exists()
    )


@transaction.atomic
def course_link_create(*, context: LtiContext, course: Course, linked_by: User) -> CourseLink:
    """Link an LMS course to a coursesite course, recording who linked it and when.

    ``linked_by`` must be staff of ``course``. An LMS course is linked once: linking one that is
    already linked raises ``ValidationError`` (staff move a link in the instructor panel). The
    context's row is locked first, so two members of staff linking at once make one link.
    """
    LtiContext.objects.select_for_update().filter(pk=context.pk).first()
    if CourseLink.objects.filter(context=context).exists():
        raise ValidationError("This LMS course is already linked to a coursesite course.")
    if not may_link(course=course, user=linked_by):
        raise ValidationError(f"{linked_by} is not an instructor or TA of {course}.")
    link = CourseLink(context=context, course=course, linked_by=linked_by, linked_at=timezone.now())
    link.full_clean()
    link.save()
    return link


@transaction.atomic
def course_link_move(*, link: CourseLink, course: Course, moved_by: User) -> CourseLink:
    """Point an LMS course's link at another course, recording who moved it and when.

    ``moved_by`` must be staff of the new course; launches never move a link, staff do.
    """
    if link.course_id == course.pk:
        return link
    if not may_link(course=course, user=moved_by):
        raise ValidationError(f"{moved_by} is not an instructor or TA of {course}.")
    link.course = course
    link.linked_by = moved_by
    link.linked_at = timezone.now()
    link.full_clean()
    link.save(update_fields=["course", "linked_by", "linked_at"])
    return link


@transaction.atomic
def lti_user_tie(*, lti_user: LtiUser, user: User) -> LtiUser:
    """Tie the LMS user to the coursesite user a launch matched them to on a roster, so that the
    LMS's later reports about them (roster, scores) name the same person."""
    if lti_user.auth_user_id != user.pk:
        lti_user.auth_user = user
        lti_user.save(update_fields=["auth_user", "datetime_modified"])
    return lti_user

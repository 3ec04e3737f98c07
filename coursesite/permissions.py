"""Who may see and change what in a course. Every course a request touches comes through here.

An outsider gets the same 404 for a course that exists as for one that does not, so slugs cannot
be probed; a member whose role is too low gets 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from coursesite.models import Course, Membership, Role

ROLE_RANK = {Role.STUDENT: 0, Role.TA: 1, Role.INSTRUCTOR: 2}


def courses_of(user: User | AnonymousUser) -> QuerySet[Course]:
    """The courses a user belongs to; a superuser belongs to all of them. A membership made
    inactive (a student who dropped the course) opens nothing: its work stays for the staff."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_superuser:
        return Course.objects.all()
    return Course.objects.filter(memberships__user=user, memberships__active=True)


def access_course(
    user: User | AnonymousUser, slug: str, *, role: str = Role.STUDENT
) -> tuple[Course, Membership | None]:
    """The course and the user's membership in it, if the user holds at least ``role``.

    A superuser who is not a member gets the course with no membership.
    """
    if not user.is_authenticated:
        raise Http404
    membership = (
        # The grace policy with the course: every hand-in page and status reads it.
        Membership.objects.select_related("course__grace_policy")
        .filter(course__slug=slug, user=user, active=True)
        .first()
    )
    if membership is None:
        course = Course.objects.filter(slug=slug).first() if user.is_superuser else None
        if course is None:
            raise Http404
        return course, None
    if ROLE_RANK[Role(membership.role)] < ROLE_RANK[Role(role)]:
        raise PermissionDenied(f"This needs the role {Role(role).label} in the course.")
    return membership.course, membership


def is_course_staff(membership: Membership | None) -> bool:
    """An instructor or TA of the course. ``access_course`` gives a superuser who is not a member
    no membership, and a superuser sees the course as its staff do."""
    return membership is None or membership.is_staff_role


def request_user(request: Request) -> User:
    """The authenticated caller of a view that requires authentication."""
    if not isinstance(request.user, User):
        raise NotAuthenticated
    return request.user


class CoursePermission(BasePermission):
    """Reads the course from the URL (``course_slug``), checks the caller's role against the view's
    ``required_role`` (reads) or ``write_role`` (writes), and sets ``request.course``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        write = request.method not in SAFE_METHODS
        role = (
            getattr(view, "write_role", Role.INSTRUCTOR)
            if write
            else getattr(view, "required_role", Role.STUDENT)
        )
        course, membership = access_course(request.user, view.kwargs["course_slug"], role=role)
        request.course = course  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        return True


RELEASE = "release"
EXTENSIONS = "extensions"
REFUSED = {
    RELEASE: "This course lets only its instructors release scores.",
    EXTENSIONS: "This course lets only its instructors grant and revoke extensions.",
}


def staff_may(*, course: Course, user: User | AnonymousUser, power: str) -> bool:
    """Whether the user may release scores (``RELEASE``) or grant and revoke extensions
    (``EXTENSIONS``) in the course: its instructors (and superusers) always, its TAs when the
    course lets them (``Course.tas_release``, ``Course.tas_grant_extensions``)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    role = Membership.objects.filter(course=course, user=user, active=True).values_list(
        "role", flat=True
    )
    found = role.first()
    if found == Role.INSTRUCTOR:
        return True
    if found == Role.TA:
        return course.tas_release if power == RELEASE else course.tas_grant_extensions
    return False

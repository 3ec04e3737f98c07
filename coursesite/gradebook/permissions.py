"""Access to the gradebook's objects inside a course the caller already reached: an item, a
student, a regrade request. Anything not of the course answers 404."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import Http404

from coursesite.models import Course, GradeItem, RegradeRequest
from coursesite.selectors import course_student_find


def access_item(*, course: Course, slug: str) -> GradeItem:
    item = GradeItem.objects.select_related("course").filter(course=course, slug=slug).first()
    if item is None:
        raise Http404
    return item


def access_student(*, course: Course, username: str, caller: User, staff: bool) -> User:
    """A student of the course: staff reach every one, a student only themself."""
    if not staff and username != caller.username:
        raise Http404
    student = course_student_find(course=course, username=username)
    if student is None:
        raise Http404
    return student


def access_regrade_request(*, course: Course, pk: int) -> RegradeRequest:
    """A regrade request of the course, for its staff."""
    request = (
        RegradeRequest.objects.select_related("item__course", "student")
        .filter(pk=pk, item__course=course)
        .first()
    )
    if request is None:
        raise Http404
    return request

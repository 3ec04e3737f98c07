"""The web site's course pages: the caller's courses and a course's syllabus."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coursesite.models import Course, CourseEvent, Lecture, Role
from coursesite.permissions import access_course, is_course_staff
from coursesite.selectors import course_detail, course_list


def page_user(request: HttpRequest) -> User:
    """The caller of a page that requires login.

    Callers are wrapped in ``login_required``, so an anonymous caller never gets here.
    """
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


@dataclass
class Week:
    number: int
    meetings: list[Lecture] = field(default_factory=list)
    events: list[CourseEvent] = field(default_factory=list)


def weeks_of(course: Course) -> list[Week]:
    """The schedule as weeks; a week with only events (an exam week, a break) is kept too."""
    weeks: dict[int, Week] = {}
    for meeting in course.lectures.all():
        weeks.setdefault(meeting.week, Week(meeting.week)).meetings.append(meeting)
    for event in course.events.all():
        weeks.setdefault(event.week, Week(event.week)).events.append(event)
    return [weeks[number] for number in sorted(weeks)]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # ``role`` is the caller's role, annotated by course_list; a superuser may have none.
    courses = [
        (course, Role(role).label if (role := course.role) else "")  # type: ignore[attr-defined]
        for course in course_list(user=page_user(request))
    ]
    return render(request, "coursesite/home.html", {"courses": courses})


@login_required
def course_page(request: HttpRequest, slug: str) -> HttpResponse:
    _, membership = access_course(page_user(request), slug)
    course = course_detail(slug=slug)
    return render(
        request,
        "coursesite/course.html",
        {
            "course": course,
            "staff": is_course_staff(membership),
            "weeks": weeks_of(course),
            # Without importing the quizzes app: an item with a quiz has one.
            "has_quizzes": course.items.filter(quiz__isnull=False).exists(),
        },
    )

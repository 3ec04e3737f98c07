"""The web site's course pages: the caller's courses and a course's syllabus."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from coursesite.dashboard import iso, next_deadlines, student_dashboard
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


def staff_course(request: HttpRequest, slug: str) -> Course:
    """The course if the caller runs it; 404 for anyone else, its students included."""
    course, membership = access_course(page_user(request), slug)
    if not is_course_staff(membership):
        raise Http404
    return course


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
    user, now = page_user(request), timezone.now()
    courses = []
    for course in course_list(user=user):
        # The caller's role, annotated by course_list; a superuser may have none.
        role = course.role  # type: ignore[attr-defined]
        deadlines = (
            next_deadlines(course=course, student=user, now=now) if role == Role.STUDENT else []
        )
        courses.append((course, Role(role).label if role else "", deadlines))
    return render(request, "coursesite/home.html", {"courses": courses, "now": iso(now)})


@login_required
def course_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = page_user(request)
    _, membership = access_course(user, slug)
    course = course_detail(slug=slug)
    staff = is_course_staff(membership)
    return render(
        request,
        "coursesite/course.html",
        {
            "course": course,
            "staff": staff,
            "dashboard": None
            if staff
            else student_dashboard(course=course, student=user, now=timezone.now()),
            "weeks": weeks_of(course),
            # Without importing the quizzes app: an item with a quiz has one.
            "has_quizzes": course.items.filter(quiz__isnull=False).exists(),
        },
    )

"""The staff's pages of hand-ins: every hand-in of one item."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coursesite.models import Course
from submissions.models import Assignment
from submissions.permissions import HandInItem
from submissions.selectors import with_lateness


def render_staff_handin(
    request: HttpRequest, course: Course, handin: HandInItem, viewer: User
) -> HttpResponse:
    submissions = list(
        handin.item.submissions.select_related("student", "group", "submitted_by").order_by(
            "student__username", "group__name", "-submitted_at", "-pk"
        )
    )
    context = {
        "course": course,
        "handin": handin,
        "item": handin.item,
        "submissions": with_lateness(submissions, course, viewer, True),
        "is_assignment": isinstance(handin, Assignment),
    }
    return render(request, "submissions/handin_staff.html", context)

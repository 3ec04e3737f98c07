"""The hand-in pages: a student's work with their grace days, the hand-in page of an assignment or
a deliverable, and the staff's grace-day table of the whole course.

The lateness shown here comes from the same ledger and the same row shape as the API's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.views.decorators.http import require_http_methods, require_POST

from coursesite.errors import ApplicationError
from coursesite.models import Course
from coursesite.permissions import access_course, is_course_staff
from coursesite.selectors import course_student_find
from coursesite.views import page_user
from submissions.models import Assignment, Submission
from submissions.permissions import HandInItem, access_handin_item, access_submission
from submissions.selectors import (
    extension_due,
    grace_table,
    group_of,
    handin_url,
    submissions_of,
    with_lateness,
    with_results,
    work_rows,
)
from submissions.services import handin_refusal, submission_activate, submission_create

SHOWN_TIME = "D j M Y, H:i"


class HandInForm(forms.Form):
    file = forms.FileField(
        label="Your hand-in", error_messages={"required": "Choose the file to hand in."}
    )


def shown_time(when: datetime, course: Course) -> str:
    return formats.date_format(timezone.localtime(when, course.tz), SHOWN_TIME)


@login_required
def work_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = page_user(request)
    course, membership = access_course(user, slug)
    if is_course_staff(membership):
        return redirect("grace-days", slug=course.slug)
    return render_work(request, course, user, viewer_is_staff=False)


@login_required
def student_work_page(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    course, membership = access_course(page_user(request), slug)
    if not is_course_staff(membership):
        raise Http404
    student = course_student_find(course=course, username=username)
    if student is None:
        raise Http404
    return render_work(request, course, student, viewer_is_staff=True)


def render_work(
    request: HttpRequest, course: Course, student: User, *, viewer_is_staff: bool
) -> HttpResponse:
    rows, pool_left = work_rows(course=course, student=student)
    return render(
        request,
        "submissions/work.html",
        {
            "course": course,
            "student": student,
            "rows": rows,
            "pool_left": pool_left,
            "viewer_is_staff": viewer_is_staff,
        },
    )


@login_required
def grace_days_page(request: HttpRequest, slug: str) -> HttpResponse:
    course, membership = access_course(page_user(request), slug)
    if not is_course_staff(membership):
        raise Http404
    columns, rows = grace_table(course=course)
    return render(
        request,
        "submissions/grace_days.html",
        {"course": course, "columns": columns, "rows": rows},
    )


def form_submission(
    form: HandInForm, handin: HandInItem, owner: dict[str, Any], user: User
) -> Submission:
    """Hand in the form's file, or raise ApplicationError with what the student must change."""
    if not form.is_valid():
        raise ApplicationError(" ".join(map(str, form.errors["file"])))
    return submission_create(
        handin=handin, submitted_by=user, upload=form.cleaned_data["file"], **owner
    )


@login_required
@require_http_methods(["GET", "POST"])
def handin_page(request: HttpRequest, slug: str, pk: int, kind: type[HandInItem]) -> HttpResponse:
    user = page_user(request)
    course, membership, handin = access_handin_item(user, slug, kind, pk)
    if is_course_staff(membership):
        if request.method == "POST":
            raise Http404  # staff hand in for a student through the API, which names the student
        return render_staff_handin(request, course, handin, user)
    is_assignment = isinstance(handin, Assignment)
    group = None if is_assignment else group_of(course=course, student=user)
    # A student in no group hands a deliverable in for no group, which submission_create refuses.
    owner: dict[str, Any] = {"student": user} if is_assignment else {"group": group}
    form, error, status = HandInForm(), None, 200
    if request.method == "POST":
        form = HandInForm(request.POST, request.FILES)
        try:
            submission = form_submission(form, handin, owner, user)
        except ApplicationError as refused:
            error, status = refused.message, refused.status
        else:
            when = shown_time(submission.submitted_at, course)
            messages.success(
                request,
                f"Handed in {submission.filename} at {when} ({course.time_zone}). "
                "It is now your active hand-in.",
            )
            return redirect(handin_url(course, handin))
    history = list(submissions_of(item=handin.item, **owner)) if is_assignment or group else []
    context = {
        "course": course,
        "handin": handin,
        "item": handin.item,
        "group": group,
        "form": form,
        "error": error,
        "refusal": handin_refusal(handin=handin, group=group),
        "history": with_results(with_lateness(history, course, user, False), staff=False),
        "active": next((submission for submission in history if submission.active), None),
        "extended_due_at": extension_due(handin.item, user, group),
        "is_assignment": is_assignment,
    }
    return render(request, "submissions/handin.html", context, status=status)


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


@login_required
@require_POST
def activate_page(
    request: HttpRequest, slug: str, pk: int, submission_pk: int, kind: type[HandInItem]
) -> HttpResponse:
    user = page_user(request)
    course, _, handin = access_handin_item(user, slug, kind, pk)
    submission, _ = access_submission(user, submission_pk)
    if submission.item_id != handin.item_id:
        raise Http404
    submission_activate(submission=submission)
    messages.success(
        request,
        f"Your hand-in of {shown_time(submission.submitted_at, course)} ({course.time_zone}) is "
        "now the active one: it is graded, and its lateness counts.",
    )
    return redirect(handin_url(course, handin))

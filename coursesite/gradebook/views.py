"""The gradebook's pages: the staff's table of every student and item with its histograms, a
cell's score with its history, and a student's Grades page with its regrade requests.

Staff who ask for a student's page are sent to the gradebook, and students who ask for a staff
page to their Grades page; an outsider gets the same 404 as for a course that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from coursesite.gradebook import engine
from coursesite.gradebook.histogram import histogram_svg
from coursesite.gradebook.notes import ItemNote, item_notes
from coursesite.gradebook.permissions import access_item, access_student
from coursesite.gradebook.selectors import (
    Gradebook,
    GradebookRow,
    ScoreCell,
    gradebook_read,
    regrade_requests_list,
    regrade_requests_open,
    score_history,
)
from coursesite.gradebook.services import (
    item_release,
    regrade_deadline,
    regrade_request_create,
)
from coursesite.gradebook.table import Header, TableQuery, headers, lines, shown_rows
from coursesite.models import Course, GradeItem, Score, ScoreSource
from coursesite.permissions import REFUSED, RELEASE, access_course, is_course_staff, staff_may
from coursesite.services import score_record
from coursesite.views import page_user


class ScoreForm(forms.Form):
    points = forms.DecimalField(
        required=False, min_value=0, max_digits=8, decimal_places=2, label="Points"
    )
    excused = forms.BooleanField(required=False, label="Excused")
    comment = forms.CharField(
        required=False,
        label="Comment to the student",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reason = forms.CharField(
        max_length=300, label="Why the score changes", help_text="Kept in the score's history."
    )


class RegradeForm(forms.Form):
    part = forms.CharField(
        required=False,
        max_length=200,
        label="Which test or rubric criterion (optional)",
    )
    message = forms.CharField(
        label="What should be looked at again, and why",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Say what should be looked at again."},
    )


@dataclass
class Histogram:
    title: str
    svg: SafeString


@dataclass
class GradeLine:
    """An item on a student's Grades page, with the last moment to ask for its regrade."""

    item: GradeItem
    grade: engine.ItemGrade
    score: ScoreCell | None
    regrade_until: datetime | None
    regrade_open: bool


def staff_course(request: HttpRequest, slug: str) -> Course | None:
    """The course if the caller runs it; ``None`` for a student (their page is Grades)."""
    course, membership = access_course(page_user(request), slug)
    return course if is_course_staff(membership) else None


def histogram(title: str, ident: str, percents: list[Decimal]) -> Histogram:
    # histogram_svg escapes every text it writes, so its drawing can go into the page as is.
    return Histogram(title, mark_safe(histogram_svg(percents, title=title, ident=ident)))  # noqa: S308


def histograms(book: Gradebook, rows: list[GradebookRow]) -> list[Histogram]:
    """The final totals' distribution, then each item's over its graded scores."""
    drawn = [
        histogram(
            "Final totals",
            "histogram-final",
            [row.grade.final for row in rows if row.grade.final is not None],
        )
    ]
    for item in book.items:
        grades = [row.grade.items[item.pk] for row in rows]
        percents = [g.percent for g in grades if g.state == engine.GRADED and g.percent is not None]
        drawn.append(histogram(item.title, f"histogram-{item.slug}", percents))
    return drawn


def noted_headers(
    course: Course, book: Gradebook, columns: list[Header]
) -> list[tuple[Header, list[ItemNote]]]:
    """Each column heading with the notes the apps above write under an item's (one call for
    every item of the page)."""
    notes = item_notes(course, book.items)
    return [(column, notes.get(column.item.pk, []) if column.item else []) for column in columns]


def csv_export_url(course: Course) -> str:
    return reverse("api-gradebook-csv", kwargs={"course_slug": course.slug})


@login_required
def gradebook_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    if course is None:
        return redirect("grades", slug=slug)
    query = TableQuery.parse(request.GET)
    book = gradebook_read(course=course, released_only=query.student_view)
    rows = shown_rows(book, query)
    base = reverse("gradebook", args=[course.slug])
    context = {
        "course": course,
        "book": book,
        "query": query,
        "headers": noted_headers(course, book, headers(book, query, base)),
        "lines": lines(book, rows, base),
        "histograms": histograms(book, rows),
        "regrade_requests": regrade_requests_open(course=course),
        "student_view": query.query_string(student_view=True),
        "staff_view": query.query_string(student_view=False),
        "everyone": query.query_string(section="", search=""),
        "csv_url": csv_export_url(course),
        "back": query.query_string(),
    }
    return render(request, "coursesite/gradebook/gradebook.html", context)


def back_to_gradebook(course: Course, back: str) -> str:
    """The gradebook with the sort and filters the caller came from; only those parameters."""
    query = TableQuery.parse(QueryDict(back.removeprefix("?")))
    return reverse("gradebook", args=[course.slug]) + query.query_string()


@login_required
@require_POST
def release_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    if course is None:
        raise Http404
    if not staff_may(course=course, user=request.user, power=RELEASE):
        raise PermissionDenied(REFUSED[RELEASE])
    item = access_item(course=course, slug=request.POST.get("item", ""))
    released = request.POST.get("released") == "1"
    item_release(item=item, released=released)
    if released:
        messages.success(request, f"{item.title} is released: its students see their scores.")
    else:
        messages.success(request, f"{item.title} is hidden again from its students.")
    return redirect(back_to_gradebook(course, request.POST.get("back", "")))


def refusal_on_form(form: forms.Form, refused: ValidationError) -> None:
    """A service's refusal shown on the form: under the field it names, or above the form."""
    if not hasattr(refused, "error_dict"):
        form.add_error(None, refused)
        return
    for field, errors in refused.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def score_form_record(
    form: ScoreForm, *, item: GradeItem, student: User, score: Score | None, staff: User
) -> bool:
    """Record the form's score through ``score_record``; put its refusal on the form."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    # A comment or an excuse edited alone keeps the late penalty the points already carry.
    penalty = Decimal(0)
    if score is not None and score.points == data["points"]:
        penalty = score.late_penalty_percent
    try:
        score_record(
            item=item,
            student=student,
            points=data["points"],
            excused=data["excused"],
            source=ScoreSource.MANUAL,
            comment=data["comment"],
            late_penalty_percent=penalty,
            changed_by=staff,
            reason=data["reason"],
        )
    except ValidationError as refused:
        refusal_on_form(form, refused)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def score_page(request: HttpRequest, slug: str, item_slug: str, username: str) -> HttpResponse:
    course = staff_course(request, slug)
    if course is None:
        return redirect("grades", slug=slug)
    item = access_item(course=course, slug=item_slug)
    student = access_student(
        course=course, username=username, caller=page_user(request), staff=True
    )
    score = Score.objects.filter(item=item, student=student).first()
    if request.method == "POST":
        form = ScoreForm(request.POST)
        staff = page_user(request)
        if score_form_record(form, item=item, student=student, score=score, staff=staff):
            messages.success(request, f"Recorded {student.username}'s score on {item.title}.")
            return redirect(request.path)
    elif score is None:
        form = ScoreForm()
    else:
        form = ScoreForm(initial={f: getattr(score, f) for f in ("points", "excused", "comment")})
    context = {
        "course": course,
        "item": item,
        "student": student,
        "score": score,
        "history": score_history(score=score) if score else [],
        "form": form,
    }
    return render(request, "coursesite/gradebook/score.html", context)


def flag_sentences(row: GradebookRow, required: list[GradeItem]) -> list[str]:
    """The student's flags, in plain words."""
    sentences = []
    if required:
        marks = " and ".join(
            f"{item.title} (at least {floatformat(item.pass_mark, -2)} of "
            f"{floatformat(item.max_points, -2)} points)"
            for item in required
        )
        sentence = f"The course requires you to pass {marks}."
        if engine.REQUIRED_NOT_PASSED in row.grade.flags:
            them = "it" if len(required) == 1 else "all of them"
            sentence += (
                f" You have not passed {them} yet: without a pass you cannot pass the course, "
                "whatever your total."
            )
        sentences.append(sentence)
    if engine.MISSING_WORK in row.grade.flags:
        sentences.append("Some work is missing: it counts 0 towards your final total.")
    if engine.PENDING_GRADING in row.grade.flags:
        sentences.append("Some of your work is handed in and waiting to be graded.")
    return sentences


def grade_lines(course: Course, book: Gradebook, row: GradebookRow) -> list[GradeLine]:
    now, lines = timezone.now(), []
    for item in book.items:
        item.course = course  # the regrade deadline reads the course's window; no query per item
        until = regrade_deadline(item)
        is_open = item.released and (until is None or now <= until)
        lines.append(
            GradeLine(item, row.grade.items[item.pk], row.scores.get(item.pk), until, is_open)
        )
    return lines


@login_required
def grades_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = page_user(request)
    course, membership = access_course(user, slug)
    if is_course_staff(membership):
        return redirect("gradebook", slug=course.slug)
    book = gradebook_read(course=course, released_only=True, student=user)
    row = book.rows[0]
    required = [item for item in book.items if item.required_to_pass]
    context = {
        "course": course,
        "book": book,
        "row": row,
        "items": grade_lines(course, book, row),
        "categories": [
            (c, row.grade.categories_current[c.pk], row.grade.categories_final[c.pk])
            for c in book.categories
        ],
        "flags": flag_sentences(row, required),
        "regrade_requests": regrade_requests_list(course=course, student=user),
    }
    return render(request, "coursesite/gradebook/grades.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def regrade_page(request: HttpRequest, slug: str, item_slug: str) -> HttpResponse:
    user = page_user(request)
    course, membership = access_course(user, slug)
    if is_course_staff(membership):
        return redirect("gradebook", slug=course.slug)
    item = access_item(course=course, slug=item_slug)
    if not item.released:
        raise Http404
    form = RegradeForm(request.POST) if request.method == "POST" else RegradeForm()
    if request.method == "POST" and form.is_valid():
        try:
            regrade_request_create(
                item=item,
                student=user,
                message=form.cleaned_data["message"],
                part=form.cleaned_data["part"],
            )
        except ValidationError as refused:
            refusal_on_form(form, refused)
        else:
            messages.success(
                request, f"Your regrade request on {item.title} is sent to the course staff."
            )
            return redirect("grades", slug=course.slug)
    context = {
        "course": course,
        "item": item,
        "score": Score.objects.filter(item=item, student=user).first(),
        "form": form,
    }
    return render(request, "coursesite/gradebook/regrade.html", context)

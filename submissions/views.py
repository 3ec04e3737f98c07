"""The hand-in pages: a student's work with their grace days, the hand-in page of an assignment or
a deliverable, a hand-in's file, the staff's grace-day table of the whole course, a group's
project description, and a deliverable's peer contribution survey.

The lateness shown here comes from the same ledger and the same row shape as the API's.

A hand-in's file is served to whoever may see the hand-in, never as a page of this site: a single
PDF inline (so that the rubric scoring page can show it in a frame of this site), anything else
as a download, always sandboxed and never sniffed into another type.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.middleware import HtmxDetails

from coursesite.errors import ApplicationError
from coursesite.groups import (
    PROJECT_ABSTRACT_LIMIT,
    PROJECT_TITLE_LIMIT,
    access_group,
    group_project_describe,
    project_describe_refusal,
)
from coursesite.models import Course, GradeItem, ProjectGroup
from coursesite.permissions import access_course, is_course_staff
from coursesite.selectors import course_student_find
from coursesite.views import page_user
from grading.models import MemberAdjustment
from grading.rubrics import member_adjust
from submissions.explain import limit_facts, verdict_explained
from submissions.models import Assignment, Deliverable, Submission
from submissions.permissions import HandInItem, access_handin_item, access_submission
from submissions.plots import Curve, curve_svg, curve_title, training_curves
from submissions.rubric_sources import submission_is_pdf
from submissions.selectors import (
    GradingState,
    autograder_limits,
    extension_due,
    grace_table,
    grading_states,
    group_of,
    handin_lateness,
    handin_url,
    submissions_of,
    with_lateness,
    with_results,
    work_rows,
)
from submissions.services import handin_refusal, submission_activate, submission_create
from submissions.staff_views import render_staff_handin
from submissions.starters import starter_listing, starter_open
from submissions.survey import (
    COMMENT_LIMIT,
    ratings_submit,
    survey_results,
    survey_state,
    survey_window,
)

SHOWN_TIME = "D j M Y, H:i"
TOO_LONG = "Keep the %s to %%(limit_value)d characters (it has %%(show_value)d)."


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
        # A student's own grace days are on their work page.
        return redirect("work", slug=course.slug)
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


def handin_owner(
    course: Course, handin: HandInItem, user: User
) -> tuple[ProjectGroup | None, dict[str, Any]]:
    """The student's group (for a deliverable) and the owner their hand-ins are filed under."""
    if isinstance(handin, Assignment):
        return None, {"student": user}
    group = group_of(course=course, student=user)
    # A student in no group hands a deliverable in for no group, which submission_create refuses.
    return group, {"group": group}


def curve_markup(curve: Curve, number: int) -> SafeString:
    svg = curve_svg(curve, title=curve_title(curve), ident=f"curve-{number}")
    return mark_safe(svg)  # noqa: S308  (curve_svg escapes every text it writes)


def state_context(
    course: Course,
    handin: HandInItem,
    active: Submission | None,
    state: GradingState | None = None,
) -> dict[str, Any]:
    """What _handin_state.html shows of the active hand-in: its grading state (read unless
    given) and results, the verdict in words and the training curves its tests reported.
    ``active`` carries its result (``with_results``)."""
    context: dict[str, Any] = {
        "course": course,
        "handin": handin,
        "item": handin.item,
        "active": active,
        "state_url": reverse(
            "assignment-state" if isinstance(handin, Assignment) else "deliverable-state",
            args=[course.slug, handin.pk],
        ),
        "page_url": handin_url(course, handin),
    }
    if active is None:
        return context
    state = state or grading_states([active])[active.pk]
    result = active.result  # type: ignore[attr-defined]
    limits = state.limits or {}
    curves = training_curves((test.name, test.output) for test in result["tests"]) if result else []
    context |= {
        "state": state,
        "result": result,
        "elapsed": int((timezone.now() - state.started_at).total_seconds())
        if state.started_at
        else None,
        "explained": verdict_explained(result["verdict"], limits) if result else "",
        "curves": [(curve_markup(curve, n), curve) for n, curve in enumerate(curves, start=1)],
    }
    return context


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
    group, owner = handin_owner(course, handin, user)
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
    history = with_results(with_lateness(history, course, user, False), staff=False)
    active = next((submission for submission in history if submission.active), None)
    states = grading_states(history)
    lateness = handin_lateness(course=course, student=user, group=group, submissions=history)
    context = {
        "group": group,
        "form": form,
        "error": error,
        "refusal": handin_refusal(handin=handin, group=group),
        "rows": [(s, states[s.pk], lateness[s.pk]) for s in history],
        "limits": limit_facts(autograder_limits(handin.item) or {}),
        "starter": starter_facts(handin, timezone.now()),
        "extended_due_at": extension_due(handin.item, user, group),
        "is_assignment": is_assignment,
        "project_refusal": project_describe_refusal(group=group, by=user) if group else None,
        "project_limits": (PROJECT_TITLE_LIMIT, PROJECT_ABSTRACT_LIMIT),
    }
    context |= state_context(course, handin, active, states[active.pk] if active else None)
    return render(request, "submissions/handin.html", context, status=status)


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


@login_required
@require_safe
def handin_state_page(
    request: HtmxRequest, slug: str, pk: int, kind: type[HandInItem]
) -> HttpResponse:
    """The grading state and results of the student's active hand-in: the part of the hand-in
    page that the page's script asks for again (``HX-Request``) while grading goes on. Any other
    visit gets the whole page."""
    user = page_user(request)
    course, membership, handin = access_handin_item(user, slug, kind, pk)
    if not request.htmx:
        return redirect(handin_url(course, handin))
    if is_course_staff(membership):
        raise Http404  # staff follow every student's grading on the staff page
    group, owner = handin_owner(course, handin, user)
    owned = isinstance(handin, Assignment) or group is not None
    found = (
        list(submissions_of(item=handin.item, **owner).filter(active=True).select_related("item"))
        if owned
        else []
    )
    active = next(iter(with_results(found, staff=False)), None)
    response = render(
        request, "submissions/_handin_state.html", state_context(course, handin, active)
    )
    response["Cache-Control"] = "no-store"
    return response


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


@login_required
@require_safe
@xframe_options_sameorigin
def submission_file_page(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    """The stored file of a hand-in (see the module doc)."""
    submission, _ = access_submission(page_user(request), pk)
    if submission.item.course.slug != slug:
        raise Http404
    pdf = submission_is_pdf(submission)
    response = FileResponse(
        submission.file.open("rb"),
        content_type="application/pdf" if pdf else "application/octet-stream",
        as_attachment=not pdf,
        filename=submission.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


def starter_facts(handin: HandInItem, now: datetime) -> dict[str, Any] | None:
    """What the hand-in page says of an assignment's starter files: the zip's name, size and
    files once the assignment is open, or only that they come when it opens."""
    if not isinstance(handin, Assignment) or not handin.starter:
        return None
    if not starter_open(handin, now):
        return {"open": False}
    return {
        "open": True,
        "filename": f"{handin.item.slug}-starter.zip",
        "size": handin.starter.size,
        "names": starter_listing(handin),
    }


@login_required
@require_safe
def starter_file_page(request: HttpRequest, slug: str, pk: int) -> FileResponse:
    """An assignment's starter zip: for its course's staff at any time, for its students once
    the assignment opens."""
    _, membership, handin = access_handin_item(page_user(request), slug, Assignment, pk)
    assert isinstance(handin, Assignment)  # access_handin_item finds one of the kind asked for
    staff = is_course_staff(membership)
    if not handin.starter or not (staff or starter_open(handin, timezone.now())):
        raise Http404
    response = FileResponse(
        handin.starter.open("rb"),
        content_type="application/zip",
        as_attachment=True,
        filename=f"{handin.item.slug}-starter.zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


class ProjectForm(forms.Form):
    title = forms.CharField(
        max_length=PROJECT_TITLE_LIMIT,
        required=False,
        error_messages={"max_length": TOO_LONG % "title"},
    )
    abstract = forms.CharField(
        max_length=PROJECT_ABSTRACT_LIMIT,
        required=False,
        widget=forms.Textarea,
        error_messages={"max_length": TOO_LONG % "abstract"},
    )
    next = forms.CharField(required=False)


def form_error(form: forms.Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def back_to(request: HttpRequest, wanted: str, fallback: str) -> str:
    """``wanted`` when it is a page of this site, else ``fallback``."""
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe else fallback


@login_required
@require_POST
def group_project_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Describe a group's project (title and abstract), then go back to the page the form is on."""
    user = page_user(request)
    course, membership = access_course(user, slug)
    group = access_group(course=course, user=user, staff=is_course_staff(membership), pk=pk)
    form = ProjectForm(request.POST)
    back = back_to(request, request.POST.get("next", ""), reverse("work", args=[course.slug]))
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect(back)
    try:
        group_project_describe(
            group=group,
            by=user,
            title=form.cleaned_data["title"],
            abstract=form.cleaned_data["abstract"],
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Saved the title and abstract of {group.name}'s project.")
    return redirect(back)


RATING_CHOICES = [
    ("", "Choose a rating"),
    (1, "1: far less than a fair share"),
    (2, "2: less than a fair share"),
    (3, "3: a fair share"),
    (4, "4: more than a fair share"),
    (5, "5: far more than a fair share"),
]


def shown_name(user: User) -> str:
    return user.get_full_name() or user.username


class SurveyForm(forms.Form):
    """A rating and a comment for each other member of the student's group."""

    def __init__(self, *args: Any, mates: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mates = mates
        for mate in mates:
            self.fields[f"rating_{mate.pk}"] = forms.TypedChoiceField(
                choices=RATING_CHOICES,
                coerce=int,
                label=f"{shown_name(mate)}'s contribution",
                error_messages={"required": f"Rate {shown_name(mate)}'s contribution."},
            )
            self.fields[f"comment_{mate.pk}"] = forms.CharField(
                required=False,
                max_length=COMMENT_LIMIT,
                label=f"Comment on {shown_name(mate)}",
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def rows(self) -> list[tuple[User, forms.BoundField, forms.BoundField]]:
        return [(m, self[f"rating_{m.pk}"], self[f"comment_{m.pk}"]) for m in self.mates]

    def ratings(self) -> dict[int, tuple[int, str]]:
        data = self.cleaned_data
        return {m.pk: (data[f"rating_{m.pk}"], data[f"comment_{m.pk}"]) for m in self.mates}


class AdjustForm(forms.Form):
    """Staff's change of one member's points on one deliverable of their group."""

    group = forms.IntegerField(widget=forms.HiddenInput)
    student = forms.IntegerField(widget=forms.HiddenInput)
    item = forms.TypedChoiceField(coerce=int, label="Deliverable")
    points = forms.DecimalField(
        max_digits=8,
        decimal_places=2,
        label="Points (+/-; 0 removes the adjustment)",
        error_messages={"required": "Give the points to add (negative: to take off)."},
    )
    reason = forms.CharField(
        max_length=300,
        error_messages={"required": "Say why this member's points differ from the group's."},
    )

    def __init__(self, *args: Any, items: list[GradeItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(item.pk, item.title) for item in items]  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A student's answer to a deliverable's peer survey; staff see the results instead, and
    adjust a member's points from them."""
    user = page_user(request)
    course, membership, handin = access_handin_item(user, slug, Deliverable, pk)
    if not isinstance(handin, Deliverable) or not handin.peer_survey:
        raise Http404
    if is_course_staff(membership):
        return survey_staff_page(request, course, handin, user)
    state = survey_state(deliverable=handin, student=user)
    initial = {
        key: value
        for ratee, rating in state.ratings.items()
        for key, value in ((f"rating_{ratee}", rating.rating), (f"comment_{ratee}", rating.comment))
    }
    form = SurveyForm(initial=initial, mates=state.mates)
    error, status = None, 200
    if request.method == "POST":
        form = SurveyForm(request.POST, mates=state.mates)
        try:
            if not form.is_valid():
                raise ValidationError(form_error(form))
            ratings_submit(deliverable=handin, rater=user, ratings=form.ratings())
        except ValidationError as refused:
            error, status = " ".join(refused.messages), 400
        else:
            messages.success(request, "Your answer to the survey is saved; you may change it.")
            return redirect("survey", slug=course.slug, pk=handin.pk)
    answer = [(mate, state.ratings.get(mate.pk)) for mate in state.mates]
    context = {"course": course, "handin": handin, "item": handin.item, "state": state}
    context |= {"form": form, "error": error, "answer": answer}
    return render(request, "submissions/survey.html", context, status=status)


def survey_staff_page(
    request: HttpRequest, course: Course, deliverable: Deliverable, viewer: User
) -> HttpResponse:
    items = list(
        GradeItem.objects.filter(course=course, deliverable__isnull=False).order_by(
            F("due_at").asc(nulls_last=True), "position", "pk"
        )
    )
    error, status = None, 200
    if request.method == "POST":
        form = AdjustForm(request.POST, items=items)
        try:
            if not form.is_valid():
                raise ValidationError(form_error(form))
            data = form.cleaned_data
            group = ProjectGroup.objects.filter(course=course, pk=data["group"]).first()
            student = User.objects.filter(pk=data["student"]).first()
            if group is None or student is None:
                raise ValidationError("Choose a member of one of the course's groups.")
            member_adjust(
                item=next(item for item in items if item.pk == data["item"]),
                subject=f"group:{group.pk}",
                student=student,
                points=data["points"],
                reason=data["reason"],
                by=viewer,
            )
        except ValidationError as refused:
            error, status = " ".join(refused.messages), 400
        else:
            messages.success(request, f"Adjusted {shown_name(student)}'s points.")
            return redirect("survey", slug=course.slug, pk=deliverable.pk)
    results = survey_results(deliverable)
    adjusted: dict[tuple[str, int], list[MemberAdjustment]] = defaultdict(list)
    for adjustment in MemberAdjustment.objects.filter(
        item__in=items, subject__in=[f"group:{result.group.pk}" for result in results]
    ).select_related("item"):
        adjusted[(adjustment.subject, adjustment.student_id)].append(adjustment)
    rows = [
        (
            result,
            [
                (member, adjusted[(f"group:{result.group.pk}", member.student.pk)])
                for member in result.members
            ],
        )
        for result in results
    ]
    context = {
        "course": course,
        "handin": deliverable,
        "item": deliverable.item,
        "window": survey_window(deliverable),
        "rows": rows,
        "items": items,
        "error": error,
    }
    return render(request, "submissions/survey_staff.html", context, status=status)

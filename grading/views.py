"""The rubric scoring pages: the staff's queue of work to score, an item's work, one piece of work
with its rubric as a form, several pieces of one item on one page (a presentation slot's three
roles), the work on which graders disagree; and a student's released evaluations.

A form only parses what was typed: ``evaluation_save`` and ``member_adjust`` decide whether it
makes an evaluation or an adjustment, and their refusal is shown on the form with everything
typed kept. Several pieces saved together are saved in one transaction: one refusal and none is
saved. The staff's pages answer 404 to anyone who does not run the course, a student too; staff
who open a student's evaluation pages are sent to the scoring pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import BoundField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from coursesite.gradebook.permissions import access_item
from coursesite.gradebook.views import refusal_on_form
from coursesite.models import Course, GradeItem, Score
from coursesite.permissions import access_course, is_course_staff
from coursesite.views import page_user, staff_course
from grading.models import Criterion, Level, MemberAdjustment, RubricEvaluation
from grading.rubrics import (
    CriterionRow,
    MarkInput,
    Outcome,
    SubjectSource,
    Work,
    comparison,
    disagreements,
    evaluation_save,
    item_outcomes,
    item_rubric,
    items_scored_by_rubric,
    member_adjust,
    rubric_policy,
    source_of_item,
    student_evaluations,
)


def grader_name(user: User) -> str:
    return user.get_full_name() or user.username


# Access.


def scored_item(course: Course, item_slug: str) -> GradeItem:
    """An item of the course whose work is scored with a rubric."""
    item = access_item(course=course, slug=item_slug)
    if item_rubric(item) is None and source_of_item(item).kind == "student":
        raise Http404
    return item


def access_work(item: GradeItem, subject: str) -> tuple[SubjectSource, Work]:
    """A piece of the item's own work: a subject of another kind is no work of this item."""
    source = source_of_item(item)
    work = source.work(item, subject) if subject.partition(":")[0] == source.kind else None
    if work is None:
        raise Http404
    return source, work


# Where an item's scoring stands.


@dataclass(frozen=True)
class WorkState:
    work: Work
    outcome: Outcome | None
    mine: bool

    @property
    def unscored(self) -> bool:
        return self.outcome is None

    @property
    def graders(self) -> list[str]:
        return [grader_name(e.grader) for e in self.outcome.evaluations] if self.outcome else []


@dataclass(frozen=True)
class ItemProgress:
    item: GradeItem
    works: list[WorkState]

    @property
    def unscored(self) -> int:
        return sum(state.unscored for state in self.works)

    @property
    def mine(self) -> int:
        return sum(state.mine for state in self.works)

    @property
    def disagreements(self) -> int:
        return sum(bool(state.outcome and state.outcome.disagree) for state in self.works)

    @property
    def per_grader(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for state in self.works:
            for name in state.graders:
                counts[name] = counts.get(name, 0) + 1
        return sorted(counts.items())

    def next_unscored(self, after: str | None = None) -> WorkState | None:
        """The first unscored work after ``after`` in the scoring order, going round once."""
        subjects = [state.work.subject for state in self.works]
        start = subjects.index(after) + 1 if after in subjects else 0
        ordered = self.works[start:] + self.works[:start]
        return next((s for s in ordered if s.unscored and s.work.subject != after), None)


def item_progress(item: GradeItem, grader: User) -> ItemProgress:
    outcomes = item_outcomes(item)
    states = []
    for work in source_of_item(item).works(item):
        outcome = outcomes.get(work.subject)
        mine = outcome is not None and any(e.grader_id == grader.pk for e in outcome.evaluations)
        states.append(WorkState(work, outcome, mine))
    return ItemProgress(item, states)


def evaluate_url(item: GradeItem, subject: str) -> str:
    return reverse("evaluate", args=[item.course.slug, item.slug, subject])


def together_url(item: GradeItem, subjects: list[str]) -> str:
    base = reverse("evaluate-together", args=[item.course.slug, item.slug])
    # A subject's colon is left as it is: it is allowed in a query and reads better.
    return f"{base}?{urlencode([('subject', s) for s in subjects], safe=':')}"


# The rubric as a form.


@dataclass(frozen=True)
class LevelChoice:
    level: Level
    key: int
    checked: bool


@dataclass(frozen=True)
class CriterionInput:
    """One criterion of the form as the page draws it: its levels or its points, its comment."""

    criterion: Criterion
    levels: list[LevelChoice]
    choice: BoundField | None
    points: BoundField | None
    comment: BoundField


class RubricForm(forms.Form):
    """Per criterion a level (radio buttons) or free points, and a comment; an overall comment.

    Only the input's form is checked here: which criteria must be marked and with what is
    ``evaluation_save``'s to say.
    """

    comment = forms.CharField(
        required=False, label="Overall comment", widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, criteria: list[Criterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            levels = list(criterion.levels.all())
            if levels:
                self.fields[f"level-{criterion.pk}"] = forms.TypedChoiceField(
                    required=False,
                    coerce=int,
                    empty_value=None,
                    choices=[(level.pk, level.title) for level in levels],
                    label=criterion.title,
                )
            else:
                self.fields[f"points-{criterion.pk}"] = forms.DecimalField(
                    required=False,
                    label=f"Points for {criterion.title}",
                    widget=forms.NumberInput(
                        attrs={"step": "0.01", "min": "0", "max": criterion.max_points}
                    ),
                )
            self.fields[f"comment-{criterion.pk}"] = forms.CharField(
                required=False,
                label=f"Comment on {criterion.title}",
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def marks(self) -> list[MarkInput]:
        data = self.cleaned_data
        return [
            MarkInput(
                criterion_id=c.pk,
                level_id=data.get(f"level-{c.pk}"),
                points=data.get(f"points-{c.pk}"),
                comment=data[f"comment-{c.pk}"],
            )
            for c in self.criteria
        ]

    def inputs(self) -> list[CriterionInput]:
        drawn = []
        for criterion in self.criteria:
            name = f"level-{criterion.pk}"
            choice = self[name] if name in self.fields else None
            chosen = str(choice.value()) if choice is not None else None
            levels = [
                LevelChoice(level, key, str(level.pk) == chosen)
                for key, level in enumerate(criterion.levels.all(), start=1)
            ]
            points = None if choice is not None else self[f"points-{criterion.pk}"]
            drawn.append(
                CriterionInput(criterion, levels, choice, points, self[f"comment-{criterion.pk}"])
            )
        return drawn


def evaluation_initial(evaluation: RubricEvaluation) -> dict[str, Any]:
    """A form filled with an earlier evaluation."""
    initial: dict[str, Any] = {"comment": evaluation.comment}
    for mark in evaluation.marks.all():
        if mark.level_id is not None:
            initial[f"level-{mark.criterion_id}"] = mark.level_id
        else:
            initial[f"points-{mark.criterion_id}"] = mark.points
        initial[f"comment-{mark.criterion_id}"] = mark.comment
    return initial


@dataclass
class Sheet:
    """One piece of work on a scoring page: what the source shows of it, and its rubric form
    (``None`` when no rubric scores it)."""

    work: Work
    shown: dict[str, Any]
    form: RubricForm | None
    prefix: str
    rubric_points: Decimal

    @property
    def inputs(self) -> list[CriterionInput]:
        return self.form.inputs() if self.form is not None else []


def sheet_build(
    item: GradeItem,
    source: SubjectSource,
    work: Work,
    grader: User,
    data: Any = None,
    prefix: str = "",
) -> Sheet:
    """The work's sheet, filled with what was posted, else with the grader's own evaluation."""
    rubric = source.rubric(item, work.subject)
    shown = source.context(item, work.subject)
    if rubric is None:
        return Sheet(work, shown, None, prefix, Decimal(0))
    criteria = list(rubric.criteria.prefetch_related("levels").order_by("position", "pk"))
    mine = (
        RubricEvaluation.objects.filter(item=item, subject=work.subject, grader=grader)
        .prefetch_related("marks")
        .first()
    )
    form = RubricForm(
        data,
        criteria=criteria,
        initial=evaluation_initial(mine) if mine is not None else None,
        prefix=prefix or None,
    )
    return Sheet(work, shown, form, prefix, sum((c.max_points for c in criteria), Decimal(0)))


def sheet_save(sheet: Sheet, item: GradeItem, grader: User) -> bool:
    """Save the sheet's evaluation through ``evaluation_save``; put its refusal on the form."""
    form = sheet.form
    if form is None or not form.is_valid():
        return False
    try:
        evaluation_save(
            item=item,
            subject=sheet.work.subject,
            grader=grader,
            marks=form.marks(),
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as refused:
        refusal_on_form(form, refused)
        return False
    return True


# Evaluations side by side.


@dataclass(frozen=True)
class SideBySide:
    evaluations: list[RubricEvaluation]
    rows: list[CriterionRow]


def side_by_side(outcome: Outcome | None, *, without: int | None = None) -> SideBySide:
    """The work's evaluations criterion by criterion, but the one of grader ``without``."""
    if outcome is None:
        return SideBySide([], [])
    kept = [i for i, e in enumerate(outcome.evaluations) if e.grader_id != without]
    if not kept:
        return SideBySide([], [])
    rows = [
        CriterionRow(row.criterion, tuple(row.marks[i] for i in kept))
        for row in comparison(outcome)
    ]
    return SideBySide([outcome.evaluations[i] for i in kept], rows)


# Adjusting one member's share.


class AdjustmentForm(forms.Form):
    points = forms.DecimalField(
        label="Points to add",
        help_text="Negative takes off; 0 removes the member's adjustment.",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    reason = forms.CharField(max_length=300, label="Why this member's points differ")

    def __init__(self, *args: Any, members: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {member.pk: member for member in members}
        self.fields["student"] = forms.TypedChoiceField(
            coerce=int,
            label="Member",
            choices=[(m.pk, f"{grader_name(m)} ({m.username})") for m in members],
        )


def adjustment_record(form: AdjustmentForm, item: GradeItem, work: Work, by: User) -> bool:
    if not form.is_valid():
        return False
    try:
        member_adjust(
            item=item,
            subject=work.subject,
            student=form.members[form.cleaned_data["student"]],
            points=form.cleaned_data["points"],
            reason=form.cleaned_data["reason"],
            by=by,
        )
    except ValidationError as refused:
        refusal_on_form(form, refused)
        return False
    return True


# The staff's pages.


@login_required
def scoring_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    grader = page_user(request)
    queue = []
    for item in items_scored_by_rubric(course):
        progress = item_progress(item, grader)
        upcoming = progress.next_unscored()
        next_url = evaluate_url(item, upcoming.work.subject) if upcoming else None
        queue.append((progress, next_url))
    context = {
        "course": course,
        "queue": queue,
        "disagreements": sum(progress.disagreements for progress, _ in queue),
    }
    return render(request, "grading/scoring.html", context)


@login_required
def scoring_item_page(request: HttpRequest, slug: str, item_slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    item = scored_item(course, item_slug)
    progress = item_progress(item, page_user(request))
    unscored_only = request.GET.get("show") == "unscored"
    works = [s for s in progress.works if s.unscored or not unscored_only]
    context = {
        "course": course,
        "item": item,
        "progress": progress,
        "works": works,
        "unscored_only": unscored_only,
    }
    return render(request, "grading/scoring_item.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def evaluate_page(request: HttpRequest, slug: str, item_slug: str, subject: str) -> HttpResponse:
    course = staff_course(request, slug)
    item = scored_item(course, item_slug)
    source, work = access_work(item, subject)
    grader = page_user(request)
    action = request.POST.get("action", "save") if request.method == "POST" else None
    members = list(User.objects.filter(pk__in=work.students).order_by("username"))
    adjusting = action == "adjust" and len(members) > 1
    adjust_form = AdjustmentForm(request.POST if adjusting else None, members=members)
    if adjusting and adjustment_record(adjust_form, item, work, grader):
        messages.success(request, f"Adjusted a member's share of {work.label}.")
        return redirect(request.path)
    posted = request.POST if action in ("save", "next") else None
    sheet = sheet_build(item, source, work, grader, posted)
    if posted is not None and sheet_save(sheet, item, grader):
        messages.success(request, f"Saved your evaluation of {work.label}.")
        if action == "save":
            return redirect(request.path)
        upcoming = item_progress(item, grader).next_unscored(after=subject)
        if upcoming is None:
            messages.success(request, f"Every piece of work of {item.title} has an evaluation.")
            return redirect("scoring-item", slug=course.slug, item_slug=item.slug)
        return redirect(evaluate_url(item, upcoming.work.subject))
    outcome = item_outcomes(item).get(subject)
    subjects = [w.subject for w in source.works(item)]
    at = subjects.index(subject) if subject in subjects else None
    context = {
        "course": course,
        "item": item,
        "sheet": sheet,
        "outcome": outcome,
        "others": side_by_side(outcome, without=grader.pk),
        "position": None if at is None else at + 1,
        "count": len(subjects),
        "previous_url": evaluate_url(item, subjects[at - 1]) if at else None,
        "next_url": (
            evaluate_url(item, subjects[at + 1])
            if at is not None and at + 1 < len(subjects)
            else None
        ),
        "adjust_form": adjust_form if len(members) > 1 else None,
        "adjustments": MemberAdjustment.objects.filter(item=item, subject=subject)
        .select_related("student", "adjusted_by")
        .order_by("student__username"),
    }
    return render(request, "grading/evaluate.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def evaluate_together_page(request: HttpRequest, slug: str, item_slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    item = scored_item(course, item_slug)
    grader = page_user(request)
    subjects = list(dict.fromkeys(request.GET.getlist("subject")))
    if not subjects:
        raise Http404
    found = [access_work(item, subject) for subject in subjects]
    posted = request.POST if request.method == "POST" else None
    sheets = [
        sheet_build(item, source, work, grader, posted, prefix=work.subject.replace(":", "-"))
        for source, work in found
    ]
    if posted is not None:
        with transaction.atomic():
            # Every sheet is tried, so that each one's refusal shows; one refusal undoes them all.
            saved = [sheet_save(sheet, item, grader) for sheet in sheets]
            if not all(saved):
                transaction.set_rollback(True)
        if all(saved):
            messages.success(request, f"Saved your {len(sheets)} evaluations of {item.title}.")
            return redirect(together_url(item, subjects))
    context = {
        "course": course,
        "item": item,
        "sheets": sheets,
        "failed": posted is not None,
    }
    return render(request, "grading/evaluate_together.html", context)


@login_required
def rubric_disagreements_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    found = [
        (found, side_by_side(found.outcome), evaluate_url(found.item, found.work.subject))
        for found in disagreements(course)
    ]
    context = {"course": course, "found": found, "policy": rubric_policy(course)}
    return render(request, "grading/disagreements.html", context)


# A student's pages.


@login_required
def my_evaluations_page(request: HttpRequest, slug: str) -> HttpResponse:
    student = page_user(request)
    course, membership = access_course(student, slug)
    if is_course_staff(membership):
        return redirect("scoring", slug=course.slug)
    items = [
        (item, len(shown))
        for item in items_scored_by_rubric(course)
        if item.released and (shown := student_evaluations(item=item, student=student))
    ]
    return render(request, "grading/my_evaluations.html", {"course": course, "items": items})


@login_required
def my_evaluation_page(request: HttpRequest, slug: str, item_slug: str) -> HttpResponse:
    student = page_user(request)
    course, membership = access_course(student, slug)
    item = access_item(course=course, slug=item_slug)
    if is_course_staff(membership):
        return redirect("scoring-item", slug=course.slug, item_slug=item.slug)
    shown = student_evaluations(item=item, student=student)
    context = {
        "course": course,
        "item": item,
        "evaluations": [(e, e.evaluation.rubric.max_points) for e in shown],
        "score": Score.objects.filter(item=item, student=student).first()
        if item.released
        else None,
    }
    return render(request, "grading/my_evaluation.html", context)

"""The paper pages: the presentation schedule, a student's reviews with their deadlines and
states (staff: how many were submitted), and the page of one review, where a student writes,
saves and submits theirs and staff read everyone's.

Staff run the presentations from the schedule: they assign the presenters, place (pin) a
student in a role, unpin, remove or swap presenters, see whether each role is scored and open
a slot's roles on one scoring page. Each change is a POST that goes back to the schedule and
says there what changed, or why it was refused: the refusal is the service's, naming the rule
it keeps (``presentations.slots``). Assigning again when the slots have presenters needs a
ticked "replace" box, since it moves every presenter who is not pinned.

The rules of writing and reading reviews are ``presentations.reviews``'s; these pages only show
them. An outsider gets the same 404 as for a course that does not exist, and a student the same
404 for a staff action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from coursesite.gradebook.views import refusal_on_form
from coursesite.models import Course, GradeItem, Role
from coursesite.permissions import access_course, is_course_staff
from coursesite.views import page_user, staff_course
from grading.rubrics import Outcome, item_outcomes
from grading.views import grader_name as shown_name
from grading.views import together_url
from presentations.assignment import Rule
from presentations.models import (
    PRESENTING_ROLES,
    Paper,
    PaperReview,
    PresentationSlot,
    Presenter,
    SlotRole,
)
from presentations.permissions import access_paper
from presentations.reviews import (
    PART_NAMES,
    PARTS,
    deadline_passed,
    review_deadline,
    review_penalty_percent,
    review_policy,
    review_save,
    review_save_and_submit,
    review_state,
    review_writable,
    reviews_readable,
)
from presentations.selectors import (
    fellow_presenters,
    paper_schedule,
    presentations_of,
    presenter_find,
    review_counts,
    review_of,
    review_papers,
    slot_of,
)
from presentations.slots import (
    presenter_pin,
    presenter_remove,
    presenter_unpin,
    presenters_assign,
    presenters_swap,
)


class ReviewForm(forms.Form):
    """The five parts of a review, one text area each; the limits are the service's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for part in PARTS:
            self.fields[part.name] = forms.CharField(
                required=False,
                label=part.label,
                help_text=f"{part.hint} At most {part.max_length} characters.",
                widget=forms.Textarea(
                    attrs={"rows": 3 if part.name == "summary" else 6, "maxlength": part.max_length}
                ),
            )


@login_required
def presentations_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = page_user(request)
    course, membership = access_course(user, slug)
    papers = paper_schedule(course=course)
    if is_course_staff(membership):
        return render_staff_schedule(request, course, papers)
    mine = presentations_of(course=course, student=user)
    context = {
        "course": course,
        "rows": [(paper, slot_of(paper)) for paper in papers],
        "mine": [(presenter, fellow_presenters(presenter)) for presenter in mine],
        "my_roles": {presenter.slot_role_id for presenter in mine},
        "my_slots": {presenter.slot_id for presenter in mine},
    }
    return render(request, "presentations/presentations.html", context)


# The staff's schedule.


@dataclass(frozen=True)
class RoleRow:
    """A role of a slot as staff see it: its presenters, and its evaluations in the course's
    presentation item (``outcome`` None: nobody has evaluated it yet)."""

    role: SlotRole
    presenters: list[Presenter]
    outcome: Outcome | None

    @property
    def presenting(self) -> bool:
        return self.role.role in PRESENTING_ROLES

    @property
    def scored(self) -> bool:
        """Whether the item scores this role: a presenting role that has presenters."""
        return self.presenting and bool(self.presenters)

    @property
    def graders(self) -> list[str]:
        return [shown_name(e.grader) for e in self.outcome.evaluations] if self.outcome else []


@dataclass(frozen=True)
class StaffSlotRow:
    paper: Paper
    slot: PresentationSlot | None
    roles: list[RoleRow]
    score_url: str | None

    @property
    def presenting_roles(self) -> list[SlotRole]:
        return [row.role for row in self.roles if row.presenting]


def staff_rows(papers: list[Paper], item: GradeItem | None) -> list[StaffSlotRow]:
    """The papers with their slots' roles, presenters and scoring, as ``paper_schedule`` loaded
    them, and the evaluations of the presentation item in one read."""
    outcomes = item_outcomes(item) if item is not None else {}
    rows = []
    for paper in papers:
        slot = slot_of(paper)
        roles = [
            RoleRow(role, list(role.presenters.all()), outcomes.get(role.subject))
            for role in (slot.roles.all() if slot else [])
        ]
        scored = [row.role.subject for row in roles if row.scored]
        score_url = together_url(item, scored) if item is not None and scored else None
        rows.append(StaffSlotRow(paper, slot, roles, score_url))
    return rows


def presenter_label(presenter: Presenter, row: StaffSlotRow, role: SlotRole) -> str:
    student = presenter.student
    return f"{shown_name(student)} ({student.username}): {row.paper.key}, {role.get_role_display()}"


def render_staff_schedule(
    request: HttpRequest, course: Course, papers: list[Paper]
) -> HttpResponse:
    policy = review_policy(course)
    item = policy.item
    if item is not None:
        item.course = course
    rows = staff_rows(papers, item)
    presenters = [
        (presenter, presenter_label(presenter, row, role_row.role))
        for row in rows
        for role_row in row.roles
        for presenter in role_row.presenters
    ]
    context = {
        "course": course,
        "policy": policy,
        "item": item,
        "rows": rows,
        "presenters": presenters,
        "students": list(course_students(course)),
    }
    return render(request, "presentations/presentations_staff.html", context)


def course_students(course: Course) -> QuerySet[User]:
    return User.objects.filter(memberships__course=course, memberships__role=Role.STUDENT).order_by(
        "username"
    )


# The staff's changes to the presenters.


def refusal_text(refused: ValidationError) -> str:
    """A service's refusal as one sentence: each broken rule, as the service names it."""
    return "; ".join(message.rstrip(".") for message in refused.messages) + "."


def form_error(form: forms.Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


def back_to_schedule(course: Course, paper: Paper | None = None) -> HttpResponse:
    url = reverse("presentations", args=[course.slug])
    return redirect(f"{url}#paper-{paper.key}" if paper is not None else url)


def where(role: SlotRole) -> str:
    return f"the {role.get_role_display().lower()} of {role.slot.paper.title}"


def held_by(presenter: Presenter) -> str:
    return f"{shown_name(presenter.student)} ({where(presenter.slot_role)})"


class AssignForm(forms.Form):
    seed = forms.IntegerField(required=False, min_value=0)
    replace = forms.BooleanField(required=False)


@login_required
@require_POST
def presenters_assign_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"No presenters were assigned: {form_error(form)}")
        return back_to_schedule(course)
    assigned = Presenter.objects.filter(slot__paper__course=course).exists()
    if assigned and not form.cleaned_data["replace"]:
        messages.error(
            request,
            "No presenters were assigned: the slots have presenters already. Tick "
            '"replace the assignment" to replace every presenter who is not pinned.',
        )
        return back_to_schedule(course)
    try:
        done = presenters_assign(course=course, seed=form.cleaned_data["seed"])
    except ValidationError as refused:
        messages.error(request, f"No presenters were assigned: {refusal_text(refused)}")
        return back_to_schedule(course)
    counts = sorted(set(done.counts.values())) or [0]
    times = " or ".join(map(str, counts)) + (" time" if counts == [1] else " times")
    messages.success(
        request,
        f"Assigned the presenters with seed {done.seed}: {done.placed} places filled, "
        f"{done.kept} pinned places kept; each student presents {times}.",
    )
    return back_to_schedule(course)


class PlaceForm(forms.Form):
    """A student and a role of one of the course's slots (choices checked against the course)."""

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = forms.ModelChoiceField(
            queryset=SlotRole.objects.filter(slot__paper__course=course).select_related(
                "slot__paper__course"
            ),
            error_messages={"invalid_choice": "Choose a role of one of the course's slots."},
        )
        self.fields["student"] = forms.ModelChoiceField(
            queryset=course_students(course),
            error_messages={"invalid_choice": f"Choose a student of the course: {Rule.STUDENT}."},
        )


@login_required
@require_POST
def presenter_place_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Place a student in a role, pinned; a student already there is pinned."""
    course = staff_course(request, slug)
    form = PlaceForm(request.POST, course=course)
    if not form.is_valid():
        messages.error(request, f"Nobody was placed: {form_error(form)}")
        return back_to_schedule(course)
    role, student = form.cleaned_data["role"], form.cleaned_data["student"]
    held = Presenter.objects.filter(slot_role=role, student=student).exists()
    try:
        presenter_pin(slot_role=role, student=student)
    except ValidationError as refused:
        messages.error(request, f"{shown_name(student)} was not placed: {refusal_text(refused)}")
    else:
        done = "Pinned" if held else "Placed and pinned"
        messages.success(
            request,
            f"{done} {shown_name(student)} in {where(role)}: a new assignment keeps them there.",
        )
    return back_to_schedule(course, role.slot.paper)


def staff_presenter(request: HttpRequest, slug: str, pk: int) -> tuple[Course, Presenter]:
    course = staff_course(request, slug)
    presenter = presenter_find(course=course, pk=pk)
    if presenter is None:
        raise Http404
    return course, presenter


@login_required
@require_POST
def presenter_unpin_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course, presenter = staff_presenter(request, slug, pk)
    presenter_unpin(presenter=presenter)
    messages.success(
        request,
        f"Unpinned {shown_name(presenter.student)} in {where(presenter.slot_role)}: "
        "a new assignment may move them.",
    )
    return back_to_schedule(course, presenter.slot_role.slot.paper)


@login_required
@require_POST
def presenter_remove_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course, presenter = staff_presenter(request, slug, pk)
    role = presenter.slot_role
    presenter_remove(presenter=presenter)
    messages.success(
        request,
        f"Removed {shown_name(presenter.student)} from {where(role)}; "
        "a new assignment fills the place.",
    )
    return back_to_schedule(course, role.slot.paper)


class SwapForm(forms.Form):
    """Two presenters of the course's slots."""

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        presenters = Presenter.objects.filter(slot__paper__course=course).select_related(
            "student", "slot_role__slot__paper__course"
        )
        invalid = {"invalid_choice": "Choose a presenter of the course's slots."}
        self.fields["first"] = forms.ModelChoiceField(presenters, error_messages=invalid)
        self.fields["second"] = forms.ModelChoiceField(presenters, error_messages=invalid)


@login_required
@require_POST
def presenters_swap_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    form = SwapForm(request.POST, course=course)
    if not form.is_valid():
        messages.error(request, f"Nothing was swapped: {form_error(form)}")
        return back_to_schedule(course)
    first, second = form.cleaned_data["first"], form.cleaned_data["second"]
    before = f"{held_by(first)} and {held_by(second)}"
    try:
        presenters_swap(first=first, second=second)
    except ValidationError as refused:
        messages.error(request, f"Nothing was swapped: {refusal_text(refused)}")
    else:
        messages.success(request, f"Swapped {before}; both are pinned now.")
    return back_to_schedule(course)


@login_required
def reviews_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = page_user(request)
    course, membership = access_course(user, slug)
    if is_course_staff(membership):
        context: dict[str, Any] = {"course": course, "papers": review_counts(course=course)}
        return render(request, "presentations/reviews_staff.html", context)
    now = timezone.now()
    rows = [
        (paper, review, review_state(review, paper, now))
        for paper, review in review_papers(course=course, student=user)
    ]
    return render(request, "presentations/reviews.html", {"course": course, "rows": rows})


def review_saved_message(paper: Paper, review: PaperReview, submitted: bool) -> str:
    if not submitted:
        return f"Your draft review of {paper.title} is saved; submit it before the deadline."
    if review.late:
        penalty = review_penalty_percent(review).normalize()
        return f"Your review of {paper.title} is submitted late; its score loses {penalty:f}%."
    return f"Your review of {paper.title} is submitted."


def review_form_save(form: ReviewForm, paper: Paper, student: User, submit: bool) -> bool:
    """Save (and with ``submit``, submit) the form's parts; put a refusal on the form."""
    if not form.is_valid():
        return False
    write = review_save_and_submit if submit else review_save
    try:
        write(paper=paper, student=student, parts=form.cleaned_data)
    except ValidationError as refused:
        refusal_on_form(form, refused)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def review_page(request: HttpRequest, slug: str, paper_key: str) -> HttpResponse:
    user = page_user(request)
    course, membership, paper = access_paper(user, slug, paper_key)
    if paper.review_item is None:
        raise Http404
    if is_course_staff(membership):
        if request.method == "POST":
            raise Http404  # staff read reviews; only students write them
        return render_staff_review(request, course, paper, user)
    review = review_of(paper=paper, student=user)
    if request.method == "POST":
        form = ReviewForm(request.POST)
        submit = request.POST.get("action") == "submit"
        if review_form_save(form, paper, user, submit):
            saved = review_of(paper=paper, student=user)
            assert saved is not None  # just saved
            messages.success(request, review_saved_message(paper, saved, submit))
            return redirect("review", slug=course.slug, paper_key=paper.key)
    else:
        initial = {name: getattr(review, name) for name in PART_NAMES} if review else {}
        form = ReviewForm(initial=initial)
    now = timezone.now()
    readable = reviews_readable(paper=paper, user=user, now=now)
    context = {
        "course": course,
        "paper": paper,
        "deadline": review_deadline(paper),
        "policy": review_policy(course),
        "review": review,
        "state": review_state(review, paper, now),
        "writable": review_writable(review, paper, now),
        "late_now": deadline_passed(paper, now),
        "form": form,
        "shown_parts": shown_parts(review),
        "others": [shown_parts(r) for r in readable if r.student_id != user.pk],
    }
    return render(request, "presentations/review.html", context)


def shown_parts(review: PaperReview | None) -> list[tuple[str, str]]:
    """The parts of a review as label and text, for reading."""
    if review is None:
        return []
    return [(part.label, getattr(review, part.name)) for part in PARTS]


def render_staff_review(
    request: HttpRequest, course: Course, paper: Paper, viewer: User
) -> HttpResponse:
    reviews = list(reviews_readable(paper=paper, user=viewer))
    context = {
        "course": course,
        "paper": paper,
        "deadline": review_deadline(paper),
        "reviews": [(review, shown_parts(review)) for review in reviews],
        "late": sum(review.late for review in reviews),
    }
    return render(request, "presentations/review_staff.html", context)

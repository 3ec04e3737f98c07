"""The quiz pages: the course's quizzes, a quiz with the student's attempts, the page where a
student takes an attempt, and the staff's table of every attempt.

A student starts (or continues) an attempt with a POST, answers on the attempt's page, where
``static/quizzes/take.js`` saves each answer through the API as it is typed, and submits with a
plain form: posted without the script, the form's answers are saved first, so the page works
without JavaScript too. The rules are ``quizzes.services``'s; a refusal comes back as a message
naming the rule, never as an error page. An outsider gets the same 404 as for a course that does
not exist, and staff, who do not take quizzes, a 404 for a student's action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from coursesite.models import Course
from coursesite.permissions import access_course, is_course_staff
from coursesite.views import page_user
from quizzes.models import Answer, Attempt, QuestionKind, Quiz
from quizzes.selectors import (
    QuizView,
    ShownQuestion,
    attempts_table,
    quiz_find,
    quiz_state,
    quiz_view,
    quizzes_of,
)
from quizzes.services import (
    ANSWER_MAX_CHARS,
    answer_save,
    answer_upload,
    attempt_start,
    attempt_submit,
    attempts_finish_expired,
    counted_attempt,
)

STATES = {"not_open": "not open yet", "open": "open", "closed": "closed"}
# What a derivation may be, for the file input (the service checks the file itself).
DERIVATION_TYPES = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


def refusal(refused: ValidationError) -> str:
    """A service's refusal: each broken rule, in the service's words."""
    return " ".join(refused.messages)


def member_quiz(request: HttpRequest, slug: str, item_slug: str) -> tuple[User, Course, bool, Quiz]:
    """The caller, the course, whether the caller runs it, and its quiz; 404 for an outsider."""
    user = page_user(request)
    course, membership = access_course(user, slug)
    return user, course, is_course_staff(membership), quiz_find(course, item_slug)


def student_quiz(request: HttpRequest, slug: str, item_slug: str) -> tuple[User, Course, Quiz]:
    """As ``member_quiz``, for a student's action: staff do not take quizzes."""
    user, course, staff, quiz = member_quiz(request, slug, item_slug)
    if staff:
        raise Http404
    return user, course, quiz


def own_attempt(quiz: Quiz, student: User, number: int) -> Attempt:
    """The student's attempt of that number; another student's is as unknown as a missing one."""
    attempt = Attempt.objects.filter(quiz=quiz, student=student, number=number).first()
    if attempt is None:
        raise Http404
    return attempt


def quiz_url(quiz: Quiz, attempt_number: int | None = None) -> str:
    url = reverse("quiz", args=[quiz.item.course.slug, quiz.item.slug])
    return f"{url}?attempt={attempt_number}#attempt" if attempt_number else url


def iso(moment: datetime) -> str:
    """A moment as the page's script reads it: UTC, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def points_text(attempt: Attempt) -> str:
    points = f"{floatformat(attempt.points, -2)} of {floatformat(attempt.quiz.item.max_points, -2)}"
    if attempt.pending_review:
        return f"{points} points so far; a derivation is still to be scored by the course staff"
    return f"{points} points"


# The list of quizzes.


@dataclass(frozen=True)
class QuizRow:
    """A quiz as the list shows it; for a student, with the attempts they used, whether one is
    running, and the attempt that counts."""

    quiz: Quiz
    state: str
    used: int = 0
    running: bool = False
    counted: Attempt | None = None


def student_rows(quizzes: list[Quiz], student: User, now: datetime) -> list[QuizRow]:
    """The quizzes with the student's attempts. Expired attempts are submitted first, as wherever
    attempts are read; which attempt counts is the services' rule."""
    for quiz in quizzes:
        attempts_finish_expired(quiz=quiz, student=student, now=now)
    taken: dict[int, list[Attempt]] = {quiz.pk: [] for quiz in quizzes}
    for attempt in Attempt.objects.filter(quiz__in=quizzes, student=student):
        taken[attempt.quiz_id].append(attempt)
    rows = []
    for quiz in quizzes:
        attempts = taken[quiz.pk]
        submitted = any(attempt.submitted_at is not None for attempt in attempts)
        rows.append(
            QuizRow(
                quiz=quiz,
                state=STATES[quiz_state(quiz, now)],
                used=len(attempts),
                running=any(attempt.submitted_at is None for attempt in attempts),
                counted=counted_attempt(quiz, student) if submitted else None,
            )
        )
    return rows


@login_required
def quizzes_page(request: HttpRequest, slug: str) -> HttpResponse:
    user = page_user(request)
    course, membership = access_course(user, slug)
    quizzes, now = quizzes_of(course), timezone.now()
    staff = is_course_staff(membership)
    if staff:
        rows = [QuizRow(quiz, STATES[quiz_state(quiz, now)]) for quiz in quizzes]
    else:
        rows = student_rows(quizzes, user, now)
    context = {"course": course, "rows": rows, "staff": staff}
    return render(request, "quizzes/quizzes.html", context)


# A quiz: the student's attempts, or the staff's table of everyone's.


@dataclass(frozen=True)
class Option:
    index: int
    text: str
    chosen: bool


@dataclass(frozen=True)
class QuestionOnPage:
    """A question of the shown attempt, numbered, with its options marked as the student chose."""

    number: int
    question: ShownQuestion
    options: list[Option]

    @property
    def answer_text(self) -> str:
        """The student's answer in words: a choice as the options' texts."""
        if self.question.kind == QuestionKind.CHOICE:
            return "; ".join(option.text for option in self.options if option.chosen)
        return self.question.answer


def chosen_options(answer: str) -> set[int]:
    """The option indexes of a saved choice (``"0,2"``); anything else chooses nothing."""
    pieces = (piece.strip() for piece in answer.split(","))
    return {int(piece) for piece in pieces if piece.isascii() and piece.isdigit()}


def questions_on_page(view: QuizView) -> list[QuestionOnPage]:
    numbered = []
    for number, question in enumerate(view.questions, start=1):
        chosen = chosen_options(question.answer)
        options = [Option(i, text, i in chosen) for i, text in enumerate(question.options)]
        numbered.append(QuestionOnPage(number, question, options))
    return numbered


def shown_attempt_number(request: HttpRequest) -> int | None:
    number = request.GET.get("attempt", "")
    if not number:
        return None
    if not (number.isascii() and number.isdigit()):
        raise Http404
    return int(number)


@login_required
def quiz_page(request: HttpRequest, slug: str, item_slug: str) -> HttpResponse:
    user, course, staff, quiz = member_quiz(request, slug, item_slug)
    if staff:
        return render_results(request, course, quiz)
    view = quiz_view(quiz, user, attempt_number=shown_attempt_number(request))
    shown = view.shown_attempt
    context = {
        "course": course,
        "quiz": quiz,
        "item": quiz.item,
        "view": view,
        "state": STATES[view.state],
        "may_start": view.running is not None or (view.state == "open" and view.attempts_left),
        "questions": questions_on_page(view) if shown and shown.submitted_at else [],
    }
    return render(request, "quizzes/quiz.html", context)


def attempt_admin_urls(quiz: Quiz) -> dict[tuple[str, int], str]:
    """The panel's page of each attempt, by student and number (``attempts_table`` has no ids)."""
    return {
        (username, number): reverse("admin:quizzes_attempt_change", args=[pk])
        for username, number, pk in Attempt.objects.filter(quiz=quiz).values_list(
            "student__username", "number", "pk"
        )
    }


def render_results(request: HttpRequest, course: Course, quiz: Quiz) -> HttpResponse:
    table = attempts_table(quiz)
    panel = attempt_admin_urls(quiz)
    rows = [(row, panel.get((row["student"], row["number"]))) for row in table]
    context = {
        "course": course,
        "quiz": quiz,
        "item": quiz.item,
        "state": STATES[quiz_state(quiz, timezone.now())],
        "rows": rows,
        "students": len({row["student"] for row in table}),
        "pending": sum(row["pending_review"] for row in table),
        "running": sum(row["submitted_at"] is None for row in table),
        "panel_attempts": reverse("admin:quizzes_attempt_changelist")
        + f"?quiz__id__exact={quiz.pk}",
        "panel_quiz": reverse("admin:quizzes_quiz_change", args=[quiz.pk]),
    }
    return render(request, "quizzes/results.html", context)


# Taking an attempt.


@login_required
@require_POST
def quiz_start_page(request: HttpRequest, slug: str, item_slug: str) -> HttpResponse:
    """Start an attempt, or continue the one running."""
    user, course, quiz = student_quiz(request, slug, item_slug)
    try:
        attempt = attempt_start(quiz=quiz, student=user)
    except ValidationError as refused:
        messages.error(request, f"No attempt was started: {refusal(refused)}")
        return redirect(quiz_url(quiz))
    return redirect(
        "quiz-attempt", slug=course.slug, item_slug=quiz.item.slug, number=attempt.number
    )


@login_required
def attempt_page(request: HttpRequest, slug: str, item_slug: str, number: int) -> HttpResponse:
    user, course, quiz = student_quiz(request, slug, item_slug)
    view = quiz_view(quiz, user, attempt_number=number)
    attempt = view.shown_attempt
    assert attempt is not None  # quiz_view answers 404 for an attempt the student does not have
    if attempt.submitted_at is not None:
        messages.info(request, f"Attempt {attempt.number} is submitted: its answers are final.")
        return redirect(quiz_url(quiz, attempt.number))
    context = {
        "course": course,
        "quiz": quiz,
        "item": quiz.item,
        "attempt": attempt,
        "questions": questions_on_page(view),
        "deadline": iso(attempt.deadline_at),
        "now": iso(timezone.now()),
        "max_chars": ANSWER_MAX_CHARS,
        "derivation_types": DERIVATION_TYPES,
        "quiz_url": quiz_url(quiz),
    }
    return render(request, "quizzes/take.html", context)


def form_answer(request: HttpRequest, key: str, kind: str) -> str:
    """A question's answer as the form posts it: a choice's boxes as ``"0,2"``."""
    if kind == QuestionKind.CHOICE:
        return ",".join(request.POST.getlist(f"answer-{key}"))
    return request.POST.get(f"answer-{key}", "")


def form_answers_save(request: HttpRequest, attempt: Attempt) -> list[str]:
    """Save the posted answers that differ from the saved ones, as a page without its script
    posts them all; empty fields are left alone. The refusals, one per question; the first one
    that submitted the attempt (its time was up) ends the saving."""
    saved = {answer.question_id: answer.text for answer in attempt.answers.all()}
    refusals = []
    for number, question in enumerate(attempt.quiz.questions.all(), start=1):
        try:
            if question.kind == QuestionKind.DERIVATION:
                upload = request.FILES.get(f"answer-{question.key}")
                if upload is not None:
                    answer_upload(attempt=attempt, question=question, upload=upload)
                continue
            text = form_answer(request, question.key, question.kind)
            if text.strip() and text != saved.get(question.pk):
                answer_save(attempt=attempt, question=question, text=text)
        except ValidationError as refused:
            refusals.append(f"Question {number} was not saved: {refusal(refused)}")
            attempt.refresh_from_db(fields=["submitted_at"])
            if attempt.submitted_at is not None:
                break
    return refusals


@login_required
@require_POST
def attempt_submit_page(
    request: HttpRequest, slug: str, item_slug: str, number: int
) -> HttpResponse:
    """Submit the attempt, its posted answers saved first; a refused answer keeps the attempt
    running, so that the student can mend it, unless its time is up."""
    user, course, quiz = student_quiz(request, slug, item_slug)
    attempt = own_attempt(quiz, user, number)
    refusals = form_answers_save(request, attempt) if attempt.submitted_at is None else []
    for text in refusals:
        messages.error(request, text)
    if refusals and attempt.submitted_at is None:
        return redirect("quiz-attempt", slug=course.slug, item_slug=quiz.item.slug, number=number)
    try:
        attempt = attempt_submit(attempt=attempt)
    except ValidationError as refused:
        if not refusals:
            messages.error(request, refusal(refused))
        attempt.refresh_from_db()
        if attempt.submitted_at is not None:
            messages.info(request, f"Attempt {number}: {points_text(attempt)}.")
    else:
        messages.success(request, f"Attempt {number} is submitted: {points_text(attempt)}.")
    return redirect(quiz_url(quiz, number))


@login_required
def derivation_file(request: HttpRequest, slug: str, item_slug: str, pk: int) -> FileResponse:
    """A handed-in derivation, for the course's staff (its scoring page shows it) and for the
    student who handed it in."""
    user, _, staff, quiz = member_quiz(request, slug, item_slug)
    answer = Answer.objects.filter(pk=pk, attempt__quiz=quiz).exclude(upload="").first()
    if answer is None or not (staff or answer.attempt.student_id == user.pk):
        raise Http404
    name = (answer.upload.name or "derivation").rsplit("/", 1)[-1]
    return FileResponse(answer.upload.open("rb"), filename=name, as_attachment=False)

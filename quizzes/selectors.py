"""Reads of quizzes: a student's view of a quiz (their variant of each question, their attempts,
what they may see of the answers), and the staff's table of attempts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.http import Http404
from django.utils import timezone

from coursesite.models import Course
from quizzes import answers
from quizzes.models import Attempt, QuestionKind, Quiz, ShowAnswers
from quizzes.services import attempts_finish_expired, question_values, quiz_closes_at


@dataclass
class ShownQuestion:
    key: str
    kind: str
    text: str
    points: Decimal
    options: list[str]
    multiple: bool
    symbols: list[str]
    # The caller's answer in the attempt shown, and, once answers are shown, its outcome.
    answer: str = ""
    uploaded: bool = False
    points_awarded: Decimal | None = None
    feedback: str = ""
    problem: str = ""
    expected: str = ""


@dataclass
class QuizView:
    quiz: Quiz
    state: str  # not_open, open, closed
    closes_at: datetime | None
    attempts: list[Attempt]
    running: Attempt | None
    attempts_left: int
    answers_shown: bool
    questions: list[ShownQuestion] = field(default_factory=list)
    shown_attempt: Attempt | None = None


def quiz_find(course: Course, item_slug: str) -> Quiz:
    quiz = (
        Quiz.objects.select_related("item__course")
        .filter(item__course=course, item__slug=item_slug)
        .first()
    )
    if quiz is None:
        raise Http404("No such quiz.")
    return quiz


def quizzes_of(course: Course) -> list[Quiz]:
    return list(Quiz.objects.filter(item__course=course).select_related("item"))


def quiz_state(quiz: Quiz, now: datetime) -> str:
    if quiz.item.opens_at and now < quiz.item.opens_at:
        return "not_open"
    closes = quiz_closes_at(quiz)
    return "closed" if closes and now >= closes else "open"


def answers_shown(quiz: Quiz, attempt: Attempt | None, now: datetime) -> bool:
    if attempt is None or attempt.submitted_at is None:
        return False
    if quiz.show_answers == ShowAnswers.AFTER_SUBMIT:
        return True
    if quiz.show_answers == ShowAnswers.AFTER_CLOSE:
        return quiz_state(quiz, now) == "closed"
    return False


def quiz_view(
    quiz: Quiz, student: User, *, attempt_number: int | None = None, now: datetime | None = None
) -> QuizView:
    """What ``student`` sees of ``quiz``: the answers of the attempt asked for, by default the
    running attempt, else the last."""
    now = now or timezone.now()
    attempts_finish_expired(quiz=quiz, student=student, now=now)
    attempts = list(Attempt.objects.filter(quiz=quiz, student=student).order_by("number"))
    running = next((a for a in attempts if a.submitted_at is None), None)
    shown: Attempt | None = running
    if attempt_number is not None:
        shown = next((a for a in attempts if a.number == attempt_number), None)
        if shown is None:
            raise Http404("No such attempt.")
    elif shown is None and attempts:
        shown = attempts[-1]
    visible = answers_shown(quiz, shown, now)
    saved = {a.question_id: a for a in shown.answers.all()} if shown else {}
    questions = []
    for question in quiz.questions.all():
        values = question_values(question, student)
        spec = question.spec
        entry = ShownQuestion(
            key=question.key,
            kind=question.kind,
            text=answers.render(question.text, values),
            points=question.points,
            options=[answers.render(str(o), values) for o in spec.get("options", [])],
            multiple=bool(spec.get("multiple", False)),
            symbols=[str(s) for s in spec.get("symbols", [])],
        )
        answer = saved.get(question.pk)
        if answer is not None:
            entry.answer, entry.uploaded = answer.text, bool(answer.upload)
        if shown is not None and shown.submitted_at is not None and answer is not None:
            entry.points_awarded = answer.points
            entry.problem = answer.problem
        if visible:
            entry.feedback = answer.feedback if answer else ""
            if question.kind != QuestionKind.DERIVATION:
                entry.expected = answers.expected_text(question.kind, spec, values)
        questions.append(entry)
    return QuizView(
        quiz=quiz,
        state=quiz_state(quiz, now),
        closes_at=quiz_closes_at(quiz),
        attempts=attempts,
        running=running,
        attempts_left=max(0, quiz.attempts_allowed - len(attempts)),
        answers_shown=visible,
        questions=questions,
        shown_attempt=shown,
    )


def attempts_table(quiz: Quiz, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every attempt of the quiz, for staff, expired ones submitted first."""
    attempts_finish_expired(quiz=quiz, now=now or timezone.now())
    return [
        {
            "id": attempt.pk,
            "student": attempt.student.username,
            "number": attempt.number,
            "started_at": attempt.started_at,
            "submitted_at": attempt.submitted_at,
            "points": attempt.points,
            "pending_review": attempt.pending_review,
        }
        for attempt in Attempt.objects.filter(quiz=quiz)
        .select_related("student")
        .order_by("student__username", "number")
    ]

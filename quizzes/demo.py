"""The demo semester's online quizzes: the demo students take the theory quiz before it closes,
once its due date is before the as-of date.

Who does what
    ``SITTINGS`` lists each student's attempts: where in the quiz's window each one starts, how
    many minutes it takes and which questions the student gets wrong. Most students answer
    everything or nearly everything right, two improve in a second attempt, student07 stays
    below the pass mark in both of theirs, and student12 never takes the quiz.
Answers
    A right answer is worked out for the student's own variant of each question (the values of
    ``question_values``) from the text ``quizzes.answers.expected_text`` shows for it. A wrong
    one is the question's typical mistake in ``MISTAKES``, written with the same values; a
    question without one is left blank. A derivation is handed in as a one-page PDF of the
    student's working (unless the sitting leaves it blank); the rubric player in ``grading``
    scores it with the question's rubric once the quiz is a few days closed, so the quiz's
    Score waits for it until then.
Through the services
    Each attempt is started, saved answer by answer and submitted through ``quizzes.services``
    at its own times, all before the quiz closes, so it is scored as any other attempt and the
    quiz's Score follows from it.
Running it again
    A student who has an attempt is not played again. On a later day the attempts and their
    answers move with the calendar; their Scores stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from coursesite.demo import DemoPlayer, DemoSemester, demo_pdf, instant_shift
from coursesite.models import Course, Membership, Role
from quizzes import answers
from quizzes.models import Answer, Attempt, Question, QuestionKind, Quiz
from quizzes.services import (
    answer_save,
    answer_upload,
    attempt_start,
    attempt_submit,
    question_values,
)


@dataclass(frozen=True)
class Sitting:
    # Where the attempt starts: 0 is the quiz's opening, 1 its close less the time limit.
    at: float
    # How long the attempt takes, within the time limit.
    minutes: int
    # The keys of the questions answered with their typical mistake.
    wrong: tuple[str, ...] = ()
    # The keys of the questions left blank.
    blank: tuple[str, ...] = ()


# What student07 still gets wrong at the second try, and the slips of student06 in a hurry.
SHAKY = ("angle", "linear-system", "eigenvectors", "gaussian-density", "coin-map", "matrix-facts")
CARELESS = ("matrix-facts", "sigmoid-derivative")
# With the theory quiz's points (angle 8, hyperplane-distance 10, linear-system 10, eigenvalues 8,
# eigenvectors 10, gaussian-density 10, coin-mle 6, coin-map 10, matrix-facts 8 (its mistake
# earns 4.8), sigmoid-derivative 10, and the derivation's 10 from its rubric), student07 stays
# below the pass mark of 50 in both attempts and student09 hands in no derivation; student12
# never starts an attempt.
SITTINGS: dict[str, dict[str, tuple[Sitting, ...]]] = {
    "quiz-theory": {
        "student01": (Sitting(0.02, 34),),
        "student02": (Sitting(0.30, 48, wrong=("eigenvectors", "coin-map")),),
        "student03": (
            Sitting(0.10, 55, wrong=("angle", "linear-system", "coin-map", "matrix-facts")),
            Sitting(0.55, 40, wrong=("coin-map",)),
        ),
        "student04": (Sitting(0.45, 41, wrong=("gaussian-density",)),),
        "student05": (Sitting(0.05, 29),),
        "student06": (Sitting(0.90, 57, wrong=("angle", "eigenvectors", "coin-map", *CARELESS)),),
        "student07": (
            Sitting(0.60, 52, wrong=(*SHAKY, "eigenvalues", "sigmoid-derivative")),
            Sitting(0.98, 45, wrong=SHAKY),
        ),
        "student08": (Sitting(0.25, 50, wrong=("linear-system", "coin-map")),),
        "student09": (
            Sitting(
                0.95,
                58,
                wrong=("eigenvectors", "gaussian-density", "coin-map"),
                blank=("sigmoid-derivative", "coin-mle-derivation"),
            ),
        ),
        "student10": (Sitting(0.15, 38, wrong=("angle",)),),
        "student11": (Sitting(0.01, 25),),
    },
}
# Each question's typical mistake, with ``{a}`` for the value of the student's parameter ``a``.
MISTAKES: dict[str, dict[str, str]] = {
    "quiz-theory": {
        # The angle in radians.
        "angle": "acos(({a}*({c}) - ({b}) + 2)/(sqrt({a}^2 + ({b})^2 + 1)*sqrt(({c})^2 + 5)))",
        # w·x + b, not divided by the norm of w.
        "hyperplane-distance": "{w1}*({x1}) + {w2}*({x2}) + ({b})",
        # A b instead of the inverse of A times b.
        "linear-system": "[{a}*{p} + {q}, {p} + {c}*{q}]",
        # The diagonal of A.
        "eigenvalues": "[{a}; {a}]",
        # The axes instead of B's eigenvectors.
        "eigenvectors": "[1, 0; 0, 1]",
        # The density without its normalising constant.
        "gaussian-density": "exp(-({x} - ({m}))^2/(2*{s}^2))",
        "coin-mle": "h/t",
        # The posterior's mean instead of its mode.
        "coin-map": "(h + a)/(h + t + a + b)",
        # One true statement missed: four options of five marked right.
        "matrix-facts": "0,1",
        "sigmoid-derivative": "-exp(-x)/(1 + exp(-x))^2",
    },
}
# What a demo derivation shows of the working (the demo's one derivation is the coin's MLE).
WORKING = (
    "L(p) = p^h (1 - p)^t",
    "log L(p) = h log p + t log(1 - p)",
    "d/dp log L = h/p - t/(1 - p) = 0",
    "so h (1 - p) = t p, and p = h / (h + t)",
    "d2/dp2 log L = -h/p^2 - t/(1 - p)^2 < 0: a maximum",
)
# Where a quiz without an opening time opens, before its close.
WINDOW = timedelta(days=2)
# The time an attempt takes when a quiz has no time limit.
DEFAULT_MINUTES = 60


def right_answer(question: Question, values: Mapping[str, Any]) -> str:
    """What a student types to answer ``question`` right in the variant ``values``."""
    if question.kind == QuestionKind.CHOICE:
        return ",".join(str(index) for index in sorted(question.spec["correct"]))
    # The computed answer, not a ``shown`` text (which need not be one that is typed).
    spec = {key: value for key, value in question.spec.items() if key != "shown"}
    shown = answers.expected_text(question.kind, spec, values)
    # A number is shown with its tolerance ("0.75 ± 0.01"), a matrix with how it is compared
    # ("[1, 2] (or any non-zero multiple)").
    if question.kind == QuestionKind.NUMBER:
        return shown.split(" ± ")[0]
    if question.kind == QuestionKind.MATRIX:
        return shown.split(" (")[0]
    return shown


def mistaken_answer(slug: str, question: Question, values: Mapping[str, Any]) -> str:
    """The question's typical mistake in the variant ``values``; blank when it has none."""
    mistake = MISTAKES.get(slug, {}).get(question.key)
    return answers.render(mistake, values) if mistake is not None else ""


def derivation_upload(student: User, question: Question) -> SimpleUploadedFile:
    """The student's working for a derivation question, as the PDF of a scanned page."""
    name = student.get_full_name() or student.username
    lines = [line.strip() for line in question.text.split(". ") if line.strip()]
    pdf = demo_pdf(f"{name}: question {question.key}", [*lines, "", *WORKING])
    return SimpleUploadedFile("derivation.pdf", pdf, content_type="application/pdf")


def sitting_answers(
    slug: str, questions: list[Question], student: User, sitting: Sitting
) -> dict[str, str]:
    """The text of each answer the student saves in a sitting, by question key."""
    texts = {}
    for question in questions:
        if question.kind == QuestionKind.DERIVATION or question.key in sitting.blank:
            continue
        values = question_values(question, student)
        if question.key in sitting.wrong:
            text = mistaken_answer(slug, question, values)
        else:
            text = right_answer(question, values)
        if text:
            texts[question.key] = text
    return texts


class QuizPlayer(DemoPlayer):
    key = "quizzes"

    def play(self, semester: DemoSemester) -> list[str]:
        lines = []
        for slug, sittings in SITTINGS.items():
            quiz = (
                Quiz.objects.filter(item__course=semester.course, item__slug=slug)
                .select_related("item")
                .first()
            )
            if quiz is None or not semester.is_past(quiz.item.due_at):
                continue
            taken = set(
                Attempt.objects.filter(quiz=quiz).values_list("student__username", flat=True)
            )
            students = {
                m.user.username: m.user
                for m in Membership.objects.filter(
                    course=semester.course, role=Role.STUDENT, user__username__in=sittings
                ).select_related("user")
            }
            questions = list(quiz.questions.all())
            takers = attempts = 0
            for username, plan in sittings.items():
                student = students.get(username)
                if student is None or username in taken:
                    continue
                for sitting in plan:
                    self._sit(slug, quiz, questions, student, sitting)
                takers, attempts = takers + 1, attempts + len(plan)
            if takers:
                lines.append(f"{takers} students took {quiz.item.title} ({attempts} attempts)")
        return lines

    def _sit(
        self, slug: str, quiz: Quiz, questions: list[Question], student: User, sitting: Sitting
    ) -> None:
        closes = quiz.item.due_at
        assert closes is not None  # only quizzes closed before the as-of date are played
        opens = quiz.item.opens_at or closes - WINDOW
        limit = timedelta(minutes=quiz.time_limit_minutes or DEFAULT_MINUTES)
        start = opens + (closes - limit - opens) * sitting.at
        attempt = attempt_start(quiz=quiz, student=student, now=start)
        texts = sitting_answers(slug, questions, student, sitting)
        # The answers are saved one by one while the sitting lasts, then it is submitted.
        step = timedelta(minutes=sitting.minutes) / (len(questions) + 1)
        for index, question in enumerate(questions, start=1):
            if question.kind == QuestionKind.DERIVATION and question.key not in sitting.blank:
                answer_upload(
                    attempt=attempt,
                    question=question,
                    upload=derivation_upload(student, question),
                    now=start + step * index,
                )
            elif question.key in texts:
                answer_save(
                    attempt=attempt,
                    question=question,
                    text=texts[question.key],
                    now=start + step * index,
                )
        attempt_submit(attempt=attempt, now=start + timedelta(minutes=sitting.minutes))

    def move(self, course: Course, weeks: int) -> None:
        """Attempts and answers move with the quiz's dates, so each stays inside its window."""
        zone = course.tz

        def moved(moment: datetime | None) -> datetime | None:
            return None if moment is None else instant_shift(moment, weeks=weeks, zone=zone)

        fields = ["started_at", "deadline_at", "submitted_at"]
        for attempt in Attempt.objects.filter(quiz__item__course=course):
            for field in fields:
                setattr(attempt, field, moved(getattr(attempt, field)))
            attempt.save(update_fields=fields)
        for answer in Answer.objects.filter(attempt__quiz__item__course=course):
            answer.saved_at = instant_shift(answer.saved_at, weeks=weeks, zone=zone)
            answer.save(update_fields=["saved_at"])

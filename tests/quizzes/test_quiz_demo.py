"""The demo semester's quiz player on the demo course, with its calendar where the file puts
it: the demo students take the theory quiz before it closes, each in their own variant.

``load_demo`` plays every player and queues the hand-ins for grading; here the quiz player plays
alone on the loaded course file, which is all it needs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from coursesite.course_file.load import course_file_load
from coursesite.demo import DemoSemester
from coursesite.gradebook.engine import MISSING_WORK, REQUIRED_NOT_PASSED
from coursesite.gradebook.selectors import gradebook_read
from coursesite.models import Score, ScoreSource
from grading.demo import RubricPlayer
from quizzes import answers
from quizzes.demo import MISTAKES, QuizPlayer, mistaken_answer, right_answer
from quizzes.models import Answer, Attempt, QuestionKind, Quiz
from tests.conftest import EXAMPLE_COURSE

pytestmark = pytest.mark.django_db

# The Monday after the theory quiz closed (Wednesday Oct 9, 23:59).
AFTER_THE_QUIZ = date(2024, 10, 14)
# Before staff score the derivations (the rubric player, a few days after the close). Their
# marks vary a little with the work's subject, so the scores after are checked by their parts.
WITHOUT_DERIVATION = {
    "student01": "90", "student02": "70", "student03": "80", "student04": "80",
    "student05": "90", "student06": "48.8", "student07": "38.8", "student08": "70",
    "student09": "50", "student10": "82", "student11": "90",
}  # fmt: skip
PASS_MARK = 50
VARIANTS = 40


def semester_as_of(as_of: date) -> DemoSemester:
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    return DemoSemester(course=course, as_of=as_of, weeks=0, course_file=EXAMPLE_COURSE)


@pytest.fixture
def semester() -> DemoSemester:
    return semester_as_of(AFTER_THE_QUIZ)


@pytest.fixture
def played(semester: DemoSemester) -> list[str]:
    return QuizPlayer().play(semester)


def quiz_scores() -> dict[str, Decimal | None]:
    return dict(
        Score.objects.filter(item__slug="quiz-theory", source=ScoreSource.QUIZ).values_list(
            "student__username", "points"
        )
    )


def test_it_scores_each_student_s_best_attempt_once_staff_score_the_derivations(
    semester: DemoSemester, played: list[str]
) -> None:
    assert played == ["11 students took Self-Assessment Quiz (Theory) (13 attempts)"]
    expected = {username: Decimal(points) for username, points in WITHOUT_DERIVATION.items()}
    assert quiz_scores() == expected
    waiting = Score.objects.get(item__slug="quiz-theory", student__username="student03")
    assert waiting.comment == (
        "Attempt 2 of 2 (the best counts). A derivation is still to be scored."
    )
    # student09 handed in none: scored 0 at once, nothing waits.
    blank = Answer.objects.get(
        attempt__student__username="student09", question__kind=QuestionKind.DERIVATION
    )
    assert (blank.points, blank.feedback, blank.attempt.pending_review) == (
        0,
        "Nothing was handed in.",
        False,
    )

    before = dict(Attempt.objects.values_list("pk", "points"))
    assert RubricPlayer().play(semester) == ["12 pieces of work scored with rubrics"]
    assert not Attempt.objects.filter(pending_review=True).exists()
    best: dict[str, Decimal] = {}
    for attempt in Attempt.objects.select_related("student"):
        derivation = attempt.answers.get(question__kind=QuestionKind.DERIVATION).points
        assert derivation is not None and 0 <= derivation <= 10
        assert attempt.points == before[attempt.pk] + derivation
        if attempt.answers.get(question__kind=QuestionKind.DERIVATION).upload:
            assert derivation > 0  # every demo student's working earns something
        name = attempt.student.username
        best[name] = max(best.get(name, Decimal(0)), attempt.points)
    assert quiz_scores() == best
    assert sorted(name for name, points in best.items() if points < PASS_MARK) == ["student07"]
    twice = Score.objects.get(item__slug="quiz-theory", student__username="student03")
    assert twice.comment == "Attempt 2 of 2 (the best counts)."


def test_each_derivation_is_a_pdf_of_the_student_s_working(played: list[str]) -> None:
    derivations = Answer.objects.filter(question__kind=QuestionKind.DERIVATION).exclude(upload="")
    assert derivations.count() == 12
    for answer in derivations:
        with answer.upload.open("rb") as handed_in:
            content = handed_in.read()
        assert content.startswith(b"%PDF-") and b"p = h / \\(h + t\\)" in content


def test_it_leaves_one_student_below_the_pass_mark_and_one_without_the_quiz(
    semester: DemoSemester, played: list[str]
) -> None:
    course = semester.course
    RubricPlayer().play(semester)
    noon = datetime(2024, 10, 14, 12, tzinfo=course.tz)
    grades = {
        row.student.username: row.grade for row in gradebook_read(course=course, now=noon).rows
    }
    failed = sorted(name for name, grade in grades.items() if REQUIRED_NOT_PASSED in grade.flags)
    missing = sorted(name for name, grade in grades.items() if MISSING_WORK in grade.flags)
    assert (failed, missing) == (["student07", "student12"], ["student12"])
    assert not Attempt.objects.filter(student__username="student12").exists()


def test_it_takes_every_attempt_inside_the_quiz_s_window_and_time_limit(
    played: list[str],
) -> None:
    quiz = Quiz.objects.select_related("item").get(item__slug="quiz-theory")
    attempts = list(Attempt.objects.filter(quiz=quiz))
    assert len(attempts) == 13
    for attempt in attempts:
        assert attempt.submitted_at is not None
        assert quiz.item.opens_at is not None and quiz.item.due_at is not None
        assert quiz.item.opens_at <= attempt.started_at
        assert attempt.submitted_at <= attempt.deadline_at <= quiz.item.due_at
        assert attempt.deadline_at - attempt.started_at == timedelta(minutes=60)
        # A question left blank gets its empty answer when the attempt is submitted.
        for answer in attempt.answers.all():
            assert attempt.started_at < answer.saved_at <= attempt.submitted_at


def test_it_plays_nothing_twice(semester: DemoSemester, played: list[str]) -> None:
    before = Attempt.objects.count(), Answer.objects.count()
    assert QuizPlayer().play(semester) == []
    assert (Attempt.objects.count(), Answer.objects.count()) == before


def test_it_plays_nothing_while_the_quiz_is_open() -> None:
    # On the quiz's last day it still closes that night.
    assert QuizPlayer().play(semester_as_of(date(2024, 10, 9))) == []
    assert not Attempt.objects.exists()


def test_it_moves_the_attempts_and_answers_with_the_calendar_and_keeps_the_scores(
    semester: DemoSemester, played: list[str]
) -> None:
    def dated() -> tuple[list[tuple[datetime, datetime, datetime | None]], list[datetime]]:
        return (
            list(
                Attempt.objects.order_by("pk").values_list(
                    "started_at", "deadline_at", "submitted_at"
                )
            ),
            list(Answer.objects.order_by("pk").values_list("saved_at", flat=True)),
        )

    scores = list(Score.objects.order_by("pk").values_list("points", "updated_at"))
    attempts, saved = dated()
    QuizPlayer().move(semester.course, 2)
    two = timedelta(weeks=2)
    assert dated() == (
        [
            (started + two, deadline + two, submitted and submitted + two)
            for started, deadline, submitted in attempts
        ],
        [moment + two for moment in saved],
    )
    assert list(Score.objects.order_by("pk").values_list("points", "updated_at")) == scores


def test_its_right_answers_are_right_and_its_mistakes_wrong_in_every_variant(
    semester: DemoSemester,
) -> None:
    quiz = Quiz.objects.get(item__slug="quiz-theory")
    verdicts = {}
    for question in quiz.questions.exclude(kind=QuestionKind.DERIVATION):
        parameters = question.spec.get("parameters", {})
        found = set()
        for seed in range(VARIANTS if parameters else 1):
            values = answers.variant(parameters, f"variant-{seed}")
            right = answers.check(
                question.kind, question.spec, values, right_answer(question, values)
            )
            wrong = answers.check(
                question.kind,
                question.spec,
                values,
                mistaken_answer("quiz-theory", question, values),
            )
            found.add((right.fraction, wrong.fraction, right.problem + wrong.problem))
        verdicts[question.key] = found
    # The one mistake with some credit: four of five options marked right.
    expected = {key: {(1.0, 0.0, "")} for key in MISTAKES["quiz-theory"]}
    expected["matrix-facts"] = {(1.0, 0.6, "")}
    assert verdicts == expected

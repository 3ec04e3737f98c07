"""The ``quizzes`` section of the course file: the demo course's theory quiz, loading the same
file or its dump again changing nothing, the errors of bad quizzes with their file, line and
key, and the answered question a reload cannot remove.

Every file but the demo course's is the small course below, or a variation of it written by a
function.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from coursesite.course_file.dump import course_file_dump
from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.models import Course
from quizzes import answers
from quizzes.models import Question, Quiz
from quizzes.services import answer_save, attempt_start
from tests.conftest import EXAMPLE_COURSE

pytestmark = pytest.mark.django_db

Document = dict[str, Any]
ISTANBUL = ZoneInfo("Europe/Istanbul")

COURSE: Document = {
    "course": {
        "slug": "quizzes-fall2024",
        "code": "COMP541",
        "title": "Deep Learning",
        "term": "Fall 2024",
        "time_zone": "Europe/Istanbul",
        "starts_on": "2024-10-07",
        "ends_on": "2025-01-26",
    },
    "people": [
        {"username": "aerdem", "name": "Aykut Erdem", "role": "instructor"},
        {"username": "student01", "name": "Student One", "role": "student"},
    ],
    "grading": [
        {
            "category": "Self-Assessment Quiz",
            "weight": 100,
            "items": [
                {
                    "slug": "quiz-theory", "title": "Self-Assessment Quiz (Theory)", "points": 20,
                    "opens": "2024-10-07 09:00", "due": "2024-10-09 23:59",
                    "required_to_pass": True, "pass_mark": 10,
                },
            ],
        },
    ],
    "rubrics": [
        {
            "slug": "derivation", "title": "A derivation",
            "criteria": [{"title": "Steps", "points": 5}],
        },
    ],
    "quizzes": [
        {
            "item": "quiz-theory",
            "instructions": "Two attempts; the last one counts.",
            "time_limit_minutes": 30,
            "attempts": 2,
            "counts": "last",
            "show_answers": "after_submit",
            "questions": [
                {
                    "key": "norm", "kind": "number", "points": 4,
                    "text": "What is the length of ({a}, {b})?",
                    "parameters": {"a": {"from": 3, "to": 9}, "b": {"choices": [4, 12]}},
                    "answer": "sqrt(a^2 + b^2)", "tolerance": 0.01,
                },
                {
                    "key": "convex", "kind": "choice", "points": 3,
                    "text": "Which of these functions are convex?",
                    "options": ["x^2", "-x^2", "exp(x)"], "correct": [0, 2],
                    "multiple": True, "scoring": "per_option",
                },
                {
                    "key": "inverse", "kind": "matrix", "points": 3,
                    "text": "What is the inverse of [2, 0; 0, 4]?",
                    "answer": [[0.5, 0], [0, 0.25]],
                },
                {
                    "key": "derivative", "kind": "expression", "points": 5,
                    "text": "What is the derivative of x^2 (x + 1)?",
                    "symbols": ["x"], "answer": "3*x^2 + 2*x",
                },
                {
                    "key": "chain-rule", "kind": "derivation", "points": 5,
                    "text": "Derive the gradient of the logistic loss.", "rubric": "derivation",
                },
            ],
        },
    ],
}  # fmt: skip
QUESTIONS = ("quizzes", 0, "questions")


def write(directory: Path, change: Callable[[Document], None] | None = None) -> Path:
    document = copy.deepcopy(COURSE)
    if change is not None:
        change(document)
    path = directory / "course.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def load(directory: Path, change: Callable[[Document], None] | None = None) -> Course:
    course, _ = course_file_load(path=write(directory, change))
    return course


def facts(course: Course) -> list[Any]:
    """What the section wrote, by natural keys, so that two loads of a course compare."""
    return [
        (
            quiz.item.slug,
            quiz.instructions,
            quiz.time_limit_minutes,
            quiz.attempts_allowed,
            quiz.counts,
            quiz.show_answers,
            [
                (q.key, q.position, q.kind, q.points, q.text, q.spec)
                for q in quiz.questions.order_by("position")
            ],
        )
        for quiz in Quiz.objects.filter(item__course=course).select_related("item")
    ]


def dumped(course: Course, directory: Path) -> Path:
    path = directory / "dump.yaml"
    path.write_text(course_file_dump(course), encoding="utf-8")
    return path


# The demo course's theory quiz.


@pytest.fixture
def demo_course() -> Course:
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    return course


def test_it_loads_the_demo_course_s_theory_quiz_on_its_item(demo_course: Course) -> None:
    quiz = Quiz.objects.select_related("item").get(item__course=demo_course)
    item = quiz.item
    questions = list(quiz.questions.order_by("position"))
    assert (item.slug, item.max_points, item.pass_mark) == ("quiz-theory", 100, 50)
    assert (item.opens_at, item.due_at) == (
        datetime(2024, 10, 7, 9, 0, tzinfo=ISTANBUL),
        datetime(2024, 10, 9, 23, 59, tzinfo=ISTANBUL),
    )
    assert (quiz.time_limit_minutes, quiz.attempts_allowed, quiz.counts, quiz.show_answers) == (
        60,
        2,
        "best",
        "after_close",
    )
    assert sum(question.points for question in questions) == item.max_points
    assert [(question.key, question.kind) for question in questions] == [
        ("angle", "number"),
        ("hyperplane-distance", "number"),
        ("linear-system", "matrix"),
        ("eigenvalues", "matrix"),
        ("eigenvectors", "matrix"),
        ("gaussian-density", "number"),
        ("coin-mle", "expression"),
        ("coin-map", "expression"),
        ("matrix-facts", "choice"),
        ("sigmoid-derivative", "expression"),
        ("coin-mle-derivation", "derivation"),
    ]
    assert {q.key: answers.spec_check(q.kind, q.spec) for q in questions} == {
        q.key: [] for q in questions
    }


def test_it_changes_nothing_when_the_demo_course_is_loaded_again(demo_course: Course) -> None:
    _, changes = course_file_load(path=EXAMPLE_COURSE)
    assert changes.summary() == "nothing changed"


def test_it_dumps_the_demo_quiz_as_the_file_wrote_it(demo_course: Course) -> None:
    written = yaml.safe_load(EXAMPLE_COURSE.read_text(encoding="utf-8"))["quizzes"]
    document = yaml.safe_load(course_file_dump(demo_course))
    # The dump leaves out the values that are the defaults (the best attempt counts, answers
    # are shown after the close).
    assert document["quizzes"] == [
        {key: value for key, value in quiz.items() if key not in ("counts", "show_answers")}
        for quiz in written
    ]


def test_it_reloads_the_demo_course_s_dump_without_a_change(
    demo_course: Course, tmp_path: Path
) -> None:
    first = course_file_dump(demo_course)
    _, changes = course_file_load(path=dumped(demo_course, tmp_path))
    assert changes.summary() == "nothing changed"
    assert course_file_dump(demo_course) == first


# The small course: what a load writes and what a reload changes.


def test_it_writes_the_quiz_and_every_kind_of_question(tmp_path: Path) -> None:
    [quiz] = facts(load(tmp_path))
    assert quiz[:6] == (
        "quiz-theory",
        "Two attempts; the last one counts.",
        30,
        2,
        "last",
        "after_submit",
    )
    assert [(key, position, kind, points) for key, position, kind, points, *_ in quiz[6]] == [
        ("norm", 0, "number", Decimal(4)),
        ("convex", 1, "choice", Decimal(3)),
        ("inverse", 2, "matrix", Decimal(3)),
        ("derivative", 3, "expression", Decimal(5)),
        ("chain-rule", 4, "derivation", Decimal(5)),
    ]
    # The spec is the question's keys other than key, kind, points and text.
    assert quiz[6][0][5] == {
        "parameters": {"a": {"from": 3, "to": 9}, "b": {"choices": [4, 12]}},
        "answer": "sqrt(a^2 + b^2)",
        "tolerance": 0.01,
    }


def test_it_gives_a_quiz_the_defaults_of_the_keys_it_leaves_out(tmp_path: Path) -> None:
    def bare(document: Document) -> None:
        quiz = document["quizzes"][0]
        for key in ("instructions", "time_limit_minutes", "attempts", "counts", "show_answers"):
            del quiz[key]

    [quiz] = facts(load(tmp_path, bare))
    assert quiz[1:6] == ("", None, 1, "best", "after_close")


def test_it_changes_nothing_when_the_same_file_is_loaded_again(tmp_path: Path) -> None:
    load(tmp_path)
    _, changes = course_file_load(path=write(tmp_path))
    assert changes.summary() == "nothing changed"


def test_it_updates_a_question_in_place_and_reorders_the_questions(tmp_path: Path) -> None:
    course = load(tmp_path)
    norm = Question.objects.get(key="norm")

    def changed(document: Document) -> None:
        questions = document["quizzes"][0]["questions"]
        questions[0]["tolerance"] = 0.05
        questions.reverse()

    _, changes = course_file_load(path=write(tmp_path, changed))
    keys = [key for key, *_ in facts(course)[0][6]]
    assert keys == ["chain-rule", "derivative", "inverse", "convex", "norm"]
    assert Question.objects.get(key="norm").pk == norm.pk
    assert Question.objects.get(key="norm").spec["tolerance"] == 0.05
    assert changes.created == {}


def test_it_removes_a_question_that_nobody_answered(tmp_path: Path) -> None:
    course = load(tmp_path)

    def fewer(document: Document) -> None:
        questions = document["quizzes"][0]["questions"]
        questions[0]["points"] += questions.pop(1)["points"]

    _, changes = course_file_load(path=write(tmp_path, fewer))
    assert [key for key, *_ in facts(course)[0][6]] == [
        "norm",
        "inverse",
        "derivative",
        "chain-rule",
    ]
    assert changes.deleted["questions"] == 1


def test_it_refuses_to_remove_a_question_that_students_answered(tmp_path: Path) -> None:
    course = load(tmp_path)
    quiz = Quiz.objects.get(item__course=course)
    student = course.memberships.get(user__username="student01").user
    during = datetime(2024, 10, 8, 12, 0, tzinfo=ISTANBUL)
    attempt = attempt_start(quiz=quiz, student=student, now=during)
    answer_save(attempt=attempt, question=quiz.questions.get(key="convex"), text="0,2", now=during)
    before = facts(course)

    def fewer(document: Document) -> None:
        questions = document["quizzes"][0]["questions"]
        questions[0]["points"] += questions.pop(1)["points"]

    path = write(tmp_path, fewer)
    with pytest.raises(CourseFileError) as caught:
        course_file_load(path=path)
    assert str(caught.value).startswith(f"{path}: quizzes: ")
    assert "the question 'convex'" in caught.value.problem
    assert facts(course) == before


def test_it_reloads_its_dump_without_a_change(tmp_path: Path) -> None:
    course = load(tmp_path)
    first = course_file_dump(course)
    _, changes = course_file_load(path=dumped(course, tmp_path))
    assert changes.summary() == "nothing changed"
    assert course_file_dump(course) == first


def test_it_recreates_the_quiz_of_a_deleted_course_from_its_dump(tmp_path: Path) -> None:
    course = load(tmp_path)
    before = facts(course)
    path = dumped(course, tmp_path)
    course.items.all().delete()
    course.delete()
    again, _ = course_file_load(path=path)
    assert facts(again) == before


# Bad quizzes: FILE:LINE: key.path: problem. A problem of a question's spec is reported on the
# key at fault, at its line.


def set_in(path: tuple[Any, ...], value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def both_keyed(key: str) -> Callable[[Document], None]:
    return set_in((*QUESTIONS, 1, "key"), key)


BAD_FILES = [
    (
        set_in((*QUESTIONS, 1, "kind"), "essay"),
        "quizzes[0].questions[1].kind",
        "'essay' is not one of choice, number, matrix, expression, derivation",
        "kind: essay",
    ),
    (
        set_in((*QUESTIONS, 0, "points"), 5),
        "quizzes[0].questions",
        "the questions' points add up to 21.00, the item 'quiz-theory' has 20.00",
        "questions:",
    ),
    (
        set_in((*QUESTIONS, 0, "tolerance"), -0.5),
        "quizzes[0].questions[0].tolerance",
        "tolerance must be a number >= 0",
        "tolerance: -0.5",
    ),
    (
        set_in((*QUESTIONS, 4, "rubric"), "proof"),
        "quizzes[0].questions[4]",
        "rubric: no rubric of the file has that slug (the file's: derivation)",
        "- key: chain-rule",
    ),
    (
        both_keyed("norm"),
        "quizzes[0].questions[1].key",
        "two questions have the key 'norm'",
        "- key: norm",
    ),
    (
        set_in((*QUESTIONS, 2, "mode"), "diagonal"),
        "quizzes[0].questions[2].mode",
        "mode must be one of exact, eigenvector, set, eigenvectors",
        "mode: diagonal",
    ),
    (
        set_in((*QUESTIONS, 3, "answer"), "3*x^2 + 2*y"),
        "quizzes[0].questions[3].answer",
        "unknown name 'y'",
        "answer: 3*x^2 + 2*y",
    ),
    (
        set_in(("quizzes", 0, "item"), "quiz-practice"),
        "quizzes[0].item",
        "no graded item has the slug 'quiz-practice' (see grading)",
        "item: quiz-practice",
    ),
]


@pytest.mark.parametrize(("change", "key", "problem", "line_holds"), BAD_FILES)
def test_it_refuses_a_bad_quiz_naming_the_file_line_and_key(
    change: Callable[[Document], None], key: str, problem: str, line_holds: str, tmp_path: Path
) -> None:
    course = load(tmp_path)
    before = facts(course)
    path = write(tmp_path, change)
    with pytest.raises(CourseFileError) as caught:
        course_file_load(path=path)
    error = caught.value
    assert str(error).startswith(f"{path}:{error.line}: {key}: "), str(error)
    assert error.problem == problem
    assert error.line is not None
    assert line_holds in path.read_text(encoding="utf-8").splitlines()[error.line - 1]
    assert facts(course) == before

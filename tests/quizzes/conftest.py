"""A quiz on the personas' course: three questions worth the item's 10 points, open from Oct 7
to Oct 9 at 23:59 (Istanbul), 30 minutes per attempt, two attempts, the best counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from quizzes.models import Counts, Question, Quiz, ShowAnswers
from tests.conftest import Personas

ISTANBUL = ZoneInfo("Europe/Istanbul")
OPENS = datetime(2024, 10, 7, 9, 0, tzinfo=ISTANBUL)
CLOSES = datetime(2024, 10, 9, 23, 59, tzinfo=ISTANBUL)
DURING = datetime(2024, 10, 8, 12, 0, tzinfo=ISTANBUL)
QUESTIONS = [
    {
        "key": "norm",
        "kind": "number",
        "points": Decimal(4),
        "text": "What is the length of the vector ({a}, {b})?",
        "spec": {
            "parameters": {"a": {"from": 3, "to": 9}, "b": {"from": 3, "to": 9}},
            "answer": "sqrt(a**2 + b**2)",
            "tolerance": 0.01,
        },
    },
    {
        "key": "convex",
        "kind": "choice",
        "points": Decimal(3),
        "text": "Which of these functions are convex?",
        "spec": {"options": ["x**2", "-x**2", "exp(x)"], "correct": [0, 2], "multiple": True},
    },
    {
        "key": "derivative",
        "kind": "expression",
        "points": Decimal(3),
        "text": "The derivative of x**2 * (x + 1)?",
        "spec": {"symbols": ["x"], "answer": "3*x**2 + 2*x"},
    },
]
RIGHT = {"convex": "0,2", "derivative": "x*(3*x + 2)"}


@dataclass
class QuizWorld:
    personas: Personas
    quiz: Quiz

    def right_norm(self, student) -> str:  # type: ignore[no-untyped-def]
        from quizzes.services import question_values

        values = question_values(self.quiz.questions.get(key="norm"), student)
        return str((values["a"] ** 2 + values["b"] ** 2) ** 0.5)


@pytest.fixture
def world(personas: Personas) -> QuizWorld:
    item = personas.quiz
    item.opens_at, item.due_at = OPENS, CLOSES
    item.required_to_pass, item.pass_mark = True, Decimal(5)
    item.save()
    quiz = Quiz.objects.create(
        item=item,
        time_limit_minutes=30,
        attempts_allowed=2,
        counts=Counts.BEST,
        show_answers=ShowAnswers.AFTER_CLOSE,
    )
    for position, question in enumerate(QUESTIONS):
        Question.objects.create(quiz=quiz, position=position, **question)
    return QuizWorld(personas, quiz)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)

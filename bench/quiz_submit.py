"""Time submitting an attempt of the demo course's theory quiz: every answer is checked in the
request that submits it, so this is the time a student waits after pressing Submit.

Three kinds of attempts, each submitted by every demo student in their own variant:

- right: every answer right (numbers, matrices, eigenvectors, expressions, the choices);
- mistaken: every question's typical mistake (``quizzes.demo.MISTAKES``);
- hostile: the costliest text the parser lets through in every typed answer (300 characters of
  nested functions, powers at the digit limit), which must be refused or checked quickly.

Run from the repository root: ``.venv/bin/python bench/quiz_submit.py [--runs N]``. It works on
SQLite in a temporary folder and leaves nothing behind. Goal: every submit under 1 s (the
slowest one, not the median), so that checking can stay in the request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

# Run as a script, Python puts only bench/ on the path; the project lives at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_MS = 1000.0
RUNS = 3
# Typed answers that cost the checker the most while still being parsed.
HOSTILE = (
    "exp(exp(exp(exp(exp(exp(exp(exp(x))))))))",
    "((((((((((((((((((((((((((((x))))))))))))))))))))))))))))^999",
    "sin(" * 29 + "x" + ")" * 29,
    "9^999*x - 9^999*x + " + "+".join(["tan(x)^97"] * 20),
    "[" + ", ".join(["exp(exp(exp(9)))"] * 20) + "]",
)


def setup_django() -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coursesite.settings.development",
        COURSESITE_VAR_DIR=tempfile.mkdtemp(prefix="quiz-bench-"),
    )
    import django

    django.setup()


def texts(kind: str, question: Any, student: Any, turn: int) -> dict[str, str]:
    from quizzes.demo import mistaken_answer, right_answer
    from quizzes.models import QuestionKind
    from quizzes.services import question_values

    answers = {}
    for q in question:
        if q.kind == QuestionKind.DERIVATION:
            continue
        values = question_values(q, student)
        if kind == "right":
            answers[q.key] = right_answer(q, values)
        elif kind == "mistaken":
            answers[q.key] = mistaken_answer("quiz-theory", q, values)
        elif q.kind != QuestionKind.CHOICE:
            # In the question's own symbol, so that the parser lets it through.
            symbol = (q.spec.get("symbols") or ["x"])[0]
            answers[q.key] = HOSTILE[turn % len(HOSTILE)].replace("x", symbol)
    return answers


def submit_timings(runs: int) -> dict[str, list[float]]:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from coursesite.course_file.load import course_file_load
    from quizzes.models import Attempt, Quiz
    from quizzes.services import answer_save, attempt_start, attempt_submit

    course, _ = course_file_load(
        path=Path(__file__).resolve().parent.parent / "examples" / "comp541-fall2024.yaml"
    )
    quiz = Quiz.objects.select_related("item").get(item__course=course, item__slug="quiz-theory")
    quiz.attempts_allowed = 1000
    quiz.save(update_fields=["attempts_allowed"])
    now = timezone.now()
    quiz.item.opens_at, quiz.item.due_at = now - timedelta(hours=1), now + timedelta(days=1)
    quiz.item.save(update_fields=["opens_at", "due_at"])
    questions = list(quiz.questions.order_by("position"))
    students = list(User.objects.filter(memberships__course=course, memberships__role="student"))
    timings: dict[str, list[float]] = {"right": [], "mistaken": [], "hostile": []}
    for turn in range(runs):
        for kind, found in timings.items():
            for student in students:
                attempt = attempt_start(quiz=quiz, student=student)
                for question in questions:
                    text = texts(kind, questions, student, turn + student.pk).get(question.key)
                    if text is not None:
                        answer_save(attempt=attempt, question=question, text=text)
                started = time.perf_counter()
                attempt_submit(attempt=Attempt.objects.get(pk=attempt.pk))
                found.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    connection.settings_dict["TEST"]["NAME"] = connection.settings_dict["NAME"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        timings = submit_timings(args.runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    slowest = 0.0
    for kind, found in timings.items():
        slowest = max(slowest, max(found))
        print(
            f"{kind:>8}: {len(found)} submits, median {statistics.median(found):.0f} ms, "
            f"slowest {max(found):.0f} ms"
        )
    verdict = "met" if slowest < GOAL_MS else "MISSED"
    print(f"goal: every submit under {GOAL_MS:.0f} ms -- {verdict}")


if __name__ == "__main__":
    main()

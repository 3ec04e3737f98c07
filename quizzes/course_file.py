"""The ``quizzes`` section of the course file: online quizzes and their questions.

Each entry names the graded ``item`` it scores (its points, opening time, due time as the close,
and pass mark come from the item) and may set ``instructions``, ``time_limit_minutes`` (per
attempt), ``attempts`` (default 1), ``counts`` (``best``, the default, or ``last``) and
``show_answers`` (``after_close``, the default, ``after_submit`` or ``never``). ``questions``
lists each question's ``key`` (a slug, unique in the quiz), ``kind`` (choice, number, matrix,
expression, derivation), ``points`` and ``text``; the kind's own keys (``options``, ``correct``,
``answer``, ``tolerance``, ``symbols``, ``parameters``, ``rubric``, ...) are checked by
``quizzes.answers.spec_check``. A question with answers keeps its key: the file cannot drop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from coursesite.course_file.dump import number
from coursesite.course_file.reader import Node
from coursesite.course_file.sections import Section
from coursesite.course_file.spec import CoursePlan
from coursesite.course_file.sync import Changes, prune, sync_row
from coursesite.models import Course
from quizzes import answers
from quizzes.models import Counts, Question, QuestionKind, Quiz, ShowAnswers

MAX_QUESTIONS = 200
MAX_ATTEMPTS = 100
MAX_MINUTES = 24 * 60
QUESTION_KEYS = ("key", "kind", "points", "text")


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    kind: str
    points: Decimal
    text: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class QuizSpec:
    item: str
    instructions: str
    time_limit_minutes: int | None
    attempts: int
    counts: str
    show_answers: str
    questions: tuple[QuestionSpec, ...]


def plain(value: Any) -> Any:
    """A value of the file as plain JSON-ready data (the reader's mappings carry line numbers)."""
    if isinstance(value, dict):
        return {str(key): plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    return value


def _choice(node: Node, choices: list[str]) -> str:
    value = node.text(max_length=32)
    if value not in choices:
        raise node.error(f"{value!r} is not one of {', '.join(choices)}")
    return value


def _question(node: Node, taken: set[str], rubrics: set[str]) -> QuestionSpec:
    if not isinstance(node.value, dict):
        node.mapping()  # says what was expected
    extra = [key for key in node.value if key not in QUESTION_KEYS]
    keys = node.mapping(required=QUESTION_KEYS, optional=extra)
    key = keys["key"].slug()
    if key in taken:
        raise keys["key"].error(f"two questions have the key {key!r}")
    taken.add(key)
    kind = _choice(keys["kind"], list(QuestionKind.values))
    spec = {name: plain(keys[name].value) for name in extra}
    problems = answers.spec_check(kind, spec)
    if problems:
        # Said at the key at fault where the problem names one ("tolerance must be ...").
        problem = problems[0]
        named = next((name for name in extra if problem.startswith(name)), None)
        if named is None:
            raise node.error(problem)
        raise keys[named].error(problem.removeprefix(f"{named}: "))
    if kind == QuestionKind.DERIVATION and spec.get("rubric") not in rubrics:
        known = ", ".join(sorted(rubrics)) or "none"
        raise node.error(f"rubric: no rubric of the file has that slug (the file's: {known})")
    return QuestionSpec(
        key=key,
        kind=kind,
        points=keys["points"].decimal(minimum=Decimal("0.01"), maximum=Decimal(10000)),
        text=keys["text"].text(max_length=4000),
        spec=spec,
    )


class QuizzesSection(Section):
    key = "quizzes"

    def parse(self, node: Node | None, plan: CoursePlan) -> list[QuizSpec]:
        quizzes: list[QuizSpec] = []
        rubrics = set(plan.published.get("rubrics", set()))
        for entry in node.items() if node is not None else ():
            keys = entry.mapping(
                required=("item", "questions"),
                optional=(
                    "instructions",
                    "time_limit_minutes",
                    "attempts",
                    "counts",
                    "show_answers",
                ),
            )
            item = plan.claim_item(keys["item"], "quizzes")
            taken: set[str] = set()
            questions = tuple(
                _question(question, taken, rubrics) for question in keys["questions"].items()
            )
            if not questions:
                raise keys["questions"].error("list at least one question")
            if len(questions) > MAX_QUESTIONS:
                raise keys["questions"].error(f"at most {MAX_QUESTIONS} questions")
            total = sum((question.points for question in questions), Decimal(0))
            if total != item.max_points:
                raise keys["questions"].error(
                    f"the questions' points add up to {total}, the item {item.slug!r} has "
                    f"{item.max_points}"
                )
            limit = keys.get("time_limit_minutes")
            quizzes.append(
                QuizSpec(
                    item=item.slug,
                    instructions=(
                        keys["instructions"].text(max_length=4000, allow_empty=True)
                        if "instructions" in keys
                        else ""
                    ),
                    time_limit_minutes=(
                        limit.integer(minimum=1, maximum=MAX_MINUTES) if limit else None
                    ),
                    attempts=(
                        keys["attempts"].integer(minimum=1, maximum=MAX_ATTEMPTS)
                        if "attempts" in keys
                        else 1
                    ),
                    counts=(
                        _choice(keys["counts"], list(Counts.values))
                        if "counts" in keys
                        else Counts.BEST
                    ),
                    show_answers=(
                        _choice(keys["show_answers"], list(ShowAnswers.values))
                        if "show_answers" in keys
                        else ShowAnswers.AFTER_CLOSE
                    ),
                    questions=questions,
                )
            )
        return quizzes

    def apply(self, course: Course, parsed: list[QuizSpec], changes: Changes) -> None:
        items = {item.slug: item for item in course.items.all()}
        for spec in parsed:
            quiz = sync_row(
                changes,
                Quiz,
                {"item": items[spec.item]},
                {
                    "instructions": spec.instructions,
                    "time_limit_minutes": spec.time_limit_minutes,
                    "attempts_allowed": spec.attempts,
                    "counts": spec.counts,
                    "show_answers": spec.show_answers,
                },
            )
            for position, question in enumerate(spec.questions):
                sync_row(
                    changes,
                    Question,
                    {"quiz": quiz, "key": question.key},
                    {
                        "position": position,
                        "kind": question.kind,
                        "points": question.points,
                        "text": question.text,
                        "spec": question.spec,
                    },
                )
            prune(
                changes,
                quiz.questions.exclude(key__in=[q.key for q in spec.questions]),
                key=self.key,
                in_use=_answered,
            )
        prune(
            changes,
            Quiz.objects.filter(item__course=course).exclude(
                item__slug__in=[q.item for q in parsed]
            ),
            key=self.key,
            in_use=_taken,
        )

    def dump(self, course: Course) -> list[dict[str, Any]] | None:
        quizzes = []
        for quiz in Quiz.objects.filter(item__course=course).select_related("item"):
            entry: dict[str, Any] = {"item": quiz.item.slug}
            if quiz.instructions:
                entry["instructions"] = quiz.instructions
            if quiz.time_limit_minutes:
                entry["time_limit_minutes"] = quiz.time_limit_minutes
            if quiz.attempts_allowed != 1:
                entry["attempts"] = quiz.attempts_allowed
            if quiz.counts != Counts.BEST:
                entry["counts"] = quiz.counts
            if quiz.show_answers != ShowAnswers.AFTER_CLOSE:
                entry["show_answers"] = quiz.show_answers
            entry["questions"] = [
                {
                    "key": question.key,
                    "kind": question.kind,
                    "points": number(question.points),
                    "text": question.text,
                    **question.spec,
                }
                for question in quiz.questions.all()
            ]
            quizzes.append(entry)
        return quizzes or None


def _answered(questions: Any) -> list[str]:
    questions = list(questions)
    used = set(
        Question.objects.filter(
            pk__in=[q.pk for q in questions], answers__isnull=False
        ).values_list("pk", flat=True)
    )
    return [f"the question {q.key!r}" for q in questions if q.pk in used]


def _taken(quizzes: Any) -> list[str]:
    return [f"the quiz of {quiz.item.slug!r}" for quiz in quizzes if quiz.attempts.exists()]

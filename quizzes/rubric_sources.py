"""What rubric grading needs to know of quizzes: ``answer:N`` is a derivation handed in for a
quiz (a PDF or a photo), scored with its question's rubric on the scoring pages.

Every derivation of a submitted attempt is work to score, by question, then student, then
attempt. The rubric's share of its points goes to the answer, out of the question's points (not
to the quiz's Score directly): the attempt's points and the quiz's Score follow
(``quizzes.services.derivation_score``). Beside the rubric staff see the question, with the
student's own numbers, and the file.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse

from coursesite.models import GradeItem
from grading.models import Rubric
from grading.rubrics import SubjectSource, Work, subject_pk
from quizzes import answers
from quizzes.models import Answer, Question, QuestionKind
from quizzes.services import derivation_score, question_values

CENT = Decimal("0.01")


def _derivations(item: GradeItem) -> QuerySet[Answer]:
    return (
        Answer.objects.filter(
            attempt__quiz__item=item,
            attempt__submitted_at__isnull=False,
            question__kind=QuestionKind.DERIVATION,
        )
        .exclude(upload="")
        .select_related("attempt__student", "question")
        .order_by("question__position", "attempt__student__username", "attempt__number")
    )


def _work(answer: Answer) -> Work:
    student = answer.attempt.student
    name = student.get_full_name() or student.username
    label = f"{answer.question.key}: {name}, attempt {answer.attempt.number}"
    return Work(f"answer:{answer.pk}", label, (student.pk,))


class DerivationSource(SubjectSource):
    kind = "answer"
    records_itself = True

    def claims(self, item: GradeItem) -> bool:
        return Question.objects.filter(quiz__item=item, kind=QuestionKind.DERIVATION).exists()

    def works(self, item: GradeItem) -> list[Work]:
        return [_work(answer) for answer in _derivations(item)]

    def _answer(self, item: GradeItem, subject: str) -> Answer | None:
        pk = subject_pk(subject)
        return _derivations(item).filter(pk=pk).first() if pk is not None else None

    def work(self, item: GradeItem, subject: str) -> Work | None:
        answer = self._answer(item, subject)
        return _work(answer) if answer is not None else None

    def rubric(self, item: GradeItem, subject: str) -> Rubric | None:
        answer = self._answer(item, subject)
        if answer is None:
            return None
        slug = str(answer.question.spec.get("rubric", ""))
        return Rubric.objects.filter(course_id=item.course_id, slug=slug).first()

    def context(self, item: GradeItem, subject: str) -> dict[str, Any]:
        answer = self._answer(item, subject)
        if answer is None:
            return {}
        question = answer.question
        values = question_values(question, answer.attempt.student)
        text = answers.render(question.text, values)
        url = reverse("quiz-derivation", args=[item.course.slug, item.slug, answer.pk])
        context: dict[str, Any] = {
            "parts": [(f"{question.key} ({question.points} points)", text)],
            "links": [("The derivation as handed in", url)],
        }
        if (answer.upload.name or "").endswith(".pdf"):
            context["file_url"] = url
        return context

    def record(
        self,
        item: GradeItem,
        subject: str,
        fraction: Decimal | None,
        *,
        changed_by: AbstractBaseUser | None,
        reason: str,
    ) -> bool:
        answer = self._answer(item, subject)
        if answer is None:
            return False
        points = None
        if fraction is not None:
            points = (answer.question.points * fraction).quantize(CENT, rounding=ROUND_HALF_UP)
        if points == answer.points:
            return False
        scorer = changed_by if isinstance(changed_by, User) else None
        derivation_score(answer=answer, points=points, scored_by=scorer)
        return True

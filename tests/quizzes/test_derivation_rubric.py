"""A derivation handed in for a quiz, scored with its question's rubric on the scoring pages:
the rubric's share goes to the answer, out of the question's points, and the attempt and the
quiz's Score follow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from coursesite.models import Role, Score
from grading.models import Criterion, Rubric, RubricEvaluation
from grading.rubrics import MarkInput, evaluation_delete, evaluation_save
from quizzes.models import Answer, QuestionKind
from quizzes.services import answer_upload, attempt_start, attempt_submit
from tests.conftest import make_member
from tests.coursesite.test_pages import logged_in
from tests.quizzes.conftest import DURING, QuizWorld, minutes

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def handed_in(world: QuizWorld) -> tuple[QuizWorld, Answer, Criterion]:
    """Carol's derivation of the 3-point question, handed in and submitted; its rubric is worth
    10 points."""
    quiz = world.quiz
    quiz.questions.filter(key="derivative").update(
        kind=QuestionKind.DERIVATION, spec={"rubric": "derivation"}
    )
    rubric = Rubric.objects.create(
        course=world.personas.course, slug="derivation", title="A derivation"
    )
    criterion = Criterion.objects.create(rubric=rubric, title="Steps", max_points=10)
    carol = world.personas.carol
    attempt = attempt_start(quiz=quiz, student=carol, now=DURING)
    question = quiz.questions.get(key="derivative")
    upload = SimpleUploadedFile("work.png", PNG)
    answer = answer_upload(attempt=attempt, question=question, upload=upload, now=DURING)
    attempt_submit(attempt=attempt, now=DURING + minutes(1))
    return world, answer, criterion


def test_the_rubrics_share_goes_to_the_answer_and_the_quiz_score_follows(handed_in):
    world, answer, criterion = handed_in
    item = world.quiz.item
    subject = f"answer:{answer.pk}"
    evaluation_save(
        item=item,
        subject=subject,
        grader=world.personas.bob,
        marks=[MarkInput(criterion.pk, points=Decimal(5))],
    )
    answer.refresh_from_db()
    attempt = answer.attempt
    attempt.refresh_from_db()
    # Half of the rubric: half of the question's 3 points.
    assert (answer.points, attempt.points, attempt.pending_review) == (
        Decimal("1.50"),
        Decimal("1.50"),
        False,
    )
    assert Score.objects.get(item=item, student=world.personas.carol).points == Decimal("1.50")
    evaluation_delete(
        evaluation=RubricEvaluation.objects.get(subject=subject), by=world.personas.bob
    )
    answer.refresh_from_db()
    attempt.refresh_from_db()
    assert (answer.points, attempt.pending_review) == (None, True)


def test_staff_find_the_derivation_to_score_and_its_file(handed_in):
    world, answer, _ = handed_in
    course, item = world.personas.course, world.quiz.item
    bob = logged_in(world.personas.bob)
    queue = bob.get(f"/courses/{course.slug}/scoring/{item.slug}/").content.decode()
    assert "derivative: carol, attempt 1" in queue and f"answer:{answer.pk}" in queue
    file_url = f"/courses/{course.slug}/quizzes/{item.slug}/derivations/{answer.pk}/"
    response = bob.get(file_url)
    assert (response.status_code, b"".join(response.streaming_content)) == (200, PNG)
    assert logged_in(world.personas.carol).get(file_url).status_code == 200
    erin = make_member(course, "erin", Role.STUDENT)
    assert logged_in(erin).get(file_url).status_code == 404

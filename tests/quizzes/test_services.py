"""Taking a quiz: the rules of ``quizzes.services``, each against the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from coursesite.models import Role, Score, ScoreSource
from quizzes.models import Answer, Attempt, Counts, Question, QuestionKind
from quizzes.selectors import quiz_view
from quizzes.services import (
    answer_save,
    answer_upload,
    attempt_start,
    attempt_submit,
    attempts_finish_expired,
    question_values,
)
from tests.conftest import make_member
from tests.quizzes.conftest import CLOSES, DURING, OPENS, RIGHT, QuizWorld, minutes


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(text for texts in error.value.message_dict.values() for text in texts)


def save_all(world: QuizWorld, attempt: Attempt, student, now) -> None:  # type: ignore[no-untyped-def]
    quiz = world.quiz
    answer_save(
        attempt=attempt,
        question=quiz.questions.get(key="norm"),
        text=world.right_norm(student),
        now=now,
    )
    for key, text in RIGHT.items():
        answer_save(attempt=attempt, question=quiz.questions.get(key=key), text=text, now=now)


def test_a_student_starts_saves_and_submits_and_the_score_reaches_the_gradebook(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    save_all(world, attempt, carol, DURING + minutes(5))
    done = attempt_submit(attempt=attempt, now=DURING + minutes(10))
    assert (done.points, done.pending_review) == (Decimal(10), False)
    score = Score.objects.get(item=world.quiz.item, student=carol)
    assert (score.points, score.source) == (Decimal(10), ScoreSource.QUIZ)
    assert score.comment == "Attempt 1 of 1 (the best counts)."


def test_saved_answers_survive_a_reload(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    answer_save(
        attempt=attempt,
        question=world.quiz.questions.get(key="derivative"),
        text="3*x^2 + 2*x",
        now=DURING,
    )
    # A reload starts nothing new: the running attempt comes back with what was saved.
    again = attempt_start(quiz=world.quiz, student=carol, now=DURING + minutes(3))
    view = quiz_view(world.quiz, carol, now=DURING + minutes(3))
    shown = {question.key: question.answer for question in view.questions}
    assert (again.pk, shown["derivative"], shown["norm"]) == (attempt.pk, "3*x^2 + 2*x", "")


def test_a_later_save_replaces_the_answer(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    question = world.quiz.questions.get(key="convex")
    answer_save(attempt=attempt, question=question, text="0", now=DURING)
    answer_save(attempt=attempt, question=question, text="0,2", now=DURING + minutes(1))
    assert list(Answer.objects.filter(attempt=attempt).values_list("text", flat=True)) == ["0,2"]


def test_it_refuses_an_attempt_before_the_quiz_opens_and_after_it_closes(world):
    carol = world.personas.carol
    with pytest.raises(ValidationError) as early:
        attempt_start(quiz=world.quiz, student=carol, now=OPENS - minutes(1))
    with pytest.raises(ValidationError) as late:
        attempt_start(quiz=world.quiz, student=carol, now=CLOSES)
    assert "opens at 2024-10-07 09:00" in refusal(early)
    assert "closed at 2024-10-09 23:59" in refusal(late)
    assert Attempt.objects.count() == 0


def test_it_refuses_an_attempt_beyond_the_limit(world):
    carol = world.personas.carol
    for number in range(2):
        attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING + minutes(60 * number))
        attempt_submit(attempt=attempt, now=DURING + minutes(60 * number + 1))
    with pytest.raises(ValidationError) as third:
        attempt_start(quiz=world.quiz, student=carol, now=DURING + minutes(180))
    assert refusal(third) == "You have used your 2 attempts."
    assert Attempt.objects.filter(student=carol).count() == 2


def test_the_deadline_is_the_time_limit_and_never_after_the_close(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    erin = make_member(world.personas.course, "erin", Role.STUDENT)
    near_close = attempt_start(quiz=world.quiz, student=erin, now=CLOSES - minutes(10))
    assert (attempt.deadline_at, near_close.deadline_at) == (DURING + minutes(30), CLOSES)


def test_only_students_take_quizzes(world):
    with pytest.raises(ValidationError) as staff:
        attempt_start(quiz=world.quiz, student=world.personas.alice, now=DURING)
    assert "Only a student" in refusal(staff)


def test_a_save_after_the_deadline_is_refused_and_the_attempt_submitted_as_it_stood(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    answer_save(
        attempt=attempt,
        question=world.quiz.questions.get(key="convex"),
        text="0,2",
        now=DURING + minutes(29),
    )
    with pytest.raises(ValidationError) as late:
        answer_save(
            attempt=attempt,
            question=world.quiz.questions.get(key="derivative"),
            text=RIGHT["derivative"],
            now=DURING + minutes(31),
        )
    attempt.refresh_from_db()
    assert "Time is up" in refusal(late)
    # Submitted at the deadline (and the network's few seconds), with the one answer saved.
    assert attempt.submitted_at is not None
    assert DURING + minutes(30) <= attempt.submitted_at <= DURING + minutes(30.25)
    assert attempt.points == Decimal(3)


def test_an_attempt_left_running_is_submitted_once_its_deadline_passes(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    save_all(world, attempt, carol, DURING + minutes(2))
    assert attempts_finish_expired(quiz=world.quiz, now=DURING + minutes(20)) == 0
    assert attempts_finish_expired(quiz=world.quiz, now=DURING + minutes(45)) == 1
    attempt.refresh_from_db()
    assert attempt.points == Decimal(10)
    assert Score.objects.get(item=world.quiz.item, student=carol).points == Decimal(10)


def test_an_attempt_is_submitted_once(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    attempt_submit(attempt=attempt, now=DURING + minutes(1))
    with pytest.raises(ValidationError) as twice:
        attempt_submit(attempt=attempt, now=DURING + minutes(2))
    with pytest.raises(ValidationError) as save:
        answer_save(
            attempt=attempt,
            question=world.quiz.questions.get(key="convex"),
            text="0",
            now=DURING + minutes(2),
        )
    assert "submitted already" in refusal(twice)
    assert "its answers are final" in refusal(save)


def test_the_best_or_the_last_attempt_counts(world):
    carol = world.personas.carol
    first = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    save_all(world, first, carol, DURING)
    attempt_submit(attempt=first, now=DURING + minutes(5))
    second = attempt_start(quiz=world.quiz, student=carol, now=DURING + minutes(60))
    attempt_submit(attempt=second, now=DURING + minutes(65))  # nothing answered: 0
    score = Score.objects.get(item=world.quiz.item, student=carol)
    assert (score.points, score.comment) == (Decimal(10), "Attempt 1 of 2 (the best counts).")
    world.quiz.counts = Counts.LAST
    world.quiz.save()
    from quizzes.services import quiz_score_refresh

    quiz_score_refresh(quiz=world.quiz, student=carol)
    score.refresh_from_db()
    assert (score.points, score.comment) == (Decimal(0), "Attempt 2 of 2 (the last counts).")


def test_the_right_answers_show_only_after_the_close(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    save_all(world, attempt, carol, DURING)
    attempt_submit(attempt=attempt, now=DURING + minutes(1))
    before = quiz_view(world.quiz, carol, now=DURING + minutes(2))
    after = quiz_view(world.quiz, carol, now=CLOSES + minutes(1))
    assert (before.answers_shown, [q.expected for q in before.questions]) == (False, ["", "", ""])
    assert after.answers_shown and all(q.expected for q in after.questions)


def test_a_variant_is_stable_for_a_student_and_differs_between_students(world):
    question = world.quiz.questions.get(key="norm")
    students = [make_member(world.personas.course, f"s{n}", Role.STUDENT) for n in range(8)]
    drawn = [question_values(question, student) for student in students]
    again = [question_values(question, student) for student in students]
    assert drawn == again
    assert len({tuple(sorted(values.items())) for values in drawn}) > 1
    assert all(3 <= values["a"] <= 9 and 3 <= values["b"] <= 9 for values in drawn)
    texts = {q.text for s in students[:4] for q in quiz_view(world.quiz, s, now=DURING).questions}
    assert any("What is the length of the vector (" in text for text in texts)


def test_a_derivation_counts_once_staff_score_it(world):
    from quizzes.services import derivation_score

    quiz = world.quiz
    quiz.questions.filter(key="derivative").update(
        kind=QuestionKind.DERIVATION, spec={"rubric": "r"}
    )
    carol = world.personas.carol
    attempt = attempt_start(quiz=quiz, student=carol, now=DURING)
    question = Question.objects.get(quiz=quiz, key="derivative")
    photo = SimpleUploadedFile("work.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    answer = answer_upload(attempt=attempt, question=question, upload=photo, now=DURING)
    with pytest.raises(ValidationError) as text:
        answer_save(attempt=attempt, question=question, text="x", now=DURING)
    attempt = attempt_submit(attempt=attempt, now=DURING + minutes(1))
    assert (attempt.points, attempt.pending_review) == (Decimal(0), True)
    derivation_score(answer=answer, points=Decimal("2.5"), scored_by=world.personas.bob)
    attempt.refresh_from_db()
    assert (attempt.points, attempt.pending_review) == (Decimal("2.5"), False)
    assert "PDF or a photo" in refusal(text)


def test_it_refuses_an_upload_that_is_no_pdf_or_image(world):
    quiz = world.quiz
    quiz.questions.filter(key="derivative").update(
        kind=QuestionKind.DERIVATION, spec={"rubric": "r"}
    )
    attempt = attempt_start(quiz=quiz, student=world.personas.carol, now=DURING)
    script = SimpleUploadedFile("work.pdf", b"#!/bin/sh\nrm -rf /\n")
    with pytest.raises(ValidationError) as refused:
        answer_upload(
            attempt=attempt,
            question=quiz.questions.get(key="derivative"),
            upload=script,
            now=DURING,
        )
    assert "this file is none of them" in refusal(refused)
    assert Answer.objects.count() == 0

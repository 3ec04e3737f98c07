"""The quiz pages: the course's quizzes, a quiz with the student's attempts, taking an attempt
(here without the page's script, as a plain form), the staff's table of attempts, and what
outsiders and other students get."""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from coursesite.models import Role, Score, ScoreSource
from quizzes import answers
from quizzes.models import Answer, Attempt, Question, QuestionKind, ShowAnswers
from quizzes.services import answer_save, attempt_start, attempt_submit, question_values
from tests.conftest import make_member
from tests.coursesite.test_pages import logged_in, page_text
from tests.quizzes.conftest import DURING, RIGHT, QuizWorld, minutes

# Session, user, membership with its course, the quizzes with their items, then per quiz the
# expired attempts (none: a savepoint and a read) and, once one is submitted, the counted
# attempt; and the student's attempts of every quiz in one read.
LIST_QUERIES = 9


def open_now(world: QuizWorld) -> QuizWorld:
    """The quiz, open now: opened an hour ago, closing in two hours."""
    item = world.quiz.item
    now = timezone.now()
    item.opens_at, item.due_at = now - minutes(60), now + minutes(120)
    item.save(update_fields=["opens_at", "due_at"])
    return world


@pytest.fixture
def open_world(world: QuizWorld) -> QuizWorld:
    return open_now(world)


def url(world: QuizWorld, path: str = "") -> str:
    return f"/courses/{world.personas.course.slug}/quizzes/{path}"


def quiz_url(world: QuizWorld, path: str = "") -> str:
    return url(world, f"quiz/{path}")


def started(world: QuizWorld, client: Client) -> Attempt:
    answer = client.post(quiz_url(world, "start/"))
    assert answer.status_code == 302 and answer["Location"] == quiz_url(world, "attempts/1/")
    return Attempt.objects.get(student__username="carol")


def right_answers(world: QuizWorld) -> dict[str, object]:
    return {
        "answer-norm": world.right_norm(world.personas.carol),
        "answer-convex": ["0", "2"],
        "answer-derivative": RIGHT["derivative"],
    }


def test_it_lists_the_quizzes_with_their_times_in_the_course_zone_and_the_counted_points(world):
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    answer_save(
        attempt=attempt, question=world.quiz.questions.get(key="convex"), text="0,2", now=DURING
    )
    attempt_submit(attempt=attempt, now=DURING + minutes(5))
    text = page_text(logged_in(carol).get(url(world)))
    # The fixture's quiz is long closed; its times are Istanbul's, not the server's UTC.
    assert "Quiz closed required to pass Mon 7 Oct 2024, 09:00 (Europe/Istanbul)" in text
    assert "Wed 9 Oct 2024, 23:59 (Europe/Istanbul) 30 minutes 1 of 2 3 / 10" in text


def test_it_lists_the_quizzes_in_a_fixed_number_of_queries(world, django_assert_num_queries):
    carol = world.personas.carol
    for number in range(2):
        attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING + minutes(60 * number))
        attempt_submit(attempt=attempt, now=DURING + minutes(60 * number + 1))
    client = logged_in(carol)
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(url(world)).status_code == 200


def test_the_course_page_links_to_the_quizzes(world):
    page = logged_in(world.personas.carol).get(f"/courses/{world.personas.course.slug}/")
    assert f'href="{url(world)}"' in page.content.decode()


def test_a_student_starts_an_attempt_and_takes_their_own_variant(open_world):
    world, carol = open_world, open_world.personas.carol
    client = logged_in(carol)
    assert "Start attempt 1" in page_text(client.get(quiz_url(world)))
    attempt = started(world, client)
    page = client.get(quiz_url(world, "attempts/1/"))
    html, text = page.content.decode(), page_text(page)
    norm = world.quiz.questions.get(key="norm")
    own = answers.render(norm.text, question_values(norm, carol))
    assert own in text and "{a}" not in text
    assert 'type="checkbox" name="answer-convex"' in html
    assert "Symbols: x." in text
    deadline = attempt.deadline_at.astimezone(UTC)
    assert f'data-deadline="{deadline:%Y-%m-%dT%H:%M:%S}.' in html
    assert 'role="status"' in html and 'id="countdown"' in html


def test_start_continues_the_running_attempt(open_world):
    client = logged_in(open_world.personas.carol)
    started(open_world, client)
    assert client.post(quiz_url(open_world, "start/"))["Location"].endswith("/attempts/1/")
    assert "Continue attempt 1" in page_text(client.get(quiz_url(open_world)))
    assert Attempt.objects.count() == 1


def test_a_refused_start_shows_the_reason(world):
    client = logged_in(world.personas.carol)
    page = client.post(quiz_url(world, "start/"), follow=True)
    text = page_text(page)
    assert "No attempt was started: Quiz closed at 2024-10-09 23:59 +03." in text
    assert "The quiz is closed." in text and "Start attempt" not in text
    assert Attempt.objects.count() == 0


def test_saved_answers_show_again_on_the_attempt_page(open_world):
    carol = open_world.personas.carol
    client = logged_in(carol)
    attempt = started(open_world, client)
    for key, text in RIGHT.items():
        answer_save(attempt=attempt, question=open_world.quiz.questions.get(key=key), text=text)
    html = client.get(quiz_url(open_world, "attempts/1/")).content.decode()
    assert 'id="answer-derivative" value="x*(3*x + 2)"' in html
    checked = re.findall(r'id="answer-convex-(\d)" value="\d" checked', html)
    assert checked == ["0", "2"]


def test_submitting_without_the_script_saves_the_forms_answers_and_scores_them(open_world):
    carol = open_world.personas.carol
    client = logged_in(carol)
    started(open_world, client)
    page = client.post(
        quiz_url(open_world, "attempts/1/submit/"), right_answers(open_world), follow=True
    )
    assert page.redirect_chain[-1][0] == quiz_url(open_world, "?attempt=1#attempt")
    text = page_text(page)
    assert "Attempt 1 is submitted: 10 of 10 points." in text
    assert "Attempt 1: 10 of 10 points" in text
    saved = dict(Answer.objects.values_list("question__key", "text"))
    assert saved == {
        "norm": open_world.right_norm(carol),
        "convex": "0,2",
        "derivative": RIGHT["derivative"],
    }
    score = Score.objects.get(item=open_world.quiz.item, student=carol)
    assert (score.points, score.source) == (Decimal(10), ScoreSource.QUIZ)


def test_a_derivation_posted_with_the_form_is_handed_in_for_staff_to_score(open_world):
    Question.objects.create(
        quiz=open_world.quiz,
        key="proof",
        position=3,
        kind=QuestionKind.DERIVATION,
        text="Derive the gradient.",
        points=Decimal(2),
        spec={"rubric": "proof"},
    )
    client = logged_in(open_world.personas.carol)
    started(open_world, client)
    html = client.get(quiz_url(open_world, "attempts/1/")).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" name="answer-proof" id="answer-proof"' in html
    pdf = SimpleUploadedFile("mine.pdf", b"%PDF-1.4 a derivation", "application/pdf")
    form = {**right_answers(open_world), "answer-proof": pdf}
    page = client.post(quiz_url(open_world, "attempts/1/submit/"), form, follow=True)
    assert (
        "Attempt 1 is submitted: 10 of 10 points so far; a derivation is still to be scored by "
        "the course staff." in page_text(page)
    )
    handed_in = Answer.objects.get(question__key="proof")
    assert handed_in.upload.read() == b"%PDF-1.4 a derivation" and handed_in.points is None


def test_an_empty_field_keeps_the_answer_saved_before(open_world):
    client = logged_in(open_world.personas.carol)
    attempt = started(open_world, client)
    answer_save(attempt=attempt, question=open_world.quiz.questions.get(key="convex"), text="0,2")
    client.post(quiz_url(open_world, "attempts/1/submit/"), {"answer-derivative": "3*x^2 + 2*x"})
    attempt.refresh_from_db()
    assert (attempt.submitted_at is not None, attempt.points) == (True, Decimal(6))


def test_a_submitted_attempt_shows_the_right_answers_when_the_course_shows_them(open_world):
    open_world.quiz.show_answers = ShowAnswers.AFTER_SUBMIT
    open_world.quiz.save(update_fields=["show_answers"])
    client = logged_in(open_world.personas.carol)
    started(open_world, client)
    form = {**right_answers(open_world), "answer-convex": "0", "answer-norm": "three"}
    text = page_text(client.post(quiz_url(open_world, "attempts/1/submit/"), form, follow=True))
    assert "Your answer x**2 Points 0 of 3 Feedback Not right. Right answer x**2; exp(x)" in text
    assert "Could not be read" in text and "Points 3 of 3" in text


def test_the_right_answers_wait_for_the_close(open_world):
    client = logged_in(open_world.personas.carol)
    started(open_world, client)
    text = page_text(
        client.post(
            quiz_url(open_world, "attempts/1/submit/"), right_answers(open_world), follow=True
        )
    )
    assert "shown here after the quiz closes" in text
    assert "Right answer x**2; exp(x)" not in text and "Feedback" not in text


def test_a_submitted_attempts_page_goes_back_to_the_quiz(open_world):
    client = logged_in(open_world.personas.carol)
    started(open_world, client)
    client.post(quiz_url(open_world, "attempts/1/submit/"))
    page = client.get(quiz_url(open_world, "attempts/1/"), follow=True)
    assert page.redirect_chain == [(quiz_url(open_world, "?attempt=1#attempt"), 302)]
    assert "Attempt 1 is submitted: its answers are final." in page_text(page)
    again = client.post(quiz_url(open_world, "attempts/1/submit/"), follow=True)
    assert "This attempt was submitted already." in page_text(again)


def test_a_submission_after_the_deadline_counts_the_answers_saved_in_time(open_world):
    carol = open_world.personas.carol
    attempt = attempt_start(quiz=open_world.quiz, student=carol, now=timezone.now() - minutes(45))
    answer_save(
        attempt=attempt,
        question=open_world.quiz.questions.get(key="convex"),
        text="0,2",
        now=timezone.now() - minutes(40),
    )
    page = logged_in(carol).post(
        quiz_url(open_world, "attempts/1/submit/"), right_answers(open_world), follow=True
    )
    assert page.status_code == 200
    text = page_text(page)
    assert "Question 1 was not saved: Time is up: the attempt was submitted" in text
    assert "Attempt 1: 3 of 10 points." in text
    attempt.refresh_from_db()
    assert attempt.points == Decimal(3)


def test_staff_see_every_attempt_with_links_to_the_panel(open_world):
    carol, alice = open_world.personas.carol, open_world.personas.alice
    attempt = attempt_start(quiz=open_world.quiz, student=carol)
    client = logged_in(alice)
    page = client.get(quiz_url(open_world))
    text, html = page_text(page), page.content.decode()
    assert "Quiz: attempts" in text
    assert "1 attempt by 1 student; 1 running" in text
    assert re.search(r"carol 1 \w{3} \d+ \w{3} \d{4}, \d\d:\d\d running —", text)
    assert f'href="/admin/quizzes/attempt/{attempt.pk}/change/"' in html
    assert f'href="/admin/quizzes/attempt/?quiz__id__exact={open_world.quiz.pk}"' in html
    # Staff do not take quizzes.
    assert client.post(quiz_url(open_world, "start/")).status_code == 404
    assert client.get(quiz_url(open_world, "attempts/1/")).status_code == 404


@pytest.mark.parametrize(
    "path", ["", "quiz/", "quiz/start/", "quiz/attempts/1/", "quiz/attempts/1/submit/"]
)
def test_an_outsider_gets_404(open_world, path):
    attempt_start(quiz=open_world.quiz, student=open_world.personas.carol)
    client = logged_in(open_world.personas.dave)
    answer = (
        client.post(url(open_world, path)) if "t/" in path else client.get(url(open_world, path))
    )
    assert answer.status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(open_world):
    answer = Client().get(quiz_url(open_world))
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_another_students_attempt_cannot_be_reached(open_world):
    erin = make_member(open_world.personas.course, "erin", Role.STUDENT)
    theirs = attempt_start(quiz=open_world.quiz, student=erin)
    client = logged_in(open_world.personas.carol)
    assert client.get(quiz_url(open_world, "attempts/1/")).status_code == 404
    assert client.get(quiz_url(open_world, "?attempt=1")).status_code == 404
    assert client.post(quiz_url(open_world, "attempts/1/submit/")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.submitted_at is None and not theirs.answers.exists()


def test_a_required_quiz_not_passed_is_flagged_to_the_student_and_in_the_gradebook(world):
    """The quiz's score reaches the gradebook like any other: below the pass mark of an item
    required to pass, the student's grades and the staff's gradebook both say so."""
    item = world.quiz.item
    item.released = True
    item.save(update_fields=["released"])
    carol = world.personas.carol
    attempt = attempt_start(quiz=world.quiz, student=carol, now=DURING)
    answer_save(
        attempt=attempt, question=world.quiz.questions.get(key="convex"), text="0,2", now=DURING
    )
    attempt_submit(attempt=attempt, now=DURING + minutes(5))
    grades = page_text(logged_in(carol).get(f"/courses/{world.personas.course.slug}/grades/"))
    assert "You have not passed it yet" in grades
    assert "3 / 10 30.00% graded Attempt 1 of 1 (the best counts)." in grades
    staff = logged_in(world.personas.alice)
    book = page_text(staff.get(f"/courses/{world.personas.course.slug}/gradebook/"))
    assert "required item not passed" in book
    cell = page_text(staff.get(f"/courses/{world.personas.course.slug}/gradebook/quiz/carol/"))
    assert "Score 3 of 10 points Source Online quiz" in cell


def test_the_course_page_links_to_the_quizzes_only_where_the_course_has_one(world):
    course_page = f"/courses/{world.personas.course.slug}/"
    link = f'href="{course_page}quizzes/"'
    carol = logged_in(world.personas.carol)
    assert link in carol.get(course_page).content.decode()
    world.quiz.delete()
    assert link not in carol.get(course_page).content.decode()

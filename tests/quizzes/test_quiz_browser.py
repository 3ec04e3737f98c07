"""Taking a quiz in a real browser: a student starts the quiz, answers (each answer saved as it
is typed), reloads midway and finds the answers there, submits and sees the points; a lost
connection says so and keeps the attempt from being submitted half-saved; at zero the countdown
submits the attempt by itself. Last, a student takes the demo course's theory quiz, every
question in their own variant and the derivation as a file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from coursesite.course_file.load import course_file_load
from quizzes import answers
from quizzes.demo import derivation_upload, right_answer
from quizzes.models import Answer, Attempt, Question, QuestionKind, Quiz
from quizzes.services import attempt_start, question_values
from tests.conftest import EXAMPLE_COURSE
from tests.presentations.test_review_browser import PASSWORD, log_in
from tests.quizzes.conftest import RIGHT, QuizWorld
from tests.quizzes.test_quiz_pages import open_now

pytest_plugins = ["tests.browser"]


@pytest.fixture
def quiz_open(world: QuizWorld) -> QuizWorld:
    return open_now(world)


@pytest.fixture
def offline(browser: WebDriver) -> Iterator[None]:
    """The shared browser is back on the network after a test that cut it off."""
    yield
    browser.delete_network_conditions()


def go_offline(browser: WebDriver, offline: bool = True) -> None:
    browser.set_network_conditions(
        offline=offline, latency=0, download_throughput=-1, upload_throughput=-1
    )


def wait(browser: WebDriver, seconds: float = 10) -> WebDriverWait[WebDriver]:
    return WebDriverWait(browser, seconds)


def save_state(browser: WebDriver, key: str) -> str:
    return browser.find_element(By.ID, f"state-{key}").text


def saved(browser: WebDriver, key: str) -> None:
    """Wait until the page says the question's answer is saved."""
    wait(browser).until(lambda _: save_state(browser, key) == "saved")


def value(browser: WebDriver, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).get_property("value")  # type: ignore[return-value]


def ticked(browser: WebDriver, key: str) -> list[str]:
    boxes = browser.find_elements(By.CSS_SELECTOR, f"input[name=answer-{key}]")
    return [box.get_property("value") for box in boxes if box.is_selected()]  # type: ignore[misc]


def attempt_url(live_server: LiveServer, world: QuizWorld) -> str:
    return f"{live_server.url}/courses/{world.personas.course.slug}/quizzes/quiz/attempts/1/"


def test_it_saves_answers_as_they_are_typed_keeps_them_over_a_reload_and_submits(
    browser: WebDriver, live_server: LiveServer, quiz_open: QuizWorld
) -> None:
    carol = quiz_open.personas.carol
    course_url = f"{live_server.url}/courses/{quiz_open.personas.course.slug}/"
    log_in(browser, course_url, "carol")
    browser.find_element(By.LINK_TEXT, "Quizzes").click()
    assert "0 of 2" in browser.find_element(By.ID, "quiz-quiz").text
    browser.find_element(By.LINK_TEXT, "Quiz").click()
    browser.find_element(By.XPATH, "//button[normalize-space()='Start attempt 1']").click()
    wait(browser).until(expected_conditions.url_to_be(attempt_url(live_server, quiz_open)))

    countdown = browser.find_element(By.ID, "time-left")
    assert browser.find_element(By.ID, "countdown").is_displayed()
    assert re.fullmatch(r"(29|30):\d\d", countdown.text), countdown.text

    browser.find_element(By.ID, "answer-norm").send_keys(quiz_open.right_norm(carol))
    browser.find_element(By.ID, "answer-convex-0").click()
    saved(browser, "norm")
    saved(browser, "convex")
    # Saved by the page's script through the API, before anything was submitted.
    assert dict(Answer.objects.values_list("question__key", "text")) == {
        "norm": quiz_open.right_norm(carol),
        "convex": "0",
    }

    browser.refresh()
    assert value(browser, "answer-norm") == quiz_open.right_norm(carol)
    assert ticked(browser, "convex") == ["0"]
    browser.find_element(By.ID, "answer-convex-2").click()
    browser.find_element(By.ID, "answer-derivative").send_keys(RIGHT["derivative"])
    saved(browser, "convex")
    saved(browser, "derivative")

    browser.find_element(By.ID, "submit-attempt").click()
    message = wait(browser).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messages .success"))
    )
    assert message.text == "Attempt 1 is submitted: 10 of 10 points."
    row = browser.find_element(By.ID, "attempt-1").text
    assert "submitted" in row and "10 / 10" in row
    attempt = Attempt.objects.get(student=carol)
    assert attempt.submitted_at is not None and attempt.points == 10


def test_a_lost_connection_is_shown_and_the_answer_sent_again_once_it_is_back(
    browser: WebDriver, live_server: LiveServer, quiz_open: QuizWorld, offline: None
) -> None:
    log_in(browser, f"{live_server.url}/courses/{quiz_open.personas.course.slug}/quizzes/", "carol")
    attempt = attempt_start(quiz=quiz_open.quiz, student=quiz_open.personas.carol)
    browser.get(attempt_url(live_server, quiz_open))
    banner = browser.find_element(By.ID, "connection-lost")
    assert not banner.is_displayed()

    go_offline(browser)
    browser.find_element(By.ID, "answer-derivative").send_keys("3*x^2")
    wait(browser).until(lambda _: save_state(browser, "derivative").startswith("not saved"))
    assert save_state(browser, "derivative") == "not saved: no connection to the site"
    assert banner.is_displayed() and "No connection to the site" in banner.text

    browser.find_element(By.ID, "submit-attempt").click()
    wait(browser).until(lambda _: "was not submitted" in banner.text)
    attempt.refresh_from_db()
    assert attempt.submitted_at is None and not attempt.answers.exists()

    go_offline(browser, offline=False)
    browser.find_element(By.ID, "answer-derivative").send_keys(" + 2*x")
    saved(browser, "derivative")
    assert not banner.is_displayed()
    assert attempt.answers.get().text == "3*x^2 + 2*x"


def test_the_countdown_submits_the_attempt_when_the_time_is_up(
    browser: WebDriver, live_server: LiveServer, quiz_open: QuizWorld
) -> None:
    log_in(browser, f"{live_server.url}/courses/{quiz_open.personas.course.slug}/quizzes/", "carol")
    attempt = attempt_start(quiz=quiz_open.quiz, student=quiz_open.personas.carol)
    Attempt.objects.filter(pk=attempt.pk).update(deadline_at=timezone.now() + timedelta(seconds=10))
    browser.get(attempt_url(live_server, quiz_open))
    assert re.fullmatch(r"00:(0\d|10)", browser.find_element(By.ID, "time-left").text)
    browser.find_element(By.ID, "answer-convex-0").click()
    browser.find_element(By.ID, "answer-convex-2").click()

    message = wait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messages .success"))
    )
    assert message.text == "Attempt 1 is submitted: 3 of 10 points."
    attempt.refresh_from_db()
    assert attempt.submitted_at is not None and attempt.points == 3


@pytest.fixture
def theory_quiz(tmp_path: Path) -> tuple[Quiz, User]:
    """The demo course's theory quiz, open now for an hour more; student01 may log in."""
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    quiz = Quiz.objects.select_related("item").get(item__course=course, item__slug="quiz-theory")
    now = timezone.now()
    quiz.item.opens_at, quiz.item.due_at = now - timedelta(hours=1), now + timedelta(hours=2)
    quiz.item.save(update_fields=["opens_at", "due_at"])
    student = User.objects.get(username="student01")
    student.set_password(PASSWORD)
    student.save(update_fields=["password"])
    return quiz, student


def answer_in_browser(browser: WebDriver, question: Question, text: str, upload: Path) -> None:
    """Answer as a student does: type, tick the options, or choose the file."""
    if question.kind == QuestionKind.CHOICE:
        for index in text.split(","):
            browser.find_element(By.ID, f"answer-{question.key}-{index}").click()
    elif question.kind == QuestionKind.DERIVATION:
        browser.find_element(By.ID, f"answer-{question.key}").send_keys(str(upload))
    else:
        browser.find_element(By.ID, f"answer-{question.key}").send_keys(text)


def test_a_student_takes_the_demo_theory_quiz_reloading_midway(
    browser: WebDriver, live_server: LiveServer, theory_quiz: tuple[Quiz, User], tmp_path: Path
) -> None:
    quiz, student = theory_quiz
    slug = quiz.item.course.slug
    questions = list(quiz.questions.order_by("position"))
    right = {
        question.key: right_answer(question, question_values(question, student))
        for question in questions
        if question.kind != QuestionKind.DERIVATION
    }
    working = tmp_path / "derivation.pdf"
    working.write_bytes(derivation_upload(student, questions[-1]).read())
    log_in(browser, f"{live_server.url}/courses/{slug}/quizzes/", "student01")
    assert "0 of 2" in browser.find_element(By.ID, "quiz-quiz-theory").text
    browser.find_element(By.LINK_TEXT, "Self-Assessment Quiz (Theory)").click()
    browser.find_element(By.XPATH, "//button[normalize-space()='Start attempt 1']").click()
    wait(browser).until(
        expected_conditions.url_to_be(
            f"{live_server.url}/courses/{slug}/quizzes/quiz-theory/attempts/1/"
        )
    )
    # The student's own numbers are on the page, in the question's text.
    angle = browser.find_element(By.ID, "question-angle").text
    shown = answers.render(questions[0].text, question_values(questions[0], student))
    assert shown in angle

    first, rest = questions[:5], questions[5:]
    for question in first:
        answer_in_browser(browser, question, right.get(question.key, ""), working)
    for question in first:
        saved(browser, question.key)
    browser.refresh()
    for question in first:
        if question.kind == QuestionKind.CHOICE:
            assert ticked(browser, question.key) == right[question.key].split(",")
        else:
            assert value(browser, f"answer-{question.key}") == right[question.key]
    for question in rest:
        answer_in_browser(browser, question, right.get(question.key, ""), working)
    for question in rest:
        if question.kind == QuestionKind.DERIVATION:
            wait(browser).until(
                lambda _, key=question.key: save_state(browser, key) == "uploaded: derivation.pdf"
            )
        else:
            saved(browser, question.key)

    browser.find_element(By.ID, "submit-attempt").click()
    message = wait(browser).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messages .success"))
    )
    assert message.text == (
        "Attempt 1 is submitted: 90 of 100 points so far; a derivation is still to be scored by "
        "the course staff."
    )
    attempt = Attempt.objects.get(quiz=quiz, student=student)
    assert (attempt.points, attempt.pending_review) == (90, True)
    derivation = attempt.answers.get(question__kind=QuestionKind.DERIVATION)
    with derivation.upload.open("rb") as handed_in:
        assert handed_in.read() == working.read_bytes()

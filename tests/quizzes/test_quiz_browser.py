"""Taking a quiz in a real browser: a student starts the quiz, answers (each answer saved as it
is typed), reloads midway and finds the answers there, submits and sees the points; a lost
connection says so and keeps the attempt from being submitted half-saved; at zero the countdown
submits the attempt by itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from quizzes.models import Answer, Attempt
from quizzes.services import attempt_start
from tests.presentations.test_review_browser import log_in
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

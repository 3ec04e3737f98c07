"""Writing a paper review in a real browser: a student logs in, writes part of a review, saves
the draft, finds it again after a reload, completes and submits it, and sees it submitted."""

from __future__ import annotations

import os

from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from presentations.models import PaperReview
from tests.conftest import REPO
from tests.presentations.conftest import FULL_REVIEW, Papers

pytest_plugins = ["tests.browser"]

SCREENSHOT = REPO / "docs" / "screenshots" / "paper-review.png"
PASSWORD = "secret-password"  # the personas' password


def log_in(browser: WebDriver, url: str, username: str) -> None:
    """Open ``url``, which sends a visitor to the login form, log in there and come back."""
    browser.get(url)
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(url))


def press(browser: WebDriver, action: str) -> str:
    """Press the review form's ``action`` button; the text of the message that comes back."""
    browser.find_element(By.CSS_SELECTOR, f"#review-form button[value={action}]").click()
    message = WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messages .success"))
    )
    return message.text


def part(browser: WebDriver, name: str) -> str:
    return browser.find_element(By.ID, f"id_{name}").get_property("value")  # type: ignore[return-value]


def test_it_saves_a_draft_finds_it_after_a_reload_and_submits_it(
    browser: WebDriver, live_server: LiveServer, papers: Papers
) -> None:
    reviews = f"{live_server.url}/courses/{papers.course.slug}/reviews/"
    log_in(browser, reviews, "carol")
    assert "not started" in browser.find_element(By.ID, "review-alexnet").text
    browser.find_element(By.LINK_TEXT, "The alexnet paper").click()

    browser.find_element(By.ID, "id_summary").send_keys(FULL_REVIEW["summary"])
    browser.find_element(By.ID, "id_strengths").send_keys("ReLUs.\nDropout.")
    assert "draft review of The alexnet paper is saved" in press(browser, "save")

    browser.refresh()
    assert part(browser, "summary") == FULL_REVIEW["summary"]
    assert part(browser, "strengths") == "ReLUs.\nDropout."
    assert browser.find_element(By.ID, "review-state").text.startswith("draft")

    for name in ("weaknesses", "suggestions", "questions"):
        browser.find_element(By.ID, f"id_{name}").send_keys(FULL_REVIEW[name])
    assert press(browser, "submit") == "Your review of The alexnet paper is submitted."
    assert browser.find_element(By.ID, "review-state").text.startswith("submitted on")
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOT))

    browser.get(reviews)
    assert "submitted" in browser.find_element(By.ID, "review-alexnet").text
    review = PaperReview.objects.get(student__username="carol")
    assert review.strengths == "ReLUs.\nDropout." and review.submitted_at is not None
    assert not review.late

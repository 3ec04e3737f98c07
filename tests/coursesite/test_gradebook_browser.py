"""The gradebook in a real browser: the instructor releases A1 from the gradebook page and
exports the CSV through its link; the student then sees their A1 score on the Grades page."""

from __future__ import annotations

import csv
import io
import os
import urllib.request
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from coursesite.course_file.load import course_file_load
from coursesite.models import Course, GradeItem, ScoreSource
from coursesite.services import score_record
from tests.conftest import EXAMPLE_COURSE, REPO, with_password

pytest_plugins = ["tests.browser"]

PASSWORD = "gradebook-test-password-4b1d"
SCREENSHOT = REPO / "docs" / "screenshots" / "gradebook.png"
A1_COLUMN = "A1: MLPs and Backpropagation (a1)"


@pytest.fixture
def demo_course(transactional_db: None) -> Course:
    """The demo course with two A1 scores, A1 not released yet."""
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    a1 = course.items.get(slug="a1")
    assert not a1.released
    for username, points in [("student01", "78.5"), ("student02", "91")]:
        score_record(
            item=a1,
            student=get_user_model().objects.get(username=username),
            points=Decimal(points),
            source=ScoreSource.AUTOGRADER,
            comment="Test 4 (hidden) failed on the held-out set."
            if username == "student01"
            else "",
            changed_by=None,
            reason="Graded by the autograder.",
        )
    return course


def log_in(browser: WebDriver, base_url: str, username: str, page: str) -> None:
    """Log in through the site's form, landing on ``page``."""
    browser.get(f"{base_url}/accounts/login/?next={page}")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(f"{base_url}{page}"))


def fetch_as(browser: WebDriver, url: str) -> tuple[int, str, str]:
    """GET ``url`` with the browser's session cookie: status, content type and body."""
    cookie = browser.get_cookie("sessionid")
    assert cookie is not None, "the browser holds no session"
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie['value']}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read().decode("utf-8")


def test_it_releases_a1_exports_the_csv_and_shows_the_student_the_score(
    browser: WebDriver, live_server: LiveServer, demo_course: Course
) -> None:
    with_password("aerdem", PASSWORD)
    with_password("student01", PASSWORD)
    gradebook = f"/courses/{demo_course.slug}/gradebook/"
    grades = f"/courses/{demo_course.slug}/grades/"

    log_in(browser, live_server.url, "aerdem", gradebook)
    release = browser.find_element(
        By.CSS_SELECTOR, "#release-a1 button[aria-label^='Release the scores of']"
    )
    release.click()
    WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messages .success"))
    )
    assert "is released" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    assert browser.find_element(By.CSS_SELECTOR, "#release-a1 .tag").text == "released"
    assert GradeItem.objects.get(course=demo_course, slug="a1").released
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOT))

    export = browser.find_element(By.ID, "export-csv").get_attribute("href")
    status, content_type, body = fetch_as(browser, export)
    assert (status, content_type.split(";")[0]) == (200, "text/csv")
    header, points_possible, *rows = list(csv.reader(io.StringIO(body)))
    a1 = header.index(A1_COLUMN)
    assert points_possible[0] == "Points Possible" and points_possible[a1] == "100"
    by_login = {row[3]: row[a1] for row in rows}
    assert (by_login["student01"], by_login["student02"], by_login["student03"]) == (
        "78.5",
        "91",
        "",
    )

    browser.delete_all_cookies()
    log_in(browser, live_server.url, "student01", grades)
    row = browser.find_element(By.ID, "item-a1").text
    assert "78.50 / 100" in row and "78.50%" in row
    assert "Test 4 (hidden) failed on the held-out set." in row
    assert "not released yet" in browser.find_element(By.ID, "item-a2").text

"""Handing in through the web site in a real browser: the login form, the file input, the success
message, the history with its lateness, and the staff's grace-day table."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import REPO
from tests.submissions.conftest import HandIns, zip_of

pytest_plugins = ["tests.browser"]

SCREENSHOT = REPO / "docs" / "screenshots" / "handin.png"
PASSWORD = "secret-password"  # the personas' password


def log_in(browser: WebDriver, url: str, username: str) -> None:
    """Open ``url``, which sends a visitor to the login form, log in there and come back."""
    browser.get(url)
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(url))


def test_it_hands_in_through_the_page_and_shows_it_to_the_student_and_to_staff(
    browser: WebDriver,
    live_server: LiveServer,
    transactional_db: None,
    handins: HandIns,
    tmp_path: Path,
) -> None:
    item = handins.assignment.item
    # Three hours late: one started day, covered by one grace day.
    item.due_at = timezone.now() - timedelta(hours=3)
    item.save(update_fields=["due_at"])
    course = handins.personas.course
    page = f"{live_server.url}/courses/{course.slug}/assignments/{handins.assignment.pk}/"
    archive = tmp_path / "a1-carol.zip"
    archive.write_bytes(zip_of({"mlp.py": b"import numpy as np\n"}))

    log_in(browser, page, "carol")
    browser.find_element(By.ID, "id_file").send_keys(str(archive))
    browser.find_element(By.CSS_SELECTOR, "form[enctype] [type=submit]").click()
    success = WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messages .success"))
    )
    assert "Handed in a1-carol.zip" in success.text
    history = browser.find_element(By.ID, "history").text
    assert "a1-carol.zip" in history and "Active" in history
    lateness = browser.find_element(By.ID, "lateness").text
    assert lateness == "1 day late, 1 grace day used; 6 grace days left."
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOT))

    browser.delete_all_cookies()
    grace_days = f"{live_server.url}/courses/{course.slug}/grace-days/"
    log_in(browser, grace_days, "bob")
    rows = [
        row.text.replace("\n", " ")
        for row in browser.find_elements(By.CSS_SELECTOR, "#grace-days tbody tr")
    ]
    assert "carol 1 / 1 — not handed in 6" in rows

"""The staff's hand-in list and grading queue in a real browser: a TA filters A1's hand-ins to
the late ones, and both pages fit a 375 px wide phone without scrolling the page sideways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from submissions.services import extension_grant
from tests.grading.test_queue_page import Graded, autograded_course
from tests.presentations.test_review_browser import log_in

pytest_plugins = ["tests.browser"]

PHONE = (375, 800)


@pytest.fixture
def graded(transactional_db, personas, tmp_path, settings) -> Graded:
    """A1 was due three hours ago: Erin handed in on time within her extension, Frank nothing;
    Carol, Gail and Hal handed in late: Carol's hand-in is graded, Gail's grading gave up, and
    Hal's waits."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GRADING_MAX_ATTEMPTS = 1
    graded = autograded_course(personas, tmp_path)
    item = graded.assignment.item
    item.due_at = timezone.now() - timedelta(hours=3)
    item.save(update_fields=["due_at"])
    erin = graded.student("erin")
    extension_grant(
        item=item, student=erin, due_at=timezone.now() + timedelta(days=1), reason="ill",
        granted_by=personas.bob,
    )  # fmt: skip
    graded.student("frank")
    graded.finish(graded.hand_in(personas.carol))
    graded.finish(graded.hand_in(erin))
    graded.fail(
        graded.hand_in(graded.student("gail", "Gail", "Abernathy-Konstantinopoulou")),
        error="the worker lost its GPU: " + "CUDA error: an illegal memory access " * 8,
    )
    graded.hand_in(graded.student("hal"))
    return graded


@pytest.fixture
def phone(browser: WebDriver) -> Iterator[WebDriver]:
    screen = browser.get_window_size()
    browser.set_window_size(*PHONE)
    WebDriverWait(browser, 10).until(
        lambda window: window.execute_script("return window.innerWidth;") <= PHONE[0]
    )
    try:
        yield browser
    finally:
        browser.set_window_size(screen["width"], screen["height"])


def rows_shown(browser: WebDriver) -> list[str]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#handins tbody tr")
    return [row.get_attribute("id") or "" for row in rows]


def page_scrolls_sideways(browser: WebDriver) -> bool:
    return bool(
        browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth;")
    )


def wide_elements(browser: WebDriver) -> list[str]:
    """What sticks out past the window's right edge outside a scrolling box, for the message of
    a failed check."""
    return browser.execute_script(  # type: ignore[no-any-return]
        """
        const wide = [];
        for (const element of document.querySelectorAll("body *")) {
          const right = element.getBoundingClientRect().right;
          if (right > window.innerWidth && !element.closest(".scroll")) {
            wide.push(`${element.tagName}#${element.id}.${element.className} ${right}`);
          }
        }
        return wide.slice(0, 20);
        """
    )


def test_a_ta_filters_an_assignment_s_hand_ins_to_the_late_ones(
    browser: WebDriver, live_server: LiveServer, graded: Graded
) -> None:
    page = f"{live_server.url}{graded.course_url}/assignments/{graded.assignment.pk}/"
    log_in(browser, page, "bob")
    assert rows_shown(browser) == [
        "student-carol", "student-erin", "student-frank", "student-gail", "student-hal",
    ]  # fmt: skip
    late = browser.find_element(By.ID, "show-late")
    assert late.text == "Late (3)"
    late.click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("?show=late"))
    assert rows_shown(browser) == ["student-carol", "student-gail", "student-hal"]
    for row in rows_shown(browser):
        assert "1 day late, 1 grace day used" in browser.find_element(By.ID, row).text
    current = browser.find_element(By.CSS_SELECTOR, ".show-filter [aria-current=page]")
    assert current.text == "Late (3)"


def test_the_queue_and_the_hand_in_list_fit_a_phone(
    phone: WebDriver, live_server: LiveServer, graded: Graded
) -> None:
    queue = f"{live_server.url}{graded.course_url}/grading/queue/"
    log_in(phone, queue, "bob")
    assert phone.find_element(By.ID, "failed").is_displayed()
    assert not page_scrolls_sideways(phone), wide_elements(phone)
    phone.get(f"{live_server.url}{graded.course_url}/assignments/{graded.assignment.pk}/")
    assert phone.find_element(By.ID, "handins").is_displayed()
    assert not page_scrolls_sideways(phone), wide_elements(phone)

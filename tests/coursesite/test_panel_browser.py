"""The instructor panel in a real browser: logging in, course pages with their inlines, scoping,
and a score edited with a reason that shows up in the score's history."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from coursesite.course_file.load import course_file_load
from coursesite.models import Course, GradeCategory, GradeItem, Role, ScoreSource
from coursesite.services import score_record, staff_access_grant
from tests.conftest import EXAMPLE_COURSE, REPO, make_course, make_member, with_password

pytest_plugins = ["tests.browser"]

SCREENSHOT = REPO / "docs" / "screenshots" / "panel-course.png"
PASSWORD = "panel-test-password-7c2e"
DEMO_SLUG = "comp541-fall2024"
DEMO_MARK = "COMP441/541"


@pytest.fixture
def demo_course(transactional_db: None) -> Course:
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    return course


def log_in(browser: WebDriver, base_url: str, username: str) -> None:
    browser.get(f"{base_url}/admin/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.ID, "user-tools"))
    )


def open_page(browser: WebDriver, url: str) -> None:
    browser.get(url)
    # A page outside the user's courses redirects to the panel's index; say so rather than
    # failing later on a missing element.
    assert browser.current_url.split("?")[0] == url.split("?")[0], (
        f"{url} led to {browser.current_url}"
    )


def inline_values(browser: WebDriver, group: str, field: str) -> set[str]:
    inputs = browser.find_elements(
        By.CSS_SELECTOR, f"#{group} tr.form-row:not(.empty-form) [name$='-{field}']"
    )
    return {element.get_attribute("value") or "" for element in inputs}


def result_rows(browser: WebDriver) -> list[str]:
    return [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")]


def test_it_shows_the_instructor_the_course_with_its_grade_structure_inline(
    browser: WebDriver, live_server: LiveServer, demo_course: Course
) -> None:
    with_password("aerdem", PASSWORD)
    log_in(browser, live_server.url, "aerdem")

    open_page(browser, f"{live_server.url}/admin/coursesite/course/")
    browser.find_element(By.LINK_TEXT, DEMO_SLUG).click()
    assert browser.find_element(By.ID, "id_slug").get_attribute("value") == DEMO_SLUG
    categories = set(demo_course.categories.values_list("name", flat=True))
    items = set(demo_course.items.values_list("slug", flat=True))
    assert inline_values(browser, "categories-group", "name") == categories
    assert inline_values(browser, "items-group", "slug") == items
    if os.environ.get("SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOT))

    open_page(
        browser,
        f"{live_server.url}/admin/coursesite/gradecategory/?course__id__exact={demo_course.pk}",
    )
    browser.find_element(By.LINK_TEXT, "Programming Assignments").click()
    assert inline_values(browser, "items-group", "slug") == {"a1", "a2", "a3", "a4"}


def test_it_shows_a_ta_of_another_course_nothing_of_the_demo_course(
    browser: WebDriver, live_server: LiveServer, demo_course: Course
) -> None:
    other = make_course("ml-spring2025")
    category = GradeCategory.objects.create(course=other, name="Labs", weight=Decimal(100))
    GradeItem.objects.create(
        course=other, category=category, slug="lab1", title="Lab 1", max_points=10
    )
    staff_access_grant(user=make_member(other, "tkaya", Role.TA))
    with_password("tkaya", PASSWORD)
    log_in(browser, live_server.url, "tkaya")

    demo_titles = set(demo_course.items.values_list("title", flat=True))
    for path, own_row in [
        ("course", "ml-spring2025"),
        ("gradeitem", "Lab 1"),
        ("membership", "tkaya"),
    ]:
        open_page(browser, f"{live_server.url}/admin/coursesite/{path}/")
        rows = result_rows(browser)
        assert len(rows) == 1 and own_row in rows[0], f"{path}: {rows}"
        page = browser.find_element(By.TAG_NAME, "body").text
        assert DEMO_MARK not in page and DEMO_SLUG not in page, f"{path} shows the demo course"
        assert not [title for title in demo_titles if title in page], f"{path} shows demo items"


def test_it_keeps_a_score_edited_in_the_panel_in_its_history(
    browser: WebDriver, live_server: LiveServer, demo_course: Course
) -> None:
    ta = with_password("abond", PASSWORD)
    student = get_user_model().objects.get(username="student01")
    score = score_record(
        item=demo_course.items.get(slug="a1"),
        student=student,
        points=Decimal(70),
        source=ScoreSource.AUTOGRADER,
        changed_by=None,
        reason="Graded by the autograder.",
    )
    reason = "Regrade: test 3 compared against the wrong reference."
    log_in(browser, live_server.url, "abond")

    change_url = f"{live_server.url}/admin/coursesite/score/{score.pk}/change/"
    open_page(browser, change_url)
    points = browser.find_element(By.ID, "id_points")
    points.clear()
    points.send_keys("85")
    browser.find_element(By.ID, "id_reason").send_keys(reason)
    browser.find_element(By.NAME, "_continue").click()
    WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success"))
    )

    history = [
        row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "#changes-group tbody tr.has_original")
    ]
    assert len(history) == 2, history
    assert "70.00" in history[1] and "85.00" in history[1] and reason in history[1]
    change = score.changes.order_by("changed_at", "id").last()
    assert (change.old_points, change.new_points, change.changed_by, change.source) == (
        Decimal(70),
        Decimal(85),
        ta,
        ScoreSource.MANUAL,
    )

"""A student's dashboard in a real browser: Carol logs in, sees tomorrow's meeting and her
deadlines, whose countdowns tick; on a phone and on a wide screen the page never scrolls
sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from coursesite.models import Course
from tests.conftest import Personas
from tests.coursesite.test_dashboard import ISTANBUL, assignment, hand_in, meeting
from tests.presentations.test_review_browser import log_in

pytest_plugins = ["tests.browser"]


@pytest.fixture
def week(personas: Personas) -> Course:
    """Tomorrow's lecture; A1 due in half an hour, A2 due in 3 days and handed in."""
    course, now = personas.course, timezone.now()
    tomorrow = (now + timedelta(days=1)).astimezone(ISTANBUL).date()
    meeting(course, 5, tomorrow, "Convolutional Networks")
    assignment(course, "a1", now + timedelta(minutes=30))
    a2 = assignment(course, "a2", now + timedelta(days=3))
    hand_in(a2.item, now, cast(User, personas.carol))
    return course


@pytest.fixture
def sized(browser: WebDriver) -> Iterator[WebDriver]:
    """The shared browser, back at its usual size afterwards."""
    usual = browser.get_window_size()
    yield browser
    browser.set_window_size(usual["width"], usual["height"])


def test_it_shows_the_week_and_deadlines_whose_countdowns_tick(
    browser: WebDriver, live_server: LiveServer, week: Course
) -> None:
    log_in(browser, f"{live_server.url}/courses/{week.slug}/", "carol")
    assert "Lecture: Convolutional Networks" in browser.find_element(By.ID, "week").text
    deadlines = browser.find_elements(By.CSS_SELECTOR, "#deadlines li.deadline")
    assert [item.find_element(By.TAG_NAME, "a").text for item in deadlines] == ["A1", "A2"]
    assert "handed in" in deadlines[1].text and "not handed in yet" in deadlines[0].text
    soon, later = (item.find_element(By.CLASS_NAME, "countdown") for item in deadlines)
    first = soon.text
    assert re.fullmatch(r"in (29|30) minutes( \d+ seconds?)?", first)
    WebDriverWait(browser, 10).until(lambda _: soon.text != first)
    assert re.fullmatch(r"in (29|30) minutes( \d+ seconds?)?", soon.text)
    # The script words a countdown as the server does.
    assert re.fullmatch(r"in 2 days 23 hours|in 3 days", later.text)


@pytest.mark.parametrize("width", [375, 1400])
def test_it_never_scrolls_sideways(
    sized: WebDriver, live_server: LiveServer, week: Course, width: int
) -> None:
    sized.set_window_size(width, 900)
    log_in(sized, f"{live_server.url}/courses/{week.slug}/", "carol")
    for url in (f"{live_server.url}/courses/{week.slug}/", f"{live_server.url}/"):
        sized.get(url)
        assert sized.find_elements(By.CSS_SELECTOR, ".countdown")
        fits = sized.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        assert fits, f"{url} scrolls sideways at {width} px"

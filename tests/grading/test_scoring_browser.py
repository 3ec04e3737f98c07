"""Rubric scoring in a real browser: a TA scores a presentation slot's three roles on one page,
choosing the levels with the digit keys, and a presenter sees the evaluation only once the
presentation item is released."""

from __future__ import annotations

import pytest
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from coursesite.gradebook.services import item_release
from grading.models import Level, RubricEvaluation
from presentations.models import SlotRole
from tests.conftest import Personas, with_password
from tests.coursesite.test_gradebook_browser import PASSWORD, log_in
from tests.grading.test_scoring_pages import Scoring, scoring_setup

pytest_plugins = ["tests.browser"]


@pytest.fixture
def scoring(transactional_db: None, personas: Personas) -> Scoring:
    with_password("bob", PASSWORD)
    with_password("carol", PASSWORD)
    return scoring_setup(personas)


def level_of(role: SlotRole, title: str) -> Level:
    return Level.objects.get(criterion__rubric__slug=f"{role.role}-talk", title=title)


def wait_for(browser: WebDriver, css: str) -> None:
    WebDriverWait(browser, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_it_scores_a_slot_s_roles_on_one_page_and_shows_the_presenter_after_release(
    browser: WebDriver, live_server: LiveServer, scoring: Scoring
) -> None:
    log_in(browser, live_server.url, "bob", f"{scoring.course_url}/presentations/")
    browser.find_element(By.CSS_SELECTOR, "#paper-resnet a.button").click()
    wait_for(browser, "form#evaluations")
    # The first criterion is the marked one: each digit chooses a level and moves on.
    for key in "321":
        ActionChains(browser).send_keys(key).perform()
    overview = scoring.roles["overview"]
    browser.find_element(
        By.CSS_SELECTOR, f"#sheet-role-{overview.pk} textarea[name$='-comment']"
    ).send_keys("Carried the room.")
    browser.find_element(By.CSS_SELECTOR, "form#evaluations button[type=submit]").click()
    wait_for(browser, ".messages .success")
    assert "Saved your 3 evaluations" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    chosen = {
        e.subject: (e.marks.get().level, e.comment)
        for e in RubricEvaluation.objects.filter(grader_id=scoring.personas.bob.pk)
    }
    assert chosen == {
        overview.subject: (level_of(overview, "Excellent"), "Carried the room."),
        scoring.roles["strengths"].subject: (level_of(scoring.roles["strengths"], "Solid"), ""),
        scoring.roles["weaknesses"].subject: (level_of(scoring.roles["weaknesses"], "Weak"), ""),
    }

    # n opens the next work, outside a text field.
    browser.get(live_server.url + scoring.evaluate_url(scoring.presentation, overview.subject))
    ActionChains(browser).send_keys("n").perform()
    strengths = scoring.evaluate_url(scoring.presentation, scoring.roles["strengths"].subject)
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(live_server.url + strengths))

    browser.delete_all_cookies()
    mine = f"{scoring.course_url}/evaluations/{scoring.presentation.slug}/"
    log_in(browser, live_server.url, "carol", mine)
    assert "not released yet" in browser.find_element(By.ID, "not-released").text
    assert not browser.find_elements(By.CSS_SELECTOR, ".evaluation")

    item_release(item=scoring.presentation, released=True)
    browser.refresh()
    shown = browser.find_element(By.ID, "evaluation-1").text
    assert "Total: 5 of 5 points" in shown
    assert "Excellent" in shown and "Carried the room." in shown
    assert "10 of 10" in browser.find_element(By.ID, "item-points").text

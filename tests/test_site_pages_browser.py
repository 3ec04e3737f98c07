"""Every page of the site holds to its standard, in a real browser, for each kind of member.

The demo course in its week 9 is loaded; then a student, a TA and the instructor open each page
they may see, on a 1400 px screen and on a 375 px phone, and each page must:

- fit its screen: the page itself never scrolls sideways (a wide table scrolls in its own box);
- break no rule of the Content Security Policy (every ``securitypolicyviolation`` event the
  browser fires is collected, from before the page's first script runs);
- load nothing from another host;
- have no serious or critical accessibility violation that axe-core finds.

The same sweep saves full-page screenshots of the main pages at both widths: into a temporary
folder, or into the folder that ``SCREENSHOTS`` names (``make screenshots`` writes them to
docs/screenshots/, which its README lists).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import axe_core_python
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from pytest_django.live_server_helper import LiveServer
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from coursesite.models import Course
from grading.models import GradingJob, RubricEvaluation
from presentations.models import Paper
from quizzes.models import Quiz
from submissions.models import Assignment
from tests.conftest import REPO

pytest_plugins = ["tests.browser"]

DEMO_SLUG = "comp541-fall2024"
WIDTHS = (1400, 375)
HEIGHT = 900
# The members who look: each kind of member of the demo course, and a visitor not logged in.
STUDENT, TA, INSTRUCTOR, VISITOR = "student01", "abond", "aerdem", ""
STAFF = (TA, INSTRUCTOR)
EVERYONE = (STUDENT, TA, INSTRUCTOR)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
AXE = Path(axe_core_python.__file__).with_name("axe.min.js").read_text()

# Before any script of a page runs, so that nothing the page does escapes it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${where}`
  );
});
"""
# The innermost elements that reach past the window's right edge: what widens the page.
WIDE_ELEMENTS = """
const wide = (element) => element.getBoundingClientRect().right > window.innerWidth + 1;
return Array.from(document.querySelectorAll("body *"))
  .filter((element) => wide(element) && !Array.from(element.children).some(wide))
  .slice(0, 5)
  .map((element) => element.outerHTML.slice(0, 120));
"""
RUN_AXE = """
const done = arguments[arguments.length - 1];
const [skipped, parts] = [arguments[0], arguments[1]];
axe.run({include: [document], exclude: parts.map((part) => [part])}, {
  resultTypes: ["violations"],
  rules: Object.fromEntries(skipped.map((rule) => [rule, {enabled: false}])),
}).then(
  (results) => done(results.violations
    .filter((violation) => ["serious", "critical"].includes(violation.impact))
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      targets: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
    }))),
  (error) => done([{id: "axe failed", impact: "critical", targets: [String(error)]}]),
);
"""


@dataclass(frozen=True)
class Demo:
    """Where the demo course's pages are: the course and one of each kind of thing in it."""

    course: str
    assignment: int
    assignment_item: int
    quiz: str
    paper: str
    scored_item: str
    scored_work: str
    job: int


@dataclass(frozen=True)
class Page:
    """A page of the site, the members who may open it, and the one whose view is photographed."""

    name: str
    path: Callable[[Demo], str]
    members: tuple[str, ...]
    photographed_as: str | None = None
    # A page that draws itself after it loads is checked once this element is there.
    drawn: str | None = None
    # axe-core rules a page built by another project breaks in its own markup, and elements of
    # it that break some rule: left to that project.
    upstream_rules: tuple[str, ...] = ()
    upstream_parts: tuple[str, ...] = ()
    # A scroll box whose table shows every column on the 1400 px screen, without scrolling.
    whole_at_1400: str | None = None


def course_path(tail: str) -> Callable[[Demo], str]:
    return lambda demo: f"/courses/{demo.course}/{tail}"


PAGES = [
    Page("login", lambda demo: "/accounts/login/", (VISITOR,)),
    Page("home", lambda demo: "/", EVERYONE),
    Page("course", course_path(""), EVERYONE, photographed_as=STUDENT),
    Page("grades", course_path("grades/"), (STUDENT,), photographed_as=STUDENT),
    Page("work", course_path("work/"), (STUDENT,)),
    Page("student-work", course_path(f"students/{STUDENT}/work/"), STAFF),
    Page(
        "handin",
        lambda demo: f"/courses/{demo.course}/assignments/{demo.assignment}/",
        EVERYONE,
        photographed_as=STUDENT,
    ),
    Page(
        "grace-days",
        course_path("grace-days/"),
        STAFF,
        photographed_as=INSTRUCTOR,
        whole_at_1400="#grace-days",
    ),
    Page("gradebook", course_path("gradebook/"), STAFF, photographed_as=INSTRUCTOR),
    Page("presentations", course_path("presentations/"), EVERYONE),
    Page("reviews", course_path("reviews/"), EVERYONE),
    Page("review", lambda demo: f"/courses/{demo.course}/reviews/{demo.paper}/", (STUDENT,)),
    Page("quizzes", course_path("quizzes/"), EVERYONE),
    Page(
        "quiz",
        lambda demo: f"/courses/{demo.course}/quizzes/{demo.quiz}/",
        EVERYONE,
        photographed_as=STUDENT,
    ),
    Page("scoring", course_path("scoring/"), STAFF, photographed_as=TA),
    Page("scoring-item", lambda demo: f"/courses/{demo.course}/scoring/{demo.scored_item}/", STAFF),
    Page(
        "evaluate",
        lambda demo: f"/courses/{demo.course}/scoring/{demo.scored_item}/{demo.scored_work}/",
        STAFF,
    ),
    Page("my-evaluations", course_path("evaluations/"), (STUDENT,)),
    Page("grading-queue", course_path("grading/queue/"), STAFF),
    Page("grading-job", lambda demo: f"/courses/{demo.course}/grading/jobs/{demo.job}/", STAFF),
    Page("lms", course_path("lms/"), STAFF),
    Page("panel", lambda demo: "/admin/", STAFF),
    Page("panel-items", lambda demo: "/admin/coursesite/gradeitem/", STAFF),
    # Django's admin labels a date-and-time field as a whole, not its date and its time boxes.
    Page(
        "panel-item",
        lambda demo: f"/admin/coursesite/gradeitem/{demo.assignment_item}/change/",
        STAFF,
        upstream_parts=(".datetime input",),
    ),
    # Swagger UI colours its HTTP methods below the contrast asked for, and makes each
    # operation's summary a button that holds other controls.
    Page(
        "api-docs",
        lambda demo: "/api/docs/",
        (STUDENT, INSTRUCTOR),
        drawn=".opblock",
        upstream_rules=("color-contrast", "nested-interactive"),
    ),
]
# Pages whose templates still break a rule: each mark names what fails, and is removed once the
# page is fixed (the marks are strict: a page that passes fails its mark).
KNOWN_FAILURES: dict[str, str] = {}


def page_params() -> list[object]:
    return [
        pytest.param(
            page,
            id=page.name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[page.name])]
            if page.name in KNOWN_FAILURES
            else [],
        )
        for page in PAGES
    ]


@pytest.fixture
def demo(transactional_db: None) -> Demo:
    call_command("load_demo", stdout=io.StringIO())
    course = Course.objects.get(slug=DEMO_SLUG)
    evaluation = RubricEvaluation.objects.filter(item__course=course).order_by("pk").first()
    assert evaluation is not None, "the demo scores nothing with a rubric"
    assignment = Assignment.objects.filter(item__course=course).order_by("item__due_at")[0]
    return Demo(
        course=course.slug,
        assignment=assignment.pk,
        assignment_item=assignment.item_id,
        quiz=Quiz.objects.filter(item__course=course).order_by("item__due_at")[0].item.slug,
        paper=Paper.objects.filter(course=course).order_by("pk")[0].key,
        scored_item=evaluation.item.slug,
        scored_work=evaluation.subject,
        job=GradingJob.objects.filter(item__course=course).order_by("pk")[0].pk,
    )


@pytest.fixture
def sweeping(browser: WebDriver) -> Iterator[WebDriver]:
    """The browser, listening for CSP violations on every page it opens, at its own sizes."""
    script = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": CSP_LISTENER}
    )
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: the folder ``SCREENSHOTS`` names (relative to the repository),
    or else a temporary one that pytest keeps for a few runs, to look at a failing page."""
    named = os.environ.get("SCREENSHOTS")
    if not named:
        return tmp_path_factory.mktemp("screenshots")
    folder = REPO / named
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def window(browser: WebDriver, width: int, height: int) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def log_in(browser: WebDriver, base_url: str, username: str) -> None:
    """Give the browser a session of ``username`` (the login page has a test of its own)."""
    browser.delete_all_cookies()
    if not username:
        return
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    browser.get(f"{base_url}/accounts/login/")
    browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value})


def problems_of_page(browser: WebDriver, page: Page) -> list[str]:
    """What is wrong with the page the browser shows, in words; nothing when it passes."""
    problems = []
    page_width, view_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if page_width > view_width + 1:
        wide = browser.execute_script(WIDE_ELEMENTS)
        problems.append(f"the page scrolls sideways ({page_width} px in {view_width}): {wide}")
    violations = browser.execute_script("return window.__cspViolations || []")
    if violations:
        problems.append(f"CSP violations: {violations}")
    loaded = browser.execute_script(
        "return performance.getEntriesByType('navigation')"
        ".concat(performance.getEntriesByType('resource')).map((entry) => entry.name)"
    )
    elsewhere = [url for url in loaded if urlsplit(url).hostname not in LOCAL_HOSTS]
    if elsewhere:
        problems.append(f"loaded from another host: {elsewhere}")
    browser.execute_script(AXE)
    found = browser.execute_async_script(
        RUN_AXE, list(page.upstream_rules), list(page.upstream_parts)
    )
    if found:
        problems.append(f"axe-core: {json.dumps(found)}")
    return problems


def open_page(browser: WebDriver, url: str, page: Page, member: str) -> None:
    """Open the page as ``member`` and wait until it is drawn; it must answer itself, with 200."""
    browser.get(url)
    shown = urlsplit(browser.current_url).path
    assert shown == urlsplit(url).path, f"{member}: {url} led to {shown}"
    status = browser.execute_script(
        "return performance.getEntriesByType('navigation')[0].responseStatus"
    )
    assert status == 200, f"{member}: {url} answered {status}"
    if page.drawn:
        WebDriverWait(browser, 10).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, page.drawn))
        )


def table_cut(browser: WebDriver, table: str) -> list[str]:
    """Whether the table's scroll box hides some of its columns."""
    shown, wide = browser.execute_script(
        "const box = document.querySelector(arguments[0]).closest('.scroll');"
        "return [box.clientWidth, box.scrollWidth]",
        table,
    )
    return [f"{table} scrolls in its box at 1400 px ({wide} px in {shown})"] if wide > shown else []


def photograph(browser: WebDriver, path: Path, width: int) -> None:
    """A full-page screenshot: the window as tall as the page first."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    window(browser, width, max(height, HEIGHT))
    assert browser.save_screenshot(str(path)), f"no screenshot saved at {path}"
    window(browser, width, HEIGHT)


@pytest.mark.parametrize("page", page_params())
def test_it_fits_the_screen_keeps_the_policy_and_is_accessible(
    sweeping: WebDriver, live_server: LiveServer, demo: Demo, screenshots: Path, page: Page
) -> None:
    browser = sweeping
    browser.set_script_timeout(30)
    problems = []
    for member in page.members:
        log_in(browser, live_server.url, member)
        url = live_server.url + page.path(demo)
        for width in WIDTHS:
            window(browser, width, HEIGHT)
            open_page(browser, url, page, member or "a visitor")
            problems += [
                f"{member or 'a visitor'} at {width} px: {problem}"
                for problem in problems_of_page(browser, page)
            ]
            if page.whole_at_1400 and width == 1400:
                problems += table_cut(browser, page.whole_at_1400)
            if member == page.photographed_as:
                photograph(browser, screenshots / f"{page.name}-{width}.png", width)
    assert problems == [], "\n".join(problems)


def test_it_notices_a_page_that_scrolls_breaks_the_policy_or_is_inaccessible(
    sweeping: WebDriver, live_server: LiveServer, transactional_db: None
) -> None:
    browser = sweeping
    window(browser, 375, HEIGHT)
    browser.get(f"{live_server.url}/accounts/login/")
    assert problems_of_page(browser, PAGES[0]) == []
    browser.execute_script(
        """const main = document.querySelector("main");
        main.insertAdjacentHTML("beforeend", '<div class="too-wide">wide</div><img src="">');
        main.lastElementChild.previousElementSibling.style.width = "900px";
        const script = document.createElement("script");
        script.textContent = "document.title = 'changed'";
        document.body.append(script);"""
    )
    problems = "\n".join(problems_of_page(browser, PAGES[0]))
    assert "scrolls sideways" in problems and "too-wide" in problems
    assert "script-src-elem blocked inline" in problems
    assert '"id": "image-alt"' in problems

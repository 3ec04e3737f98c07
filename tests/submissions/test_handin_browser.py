"""Handing in A1 in a real browser with a real grading worker: the student drops the reference
solution on the drop zone, watches the upload's progress and the grading go from queued to
running to graded without the page reloading, and reads the score, the passed tests and the
training curve. A bad archive dropped the same way gets its error on the page."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from coursesite.models import GradeItem, Role
from grading.bundles import pack_bundle
from grading.models import JobStatus
from grading.services import bundle_upload
from submissions.models import Assignment, Submission
from tests.conftest import REPO, make_member
from tests.grading import conftest as grading
from tests.grading.conftest import Pipeline
from tests.submissions.conftest import zip_of
from tests.submissions.test_pages_browser import log_in

pytest_plugins = ["tests.browser"]
pipeline = grading.pipeline  # the real Celery worker of the grading tests

A1 = REPO / "examples" / "assignments" / "a1-mlp"
MARKER = "window.handinPageMarker"
FITS = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;"

# A file input outside the page's form: Selenium can only type a path into a file input, so the
# file goes there, and a drop event carrying its FileList is sent to the drop zone.
DROP = """
let source = document.getElementById("test-drop-source");
if (!source) {
  source = document.createElement("input");
  source.type = "file";
  source.id = "test-drop-source";
  source.hidden = true;
  document.body.appendChild(source);
}
return source;
"""
DISPATCH = """
const [zone, source] = arguments;
const carried = new DataTransfer();
for (const file of source.files) carried.items.add(file);
for (const kind of ["dragenter", "drop"]) {
  zone.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true, dataTransfer: carried}));
}
"""


def drop(browser: WebDriver, path: Path) -> None:
    zone = browser.find_element(By.ID, "dropzone")
    source = browser.execute_script(DROP)
    source.send_keys(str(path))
    browser.execute_script(DISPATCH, zone, source)


def state(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "grading-state").get_attribute("data-state") or ""


def wait_for_state(browser: WebDriver, wanted: str, timeout: float = 30) -> str:
    # The page swaps the state in as it changes: an element read just as it is replaced is
    # read again.
    WebDriverWait(browser, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: state(b) == wanted
    )
    return browser.find_element(By.ID, "grading-state").text


def pool_processes(worker_pid: int) -> list[int]:
    """The worker's pool processes, which run the grading jobs."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == worker_pid:
                children.append(int(entry.name))
    return children


@pytest.fixture
def a1(pipeline: Pipeline, tmp_path: Path) -> Assignment:
    """A1 with its real autograder in the pipeline's course, released, and student Carol."""
    course = pipeline.assignment.item.course
    item = GradeItem.objects.create(
        course=course, category=pipeline.assignment.item.category, slug="a1",
        title="A1: MLPs and backpropagation", max_points=Decimal(100),
        due_at=timezone.now() + timedelta(days=3), uses_grace_days=True, released=True,
    )  # fmt: skip
    assignment = Assignment.objects.create(item=item, handin_files=["mlp.py"])
    bundle = tmp_path / "a1-bundle.zip"
    bundle.write_bytes(pack_bundle(A1 / "bundle"))
    bundle_upload(item=item, path=bundle, uploaded_by=pipeline.bundle.uploaded_by)
    make_member(course, "carol", Role.STUDENT)
    return assignment


def test_it_grades_a_dropped_hand_in_and_follows_it_live_to_the_results(
    browser: WebDriver, live_server: LiveServer, pipeline: Pipeline, a1: Assignment
) -> None:
    page = f"{live_server.url}/courses/{a1.item.course.slug}/assignments/{a1.pk}/"
    log_in(browser, page, "carol")
    limits = browser.find_element(By.ID, "limits").text.splitlines()
    assert limits[:4] == ["Time limit", "120 s for the whole run", "Memory limit", "3 GB"]
    browser.execute_script(f"{MARKER} = 'not reloaded';")

    drop(browser, A1 / "solution" / "mlp.py")
    WebDriverWait(browser, 30).until(
        lambda b: b.find_element(By.ID, "upload-status").text == "Uploaded mlp.py."
    )
    assert browser.find_element(By.ID, "upload-progress").is_displayed()
    assert browser.find_element(By.ID, "upload-bar").get_attribute("value") == "100"
    # No worker yet: the hand-in waits, first in its queue.
    queued = wait_for_state(browser, "queued")
    assert queued == "… Queued: your hand-in is number 1 in the queue, next to be graded."
    assert "Handed in mlp.py" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    submission = Submission.objects.get(item=a1.item)

    worker = pipeline.start_worker()
    job = pipeline.wait(pipeline.job_of(submission), JobStatus.RUNNING)
    # Hold the worker while the page catches it running, then let it finish.
    paused = pool_processes(worker.pid)
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING, "the job finished before the worker was held"
        assert wait_for_state(browser, "running").startswith("▶ Running for ")
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)

    graded = wait_for_state(browser, "done", timeout=120)
    assert graded.startswith("✔ Graded at ")
    assert browser.execute_script(f"return {MARKER};") == "not reloaded"
    assert browser.find_element(By.ID, "total").text == "Total: 100 of 100 points"
    assert browser.find_element(By.ID, "result").get_attribute("data-verdict") == "ok"
    marks = [mark.text for mark in browser.find_elements(By.CSS_SELECTOR, "#tests td.mark")]
    assert len(marks) == 15 and set(marks) == {"✓ passed"}
    curve = browser.find_element(By.CSS_SELECTOR, "#handin-state figure svg.curve")
    assert curve.tag_name == "svg"
    assert curve.get_attribute("aria-label") == (
        "Training loss per epoch, as reported in training_loss"
    )
    assert len(curve.find_elements(By.CSS_SELECTOR, "polyline.loss")) == 1
    WebDriverWait(browser, 10).until(
        lambda b: "Graded: 100 of 100" in b.find_element(By.ID, "history").text
    )
    # On a phone and on a wide screen the page is never wider than the window, outputs included.
    window = browser.get_window_size()
    try:
        for width in (375, 1400):
            browser.set_window_size(width, 900)
            assert browser.execute_script(FITS), f"the page scrolls sideways at {width} px"
    finally:
        browser.set_window_size(window["width"], window["height"])


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        (
            "mlp.zip",
            b"this is not a zip archive",
            "named 'mlp.zip', but this hand-in needs 'mlp.py'",
        ),
        ("mlp.zip", zip_of({"../x": b"1", "mlp.py": b"x = 1\n"}), "contains '..', which would"),
    ],
    ids=["not-a-zip", "path-outside"],
)
def test_it_shows_the_error_of_a_bad_archive_dropped_on_the_page(
    browser: WebDriver,
    live_server: LiveServer,
    transactional_db: None,
    handins,
    tmp_path: Path,
    name: str,
    content: bytes,
    error: str,
) -> None:
    course, assignment = handins.personas.course, handins.assignment
    page = f"{live_server.url}/courses/{course.slug}/assignments/{assignment.pk}/"
    log_in(browser, page, "carol")
    browser.execute_script(f"{MARKER} = 'not reloaded';")
    archive = tmp_path / name
    archive.write_bytes(content)
    drop(browser, archive)
    message = WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "upload-error"))
    assert error in message[0].text
    assert message[0].get_attribute("role") == "alert"
    assert "refused" in browser.find_element(By.ID, "upload-status").text
    assert browser.execute_script(f"return {MARKER};") == "not reloaded"
    assert Submission.objects.count() == 0

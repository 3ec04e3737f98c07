"""The hand-in page of an assignment and its grading state, the part the page asks for again
while grading goes on: queued with the place in the queue, running, graded with each verdict in
words, the total only once released, superseded hand-ins, the limits and the training curve."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone

from coursesite.gradebook.services import item_release
from grading.models import AutograderBundle, GradingJob, JobStatus, Queue, TestResult, Verdict
from submissions.models import Submission
from tests.coursesite.test_pages import logged_in, page_text
from tests.submissions.conftest import HandIns, zip_of
from tests.submissions.test_pages import hand_in, page

LIMITS = {"wall_seconds": 120, "memory_mb": 3072, "output_kb": 256, "gpu": False}
CURVE = "Loss per epoch (as your train() reported it): 2.301 0.612 0.331"


@pytest.fixture
def graded_item(handins: HandIns) -> HandIns:
    """A1 with an autograder, so that every hand-in queues a grading job."""
    AutograderBundle.objects.create(
        item=handins.assignment.item, version=1, name="mlp", kind="native",
        archive="bundles/x.zip", sha256="0" * 64, manifest={"limits": LIMITS, "tests": []},
        uploaded_by=handins.personas.alice, uploaded_at=timezone.now(),
    )  # fmt: skip
    return handins


def state_url(handins: HandIns) -> str:
    return f"{page(handins)}state/"


def state_of(handins: HandIns, user=None) -> str:
    answer = logged_in(user or handins.personas.carol).get(
        state_url(handins), HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    return page_text(answer)


def job_of(submission: Submission) -> GradingJob:
    return GradingJob.objects.get(subject=f"submission:{submission.pk}")


def finish(submission: Submission, verdict: str = Verdict.OK, tests=(("relu", 5, 5, ""),)) -> None:
    job = job_of(submission)
    GradingJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, verdict=verdict, finished_at=timezone.now(),
        score=sum(score for _, score, _, _ in tests), max_score=sum(m for _, _, m, _ in tests),
    )  # fmt: skip
    for position, (name, score, max_score, output) in enumerate(tests):
        TestResult.objects.create(
            job=job, position=position, name=name, score=score, max_score=max_score,
            status="passed" if score == max_score else "failed", visibility="visible",
            output=output,
        )  # fmt: skip


def test_it_shows_the_autograders_limits_with_the_task(graded_item):
    text = page_text(logged_in(graded_item.personas.carol).get(page(graded_item)))
    assert "Time limit 120 s for the whole run" in text
    assert "Memory limit 3 GB" in text
    assert "GPU none: your code runs on the CPU" in text
    assert "Printed output up to 256 KB" in text


def test_it_shows_no_limits_for_an_item_without_an_autograder(handins):
    assert "Autograder limits" not in page_text(
        logged_in(handins.personas.carol).get(page(handins))
    )


def test_it_tells_the_place_in_the_queue_among_the_queued_jobs_of_the_same_queue(graded_item):
    hand_in(graded_item, graded_item.erin)  # queued first, on the same queue
    regrade = hand_in(graded_item, graded_item.personas.bob)
    GradingJob.objects.filter(subject=f"submission:{regrade.pk}").update(queue=Queue.REGRADE)
    carol = hand_in(graded_item, graded_item.personas.carol)
    text = state_of(graded_item)
    assert "Queued: your hand-in is number 2 in the queue (1 ahead of it)." in text
    GradingJob.objects.exclude(pk=job_of(carol).pk).update(status=JobStatus.DONE)
    assert "number 1 in the queue, next to be graded." in state_of(graded_item)


def test_it_shows_a_running_hand_in_with_the_time_it_has_run(graded_item):
    submission = hand_in(graded_item, graded_item.personas.carol)
    GradingJob.objects.filter(pk=job_of(submission).pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now() - timedelta(seconds=42)
    )
    shown = re.search(r"Running for (\d+) s \(time limit 120 s\)\.", state_of(graded_item))
    assert shown is not None and int(shown[1]) >= 42


def test_it_offers_a_refresh_link_to_readers_without_scripts_while_grading_goes_on(graded_item):
    hand_in(graded_item, graded_item.personas.carol)
    html = logged_in(graded_item.personas.carol).get(page(graded_item)).content.decode()
    assert f'<noscript><p><a href="{page(graded_item)}">Refresh</a>' in html
    assert 'http-equiv="refresh"' not in html


def test_it_sends_a_plain_visit_of_the_state_to_the_whole_page(graded_item):
    answer = logged_in(graded_item.personas.carol).get(state_url(graded_item))
    assert (answer.status_code, answer["Location"]) == (302, page(graded_item))


def test_it_answers_the_state_with_the_fragment_alone(graded_item):
    hand_in(graded_item, graded_item.personas.carol)
    answer = logged_in(graded_item.personas.carol).get(
        state_url(graded_item), HTTP_HX_REQUEST="true"
    )
    html = answer.content.decode()
    assert "<html" not in html and 'data-state="queued"' in html
    assert answer["Cache-Control"] == "no-store"


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_it_answers_404_to_staff_and_to_students_of_another_course(graded_item, who):
    user = getattr(graded_item.personas, who)
    answer = logged_in(user).get(state_url(graded_item), HTTP_HX_REQUEST="true")
    assert answer.status_code == 404


def test_it_shows_the_tests_with_a_mark_and_a_word_and_the_output_in_its_own_box(graded_item):
    submission = hand_in(graded_item, graded_item.personas.carol)
    finish(submission, tests=(("relu", 5, 5, "ReLU agrees."), ("sigmoid", 0, 4, "x" * 3000)))
    text = state_of(graded_item)
    assert "Graded at" in text
    assert "relu 5 / 5 ✓ passed ReLU agrees." in text
    assert "sigmoid 0 / 4 ✗ failed" in text
    html = logged_in(graded_item.personas.carol).get(page(graded_item)).content.decode()
    assert '<td class="output"><pre tabindex="0" aria-label="Output of sigmoid">xxx' in html
    assert "submissions/handin.css" in html


def test_it_keeps_the_total_back_until_staff_release_the_item(graded_item):
    submission = hand_in(graded_item, graded_item.personas.carol)
    finish(submission, tests=(("relu", 5, 5, ""), ("sigmoid", 2, 4, "")))
    text = state_of(graded_item)
    assert "The total is shown once staff release the item." in text
    assert "of 9 points" not in text
    item_release(item=graded_item.assignment.item, released=True)
    assert "Total: 7 of 9 points" in state_of(graded_item)


VERDICT_WORDS = {
    Verdict.OK: "Your code ran to the end; each test's points are below.",
    Verdict.TIMEOUT: "Your code ran longer than the time limit of 120 s.",
    Verdict.MEMORY: "Your code ran out of memory (limit 3 GB).",
    Verdict.OUTPUT_LIMIT: "Your code printed more output than allowed (256 KB).",
    Verdict.CRASHED: "Your code stopped with an error before it finished.",
    Verdict.BAD_OUTPUT: "left results the autograder could not read",
    Verdict.BUILD_FAILED: "The build failed: your hand-in could not be prepared to run",
    Verdict.ERROR: "The autograder itself failed, not your code.",
}


@pytest.mark.parametrize("verdict", list(Verdict))
def test_it_explains_each_verdict_in_plain_words_with_the_limit(graded_item, verdict):
    submission = hand_in(graded_item, graded_item.personas.carol)
    finish(submission, verdict=verdict)
    assert VERDICT_WORDS[verdict] in state_of(graded_item)


def history_states(handins: HandIns) -> list[str]:
    """The Grading cell of each row of the student's hand-in history, newest first."""
    html = logged_in(handins.personas.carol).get(page(handins)).content.decode()
    return re.findall(r'<td class="history-state">(.*?)</td>', html, re.S)


def test_it_says_a_superseded_hand_in_was_not_graded(graded_item):
    carol = graded_item.personas.carol
    first = hand_in(graded_item, carol)
    hand_in(graded_item, carol, zip_of({"mlp.py": b"# v2\n"}))
    hand_in(graded_item, carol, zip_of({"mlp.py": b"# v3\n"}))
    assert history_states(graded_item) == [
        "Queued",
        "Superseded by a newer hand-in: not graded",
        "Superseded by a newer hand-in: not graded",
    ]
    Submission.objects.filter(item=first.item).update(active=False)
    Submission.objects.filter(pk=first.pk).update(active=True)
    assert "Superseded: a newer hand-in of yours arrived before this one was graded" in state_of(
        graded_item
    )


def test_it_draws_the_reported_training_curve_inline_as_svg(graded_item):
    submission = hand_in(graded_item, graded_item.personas.carol)
    finish(submission, tests=(("training_loss", 8, 8, f"MLP.\n{CURVE}\nLoss 0.14."),))
    html = logged_in(graded_item.personas.carol).get(page(graded_item)).content.decode()
    svg = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert svg is not None
    assert "Loss went from 2.301 at epoch 1 to 0.331 at epoch 3" in svg.group()
    assert "<img" not in html


def test_it_shows_each_hand_ins_lateness_as_if_it_counted(graded_item):
    carol = graded_item.personas.carol
    item = graded_item.assignment.item
    item.due_at = timezone.now() - timedelta(hours=30)
    item.save(update_fields=["due_at"])
    hand_in(graded_item, carol)
    hand_in(graded_item, carol, zip_of({"mlp.py": b"# v2\n"}))
    rows = history_rows(logged_in(carol).get(page(graded_item)).content.decode())
    assert len(rows) == 2
    assert "2 days late, 2 grace days used" in rows[0] and "Active" in rows[0]
    assert "If made active: 2 days late, 2 grace days used" in rows[1]
    assert "Make active" in rows[1]


def history_rows(html: str) -> list[str]:
    """The text of each row of the history table."""
    table = html.split('<table id="history">', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tbody>", 1)[1].split("<tr")[1:]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", ("<tr" + row).replace("</td>", " "))).strip()
        for row in rows
    ]


def test_it_shows_each_member_the_state_of_their_groups_deliverable(graded_item):
    handins = graded_item
    url = f"/courses/{handins.personas.course.slug}/deliverables/{handins.deliverable.pk}/state/"
    hand_in(
        handins,
        handins.personas.carol,
        zip_of({"proposal.pdf": b"%PDF-1.4\n"}),
        group=handins.group,
    )
    answer = logged_in(handins.erin).get(url, HTTP_HX_REQUEST="true")
    assert "No autograder grades this item" in page_text(answer)


def test_it_reads_the_state_in_a_fixed_number_of_queries(graded_item, django_assert_num_queries):
    submission = hand_in(graded_item, graded_item.personas.carol)
    finish(submission, tests=(("relu", 5, 5, ""), ("sigmoid", 2, 4, "")))
    client = logged_in(graded_item.personas.carol)
    # Session, user, membership with its course, the assignment, the active hand-in, its
    # extensions, its job with its bundle, the tests, the latest job for the state.
    with django_assert_num_queries(9):
        assert client.get(state_url(graded_item), HTTP_HX_REQUEST="true").status_code == 200


def test_it_tells_when_grading_finished_in_the_course_time_zone(graded_item):
    submission = hand_in(graded_item, graded_item.personas.carol)
    finish(submission)
    finished = timezone.localtime(job_of(submission).finished_at, ZoneInfo("Europe/Istanbul"))
    shown = formats.date_format(finished, "D j M Y, H:i")
    assert f"Graded at {shown} (Europe/Istanbul)." in state_of(graded_item)

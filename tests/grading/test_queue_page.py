"""The staff's grading queue page, a job's page, and requeueing and regrading from them.

The jobs are made as the site makes them: hand-ins through ``submission_create``, which queues
their jobs, then claimed, finished and failed through grading's services, as a worker does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.utils import timezone

from coursesite.models import (
    GracePolicy,
    GradeCategory,
    GradeItem,
    GroupMembership,
    ProjectGroup,
    Role,
)
from grading.models import GradingJob, JobStatus, Queue
from grading.queue_views import elapsed_text, grading_queue
from grading.services import (
    bundle_upload,
    grading_job_claim,
    grading_job_fail,
    grading_job_finish,
)
from submissions.models import Assignment, Deliverable, Submission
from submissions.services import submission_create, submission_regrade
from tests.conftest import Personas, make_member
from tests.coursesite.test_pages import logged_in, page_text
from tests.grading.conftest import PIPELINE_BUNDLE, zip_folder

WORKER = "cpu-host@worker1"
# Session, user, membership with its course, the jobs, the workers' counts, the owners' users
# and groups.
QUEUE_PAGE_QUERIES = 7


class _Rows(HTMLParser):
    """The text of each row with an id, in the table with ``table_id``."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.in_table, self.row = table_id, False, ""
        self.rows: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.in_table = found.get("id") == self.table_id
        elif tag == "tr" and self.in_table and found.get("id"):
            self.row = found["id"] or ""
            self.rows[self.row] = []
        elif tag in ("td", "th") and self.row:
            self.rows[self.row].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.row = ""
        elif tag == "table":
            self.in_table = False

    def handle_data(self, data: str) -> None:
        if self.row and self.rows[self.row]:
            self.rows[self.row][-1] += data


def table_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """Each row of a table, by its id, as its cells' text: rows in the page's order."""
    parser = _Rows(table_id)
    parser.feed(html)
    return {
        row: [re.sub(r"\s+", " ", cell).strip() for cell in cells]
        for row, cells in parser.rows.items()
    }


def answer_file(value: int = 42) -> TemporaryUploadedFile:
    upload = TemporaryUploadedFile("answer.py", "text/x-python", 0, None)
    upload.write(f"VALUE = {value}\n".encode())
    upload.seek(0)
    return upload


def result(verdict: str = "ok", score: float = 10, **more: Any) -> dict[str, Any]:
    """A result document as the runner returns it."""
    return {
        "verdict": verdict,
        "score": score,
        "max_score": 10,
        "execution_time": 1.5,
        "logs": f"epoch 1 loss 0.5\nverdict {verdict}\n",
        "tests": [
            {
                "name": "answer",
                "score": score,
                "max_score": 10,
                "status": "passed",
                "visibility": "after_due_date",
                "output": "the answer is right",
            },
        ],
        **more,
    }


@dataclass
class Graded:
    """A course with an autograded assignment and deliverable, and students to hand them in."""

    personas: Personas
    assignment: Assignment
    deliverable: Deliverable
    group: ProjectGroup
    tmp_path: Path

    @property
    def course_url(self) -> str:
        return f"/courses/{self.personas.course.slug}"

    def student(self, username: str, first: str = "", last: str = "") -> User:
        user = make_member(self.personas.course, username, Role.STUDENT)
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
        return user  # type: ignore[return-value]

    def hand_in(self, student: User, value: int = 42) -> Submission:
        return submission_create(
            handin=self.assignment, student=student, submitted_by=student, upload=answer_file(value)
        )

    def group_hand_in(self, by: User, group: ProjectGroup | None = None) -> Submission:
        return submission_create(
            handin=self.deliverable,
            group=group or self.group,
            submitted_by=by,
            upload=answer_file(),
        )

    @staticmethod
    def job_of(submission: Submission) -> GradingJob:
        return GradingJob.objects.filter(subject=submission.grading_subject).latest("created_at")

    def claim(self, submission: Submission, worker: str = WORKER) -> GradingJob:
        job = grading_job_claim(job_id=self.job_of(submission).pk, worker=worker)
        assert job is not None
        return job

    def finish(self, submission: Submission, **outcome: Any) -> GradingJob:
        job = self.claim(submission)
        assert grading_job_finish(job=job, result=result(**outcome))
        job.refresh_from_db()
        return job

    def fail(self, submission: Submission, error: str = "the worker's disk is full") -> GradingJob:
        """Grading itself fails on every attempt, until the job is in error."""
        job = self.job_of(submission)
        while job.status != JobStatus.ERROR:
            job = self.claim(submission)
            grading_job_fail(job=job, error=error)
            job.refresh_from_db()
        return job


def autograded_course(personas: Personas, tmp_path: Path) -> Graded:
    course = personas.course
    GracePolicy.objects.create(course=course, pool_days=7)
    category = GradeCategory.objects.create(course=course, name="Assignments", weight=Decimal(50))
    now = timezone.now()
    a1 = GradeItem.objects.create(
        course=course, category=category, slug="a1", title="A1", max_points=Decimal(100),
        due_at=now + timedelta(days=2), uses_grace_days=True,
    )  # fmt: skip
    report = GradeItem.objects.create(
        course=course, category=category, slug="report", title="Report", max_points=Decimal(100),
        due_at=now + timedelta(days=5),
    )  # fmt: skip
    bundle_zip = tmp_path / "bundle.zip"
    bundle_zip.write_bytes(zip_folder(PIPELINE_BUNDLE))
    for item in (a1, report):
        bundle_upload(item=item, path=bundle_zip, uploaded_by=personas.alice)
    group = ProjectGroup.objects.create(course=course, name="Group 2")
    GroupMembership.objects.create(course=course, group=group, student=personas.carol)
    personas.carol.first_name, personas.carol.last_name = "Carol", "Demir"
    personas.carol.save(update_fields=["first_name", "last_name"])
    return Graded(
        personas=personas,
        assignment=Assignment.objects.create(item=a1, handin_files=["answer.py"]),
        deliverable=Deliverable.objects.create(item=report, handin_files=["answer.py"]),
        group=group,
        tmp_path=tmp_path,
    )


@pytest.fixture
def graded(personas, tmp_path, settings) -> Graded:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SUBMISSIONS_PER_HOUR = 100
    return autograded_course(personas, tmp_path)


def queue_html(graded: Graded, user: Any = None) -> str:
    answer = logged_in(user or graded.personas.bob).get(f"{graded.course_url}/grading/queue/")
    assert answer.status_code == 200
    return answer.content.decode()


def job_url(graded: Graded, job: GradingJob, action: str = "") -> str:
    return f"{graded.course_url}/grading/jobs/{job.pk}/{action + '/' if action else ''}"


def test_it_lists_the_waiting_jobs_oldest_first_with_their_place_in_each_queue(graded):
    carol, erin = graded.personas.carol, graded.student("erin")
    first, second = graded.hand_in(carol), graded.hand_in(erin)
    fresh = [f"job-{graded.job_of(first).pk}", f"job-{graded.job_of(second).pk}"]
    regrade = submission_regrade(submission=first)
    assert regrade is not None
    html = queue_html(graded)
    cpu = table_rows(html, "waiting-cpu")
    assert list(cpu) == fresh
    assert [cells[0] for cells in cpu.values()] == ["1", "2"]
    assert {row: cells[0] for row, cells in table_rows(html, "waiting-regrade").items()} == {
        f"job-{regrade.pk}": "1"
    }
    assert '<h3 id="waiting-cpu-heading">CPU: 2 waiting</h3>' in html


def test_a_new_hand_in_supersedes_the_owner_s_waiting_ones_at_once(graded):
    """No worker runs here: the older hand-ins leave the queue when the newer one arrives, and
    the others' places move up."""
    carol, erin = graded.personas.carol, graded.student("erin")
    first = graded.job_of(graded.hand_in(carol, 40))
    graded.hand_in(erin)
    second = graded.job_of(graded.hand_in(carol, 41))
    assert GradingJob.objects.get(pk=first.pk).status == JobStatus.SUPERSEDED
    regrade = submission_regrade(submission=graded.hand_in(carol, 43))
    assert regrade is not None
    third = graded.hand_in(carol, 42)
    statuses = {job.pk: job.status for job in GradingJob.objects.all()}
    assert statuses[second.pk] == JobStatus.SUPERSEDED
    assert statuses[graded.job_of(third).pk] == JobStatus.QUEUED
    # A regrade is staff's: a student's hand-in leaves it waiting.
    assert statuses[regrade.pk] == JobStatus.QUEUED
    cpu = table_rows(queue_html(graded), "waiting-cpu")
    assert [(row, cells[0]) for row, cells in cpu.items()][-1] == (
        f"job-{graded.job_of(third).pk}",
        "2",
    )
    assert len(cpu) == 2


def test_it_names_the_owners_a_student_by_name_and_a_group_by_its_name(graded):
    graded.hand_in(graded.personas.carol)
    graded.group_hand_in(graded.personas.carol)
    owners = [cells[3] for cells in table_rows(queue_html(graded), "waiting-cpu").values()]
    assert owners == ["Carol Demir (carol)", "Group 2"]


def test_it_links_a_job_s_hand_in_to_its_file_through_the_hand_ins_registration(graded):
    submission = graded.hand_in(graded.personas.carol)
    file_url = f"{graded.course_url}/submissions/{submission.pk}/file/"
    assert f'<a href="{file_url}">submission:{submission.pk}</a>' in queue_html(graded)


def test_it_shows_a_running_job_with_its_worker_and_how_long_it_has_run(graded):
    job = graded.claim(graded.hand_in(graded.personas.carol))
    html = queue_html(graded)
    cells = table_rows(html, "running")[f"job-{job.pk}"]
    assert cells[4] == WORKER
    assert re.fullmatch(r"\d+ s", cells[5])
    assert table_rows(html, "waiting-cpu") == {}


@pytest.mark.parametrize(
    ("elapsed", "shown"),
    [(timedelta(seconds=45), "45 s"), (timedelta(seconds=200), "3 min 20 s"),
     (timedelta(hours=2, minutes=5, seconds=9), "2 h 05 min")],
)  # fmt: skip
def test_it_writes_a_running_time_as_staff_read_it(elapsed, shown):
    assert elapsed_text(elapsed) == shown


def test_it_lists_the_jobs_that_failed_and_leaves_out_those_that_ran_to_the_end(graded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    fine = graded.finish(graded.hand_in(graded.personas.carol))
    slow = graded.finish(graded.hand_in(graded.student("erin")), verdict="timeout", score=0)
    broken = graded.fail(graded.hand_in(graded.student("frank")))
    failed = table_rows(queue_html(graded), "failed")
    assert list(failed) == [f"job-{broken.pk}", f"job-{slow.pk}"]
    assert failed[f"job-{broken.pk}"][4] == "Error (needs staff): the worker's disk is full"
    assert failed[f"job-{slow.pk}"][4] == "Ran out of time: 0 of 10"
    assert f"job-{fine.pk}" not in failed


def test_it_counts_failures_of_the_last_days_only(graded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    graded.fail(graded.hand_in(graded.personas.carol))
    course, now = graded.personas.course, timezone.now()
    assert len(grading_queue(course=course, now=now).failed) == 1
    assert grading_queue(course=course, now=now + timedelta(days=8)).failed == []


def test_it_counts_each_queue_and_each_worker(graded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    graded.hand_in(graded.personas.carol)
    graded.claim(graded.hand_in(graded.student("erin")), worker="gpu-host@worker2")
    graded.finish(graded.hand_in(graded.student("frank")))
    graded.fail(graded.hand_in(graded.student("gail")))
    html = queue_html(graded)
    assert table_rows(html, "queues")["queue-cpu"][1:] == ["1", "1", "1"]
    workers = {cells[0]: cells[1:] for cells in table_rows(html, "workers").values()}
    assert workers[WORKER] == ["idle", "2", "1"]
    assert re.fullmatch(r"Job \d+ \(\d+ s\)", workers["gpu-host@worker2"][0])


def test_it_requeues_a_job_in_error_from_the_queue_page(graded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    job = graded.fail(graded.hand_in(graded.personas.carol))
    answer = logged_in(graded.personas.bob).post(job_url(graded, job, "requeue"), follow=True)
    assert f"Job {job.pk} is queued again, with new attempts." in page_text(answer)
    job.refresh_from_db()
    assert (job.status, job.max_attempts) == (JobStatus.QUEUED, job.attempt + 1)


def test_it_regrades_a_finished_job_s_hand_in_on_the_regrade_queue(graded):
    submission = graded.hand_in(graded.personas.carol)
    done = graded.finish(submission, verdict="crashed", score=0)
    answer = logged_in(graded.personas.bob).post(job_url(graded, done, "regrade"), follow=True)
    regrade = graded.job_of(submission)
    assert regrade.pk != done.pk
    assert (regrade.queue, regrade.status, regrade.owner, regrade.sha256) == (
        Queue.REGRADE, JobStatus.QUEUED, done.owner, done.sha256,
    )  # fmt: skip
    assert f"Job {regrade.pk} grades the work of job {done.pk} again" in page_text(answer)


def test_it_regrades_and_requeues_nothing_that_is_still_waiting(graded):
    job = graded.job_of(graded.hand_in(graded.personas.carol))
    client = logged_in(graded.personas.bob)
    for action in ("requeue", "regrade"):
        assert client.post(job_url(graded, job, action)).status_code == 302
    assert list(GradingJob.objects.values_list("pk", "status")) == [(job.pk, JobStatus.QUEUED)]


def test_it_answers_404_to_a_student_and_to_an_outsider(graded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    job = graded.fail(graded.hand_in(graded.personas.carol))
    for user in (graded.personas.carol, graded.personas.dave):
        client = logged_in(user)
        assert client.get(f"{graded.course_url}/grading/queue/").status_code == 404
        assert client.get(job_url(graded, job)).status_code == 404
        assert client.post(job_url(graded, job, "requeue")).status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.ERROR


def test_it_answers_404_for_a_job_of_another_course(graded, settings):
    from tests.grading.conftest import course_with_autograder

    other = course_with_autograder(graded.tmp_path)
    student = make_member(other["assignment"].item.course, "zed", Role.STUDENT)
    submission = submission_create(
        handin=other["assignment"], student=student, submitted_by=student, upload=answer_file()
    )
    job = graded.job_of(submission)
    client = logged_in(graded.personas.bob)
    assert client.get(job_url(graded, job)).status_code == 404
    assert client.post(job_url(graded, job, "regrade")).status_code == 404
    assert GradingJob.objects.count() == 1


def test_it_shows_a_job_s_logs_tests_and_their_visibility_to_staff(graded):
    job = graded.finish(graded.hand_in(graded.personas.carol), verdict="ok", score=7)
    text = page_text(logged_in(graded.personas.bob).get(job_url(graded, job)))
    assert f"Job {job.pk}: A1, Carol Demir (carol)" in text
    assert "Score 7 of 10" in text
    assert "answer 7 / 10 Passed After the due date the answer is right" in text
    assert "epoch 1 loss 0.5 verdict ok" in text


def test_it_shows_why_grading_failed_on_the_job_s_page(graded, settings):
    settings.GRADING_MAX_ATTEMPTS = 1
    job = graded.fail(graded.hand_in(graded.personas.carol), error="no space left on device")
    html = logged_in(graded.personas.alice).get(job_url(graded, job)).content.decode()
    assert (
        '<pre id="job-error" aria-labelledby="error-heading">no space left on device</pre>' in html
    )
    assert job_url(graded, job, "requeue") in html


@pytest.mark.parametrize("jobs", [5, 30])
def test_it_reads_the_queue_in_a_fixed_number_of_queries(
    graded, settings, django_assert_num_queries, jobs
):
    settings.GRADING_MAX_ATTEMPTS = 1
    for number in range(jobs):
        submission = graded.hand_in(graded.student(f"student{number:02}"))
        if number % 3 == 1:
            graded.claim(submission, worker=f"host{number % 2}@worker")
        elif number % 3 == 2:
            graded.fail(submission)
    graded.group_hand_in(graded.personas.carol)
    client = logged_in(graded.personas.bob)
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        assert client.get(f"{graded.course_url}/grading/queue/").status_code == 200


def test_it_shows_the_owner_by_name_in_the_instructor_panel(graded, client):
    from coursesite.services import staff_access_grant

    job = graded.job_of(graded.hand_in(graded.personas.carol))
    graded.group_hand_in(graded.personas.carol)
    staff_access_grant(user=graded.personas.bob)
    client.force_login(graded.personas.bob)
    carol = f"Carol Demir (carol), student:{graded.personas.carol.pk}"
    text = page_text(client.get("/admin/grading/gradingjob/"))
    assert carol in text
    assert f"Group 2, group:{graded.group.pk}" in text
    assert "A1" in text and "Report" in text
    assert carol in page_text(client.get(f"/admin/grading/gradingjob/{job.pk}/change/"))

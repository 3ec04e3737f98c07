"""A hand-in superseded by a newer one of the same student costs a worker nothing: its message
is still delivered, but the claim refuses the job, so no sandbox ever runs it.

The worker test runs the real pipeline (Redis, a Celery worker process, the sandbox) with
COURSESITE_KEEP_JOBS=1, so that every job folder a sandbox ran stays behind to be counted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import connection

from coursesite.models import Score
from grading.models import JobStatus, TestResult
from grading.services import grading_job_claim
from submissions.models import Submission
from submissions.services import submission_create
from tests.grading.conftest import Pipeline
from tests.grading.test_queue_page import WORKER, Graded, autograded_course


def hand_in_again(pipeline: Pipeline, student: User, value: int) -> Submission:
    upload = TemporaryUploadedFile("answer.py", "text/x-python", 0, None)
    upload.write(f"VALUE = {value}\n".encode())
    upload.flush()
    return submission_create(
        handin=pipeline.assignment, student=student, submitted_by=student, upload=upload
    )


def doorbells(client: redis.Redis, queue: str) -> tuple[int, int]:
    """Messages waiting in the broker's queue, and messages delivered but not acknowledged yet
    (the worker acknowledges a grading task once it returns)."""
    return int(client.llen(queue)), int(client.hlen("unacked"))


def wait_for(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout} s")
        time.sleep(0.2)


def sandboxed_hand_ins(var_dir: Path) -> list[str]:
    """What each kept job folder ran: the hand-in the runner put beside the driver."""
    return sorted(path.read_text() for path in (var_dir / "grading").rglob("answer.py"))


def test_a_student_s_quick_hand_ins_cost_the_worker_one_grading(pipeline, monkeypatch):
    monkeypatch.setenv("COURSESITE_KEEP_JOBS", "1")
    # Four wrong answers in a row (1 to 4), then the right one, before any worker runs.
    first = pipeline.hand_in(1)
    assert first.student is not None
    older = [first] + [hand_in_again(pipeline, first.student, value) for value in (2, 3, 4)]
    newest = hand_in_again(pipeline, first.student, 42)
    jobs = [pipeline.job_of(submission) for submission in older]
    assert {job.status for job in jobs} == {JobStatus.SUPERSEDED}
    broker = redis.Redis.from_url(pipeline.broker)
    # Superseding leaves every message in the broker: a worker still receives each of them.
    assert doorbells(broker, "cpu") == (len(older) + 1, 0)

    pipeline.start_worker()
    graded = pipeline.wait(pipeline.job_of(newest), JobStatus.DONE)
    wait_for(lambda: doorbells(broker, "cpu") == (0, 0))

    assert (graded.verdict, graded.score, graded.attempt) == ("ok", 10, 1)
    assert pipeline.score_of(newest).points == 100
    for job in jobs:
        job.refresh_from_db()
        # Never claimed: no attempt, no start, no worker, no results.
        assert (job.status, job.attempt, job.started_at, job.worker, job.verdict) == (
            JobStatus.SUPERSEDED, 0, None, "", "",
        )  # fmt: skip
    assert TestResult.objects.filter(job__in=jobs).count() == 0
    assert Score.objects.filter(item=pipeline.assignment.item).count() == 1
    assert sandboxed_hand_ins(pipeline.var_dir) == ["VALUE = 42\n"]


@pytest.fixture
def graded(personas, tmp_path, settings) -> Graded:
    settings.MEDIA_ROOT = tmp_path / "media"
    return autograded_course(personas, tmp_path)


def test_it_refuses_the_claim_of_a_job_superseded_between_its_read_and_its_update(graded):
    """The claim reads a waiting job, then a newer hand-in supersedes it before the claim's
    conditional UPDATE runs: the UPDATE, which takes only a queued job, finds nothing."""
    carol = graded.personas.carol
    job = graded.job_of(graded.hand_in(carol, 41))
    newer: list[Submission] = []

    def hand_in_before_the_claim_takes_it(execute: Any, sql: str, *args: Any) -> Any:
        # The claim's UPDATE is the one that sets started_at; superseding does not.
        if not newer and sql.startswith("UPDATE") and '"started_at"' in sql:
            newer.append(graded.hand_in(carol, 42))
        return execute(sql, *args)

    with connection.execute_wrapper(hand_in_before_the_claim_takes_it):
        claimed = grading_job_claim(job_id=job.pk, worker=WORKER)
    assert len(newer) == 1, "the claim never ran its UPDATE"
    assert claimed is None
    job.refresh_from_db()
    assert (job.status, job.attempt, job.started_at, job.worker) == (
        JobStatus.SUPERSEDED, 0, None, "",
    )  # fmt: skip
    assert graded.job_of(newer[0]).status == JobStatus.QUEUED

"""The grading pipeline with real parts: Redis as broker, Celery worker processes, the sandbox."""

from __future__ import annotations

import signal
import time
from datetime import timedelta
from decimal import Decimal

import redis
from django.utils import timezone

from coursesite.models import ScoreSource
from grading.models import GradingJob, JobStatus, TestResult
from grading.services import grading_reconcile
from grading.tasks import grade_job
from submissions.services import assignment_regrade


def test_it_grades_a_hand_in_and_records_the_score(pipeline):
    pipeline.start_worker()
    submission = pipeline.hand_in(42)
    job = pipeline.wait(pipeline.job_of(submission), JobStatus.DONE)
    assert (job.verdict, job.score, job.max_score, job.attempt) == ("ok", 10, 10, 1)
    assert job.bundle == pipeline.bundle
    score = pipeline.score_of(submission)
    assert (score.points, score.source) == (Decimal(100), ScoreSource.AUTOGRADER)


def test_it_grades_a_job_exactly_once_when_the_worker_is_killed_mid_job(pipeline):
    worker = pipeline.start_worker()
    submission = pipeline.hand_in(42, sleep=4)
    job = pipeline.wait(pipeline.job_of(submission), JobStatus.RUNNING)
    time.sleep(1)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    pipeline.start_worker()
    deadline = time.monotonic() + 60
    while job.status != JobStatus.DONE and time.monotonic() < deadline:
        grading_reconcile()
        time.sleep(0.5)
        job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.attempt == 2
    assert TestResult.objects.filter(job=job).count() == 1
    assert pipeline.score_of(submission).changes.count() == 1


def test_it_requeues_and_grades_every_job_after_redis_loses_them(pipeline):
    submissions = [pipeline.hand_in(42) for _ in range(3)]
    redis.Redis.from_url(pipeline.broker).flushdb()
    pipeline.start_worker()
    time.sleep(3)
    assert GradingJob.objects.filter(status=JobStatus.QUEUED).count() == 3
    later = timezone.now() + timedelta(minutes=5)
    assert grading_reconcile(now=later).requeued == 3
    for submission in submissions:
        job = pipeline.wait(pipeline.job_of(submission), JobStatus.DONE)
        assert job.attempt == 1


def test_it_stores_one_result_when_a_job_is_delivered_twice(pipeline):
    submission = pipeline.hand_in(42)
    job = pipeline.job_of(submission)
    grade_job.apply_async(args=(job.pk,), queue="cpu")
    pipeline.start_worker()
    pipeline.wait(job, JobStatus.DONE)
    time.sleep(2)
    job.refresh_from_db()
    assert job.attempt == 1
    assert TestResult.objects.filter(job=job).count() == 1


def test_it_serves_a_fresh_hand_in_before_waiting_regrades(pipeline):
    graded = [pipeline.hand_in(42) for _ in range(3)]
    pipeline.start_worker()
    for submission in graded:
        pipeline.wait(pipeline.job_of(submission), JobStatus.DONE)
    pipeline.stop_workers()
    regrades = assignment_regrade(item=pipeline.assignment.item)
    fresh = pipeline.job_of(pipeline.hand_in(42))
    pipeline.start_worker()
    fresh = pipeline.wait(fresh, JobStatus.DONE)
    finished = [pipeline.wait(job, JobStatus.DONE).finished_at for job in regrades]
    assert fresh.finished_at < min(finished)


def test_it_skips_a_job_superseded_by_a_newer_hand_in_of_the_same_student(pipeline):
    first = pipeline.hand_in(41)
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from submissions.services import submission_create

    upload = TemporaryUploadedFile("answer.py", "text/x-python", 0, None)
    upload.write(b"VALUE = 42\n")
    upload.flush()
    second = submission_create(
        handin=pipeline.assignment, student=first.student, submitted_by=first.student, upload=upload
    )
    pipeline.start_worker()
    newer = pipeline.wait(pipeline.job_of(second), JobStatus.DONE)
    older = pipeline.wait(pipeline.job_of(first), JobStatus.SUPERSEDED)
    assert older.attempt == 0
    assert newer.score == 10

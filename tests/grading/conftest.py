"""A real pipeline for the grading tests: the test's database, the machine's Redis as broker, and
Celery worker processes started and killed as the test says."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import connection
from django.utils import timezone

from coursesite.models import GracePolicy, GradeCategory, GradeItem, Role, Score
from grading.models import AutograderBundle, GradingJob
from grading.sandbox.folders import sweep_abandoned
from grading.services import bundle_upload
from submissions.models import Assignment, Submission
from submissions.services import submission_create
from tests.conftest import REPO, celery_broker, django_env, make_member, xdist_worker

PIPELINE_BUNDLE = Path(__file__).parent / "pipeline_bundle"


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


@dataclass
class Pipeline:
    broker: str
    var_dir: Path
    assignment: Assignment
    bundle: AutograderBundle
    workers: list[subprocess.Popen[str]] = field(default_factory=list)
    students: int = 0
    # The workers' GRADING_WORK_DIR (default: under var_dir), and where each worker writes its
    # log (default: nowhere).
    work_dir: Path | None = None
    log_dir: Path | None = None

    def start_worker(self, queues: str = "cpu,gpu,regrade") -> subprocess.Popen[str]:
        env = django_env(
            DJANGO_SETTINGS_MODULE="coursesite.settings.test",
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=self.broker,
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            COURSESITE_VAR_DIR=str(self.var_dir),
            GRADING_SLOT_OFFSET=str(200 + 20 * xdist_worker() + len(self.workers)),
            GRADING_LEASE_MARGIN_SECONDS="3",
            COURSESITE_ALLOW_UNSANDBOXED=os.environ.get("COURSESITE_ALLOW_UNSANDBOXED", "0"),
        )
        if self.work_dir is not None:
            env["GRADING_WORK_DIR"] = str(self.work_dir)
        with contextlib.ExitStack() as stack:
            log: IO[str] | int = subprocess.DEVNULL
            if self.log_dir is not None:
                path = self.log_dir / f"worker{len(self.workers)}.log"
                log = stack.enter_context(path.open("w"))
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "coursesite", "worker", "-Q", queues,
                 "--concurrency", "1", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--hostname", f"test{len(self.workers)}@%h",
                 "--loglevel", "INFO"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        self.workers.append(worker)
        return worker

    def stop_workers(self, how: int = signal.SIGTERM) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(how)
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def hand_in(self, value: int, sleep: float = 0) -> Submission:
        self.students += 1
        student = make_member(self.assignment.item.course, f"student{self.students}", Role.STUDENT)
        upload = TemporaryUploadedFile("answer.py", "text/x-python", 0, None)
        upload.write(f"VALUE = {value}\nSLEEP = {sleep}\n".encode())
        upload.flush()
        return submission_create(
            handin=self.assignment, student=student, submitted_by=student, upload=upload
        )

    def job_of(self, submission: Submission) -> GradingJob:
        return GradingJob.objects.filter(subject=f"submission:{submission.pk}").latest("created_at")

    def wait(self, job: GradingJob, *statuses: str, timeout: float = 90) -> GradingJob:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in statuses:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job.pk} is still {job.status}, not {statuses}")

    def score_of(self, submission: Submission, timeout: float = 30) -> Score:
        """The hand-in's Score: it is recorded after the job's results are committed, when
        ``job_finished`` reaches the hand-ins, so a job that is done may not have it yet."""
        deadline = time.monotonic() + timeout
        scores = Score.objects.filter(item=self.assignment.item, student=submission.student)
        while time.monotonic() < deadline:
            if (score := scores.first()) is not None:
                return score
            time.sleep(0.2)
        raise AssertionError(f"no Score for hand-in {submission.pk} after {timeout} s")


def need_pipeline_sandbox() -> None:
    """Skip a pipeline test where jobs cannot be graded (no bubblewrap, and no explicit
    COURSESITE_ALLOW_UNSANDBOXED=1); fail it instead with REQUIRE_SERVICES=1."""
    from grading.sandbox import sandbox_available
    from tests.conftest import REQUIRE_SERVICES

    if not sandbox_available() and os.environ.get("COURSESITE_ALLOW_UNSANDBOXED") != "1":
        if REQUIRE_SERVICES:
            pytest.fail("bubblewrap is missing; REQUIRE_SERVICES=1 says it must be here")
        pytest.skip("bubblewrap is missing")


@contextlib.contextmanager
def pipeline_on(broker: str, tmp_path: Path, **folders: Path) -> Iterator[Pipeline]:
    """A course with the pipeline bundle whose messages go to ``broker``; the workers started
    in the block are stopped at its end. ``folders``: the Pipeline's work_dir and log_dir."""
    options = {"queue_order_strategy": "priority", "visibility_timeout": 3600}
    with celery_broker(broker, options):
        pipeline = Pipeline(
            broker=broker,
            var_dir=tmp_path / "var",
            **course_with_autograder(tmp_path),
            **folders,
        )
        try:
            yield pipeline
        finally:
            pipeline.stop_workers()
            # A worker killed outright leaves the run it had started ahead mounted.
            sweep_abandoned(pipeline.work_dir or pipeline.var_dir / "grading", "job-*")


@pytest.fixture
def pipeline(transactional_db, redis_url, tmp_path, settings) -> Iterator[Pipeline]:
    need_pipeline_sandbox()
    settings.MEDIA_ROOT = tmp_path / "media"
    broker = redis_url.rsplit("/", 1)[0] + f"/{1 + xdist_worker()}"
    redis.Redis.from_url(broker).flushdb()
    with pipeline_on(broker, tmp_path) as pipeline:
        yield pipeline
    redis.Redis.from_url(broker).flushdb()


def course_with_autograder(tmp_path: Path) -> dict[str, object]:
    from tests.conftest import make_course

    course = make_course("pipeline-course")
    GracePolicy.objects.create(course=course)
    teacher = make_member(course, "teacher", Role.INSTRUCTOR)
    category = GradeCategory.objects.create(course=course, name="Assignments", weight=Decimal(100))
    item = GradeItem.objects.create(
        course=course, category=category, slug="answer", title="The answer",
        max_points=Decimal(100), due_at=timezone.now() + timedelta(days=3), uses_grace_days=True,
    )  # fmt: skip
    assignment = Assignment.objects.create(item=item, handin_files=["answer.py"])
    bundle_zip = tmp_path / "bundle.zip"
    bundle_zip.write_bytes(zip_folder(PIPELINE_BUNDLE))
    bundle = bundle_upload(item=item, path=bundle_zip, uploaded_by=teacher)
    return {"assignment": assignment, "bundle": bundle}

"""Faults during a rush of hand-ins: a worker killed, the broker restarted empty, the database
restarted, the job folders' disk full. Every run must still grade each hand-in exactly once.

The site runs under gunicorn and two Celery worker processes grade, with a Redis server and a
PostgreSQL cluster of this module's own (Django's test database lives there), so that a test can
kill them. 24 hand-ins of 8 students go through the site's API (tests/grading/faults.py). The
reconciler runs as beat runs it, every second, with GRADING_REQUEUE_AFTER_SECONDS shortened to a
few seconds; a dead worker's lease is let run out by handing the reconciler the moment it ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import requests
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from grading.models import GradingJob, JobStatus
from grading.services import Reconciled, grading_reconcile
from tests.conftest import REQUIRE_SERVICES
from tests.grading.conftest import need_pipeline_sandbox, pipeline_on
from tests.grading.faults import (
    PostgresCluster,
    RedisServer,
    Rush,
    SmallDisk,
    WebServer,
    assert_graded_exactly_once,
    django_database_at,
    postgres_programs,
    wait_for,
)

DATABASE = "coursesite_faults"
REQUEUE_AFTER_SECONDS = 4
WEB_WORKERS = 2
NO_SPACE = "No space left on device"


def need(what: str, present: bool) -> None:
    """Skip where this machine lacks ``what``; fail instead with REQUIRE_SERVICES=1."""
    if present:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is missing; REQUIRE_SERVICES=1 says the fault tests must run")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    need("PostgreSQL's server programs (initdb, pg_ctl)", postgres_programs() is not None)
    cluster = PostgresCluster()
    try:
        cluster.create()
        cluster.create_database(DATABASE)
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def django_db_setup(postgres: PostgresCluster, django_db_blocker) -> Iterator[None]:
    """This module's tests keep their database on the cluster above, which one of them
    restarts; the database of the rest of the suite is left alone."""
    with django_db_blocker.unblock(), django_database_at(postgres.url(DATABASE)):
        call_command("migrate", verbosity=0, interactive=False)
        yield


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need("redis-server", shutil.which("redis-server") is not None)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def web(django_db_setup, postgres, broker, tmp_path_factory) -> Iterator[WebServer]:
    folder = tmp_path_factory.mktemp("web")
    server = WebServer(
        log=folder / "gunicorn.log",
        DATABASE_URL=postgres.url(DATABASE),
        CELERY_BROKER_URL=broker.url(),
        MEDIA_ROOT=str(folder / "media"),
        COURSESITE_VAR_DIR=str(folder / "var"),
    )
    server.start(workers=WEB_WORKERS)
    yield server
    server.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """The job folders' disk, 8 MB; asked for before ``rush``, it is there before the workers
    start and gone after they stop."""
    need("root (to mount a tmpfs)", os.geteuid() == 0)
    disk = SmallDisk(tmp_path / "work", 8 * 1024 * 1024)
    disk.mount()
    yield disk
    disk.unmount()


@pytest.fixture
def rush(transactional_db, web, broker, tmp_path, settings) -> Iterator[Rush]:
    need_pipeline_sandbox()
    settings.MEDIA_ROOT = Path(web.environment["MEDIA_ROOT"])
    settings.GRADING_REQUEUE_AFTER_SECONDS = REQUEUE_AFTER_SECONDS
    redis.Redis.from_url(broker.url()).flushall()
    work = tmp_path / "work"
    with pipeline_on(broker.url(), tmp_path, work_dir=work, log_dir=tmp_path) as pipeline:
        pipeline.start_worker()
        pipeline.start_worker()
        yield Rush(web, pipeline)
        pipeline.stop_workers(signal.SIGQUIT)  # every job has finished: no need to wait


def beat(rush: Rush, timeout: float = 150) -> float:
    """Run the reconciler every second, as beat does, until the rush has settled (see
    ``Rush.settled``); returns how long that took."""

    def reconciled() -> bool:
        grading_reconcile()
        return rush.settled()

    return wait_for("every job of the rush to finish", reconciled, timeout=timeout, pause=1)


def running_job(rush: Rush, fresh: float = 0.3) -> GradingJob:
    """A job of the rush that a worker claimed less than ``fresh`` seconds ago: it has most of
    its run ahead of it (a run takes a second or more)."""
    found: list[GradingJob] = []

    def claimed() -> bool:
        since = timezone.now() - timedelta(seconds=fresh)
        running = [job for job in rush.jobs() if job.status == JobStatus.RUNNING]
        found[:] = [job for job in running if job.started_at > since]
        return bool(found)

    wait_for("a worker to claim a job", claimed, timeout=60, pause=0.02)
    return found[0]


def site_status(rush: Rush) -> tuple[int, str]:
    answer = requests.get(f"{rush.web.url}/healthz", timeout=30)
    return answer.status_code, answer.json()["status"]


def report(fault: str, rush: Rush, **figures: float) -> None:
    """What a run measured, for docs/performance.md (shown with ``pytest -s``): ``figures``
    (seconds, or counts), the jobs by status and the hand-ins the site refused."""
    jobs = rush.jobs()
    counts = {status: sum(job.status == status for job in jobs) for status in JobStatus}
    shown = [f"{key} {value:.3g}" for key, value in figures.items()]
    shown += [f"{status} {count}" for status, count in counts.items() if count]
    print(f"\n{fault}: {', '.join(shown)}, refused {rush.refused}")


@pytest.mark.slow
def test_it_grades_every_hand_in_once_when_a_worker_is_killed_mid_rush(rush):
    started = time.monotonic()
    rush.send(12)
    victim = running_job(rush)
    dead = victim.worker
    worker = rush.pipeline.workers[int(dead.split("@")[0].removeprefix("test"))]
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed, killed_at = time.monotonic(), timezone.now()
    rush.pipeline.start_worker()
    rush.send()
    victim.refresh_from_db()
    assert (victim.status, victim.attempt) == (JobStatus.RUNNING, 1)
    # The live worker finishes what it claimed before the victim; then, at the moment the
    # victim's lease ends, the reconciler takes that job back and no other.
    earlier = GradingJob.objects.filter(
        status=JobStatus.RUNNING, lease_until__lte=victim.lease_until
    ).exclude(pk=victim.pk)
    wait_for("the live worker's earlier job to finish", lambda: not earlier.exists(), timeout=60)
    lease_end = victim.lease_until + timedelta(microseconds=1)
    reconciled = grading_reconcile(now=lease_end)  # it sends the jobs waiting again, too
    assert (reconciled.expired, reconciled.given_up) == (1, 0)
    settled = beat(rush)
    victim.refresh_from_db()
    assert victim.error == f"the worker {dead} stopped answering during attempt 1"
    assert_graded_exactly_once(rush, {victim.pk: 2 if victim.status == JobStatus.DONE else 1})
    report(
        "worker killed",
        rush,
        kill_to_victim_graded_s=(victim.finished_at - killed_at).total_seconds(),
        kill_to_all_graded_s=time.monotonic() - killed,
        last_reconciler_wait_s=settled,
        rush_s=time.monotonic() - started,
    )


@pytest.mark.slow
def test_it_grades_every_hand_in_once_when_redis_restarts_empty_mid_rush(rush, broker):
    started = time.monotonic()
    rush.send(12)
    running_job(rush)
    down = time.monotonic()
    with broker.down():
        # The site takes hand-ins while its broker is down: they wait in the database.
        assert rush.send(3) == 3
        assert site_status(rush) == (200, "degraded")
        time.sleep(1)
    back = time.monotonic()
    # All the broker held is gone; the reconciler sends every waiting job again, the hand-ins
    # it never heard of included, and the running job's worker finishes it.
    waiting = sum(job.status == JobStatus.QUEUED for job in rush.jobs())
    later = timezone.now() + timedelta(seconds=REQUEUE_AFTER_SECONDS + 1)
    assert grading_reconcile(now=later) == Reconciled(requeued=waiting, expired=0, given_up=0)
    rush.send()
    settled = beat(rush)
    assert_graded_exactly_once(rush)
    report(
        "redis restarted empty",
        rush,
        down_s=back - down,
        restart_to_all_graded_s=time.monotonic() - back,
        last_reconciler_wait_s=settled,
        rush_s=time.monotonic() - started,
    )


@pytest.mark.slow
def test_it_grades_every_hand_in_once_when_postgresql_restarts_mid_rush(rush, postgres):
    rush.sleep = 1.0  # every run outlasts the stop that follows its claim
    started = time.monotonic()
    rush.send(12)
    spanning = running_job(rush)
    down = time.monotonic()
    with postgres.down():
        # Without its database the site takes no hand-in, but it answers, and says why.
        assert rush.send(1) == 0
        assert site_status(rush) == (503, "down")
        time.sleep(1)
    back, back_at = time.monotonic(), timezone.now()
    connections["default"].close()  # this process's connection went down with the server
    refused = rush.refused
    taking = wait_for("the site to take a hand-in again", lambda: rush.send(1) == 1, timeout=30)
    # Each web process may fail one request on the connection it held across the restart.
    assert rush.refused - refused <= WEB_WORKERS
    wait_for("the site to take every hand-in", rush.send_rest, timeout=60)
    settled = beat(rush)
    # The run under way when the database went away kept its result: no second attempt.
    spanning.refresh_from_db()
    assert (spanning.status, spanning.attempt) == (JobStatus.DONE, 1)
    assert_graded_exactly_once(rush)
    report(
        "postgresql restarted",
        rush,
        down_s=back - down,
        first_hand_in_after_s=taking,
        spanning_run_stored_after_s=(spanning.finished_at - back_at).total_seconds(),
        restart_to_all_graded_s=time.monotonic() - back,
        last_reconciler_wait_s=settled,
        rush_s=time.monotonic() - started,
    )


@pytest.mark.slow
def test_it_grades_every_hand_in_once_when_the_job_disk_fills_mid_rush(small_disk, rush):
    started = time.monotonic()
    rush.send(10)

    def graded() -> int:
        return sum(job.status == JobStatus.DONE for job in rush.jobs())

    def failed() -> list[GradingJob]:
        return [job for job in rush.jobs() if NO_SPACE in job.error]

    wait_for("the first gradings", lambda: graded() >= 2, timeout=60)

    full = time.monotonic()
    with small_disk.full():
        # Hand-ins are stored on another disk: the site takes them and answers as ever.
        assert rush.send(4) == 4
        assert site_status(rush) == (200, "ok")
        wait_for("jobs to fail on the full disk", lambda: len(failed()) >= 3, timeout=60)
        time.sleep(1)
        # A job that failed waits for the reconciler: nothing used up its attempts meanwhile.
        assert not any(job.status == JobStatus.ERROR for job in rush.jobs())
    freed = time.monotonic()
    rush.send()
    settled = beat(rush)
    # Each job that met the full disk failed once there and was graded on the reconciler's
    # next try (or superseded first).
    assert len(failed()) >= 3
    assert_graded_exactly_once(
        rush, {job.pk: 2 if job.status == JobStatus.DONE else 1 for job in failed()}
    )
    report(
        "job disk full",
        rush,
        full_s=freed - full,
        failed_jobs=len(failed()),
        freed_to_all_graded_s=time.monotonic() - freed,
        last_reconciler_wait_s=settled,
        rush_s=time.monotonic() - started,
    )

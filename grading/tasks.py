"""Thin Celery tasks: each takes a job id, and the services do the work."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

from celery import shared_task
from celery.app.task import Task
from celery.signals import worker_process_shutdown, worker_shutdown

from grading.models import GradingJob
from grading.services import (
    grading_job_claim,
    grading_job_fail,
    grading_job_finish,
    grading_job_heartbeat,
    grading_reconcile,
    lease_seconds,
)

log = logging.getLogger(__name__)

# How long a finished run waits for the database to come back (a restart, a failover) before its
# result is given up and the job left to the reconciler.
STORE_RETRY_SECONDS = 60
Stored = TypeVar("Stored")


class Heartbeat(threading.Thread):
    """Keeps a claimed job's lease alive while it runs, so the reconciler leaves it alone."""

    def __init__(self, job: GradingJob) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job.pk}")
        self.job, self.stopped = job, threading.Event()
        self.interval = max(1.0, lease_seconds(job) / 4)

    def run(self) -> None:
        from django.db import InterfaceError, OperationalError, connection

        try:
            while not self.stopped.wait(self.interval):
                try:
                    kept = grading_job_heartbeat(job=self.job)
                except (InterfaceError, OperationalError) as error:
                    # A database that restarts: the next beat opens a new connection.
                    log.warning("job %s: a heartbeat missed the database: %s", self.job.pk, error)
                    connection.close()
                    continue
                if not kept:
                    log.warning("job %s: the lease was taken over", self.job.pk)
                    return
        finally:
            connection.close()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def grade_job(self: Task, job_id: int) -> str:
    """Grade one job. Safe to deliver twice: only one claim succeeds."""
    from grading.worker import run_ahead, run_job, worker_slot

    job = grading_job_claim(job_id=job_id, worker=self.request.hostname or "worker")
    if job is None:
        return "skipped"
    heartbeat = Heartbeat(job)
    heartbeat.start()
    try:
        try:
            result = run_job(job, slot=worker_slot())
        except Exception:  # a failure of grading itself is recorded for staff, not raised
            log.exception("job %s: grading failed", job.pk)
            error = traceback.format_exc()
            store(job, lambda: grading_job_fail(job=job, error=error))
            return "failed"
        finally:
            heartbeat.stopped.set()
            heartbeat.join()
        stored = store(job, lambda: grading_job_finish(job=job, result=result))
        return "done" if stored else "discarded"
    finally:
        run_ahead()


def store(job: GradingJob, write: Callable[[], Stored]) -> Stored:
    """Run ``write``, which stores what the run of ``job`` came to, on a fresh connection.

    The claim's connection sat idle through the whole run, which the database need not outlive
    (a restart, a failover): a result written on it is lost, and the job waits out its lease
    before it runs again. A database that is away is waited for, a second at a time, for up to
    STORE_RETRY_SECONDS; the writes are fenced by the attempt, so a second try is harmless.
    """
    from django.db import InterfaceError, OperationalError, connection

    deadline = time.monotonic() + STORE_RETRY_SECONDS
    while True:
        connection.close()
        try:
            return write()
        except (InterfaceError, OperationalError) as error:
            if time.monotonic() > deadline:
                raise
            log.warning("job %s: the database is away (%s); trying again", job.pk, error)
            time.sleep(1)


@shared_task(ignore_result=True)
def reconcile_jobs() -> dict[str, int]:
    """Run by beat: re-send lost jobs and take back jobs whose worker died."""
    done = grading_reconcile()
    if done.requeued or done.expired or done.given_up:
        log.info("reconciler: %s", done)
    return {"requeued": done.requeued, "expired": done.expired, "given_up": done.given_up}


@worker_process_shutdown.connect
@worker_shutdown.connect
def close_warm_sandboxes(**_: object) -> None:
    """A worker that stops takes down the run it started ahead; one killed outright leaves its
    folder to the next run's sweep."""
    from grading.worker import warm_slot

    warm_slot.close()

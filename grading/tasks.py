"""Thin Celery tasks: each takes a job id, and the services do the work."""

from __future__ import annotations

import logging
import threading
import traceback

from celery import shared_task
from celery.app.task import Task

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


class Heartbeat(threading.Thread):
    """Keeps a claimed job's lease alive while it runs, so the reconciler leaves it alone."""

    def __init__(self, job: GradingJob) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job.pk}")
        self.job, self.stopped = job, threading.Event()
        self.interval = max(1.0, lease_seconds(job) / 4)

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopped.wait(self.interval):
                if not grading_job_heartbeat(job=self.job):
                    log.warning("job %s: the lease was taken over", self.job.pk)
                    return
        finally:
            connection.close()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def grade_job(self: Task, job_id: int) -> str:
    """Grade one job. Safe to deliver twice: only one claim succeeds."""
    from grading.worker import run_job, worker_slot

    job = grading_job_claim(job_id=job_id, worker=self.request.hostname or "worker")
    if job is None:
        return "skipped"
    heartbeat = Heartbeat(job)
    heartbeat.start()
    try:
        result = run_job(job, slot=worker_slot())
    except Exception:  # a failure of grading itself is recorded for staff, not raised
        log.exception("job %s: grading failed", job.pk)
        grading_job_fail(job=job, error=traceback.format_exc())
        return "failed"
    finally:
        heartbeat.stopped.set()
        heartbeat.join()
    return "done" if grading_job_finish(job=job, result=result) else "discarded"


@shared_task(ignore_result=True)
def reconcile_jobs() -> dict[str, int]:
    """Run by beat: re-send lost jobs and take back jobs whose worker died."""
    done = grading_reconcile()
    if done.requeued or done.expired or done.given_up:
        log.info("reconciler: %s", done)
    return {"requeued": done.requeued, "expired": done.expired, "given_up": done.given_up}

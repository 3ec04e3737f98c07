"""Housekeeping never waits behind grading: the reconciler goes to the queue ``housekeeping``,
which a worker that grades nothing serves, so a long training job on the grading worker does not
hold it back. Real Redis and real Celery worker processes (the ``pipeline`` fixture)."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone

from coursesite.celery import app
from grading.models import GradingJob, JobStatus, Verdict
from grading.tasks import reconcile_jobs

GRADING_QUEUES = ("cpu", "gpu", "regrade")
LONG_JOB_SECONDS = 20
AT_ONCE_SECONDS = 8


def lost_job(pipeline) -> GradingJob:
    """A job whose worker vanished on its last attempt: the reconciler's next round gives it up
    (``error``), which is how a test sees that a round ran."""
    job = pipeline.job_of(pipeline.hand_in(42))
    GradingJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempt=job.max_attempts,
        worker="gone@lost-host",
        lease_until=timezone.now() - timedelta(minutes=1),
    )
    return job


def wait_until_answering(node: str, timeout: float = 60) -> None:
    """Wait for a worker to answer a ping: started, and consuming its queues."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(destination=[node], timeout=0.5):
            return
    raise AssertionError(f"the worker {node} never answered")


def queue_lengths(broker: str, names: tuple[str, ...]) -> dict[str, int]:
    client = redis.Redis.from_url(broker)
    return {name: int(client.llen(name)) for name in names}


def test_it_sends_every_periodic_task_to_the_housekeeping_queue(pipeline):
    # What beat does with each entry: apply the task with the entry's options.
    schedule = settings.CELERY_BEAT_SCHEDULE
    for entry in schedule.values():
        app.send_task(entry["task"], **entry.get("options", {}))
    assert queue_lengths(pipeline.broker, ("housekeeping", *GRADING_QUEUES)) == {
        "housekeeping": len(schedule),
        "cpu": 0,
        "gpu": 0,
        "regrade": 0,
    }


def test_it_reconciles_at_once_while_the_grading_worker_trains(pipeline):
    lost = lost_job(pipeline)
    pipeline.start_worker(queues=",".join(GRADING_QUEUES))
    pipeline.start_worker(queues="housekeeping")
    # start_worker names its workers test0, test1, ... in the order they start.
    wait_until_answering(f"test{len(pipeline.workers) - 1}@{socket.gethostname()}")
    long_job = pipeline.wait(
        pipeline.job_of(pipeline.hand_in(42, sleep=LONG_JOB_SECONDS)), JobStatus.RUNNING
    )

    sent = time.monotonic()
    reconcile_jobs.delay()
    lost = pipeline.wait(lost, JobStatus.ERROR, timeout=AT_ONCE_SECONDS)
    waited = time.monotonic() - sent

    long_job.refresh_from_db()
    assert long_job.status == JobStatus.RUNNING, f"the reconciler waited {waited:.1f} s"
    assert (lost.verdict, lost.error) == (
        Verdict.ERROR,
        f"the worker gone@lost-host stopped answering during attempt {lost.max_attempts}",
    )
    assert pipeline.wait(long_job, JobStatus.DONE, timeout=60).verdict == "ok"

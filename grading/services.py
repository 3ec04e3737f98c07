"""The grading pipeline's writes: jobs are created, claimed, kept alive, finished and reconciled.

The database is the source of truth and the broker only a doorbell: every state change is a
conditional UPDATE on the job's row, so a duplicate delivery, a late worker or a lost message can
never grade a job twice or lose one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from coursesite.answers import (
    answers_moved_on,
    answers_owner_changed,
    answers_owner_keys,
)
from coursesite.errors import ApplicationError
from coursesite.models import GradeItem
from grading.bundles import BundleError, load_bundle, missing_packages
from grading.models import AutograderBundle, GradingJob, JobStatus, Queue, TestResult, Verdict
from grading.signals import job_finished

log = logging.getLogger(__name__)

LOG_LIMIT = 64 * 1024
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _send(job: GradingJob) -> None:
    """Ring the broker's doorbell for a job, once the transaction that made it has committed.

    A broker that cannot be reached loses the ring only: the job waits in the database and the
    reconciler sends it again. Raising would fail a caller whose work is already committed (a
    hand-in stored, and then answered as an error and its file deleted).
    """
    from grading.tasks import grade_job

    job_id, queue = job.pk, job.queue

    def ring() -> None:
        try:
            grade_job.apply_async(args=(job_id,), queue=queue)
        except BrokerUnreachable as error:
            log.warning(
                "job %s waits for the reconciler: the broker is unreachable (%s)", job_id, error
            )

    transaction.on_commit(ring)


def current_bundle(item: GradeItem) -> AutograderBundle | None:
    return AutograderBundle.objects.filter(item=item).order_by("-version").first()


@transaction.atomic
def grading_job_create(
    *,
    item: GradeItem,
    subject: str,
    owner: str,
    archive: str,
    filename: str,
    sha256: str,
    regrade: bool = False,
) -> GradingJob | None:
    """Queue the grading of a hand-in with the item's current autograder, if it has one.

    Fresh hand-ins go to the ``gpu`` or ``cpu`` queue as the bundle asks; regrades go to
    ``regrade``, which workers serve only when no fresh hand-in waits. A fresh hand-in
    supersedes the owner's older ones of the item still waiting, at once: they are marked so
    now, rather than when a worker reaches them.
    """
    bundle = current_bundle(item)
    if bundle is None:
        return None
    now = timezone.now()
    queue = Queue.REGRADE if regrade else (Queue.GPU if bundle.uses_gpu else Queue.CPU)
    if not regrade:
        GradingJob.objects.filter(item=item, owner=owner, status=JobStatus.QUEUED).exclude(
            queue=Queue.REGRADE
        ).update(status=JobStatus.SUPERSEDED, finished_at=now)
    job = GradingJob.objects.create(
        item=item,
        bundle=bundle,
        subject=subject,
        owner=owner,
        archive=archive,
        filename=filename,
        sha256=sha256,
        queue=queue,
        max_attempts=settings.GRADING_MAX_ATTEMPTS,
        created_at=now,
        enqueued_at=now,
    )
    _send(job)
    return job


def lease_seconds(job: GradingJob) -> int:
    """How long a claim holds without a heartbeat: the run's wall limit plus grading's margin."""
    wall = int(job.bundle.manifest.get("limits", {}).get("wall_seconds", 60))
    return wall + settings.GRADING_LEASE_MARGIN_SECONDS


def grading_job_claim(*, job_id: int, worker: str) -> GradingJob | None:
    """Take a queued job for this worker, or ``None`` if another worker has it, it is finished,
    or a newer hand-in of the same owner supersedes it (the job is then marked so)."""
    job = GradingJob.objects.select_related("bundle", "item").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.QUEUED:
        return None
    newer = (
        GradingJob.objects.filter(
            item_id=job.item_id, owner=job.owner, created_at__gt=job.created_at
        )
        .exclude(status=JobStatus.SUPERSEDED)
        .exclude(queue=Queue.REGRADE)
    )
    if job.queue != Queue.REGRADE and newer.exists():
        GradingJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.SUPERSEDED, finished_at=timezone.now()
        )
        answers_owner_changed(owner=job.owner)
        return None
    # Named before the claim: nothing may read the database after it (below).
    answers = answers_owner_keys(owner=job.owner)
    now = timezone.now()
    claim = {
        "status": JobStatus.RUNNING,
        "attempt": job.attempt + 1,
        "worker": worker,
        "started_at": now,
        "lease_until": now + timedelta(seconds=lease_seconds(job)),
    }
    claimed = GradingJob.objects.filter(
        pk=job.pk, status=JobStatus.QUEUED, attempt=job.attempt
    ).update(**claim)
    if not claimed:
        return None
    # Nothing read back: a query after the claim that met a database going away would leave the
    # job claimed by a task that never ran it, until its lease ran out.
    for field, value in claim.items():
        setattr(job, field, value)
    answers_moved_on(answers)
    return job


def grading_job_heartbeat(*, job: GradingJob) -> bool:
    """Extend the lease of a running job; ``False`` once the job is no longer this attempt's."""
    lease = timezone.now() + timedelta(seconds=lease_seconds(job))
    return bool(
        GradingJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempt=job.attempt).update(
            lease_until=lease
        )
    )


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


@transaction.atomic
def grading_job_finish(*, job: GradingJob, result: Mapping[str, Any]) -> bool:
    """Store a result document, only if this attempt still owns the job (a late duplicate or a
    worker whose lease was taken over writes nothing). Sends ``job_finished`` on commit."""
    stored = GradingJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, attempt=job.attempt
    ).update(
        status=JobStatus.DONE,
        finished_at=timezone.now(),
        lease_until=None,
        verdict=result["verdict"],
        score=_decimal(result["score"]),
        max_score=_decimal(result["max_score"]),
        execution_time=float(result.get("execution_time") or 0),
        self_reported=bool(result.get("self_reported")),
        logs=str(result.get("logs", ""))[-LOG_LIMIT:],
        images=list(result.get("images", [])),
    )
    if not stored:
        log.warning(
            "job %s: attempt %s lost its claim; its result is discarded", job.pk, job.attempt
        )
        return False
    TestResult.objects.bulk_create(
        TestResult(
            job=job,
            position=position,
            name=test["name"],
            score=_decimal(test["score"]),
            max_score=_decimal(test["max_score"]),
            status=test["status"],
            visibility=test["visibility"],
            output=str(test.get("output", ""))[:LOG_LIMIT],
        )
        for position, test in enumerate(result["tests"])
    )
    answers_owner_changed(owner=job.owner)
    job_id = job.pk
    transaction.on_commit(lambda: job_finished.send(sender=GradingJob, job_id=job_id))
    return True


def grading_job_fail(*, job: GradingJob, error: str) -> None:
    """Grading itself failed (not the student's code): try again later, or give up for staff.

    Later means when the reconciler finds the job waiting (GRADING_REQUEUE_AFTER_SECONDS), not
    at once: a fault of the worker's machine (a full disk) outlasts a second, and sent again at
    once, every job waiting would use up all its attempts against it and end in error.
    """
    retry = job.attempt < job.max_attempts
    failed = GradingJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, attempt=job.attempt
    ).update(
        status=JobStatus.QUEUED if retry else JobStatus.ERROR,
        lease_until=None,
        error=error[-LOG_LIMIT:],
        enqueued_at=timezone.now(),
        verdict="" if retry else Verdict.ERROR,
        finished_at=None if retry else timezone.now(),
    )
    if failed:
        answers_owner_changed(owner=job.owner)


@dataclass(frozen=True)
class Reconciled:
    requeued: int
    expired: int
    given_up: int


def grading_reconcile(*, now: datetime | None = None) -> Reconciled:
    """Re-send jobs the broker lost and take back jobs whose worker died.

    A queued job not picked up within ``GRADING_REQUEUE_AFTER_SECONDS`` is sent again (a second
    copy in the broker is harmless: only one claim can succeed). A running job whose lease ran
    out goes back to the queue, or to ``error`` once it has used all its attempts.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER_SECONDS)
    requeued = 0
    for job in GradingJob.objects.filter(status=JobStatus.QUEUED, enqueued_at__lt=stale):
        if GradingJob.objects.filter(
            pk=job.pk, status=JobStatus.QUEUED, enqueued_at=job.enqueued_at
        ).update(enqueued_at=now):
            requeued += 1
            _send(job)
    expired = given_up = 0
    lost = GradingJob.objects.filter(status=JobStatus.RUNNING, lease_until__lt=now)
    for job in lost.select_related("bundle"):
        give_up = job.attempt >= job.max_attempts
        changed = GradingJob.objects.filter(
            Q(pk=job.pk, status=JobStatus.RUNNING, attempt=job.attempt, lease_until__lt=now)
        ).update(
            status=JobStatus.ERROR if give_up else JobStatus.QUEUED,
            lease_until=None,
            enqueued_at=now,
            verdict=Verdict.ERROR if give_up else "",
            finished_at=now if give_up else None,
            error=f"the worker {job.worker} stopped answering during attempt {job.attempt}",
        )
        if not changed:
            continue
        answers_owner_changed(owner=job.owner)
        if give_up:
            given_up += 1
        else:
            expired += 1
            job.status = JobStatus.QUEUED
            _send(job)
    return Reconciled(requeued=requeued, expired=expired, given_up=given_up)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@transaction.atomic
def bundle_upload(*, item: GradeItem, path: Path, uploaded_by: User) -> AutograderBundle:
    """Check an autograder bundle (a zip) and store it as the item's next version.

    A bad bundle raises ``ApplicationError`` with the reason, and nothing is stored.
    """
    try:
        with load_bundle(path) as bundle:
            manifest = bundle.manifest()
            missing = missing_packages(bundle)
    except BundleError as error:
        raise ApplicationError(error.message) from None
    GradeItem.objects.select_for_update().filter(pk=item.pk).first()  # one version at a time
    version = (AutograderBundle.objects.filter(item=item).aggregate(v=Max("version"))["v"] or 0) + 1
    sha256 = _sha256(path)
    name = f"bundles/{sha256}.zip"
    if not default_storage.exists(name):
        with path.open("rb") as stream:
            name = default_storage.save(name, File(stream, name=f"{sha256}.zip"))
    return AutograderBundle.objects.create(
        item=item,
        version=version,
        name=manifest["name"],
        kind=manifest["kind"],
        archive=name,
        sha256=sha256,
        manifest=manifest,
        missing_packages=missing,
        uploaded_by=uploaded_by,
        uploaded_at=timezone.now(),
    )


@transaction.atomic
def grading_job_regrade(*, job: GradingJob) -> GradingJob | None:
    """Grade a finished job's work again with the item's current autograder, on the regrade
    queue; None when the item has no autograder any more. Raises ValidationError for a job that
    has not finished."""
    if job.status != JobStatus.DONE:
        raise ValidationError(f"Job {job.pk} has not finished; only a finished job is regraded.")
    return grading_job_create(
        item=job.item,
        subject=job.subject,
        owner=job.owner,
        archive=job.archive,
        filename=job.filename,
        sha256=job.sha256,
        regrade=True,
    )


def grading_job_requeue(*, job: GradingJob) -> bool:
    """Give a job that ended in ``error`` new attempts (staff, once the cause is fixed)."""
    updated = GradingJob.objects.filter(pk=job.pk, status=JobStatus.ERROR).update(
        status=JobStatus.QUEUED,
        max_attempts=job.attempt + settings.GRADING_MAX_ATTEMPTS,
        enqueued_at=timezone.now(),
        verdict="",
        finished_at=None,
    )
    if updated:
        answers_owner_changed(owner=job.owner)
        job.refresh_from_db()
        _send(job)
    return bool(updated)

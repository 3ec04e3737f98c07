"""Writes of hand-ins: uploads, activating an earlier upload, extensions.

A user may try to hand in ``SUBMISSIONS_PER_HOUR`` times in any hour, whether the upload is stored
or refused: a refused archive costs the work of checking it all the same. A stored hand-in counts
as its row (at its ``submitted_at``); every other attempt, refused or still being checked, counts
in the cache, in per-minute counters, from before its upload is looked at, so uploads sent side by
side are counted too. An attempt refused for the rate itself is not counted, so waiting the
``Retry-After`` it is told is enough.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from coursesite.answers import answers_work_changed, item_course
from coursesite.errors import ApplicationError
from coursesite.models import GradeItem, Membership, ProjectGroup, Role
from grading.archives import ArchiveError, ArchiveLimits, handin_check
from grading.models import GradingJob, JobStatus
from grading.services import grading_job_create
from submissions.models import Assignment, Deliverable, Extension, Submission
from submissions.scoring import course_scores_refresh

HOUR = timedelta(hours=1)
_MINUTE_SECONDS = 60
# Past the hour, plus the minute an attempt is rounded up to and some slack.
_ATTEMPT_KEEP_SECONDS = 3600 + 3 * _MINUTE_SECONDS


class TooManySubmissions(ApplicationError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"You have tried to hand in {settings.SUBMISSIONS_PER_HOUR} times in the last hour "
            f"(refused uploads count too); try again in {math.ceil(retry_after / 60)} minutes.",
            status=429,
            extra={"retry_after": retry_after},
        )
        self.retry_after = retry_after


def _check_rate(*, submitted_by: User, now: datetime) -> str:
    """Record this attempt to hand in, and refuse it when the user's stored hand-ins and other
    attempts of the last hour already reach the limit (see the module doc).

    Returns the attempt's counter, for ``_attempt_forget`` once its hand-in is stored.
    """
    limit = settings.SUBMISSIONS_PER_HOUR
    attempt = _attempt_record(user=submitted_by, now=now)
    stored = Submission.objects.filter(submitted_by=submitted_by, submitted_at__gt=now - HOUR)
    moments = sorted(
        [
            *stored.order_by("submitted_at").values_list("submitted_at", flat=True)[:limit],
            *_attempt_moments(user=submitted_by, now=now),
        ]
    )
    # This attempt is the last of them, at ``now``.
    earlier = moments[:-1]
    if len(earlier) >= limit:
        _attempt_forget(attempt)
        # Once this one leaves the hour, fewer than ``limit`` remain in it.
        leaves = earlier[len(earlier) - limit]
        raise TooManySubmissions(
            retry_after=max(1, math.ceil((leaves + HOUR - now).total_seconds()))
        )
    return attempt


def _attempt_key(user: User, minute: int) -> str:
    return f"submissions:attempts:{user.pk}:{minute}"


def _attempt_record(*, user: User, now: datetime) -> str:
    key = _attempt_key(user, int(now.timestamp()) // _MINUTE_SECONDS)
    cache.add(key, 0, timeout=_ATTEMPT_KEEP_SECONDS)
    try:
        cache.incr(key)
    except ValueError:
        # The counter expired between the two calls.
        cache.set(key, 1, timeout=_ATTEMPT_KEEP_SECONDS)
    return key


def _attempt_forget(key: str) -> None:
    # A counter that expired meanwhile has nothing left to forget.
    with contextlib.suppress(ValueError):
        cache.decr(key)


def _attempt_moments(*, user: User, now: datetime) -> list[datetime]:
    """The counted attempts of the last hour, each dated at the end of its minute (``now`` for
    this minute's): never earlier than it was made, so it is not let out of the hour early."""
    current = int(now.timestamp()) // _MINUTE_SECONDS
    # The minute an hour ago is the oldest that still ends inside the hour.
    minutes = range(current - HOUR // timedelta(seconds=_MINUTE_SECONDS), current + 1)
    counts = cache.get_many([_attempt_key(user, minute) for minute in minutes])
    moments: list[datetime] = []
    for minute in minutes:
        end = datetime.fromtimestamp((minute + 1) * _MINUTE_SECONDS, tz=UTC)
        moments += [min(end, now)] * max(0, int(counts.get(_attempt_key(user, minute), 0)))
    return moments


def _check_quota(
    *, item: GradeItem, student: User | None, group: ProjectGroup | None, size: int
) -> None:
    owner = {"student": student} if student else {"group": group}
    used = (
        Submission.objects.filter(item__course_id=item.course_id, **owner).aggregate(
            total=Sum("size")
        )["total"]
        or 0
    )
    quota = settings.STUDENT_STORAGE_QUOTA_BYTES
    if used + size > quota:
        raise ApplicationError(
            f"This upload would take your hand-ins in this course over the storage quota of "
            f"{quota // (1024 * 1024)} MB ({used // (1024 * 1024)} MB used)."
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _store_once(path: Path, sha256: str) -> tuple[str, bool]:
    """Store the upload under its sha256 unless that content is stored already."""
    name = f"handins/{sha256[:2]}/{sha256}"
    if default_storage.exists(name):
        return name, False
    with path.open("rb") as stream:
        stored = default_storage.save(name, File(stream, name=sha256))
    return stored, True


def handin_refusal(
    *, handin: Assignment | Deliverable, group: ProjectGroup | None = None, by_staff: bool = False
) -> str | None:
    """Why nothing can be handed in for this item now, if so; ``group`` is the owner of a
    deliverable's hand-in. Looks at no upload, so a page can say it before a file is chosen."""
    item = handin.item
    if not handin.handin_files:
        return f"{item} is not handed in as a file."
    if isinstance(handin, Deliverable) and group is None:
        return "Join a project group before handing in a group deliverable."
    # Staff may hand in early for a student, for instance to try an autograder.
    if not by_staff and item.opens_at and timezone.now() < item.opens_at:
        opens = timezone.localtime(item.opens_at, item.course.tz)
        return f"{item} opens for hand-ins at {opens:%Y-%m-%d %H:%M} ({item.course.time_zone})."
    return None


def submission_create(
    *,
    handin: Assignment | Deliverable,
    student: User | None = None,
    group: ProjectGroup | None = None,
    submitted_by: User,
    upload: UploadedFile,
    by_staff: bool = False,
    submitted_at: datetime | None = None,
) -> Submission:
    """Check an upload, store it once, and make it the active hand-in of its student or group.

    The caller has checked that ``submitted_by`` may hand in for ``student`` or ``group``, and
    says with ``by_staff`` whether they do so as the course's staff. ``submitted_at`` (default:
    now) is when the hand-in counts as handed in; only staff tools and the demo give one, and
    never a moment in the future.
    Every check runs before anything is stored; a refused upload leaves no file and no row.
    The hand-in returned holds the grading job queued for it as ``queued_job``.
    """
    refusal = handin_refusal(handin=handin, group=group, by_staff=by_staff)
    if refusal:
        raise ApplicationError(refusal)
    if (student is None) == (group is None):
        raise ValidationError("A hand-in belongs to a student or to a group: name one of them.")
    item = handin.item
    handin_files = list(handin.handin_files)
    max_bytes = handin.max_archive_bytes
    now = timezone.now()
    if submitted_at is not None and submitted_at > now:
        raise ValidationError({"submitted_at": "A hand-in cannot be handed in in the future."})
    attempt = _check_rate(submitted_by=submitted_by, now=now)
    temporary = Path(upload.temporary_file_path())  # type: ignore[attr-defined]
    limits = ArchiveLimits(
        max_upload_bytes=max_bytes,
        max_entries=settings.HANDIN_MAX_FILES,
        max_total_bytes=settings.HANDIN_MAX_UNPACKED_BYTES,
    )
    try:
        checked = handin_check(
            path=temporary, filename=upload.name or "", required_files=handin_files, limits=limits
        )
    except ArchiveError as error:
        raise ApplicationError(error.message) from None
    _check_quota(item=item, student=student, group=group, size=checked.size)
    sha256 = _sha256(temporary)
    stored, new = _store_once(temporary, sha256)
    try:
        with transaction.atomic():
            owner = {"student": student} if student else {"group": group}
            Submission.objects.select_for_update().filter(item=item, active=True, **owner).update(
                active=False
            )
            submission = Submission(
                item=item,
                submitted_by=submitted_by,
                submitted_at=submitted_at or now,
                file=stored,
                filename=Path(upload.name or "upload").name[:255],
                sha256=sha256,
                size=checked.size,
                kind=checked.kind,
                entries=[asdict(entry) for entry in checked.entries],
                active=True,
                **owner,
            )
            # The item, the owner and who hands in come loaded from the database, the owner is
            # one of a student or a group (checked first), and no other hand-in of the owner is
            # active any more: checking those again costs nine queries on every hand-in of a
            # deadline rush. The database keeps the constraints all the same.
            submission.full_clean(exclude=["item", "student", "group", "submitted_by"])
            submission.save()
            submission.queued_job = grading_job_create(
                item=item,
                subject=submission.grading_subject,
                owner=submission.grading_owner,
                archive=stored,
                filename=submission.filename,
                sha256=sha256,
            )
    except BaseException:
        if new:
            default_storage.delete(stored)
        raise
    # From now on its row counts it.
    _attempt_forget(attempt)
    return submission


def handin_work_changed(row: Submission | Extension) -> None:
    """A hand-in or an extension changed: the kept answers of its student, or of every member
    of its group, go."""
    answers_work_changed(
        **item_course(row),
        students=[row.student_id] if row.student_id else [],
        groups=[row.group_id] if row.group_id else [],
    )


@transaction.atomic
def submission_activate(*, submission: Submission) -> Submission:
    """Make an earlier hand-in the one that is graded and judged for lateness."""
    owner = (
        {"student": submission.student} if submission.student_id else {"group": submission.group}
    )
    Submission.objects.select_for_update().filter(
        item=submission.item, active=True, **owner
    ).exclude(pk=submission.pk).update(active=False)
    handin_work_changed(submission)
    if not submission.active:
        submission.active = True
        submission.save(update_fields=["active"])
    subject = submission.grading_subject
    if not GradingJob.objects.filter(subject=subject).exclude(status=JobStatus.SUPERSEDED).exists():
        _grade(submission)
    course_scores_refresh(course=submission.item.course)
    return submission


def _grade(submission: Submission, *, regrade: bool = False) -> GradingJob | None:
    return grading_job_create(
        item=submission.item,
        subject=submission.grading_subject,
        owner=submission.grading_owner,
        archive=str(submission.file.name),
        filename=submission.filename,
        sha256=submission.sha256,
        regrade=regrade,
    )


@transaction.atomic
def submission_regrade(*, submission: Submission) -> GradingJob | None:
    """Grade a hand-in again with the item's current autograder, on the regrade queue."""
    return _grade(submission, regrade=True)


@transaction.atomic
def assignment_regrade(*, item: GradeItem) -> list[GradingJob]:
    """Grade every active hand-in of an item again, on the regrade queue."""
    jobs = [_grade(s, regrade=True) for s in Submission.objects.filter(item=item, active=True)]
    return [job for job in jobs if job is not None]


@transaction.atomic
def extension_grant(
    *,
    item: GradeItem,
    student: User | None = None,
    group: ProjectGroup | None = None,
    due_at: datetime,
    reason: str,
    granted_by: User,
) -> Extension:
    """Give a student or a group a new due date for an item, replacing any extension they had."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the extension is granted."})
    if timezone.is_naive(due_at):
        raise ValidationError({"due_at": "Give the new due date with its time zone."})
    if item.due_at is None:
        raise ValidationError({"item": f"{item} has no due date to extend."})
    if (
        student is not None
        and not Membership.objects.filter(
            course_id=item.course_id, user=student, role=Role.STUDENT
        ).exists()
    ):
        raise ValidationError({"student": f"{student} is not a student of {item.course}."})
    if group is not None and group.course_id != item.course_id:
        raise ValidationError({"group": f"{group} is a group of another course."})
    now = timezone.now()
    owner = {"student": student} if student else {"group": group}
    Extension.objects.select_for_update().filter(
        item=item, revoked_at__isnull=True, **owner
    ).update(revoked_at=now, revoked_by=granted_by)
    extension = Extension(
        item=item,
        due_at=due_at,
        reason=reason.strip(),
        granted_by=granted_by,
        granted_at=now,
        **owner,
    )
    extension.full_clean()
    extension.save()
    course_scores_refresh(course=item.course)
    return extension


@transaction.atomic
def extension_revoke(*, extension: Extension, revoked_by: User) -> Extension:
    """Take an extension back; lateness is judged against the item's own due date again."""
    if extension.revoked_at is None:
        extension.revoked_at, extension.revoked_by = timezone.now(), revoked_by
        extension.save(update_fields=["revoked_at", "revoked_by"])
        course_scores_refresh(course=extension.item.course)
    return extension

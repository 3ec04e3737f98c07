"""Turning graded hand-ins into Scores: the autograder's points, less the late penalty.

Everything here is recomputed from the jobs, the hand-ins and the grace-day ledger; a call that
would change nothing writes nothing (``score_record`` keeps the history of what does change).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import transaction

from coursesite.models import Course, GroupMembership, ScoreSource
from coursesite.services import score_record
from grading.models import GradingJob, JobStatus
from submissions import grace
from submissions.models import Submission
from submissions.selectors import grace_ledger

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def submission_of_job(job: GradingJob) -> Submission | None:
    kind, _, pk = job.subject.partition(":")
    if kind != "submission" or not pk.isdigit():
        return None
    return Submission.objects.select_related("item__course").filter(pk=int(pk)).first()


def latest_result(submission: Submission) -> GradingJob | None:
    return (
        GradingJob.objects.filter(subject=submission.grading_subject, status=JobStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


def _students(submission: Submission) -> list[User]:
    if submission.student_id:
        return [submission.student]  # type: ignore[list-item]
    return [
        gm.student
        for gm in GroupMembership.objects.filter(group_id=submission.group_id).select_related(
            "student"
        )
    ]


def _apply(
    submission: Submission, job: GradingJob, ledger: grace.GraceLedger, students: list[User]
) -> None:
    item = submission.item
    fraction = (job.score or Decimal(0)) / job.max_score if job.max_score else Decimal(0)
    earned = min(item.max_points, fraction * item.max_points)
    for student in students:
        lateness = ledger.lateness.get((student.pk, item.pk))
        penalty = lateness.penalty_percent if lateness else Decimal(0)
        points = (earned * (HUNDRED - penalty) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        late = (
            f"; {lateness.days_late} day(s) late, {lateness.grace_days_used} grace day(s), "
            f"{penalty}% off"
            if lateness and lateness.days_late
            else ""
        )
        score_record(
            item=item,
            student=student,
            points=points,
            source=ScoreSource.AUTOGRADER,
            comment=f"autograder: {job.verdict}, {job.score}/{job.max_score}{late}",
            late_penalty_percent=penalty,
            changed_by=None,
            reason=f"grading job {job.pk} (autograder v{job.bundle.version}){late}",
        )


@transaction.atomic
def submission_score_apply(*, submission: Submission) -> None:
    """Record the Score of an active, graded hand-in for every student it counts for."""
    job = latest_result(submission)
    if job is None or not submission.active:
        return
    # The ledger of the students it counts for alone: a worker stores every result through here.
    students = _students(submission)
    ledger = grace_ledger(course=submission.item.course, students=[s.pk for s in students])
    _apply(submission, job, ledger, students)


@transaction.atomic
def course_scores_refresh(*, course: Course) -> None:
    """Re-apply every autograded Score of the course after lateness changed anywhere in it: the
    grace pool is shared across items, so one extension can change another item's penalty."""
    ledger = grace_ledger(course=course)
    active = Submission.objects.filter(item__course=course, active=True).select_related(
        "item", "student"
    )
    subjects = {s.grading_subject: s for s in active}
    done = (
        GradingJob.objects.filter(subject__in=subjects, status=JobStatus.DONE)
        .select_related("bundle")
        .order_by("subject", "-finished_at", "-pk")
    )
    latest: dict[str, GradingJob] = {}
    for job in done:
        latest.setdefault(job.subject, job)
    for subject, job in latest.items():
        _apply(subjects[subject], job, ledger, _students(subjects[subject]))

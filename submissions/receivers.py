"""What hand-ins do when something below them happens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from coursesite.models import GradeItem
from grading.models import GradingJob
from grading.signals import job_finished
from submissions.scoring import course_scores_refresh, submission_of_job, submission_score_apply

LATENESS_FIELDS = ("due_at", "uses_grace_days")


@receiver(job_finished)
def score_graded_submission(sender: Any, job_id: int, **kwargs: Any) -> None:
    job = GradingJob.objects.filter(pk=job_id).first()
    submission = submission_of_job(job) if job else None
    if submission is not None:
        submission_score_apply(submission=submission)


@receiver(pre_save, sender=GradeItem)
def remember_lateness_inputs(sender: Any, instance: GradeItem, **kwargs: Any) -> None:
    old = (
        GradeItem.objects.filter(pk=instance.pk).values(*LATENESS_FIELDS).first()
        if instance.pk
        else None
    )
    instance._lateness_inputs_changed = old is not None and any(  # type: ignore[attr-defined]
        old[field] != getattr(instance, field) for field in LATENESS_FIELDS
    )


@receiver(post_save, sender=GradeItem)
def rescore_after_due_date_moved(sender: Any, instance: GradeItem, **kwargs: Any) -> None:
    # A due date moved after grading changes lateness, and through the shared pool, other items.
    if getattr(instance, "_lateness_inputs_changed", False):
        course = instance.course
        transaction.on_commit(lambda: course_scores_refresh(course=course))

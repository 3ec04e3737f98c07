"""Thin Celery tasks of the LMS link: each takes a link id, and the services do the work."""

from __future__ import annotations

import random

from celery import shared_task
from celery.app.task import Task
from django.db import transaction

from lms.lms_client import LmsServiceError
from lms.models import CourseLink
from lms.passback import scores_post

# An LMS that is down for a deploy is back within minutes; one that is still down after the
# last try waits for the next "send grades now" (nothing is lost: unsent scores stay unsent).
MAX_RETRIES = 4
BACKOFF_SECONDS = 30
BACKOFF_MAX_SECONDS = 15 * 60


def backoff_seconds(retries: int, error: LmsServiceError) -> int:
    """Doubling waits with jitter, or what the LMS asked for with ``Retry-After``."""
    wait = min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2**retries)
    if error.retry_after is not None:
        return min(BACKOFF_MAX_SECONDS, max(error.retry_after, 1))
    return random.randint(wait // 2, wait)  # noqa: S311 (jitter, not a secret)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAX_RETRIES)
def lms_scores_post(self: Task, link_id: int) -> str:
    """Post the course's changed grades to the LMS course of the link. Safe to run twice: a
    score the LMS accepted is not sent again. Expected failures: an LMS that does not answer,
    answers 429 or 5xx (tried again with backoff); a refusal (4xx) is kept on the item."""
    link = (
        CourseLink.objects.filter(pk=link_id)
        .select_related("course", "context__deployment__registration")
        .first()
    )
    if link is None:
        return "gone"
    result = scores_post(link=link)
    if result.stopped_by is not None:
        error = result.stopped_by
        raise self.retry(exc=error, countdown=backoff_seconds(self.request.retries, error))
    return f"sent {result.sent}, unchanged {result.unchanged}, errors {len(result.errors)}"


def lms_scores_post_on_commit(*, link_id: int) -> None:
    """Send ``lms_scores_post`` once the caller's transaction commits. CELERY_TASK_ROUTES sends it,
    and its retries, to the housekeeping queue, whose worker never grades: grades reach the LMS
    while the grading queues are full."""
    transaction.on_commit(lambda: lms_scores_post.delay(link_id))

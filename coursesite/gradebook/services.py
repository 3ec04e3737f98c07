"""Writes of the gradebook: releasing an item's scores to its students, importing scores from a
file, and students' regrade requests with staff's answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coursesite.gradebook.imports import (
    LineCheck,
    ScoreImportRejected,
    ScoreLine,
    score_file_check,
)
from coursesite.models import (
    GradeItem,
    Membership,
    RegradeRequest,
    RegradeState,
    Role,
    Score,
    ScoreSource,
)
from coursesite.services import score_record


@transaction.atomic
def item_release(*, item: GradeItem, released: bool) -> GradeItem:
    """Show an item's scores to its students, or hide them again.

    A release starts the item's regrade window anew; a call that changes nothing writes nothing.
    """
    if item.released == released:
        return item
    item.released = released
    fields = ["released"]
    if released:
        item.released_at = timezone.now()
        fields.append("released_at")
    item.save(update_fields=fields)
    return item


@transaction.atomic
def score_enter(
    *,
    item: GradeItem,
    student: User,
    points: Decimal | None,
    excused: bool = False,
    comment: str | None = None,
    changed_by: User,
    reason: str,
) -> Score:
    """A score entered by staff, recorded by ``score_record`` as a manual score; a ``comment`` of
    None keeps the score's comment."""
    if comment is None:
        score = Score.objects.filter(item=item, student=student).first()
        comment = score.comment if score else ""
    return score_record(
        item=item,
        student=student,
        points=points,
        excused=excused,
        source=ScoreSource.MANUAL,
        comment=comment,
        changed_by=changed_by,
        reason=reason,
    )


@transaction.atomic
def score_import(
    *, item: GradeItem, rows: list[ScoreLine], changed_by: User, reason: str
) -> list[LineCheck]:
    """Record the scores of a parsed score file, all of them or none.

    Every line is checked first (``score_file_check``); one line with a problem raises
    ``ScoreImportRejected`` with the report of every line, and nothing is written. Each score is
    then recorded by ``score_record`` as a manual score, with ``reason`` in its audit row.
    """
    if not reason.strip():
        raise ValidationError({"reason": "Say why these scores change."})
    lines = score_file_check(item=item, lines=rows)
    if any(line.problem for line in lines):
        raise ScoreImportRejected(lines)
    for line in lines:
        assert line.student is not None  # a line without a problem names its student
        score_record(
            item=item,
            student=line.student,
            points=line.points,
            excused=line.excused,
            source=ScoreSource.MANUAL,
            comment=line.new_comment,
            changed_by=changed_by,
            reason=reason,
        )
    return lines


def regrade_deadline(item: GradeItem) -> datetime | None:
    """The last moment a student may ask for a regrade of an item: its release plus the course's
    regrade window. None when the release time is not known (the window is then open)."""
    if item.released_at is None:
        return None
    return item.released_at + timedelta(days=item.course.regrade_window_days)


@transaction.atomic
def regrade_request_create(
    *, item: GradeItem, student: User, message: str, part: str = "", now: datetime | None = None
) -> RegradeRequest:
    """A student's question about their score on one item (``part``: one test or criterion).

    Refused with ``ValidationError`` unless the caller is a student of the item's course, the
    item is released, its regrade window is still open, and the student has no open request on
    it yet.
    """
    now = now or timezone.now()
    if not message.strip():
        raise ValidationError({"message": "Say what should be looked at again, and why."})
    # Locked, so that two requests sent at once cannot both become the open one.
    item = GradeItem.objects.select_for_update().select_related("course").get(pk=item.pk)
    if not Membership.objects.filter(
        course_id=item.course_id, user=student, role=Role.STUDENT
    ).exists():
        raise ValidationError({"item": f"Only a student of {item.course} asks for a regrade."})
    if not item.released:
        raise ValidationError({"item": f"The scores of {item} are not released yet."})
    deadline = regrade_deadline(item)
    if deadline is not None and now > deadline:
        closed = timezone.localtime(deadline, item.course.tz)
        raise ValidationError(
            {"item": f"The regrade window of {item} closed on {closed:%Y-%m-%d %H:%M %Z}."}
        )
    if RegradeRequest.objects.filter(item=item, student=student, state=RegradeState.OPEN).exists():
        raise ValidationError(
            {"item": f"There is already an open regrade request on {item}; wait for its answer."}
        )
    request = RegradeRequest(
        item=item, student=student, part=part.strip(), message=message.strip(), created_at=now
    )
    request.full_clean()
    request.save()
    return request


@transaction.atomic
def regrade_request_answer(
    *,
    request: RegradeRequest,
    answered_by: User,
    answer: str,
    points: Decimal | None = None,
    now: datetime | None = None,
) -> RegradeRequest:
    """Answer an open regrade request; with ``points``, give the student those points.

    New points go through ``score_record`` as a manual score whose reason names the request, and
    keep the score's comment; ``score_changed`` says whether the points changed.
    """
    if not answer.strip():
        raise ValidationError({"answer": "Write the answer the student will read."})
    locked = (
        RegradeRequest.objects.select_for_update()
        .select_related("item__course", "student")
        .get(pk=request.pk)
    )
    if locked.state != RegradeState.OPEN:
        raise ValidationError({"state": "This regrade request is already answered."})
    changed = False
    if points is not None:
        score = Score.objects.filter(item=locked.item, student=locked.student).first()
        changed = score is None or score.excused or score.points != points
        if changed:
            score_record(
                item=locked.item,
                student=locked.student,
                points=points,
                source=ScoreSource.MANUAL,
                comment=score.comment if score else "",
                changed_by=answered_by,
                reason=f"Regrade request #{locked.pk}: {answer.strip()}",
            )
    locked.state, locked.answer = RegradeState.ANSWERED, answer.strip()
    locked.answered_by, locked.answered_at = answered_by, now or timezone.now()
    locked.score_changed = changed
    locked.full_clean()
    locked.save(update_fields=["state", "answer", "answered_by", "answered_at", "score_changed"])
    return locked

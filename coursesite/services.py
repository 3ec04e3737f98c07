"""Writes of the course layer: scores with their audit trail, and staff access to the panel."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coursesite.models import Course, GradeItem, Membership, Role, Score, ScoreChange, ScoreSource

COURSE_STAFF_GROUP = "Course staff"
# The apps whose models course staff work with in the instructor panel. Which rows they see
# is limited to their own courses by the panel itself.
STAFF_APPS = ("coursesite", "grading", "submissions", "presentations", "lms")


def course_staff_group() -> Group:
    """The auth group that lets instructors and TAs use the instructor panel."""
    group, _ = Group.objects.get_or_create(name=COURSE_STAFF_GROUP)
    wanted = set(
        Permission.objects.filter(content_type__app_label__in=STAFF_APPS).values_list(
            "pk", flat=True
        )
    )
    if set(group.permissions.values_list("pk", flat=True)) != wanted:
        group.permissions.set(wanted)
    return group


def staff_access_grant(*, user: User) -> None:
    """Let a course's instructor or TA into the instructor panel."""
    group = course_staff_group()
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)


def score_check(*, item: GradeItem, student: User, points: Decimal | None, excused: bool) -> None:
    """Raise ``ValidationError`` unless these points may be recorded for this student."""
    if not Membership.objects.filter(
        course_id=item.course_id, user=student, role=Role.STUDENT
    ).exists():
        raise ValidationError({"student": f"{student} is not a student of {item.course}."})
    if points is not None and not Decimal(0) <= points <= item.max_points:
        raise ValidationError({"points": f"Points must be between 0 and {item.max_points}."})
    if excused and points is not None:
        raise ValidationError({"points": "An excused score has no points."})


@transaction.atomic
def score_record(
    *,
    item: GradeItem,
    student: User,
    points: Decimal | None,
    excused: bool = False,
    source: ScoreSource,
    comment: str = "",
    late_penalty_percent: Decimal = Decimal(0),
    changed_by: User | None,
    reason: str,
) -> Score:
    """Set a student's score on an item and keep an audit row of the change.

    ``changed_by`` is the staff member who made the change, or ``None`` for the system.
    ``late_penalty_percent`` is the penalty already taken off ``points``, kept to be shown.
    A call that changes nothing writes nothing.
    """
    if not reason.strip():
        raise ValidationError({"reason": "Say why the score changes."})
    score_check(item=item, student=student, points=points, excused=excused)
    now = timezone.now()
    score = Score.objects.select_for_update().filter(item=item, student=student).first()
    if score is None:
        old_points, old_excused = None, None
        score = Score(item=item, student=student)
    elif (score.points, score.excused, score.source, score.comment, score.late_penalty_percent) == (
        points,
        excused,
        source,
        comment,
        late_penalty_percent,
    ):
        return score
    else:
        old_points, old_excused = score.points, score.excused
    score.points, score.excused, score.source = points, excused, source
    score.comment, score.updated_at = comment, now
    score.late_penalty_percent = late_penalty_percent
    score.full_clean()
    score.save()
    ScoreChange.objects.create(
        score=score,
        changed_by=changed_by,
        changed_at=now,
        old_points=old_points,
        new_points=points,
        old_excused=old_excused,
        new_excused=excused,
        source=source,
        reason=reason.strip()[:300],
    )
    return score


@transaction.atomic
def demo_passwords_set(*, course: Course, password: str) -> list[Membership]:
    """Give every member of a demo course the same known password. Demo mode only."""
    if not settings.DEMO_MODE:
        raise ValidationError("Demo passwords can only be set in demo mode.")
    order = list(Role)
    members = sorted(
        course.memberships.select_related("user").order_by("user__username"),
        key=lambda m: order.index(Role(m.role)),
    )
    for membership in members:
        if not membership.user.check_password(password):
            membership.user.set_password(password)
            membership.user.save(update_fields=["password"])
    return members

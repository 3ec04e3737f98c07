"""The peer contribution survey of a project deliverable.

Who and when
    A deliverable with ``peer_survey`` has a survey. It opens at the deliverable's due date and
    closes at the end of the course's term; a deliverable without a due date never opens it.
    Each student in a project group of the course answers it for their group.
An answer
    A member rates every other member of their group exactly once, from 1 (far less than a fair
    share) to 5 (far more), with a comment of at most 2000 characters; never themselves, never
    anyone outside the group. Answering again replaces the member's earlier answer whole.
Results
    Only staff read them: per group, per member, the ratings the member received (each with its
    rater and comment), their mean and count, and the members who have not answered yet. A
    rating counts for the group the rater was in when they answered. Staff act on the results by
    adjusting a member's points on a deliverable (``grading.rubrics.member_adjust``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from coursesite.models import Course, GroupMembership, ProjectGroup
from submissions.models import ContributionRating, Deliverable

RATINGS = range(1, 6)
COMMENT_LIMIT = 2000


@dataclass(frozen=True)
class SurveyWindow:
    """When a deliverable's survey takes answers: from ``opens_at`` (None: never) to
    ``closes_at``."""

    opens_at: datetime | None
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at is not None and self.opens_at <= now <= self.closes_at

    def refusal(self, now: datetime, course: Course) -> str | None:
        """Why the survey takes no answers at ``now``, in words for the student, if so."""
        if self.opens_at is None:
            return "The survey opens at the deliverable's due date, which is not set yet."
        if now < self.opens_at:
            return (
                f"The survey opens at {_local(self.opens_at, course)}, when the deliverable is due."
            )
        if now > self.closes_at:
            return f"The survey closed at {_local(self.closes_at, course)}, when the term ended."
        return None


def _local(when: datetime, course: Course) -> str:
    return f"{timezone.localtime(when, course.tz):%Y-%m-%d %H:%M} ({course.time_zone})"


def survey_window(deliverable: Deliverable) -> SurveyWindow:
    course = deliverable.item.course
    return SurveyWindow(opens_at=deliverable.item.due_at, closes_at=course.term_bounds()[1])


def group_mates(*, course: Course, student: User) -> tuple[ProjectGroup | None, list[User]]:
    """The student's project group in the course and its other members, by username."""
    membership = (
        GroupMembership.objects.filter(course=course, student=student)
        .select_related("group")
        .first()
    )
    if membership is None:
        return None, []
    others = [
        gm.student
        for gm in GroupMembership.objects.filter(group=membership.group)
        .exclude(student=student)
        .select_related("student")
        .order_by("student__username")
    ]
    return membership.group, others


@dataclass(frozen=True)
class SurveyState:
    """The survey as one student sees it: whether they may answer now (``refusal`` says why
    not), the group mates they rate, and their answer so far (by the rated member's id)."""

    deliverable: Deliverable
    window: SurveyWindow
    refusal: str | None
    group: ProjectGroup | None
    mates: list[User]
    ratings: dict[int, ContributionRating]


def survey_state(
    *, deliverable: Deliverable, student: User, now: datetime | None = None
) -> SurveyState:
    course = deliverable.item.course
    window = survey_window(deliverable)
    group, mates = group_mates(course=course, student=student)
    refusal: str | None
    if not deliverable.peer_survey:
        refusal = f"{deliverable} has no peer survey."
    elif group is None:
        refusal = "Only members of a project group answer the survey."
    elif not mates:
        refusal = f"You are the only member of {group.name}: there is nobody to rate."
    else:
        refusal = window.refusal(now or timezone.now(), course)
    ratings = {
        rating.ratee_id: rating
        for rating in ContributionRating.objects.filter(deliverable=deliverable, rater=student)
    }
    return SurveyState(deliverable, window, refusal, group, mates, ratings)


def _checked(
    ratings: dict[int, tuple[int, str]], rater: User, mates: list[User]
) -> list[tuple[User, int, str]]:
    by_pk = {mate.pk: mate for mate in mates}
    if rater.pk in ratings:
        raise ValidationError({"ratings": "Rate the other members of your group, not yourself."})
    outsiders = [pk for pk in ratings if pk not in by_pk]
    if outsiders:
        names = User.objects.filter(pk__in=outsiders).order_by("username")
        listed = ", ".join(names.values_list("username", flat=True)) or "unknown students"
        raise ValidationError(
            {"ratings": f"Rate only the members of your group; not in it: {listed}."}
        )
    missing = [mate.username for mate in mates if mate.pk not in ratings]
    if missing:
        raise ValidationError(
            {"ratings": f"Rate every other member of your group; not rated: {', '.join(missing)}."}
        )
    checked = []
    for mate in mates:
        rating, comment = ratings[mate.pk]
        if not isinstance(rating, int) or isinstance(rating, bool) or rating not in RATINGS:
            raise ValidationError(
                {"ratings": f"Rate {mate.username} from {RATINGS[0]} to {RATINGS[-1]}."}
            )
        comment = comment.strip()
        if len(comment) > COMMENT_LIMIT:
            raise ValidationError(
                {"ratings": f"The comment on {mate.username} is over {COMMENT_LIMIT} characters."}
            )
        checked.append((mate, rating, comment))
    return checked


@transaction.atomic
def ratings_submit(
    *,
    deliverable: Deliverable,
    rater: User,
    ratings: dict[int, tuple[int, str]],
    now: datetime | None = None,
) -> list[ContributionRating]:
    """Record a student's answer to the survey (every other member of their group, by user id:
    a rating and a comment), replacing their earlier answer. Raises ``ValidationError`` saying
    what is wrong; a refused answer changes nothing."""
    now = now or timezone.now()
    # One answer of a rater at a time: two at once would both delete, then both insert.
    GroupMembership.objects.select_for_update().filter(
        course_id=deliverable.item.course_id, student=rater
    ).first()
    state = survey_state(deliverable=deliverable, student=rater, now=now)
    if state.refusal:
        raise ValidationError({"ratings": state.refusal})
    checked = _checked(ratings, rater, state.mates)
    ContributionRating.objects.filter(deliverable=deliverable, rater=rater).delete()
    rows = []
    for ratee, rating, comment in checked:
        row = ContributionRating(
            deliverable=deliverable, group=state.group, rater=rater, ratee=ratee, rating=rating,
            comment=comment, submitted_at=now,
        )  # fmt: skip
        row.full_clean()
        rows.append(row)
    return ContributionRating.objects.bulk_create(rows)


@dataclass(frozen=True)
class MemberResult:
    """What one member's group mates said of their contribution."""

    student: User
    received: tuple[ContributionRating, ...]
    answered: bool

    @property
    def count(self) -> int:
        return len(self.received)

    @property
    def mean(self) -> Decimal | None:
        if not self.received:
            return None
        total = Decimal(sum(rating.rating for rating in self.received))
        return (total / self.count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class GroupResult:
    group: ProjectGroup
    members: tuple[MemberResult, ...]

    @property
    def not_answered(self) -> list[User]:
        return [member.student for member in self.members if not member.answered]


def survey_results(deliverable: Deliverable) -> list[GroupResult]:
    """Every group of the course that has members, with the survey's results (see the module
    doc). Three queries, whatever the size of the course."""
    groups = (
        ProjectGroup.objects.filter(course_id=deliverable.item.course_id)
        .prefetch_related(
            Prefetch(
                "group_memberships",
                queryset=GroupMembership.objects.select_related("student").order_by(
                    "student__username"
                ),
            )
        )
        .order_by("name")
    )
    received: dict[tuple[int, int], list[ContributionRating]] = defaultdict(list)
    answered: set[tuple[int, int]] = set()
    for rating in (
        ContributionRating.objects.filter(deliverable=deliverable)
        .select_related("rater")
        .order_by("rater__username")
    ):
        received[(rating.group_id, rating.ratee_id)].append(rating)
        answered.add((rating.group_id, rating.rater_id))
    results = []
    for group in groups:
        members = tuple(
            MemberResult(
                student=gm.student,
                received=tuple(received[(group.pk, gm.student_id)]),
                answered=(group.pk, gm.student_id) in answered,
            )
            for gm in group.group_memberships.all()
        )
        if members:
            results.append(GroupResult(group, members))
    return results

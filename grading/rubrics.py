"""Rubric grading: how staff's evaluations of work become Scores.

Subjects
    An evaluation names the work it judges with an opaque ``subject`` string, as a grading job
    does, that a registered ``SubjectSource`` interprets (its ``kind`` is the part before the
    colon): the students the work counts for, the rubric that scores it, the late penalty on it,
    and what the scoring page shows of it. Grading itself knows ``student:N``, one student's own
    work on an item that has a rubric (the midterm); the apps above add theirs (``group:N`` for
    a project deliverable, ``role:N`` for a presentation role, ``review:N`` for a paper review).
    The source of an item's work is the first registered source that claims the item, else
    grading's own student source.
Points
    An evaluation marks every criterion of the rubric: a level (its points) for a criterion with
    levels, otherwise free points from 0 to the criterion's maximum. Its points are their sum.
Two graders
    A piece of work may be evaluated by several graders. With the course's ``average``
    consensus its points are the mean of the evaluations; with ``final``, the final grader's
    evaluation counts when there is one (the policy's designated grader, else any instructor of
    the course), and the mean of the others until then. Graders disagree on a piece of work when
    their totals differ by more than the policy's percent of the rubric's points.
To the gradebook
    A piece of work's points are scaled to the item (points / rubric points x item points), then
    each of its students gets them plus their own adjustment on it (kept between 0 and the item's
    points), less the late penalty the source reports. A student with several pieces of work on
    one item (a presenter who held three roles in the semester) gets their mean. The result is
    rounded half up to cents once, at the end, and recorded with ``score_record`` (source
    ``rubric``), so every change is in the Score's history. A student whose last evaluated work
    loses its evaluations has a rubric Score emptied; a Score from another source is never
    touched while no evaluation counts for the student.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coursesite.models import (
    Course,
    GradeItem,
    Membership,
    Role,
    Score,
    ScoreSource,
)
from coursesite.models.course import STAFF_ROLES
from coursesite.services import score_record
from grading.models import (
    Consensus,
    Criterion,
    CriterionMark,
    Level,
    MemberAdjustment,
    Rubric,
    RubricEvaluation,
    RubricPolicy,
)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
COMMENT_LIMIT = 10_000
User = get_user_model()


# The work: what the layers above tell grading about their subjects.


@dataclass(frozen=True)
class Work:
    """One piece of work to score: its subject, a label for staff, the students it counts for."""

    subject: str
    label: str
    students: tuple[int, ...]
    # The day the work was done, when it is not the item's due date (a presentation's day).
    when: date | None = None
    # Nothing was handed in (yet): there is no work to read, only its absence to score.
    missing: bool = False


class SubjectSource(ABC):
    """Interprets one kind of subject (``kind:N``) for rubric grading."""

    kind: str

    def claims(self, item: GradeItem) -> bool:
        """Whether this source lists the item's work (the first registered claimant does)."""
        return False

    @abstractmethod
    def works(self, item: GradeItem) -> list[Work]:
        """Every piece of the item's work that can be scored, in the order staff score it."""

    def work(self, item: GradeItem, subject: str) -> Work | None:
        return next((work for work in self.works(item) if work.subject == subject), None)

    def rubric(self, item: GradeItem, subject: str) -> Rubric | None:
        """The rubric that scores this work: by default the item's own."""
        return item_rubric(item)

    def penalty_percent(self, item: GradeItem, subject: str) -> Decimal:
        """The late penalty on this work, percent of its points."""
        return Decimal(0)

    def context(self, item: GradeItem, subject: str) -> dict[str, Any]:
        """What the scoring page shows beside the rubric: ``parts`` (a list of (title, text)),
        ``file_url`` (a PDF shown inline), ``links`` (a list of (title, url))."""
        return {}

    # Work whose points go elsewhere than the item's Scores (a quiz's derivation: to its answer,
    # out of the question's points) records them itself.
    records_itself = False

    def record(
        self,
        item: GradeItem,
        subject: str,
        fraction: Decimal | None,
        *,
        changed_by: AbstractBaseUser | None,
        reason: str,
    ) -> bool:
        """Take the rubric's ``fraction`` of the work's points (None: no evaluation counts);
        returns whether anything changed. Only for a source that ``records_itself``."""
        raise NotImplementedError


class StudentSource(SubjectSource):
    """``student:N``: a student's own work on an item that has a rubric (an exam)."""

    kind = "student"

    def works(self, item: GradeItem) -> list[Work]:
        members = (
            Membership.objects.filter(course_id=item.course_id, role=Role.STUDENT)
            .select_related("user")
            .order_by("user__username")
        )
        return [
            Work(f"student:{m.user_id}", m.user.get_full_name() or m.user.username, (m.user_id,))
            for m in members
        ]

    def work(self, item: GradeItem, subject: str) -> Work | None:
        pk = subject_pk(subject)
        if pk is None:
            return None
        member = (
            Membership.objects.filter(course_id=item.course_id, role=Role.STUDENT, user_id=pk)
            .select_related("user")
            .first()
        )
        if member is None:
            return None
        return Work(subject, member.user.get_full_name() or member.user.username, (member.user_id,))


_sources: dict[str, SubjectSource] = {}


def subject_source_register(source: SubjectSource) -> None:
    if source.kind in _sources and type(_sources[source.kind]) is not type(source):
        raise ValueError(f"two apps claim the rubric subject kind {source.kind!r}")
    _sources[source.kind] = source


subject_source_register(StudentSource())


def subject_pk(subject: str) -> int | None:
    _, _, pk = subject.partition(":")
    return int(pk) if pk.isdigit() else None


def source_of_subject(subject: str) -> SubjectSource:
    kind = subject.partition(":")[0]
    if kind not in _sources or subject_pk(subject) is None:
        raise ValidationError({"subject": f"{subject!r} is not work that rubrics score."})
    return _sources[kind]


def source_of_item(item: GradeItem) -> SubjectSource:
    for source in _sources.values():
        if source.claims(item):
            return source
    return _sources["student"]


def item_rubric(item: GradeItem) -> Rubric | None:
    return item.rubrics.order_by("pk").first()


def items_scored_by_rubric(course: Course) -> list[GradeItem]:
    """The course's items whose work staff score with a rubric."""
    return [
        item
        for item in course.items.select_related("category").order_by(
            "category__position", "position", "due_at", "pk"
        )
        if item_rubric(item) is not None or source_of_item(item).kind != "student"
    ]


# Policy and staff.


def rubric_policy(course: Course) -> RubricPolicy:
    """The course's policy, or the defaults when it has none (not saved)."""
    policy = RubricPolicy.objects.filter(course=course).first()
    return policy if policy is not None else RubricPolicy(course=course)


def is_course_staff(course: Course, user: AbstractBaseUser) -> bool:
    return Membership.objects.filter(course=course, user_id=user.pk, role__in=STAFF_ROLES).exists()


def final_graders(course: Course, policy: RubricPolicy) -> set[int]:
    if policy.final_grader_id is not None:
        return {policy.final_grader_id}
    return set(
        Membership.objects.filter(course=course, role=Role.INSTRUCTOR).values_list(
            "user_id", flat=True
        )
    )


# Evaluations.


@dataclass(frozen=True)
class MarkInput:
    """A grader's choice for one criterion: a level, or free points; and a comment."""

    criterion_id: int
    level_id: int | None = None
    points: Decimal | None = None
    comment: str = ""


def _marks_checked(rubric: Rubric, marks: Sequence[MarkInput]) -> list[CriterionMark]:
    criteria = {c.pk: c for c in rubric.criteria.prefetch_related("levels")}
    given: dict[int, MarkInput] = {}
    for mark in marks:
        if mark.criterion_id not in criteria:
            raise ValidationError({"marks": f"Criterion {mark.criterion_id} is not in {rubric}."})
        if mark.criterion_id in given:
            raise ValidationError(
                {"marks": f"'{criteria[mark.criterion_id].title}' is marked twice."}
            )
        given[mark.criterion_id] = mark
    missing = [c.title for pk, c in criteria.items() if pk not in given]
    if missing:
        raise ValidationError({"marks": f"Mark every criterion: {', '.join(missing)}."})
    rows = []
    for pk, criterion in criteria.items():
        mark = given[pk]
        if len(mark.comment) > COMMENT_LIMIT:
            raise ValidationError(
                {"marks": f"The comment on '{criterion.title}' is over {COMMENT_LIMIT} characters."}
            )
        levels: dict[int, Level] = {level.pk: level for level in criterion.levels.all()}
        if levels:
            level = levels.get(mark.level_id) if mark.level_id is not None else None
            if level is None:
                raise ValidationError(
                    {"marks": f"Choose one of the levels of '{criterion.title}'."}
                )
            if mark.points is not None and mark.points != level.points:
                raise ValidationError(
                    {"marks": f"'{criterion.title}': a level gives {level.points} points."}
                )
            rows.append(
                CriterionMark(
                    criterion=criterion,
                    level=level,
                    points=level.points,
                    comment=mark.comment.strip(),
                )
            )
            continue
        if mark.level_id is not None:
            raise ValidationError({"marks": f"'{criterion.title}' has no levels: give points."})
        points = mark.points
        if points is None or not points.is_finite():
            raise ValidationError({"marks": f"Give '{criterion.title}' its points."})
        if not Decimal(0) <= points <= criterion.max_points or points != points.quantize(CENT):
            raise ValidationError(
                {
                    "marks": f"'{criterion.title}' takes 0 to {criterion.max_points} points, "
                    "in hundredths at most."
                }
            )
        rows.append(CriterionMark(criterion=criterion, points=points, comment=mark.comment.strip()))
    return rows


def work_of(item: GradeItem, subject: str) -> tuple[SubjectSource, Work]:
    source = source_of_subject(subject)
    if source is not source_of_item(item):
        raise ValidationError(
            {"subject": f"{item} is not scored as {source.kind} work, so not as {subject!r}."}
        )
    work = source.work(item, subject)
    if work is None:
        raise ValidationError({"subject": f"{item} has no work {subject!r} to score."})
    return source, work


@transaction.atomic
def evaluation_save(
    *,
    item: GradeItem,
    subject: str,
    grader: AbstractBaseUser,
    marks: Sequence[MarkInput],
    comment: str = "",
    now: datetime | None = None,
) -> RubricEvaluation:
    """Record ``grader``'s evaluation of a piece of work (replacing their earlier one), and
    the Scores it changes. Raises ``ValidationError`` saying what is wrong."""
    if not is_course_staff(item.course, grader):
        raise ValidationError({"grader": f"{grader} is not on the staff of {item.course}."})
    source, work = work_of(item, subject)
    rubric = source.rubric(item, subject)
    if rubric is None:
        raise ValidationError({"rubric": f"{item} has no rubric to score {work.label} with."})
    if len(comment) > COMMENT_LIMIT:
        raise ValidationError({"comment": f"The comment is over {COMMENT_LIMIT} characters."})
    rows = _marks_checked(rubric, marks)
    now = now or timezone.now()
    evaluation = (
        RubricEvaluation.objects.select_for_update()
        .filter(item=item, subject=subject, grader_id=grader.pk)
        .first()
    )
    if evaluation is None:
        evaluation = RubricEvaluation(
            item=item, subject=subject, grader_id=grader.pk, created_at=now
        )
    evaluation.rubric = rubric
    evaluation.comment = comment.strip()
    evaluation.points = sum((row.points for row in rows), Decimal(0))
    evaluation.updated_at = now
    evaluation.save()
    evaluation.marks.all().delete()
    for row in rows:
        row.evaluation = evaluation
    CriterionMark.objects.bulk_create(rows)
    grader_name = getattr(grader, "username", str(grader))
    item_scores_refresh(
        item=item,
        students=work.students,
        changed_by=grader,
        reason=f"rubric evaluation of {work.label} by {grader_name}",
    )
    return evaluation


@transaction.atomic
def evaluation_delete(*, evaluation: RubricEvaluation, by: AbstractBaseUser) -> None:
    item, subject = evaluation.item, evaluation.subject
    work = source_of_item(item).work(item, subject)
    evaluation.delete()
    # Work that no longer exists (a group emptied since) still loses its evaluation: then every
    # student's rubric Score is checked.
    item_scores_refresh(
        item=item,
        students=work.students if work is not None else None,
        changed_by=by,
        reason=f"evaluation of {work.label if work else subject} by {evaluation.grader} deleted",
    )


# From evaluations to points.


@dataclass(frozen=True)
class Outcome:
    """What a piece of work's evaluations come to."""

    evaluations: tuple[RubricEvaluation, ...]
    # The evaluations that count under the course's consensus.
    counted: tuple[RubricEvaluation, ...]
    # In the rubric's points; None while nobody has evaluated the work.
    points: Decimal | None
    rubric_points: Decimal
    disagree: bool


def outcome_of(
    evaluations: Sequence[RubricEvaluation],
    *,
    policy: RubricPolicy,
    final: set[int],
    rubric_points: dict[int, Decimal],
) -> Outcome:
    """Combine one piece of work's evaluations by the course's consensus (see the module doc).
    ``rubric_points`` gives each rubric's total by its id."""
    if not evaluations:
        return Outcome((), (), None, Decimal(0), False)
    counted = tuple(evaluations)
    if policy.consensus == Consensus.FINAL:
        finals = tuple(e for e in evaluations if e.grader_id in final)
        counted = finals or counted
    points = sum((e.points for e in counted), Decimal(0)) / len(counted)
    total = rubric_points.get(counted[-1].rubric_id, Decimal(0))
    totals = [e.points for e in evaluations]
    disagree = (
        len(evaluations) > 1
        and total > 0
        and (max(totals) - min(totals)) * HUNDRED > policy.disagreement_percent * total
    )
    return Outcome(tuple(evaluations), counted, points, total, disagree)


def _rubric_totals(rubric_ids: Iterable[int]) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for rubric_id, points in Criterion.objects.filter(rubric_id__in=set(rubric_ids)).values_list(
        "rubric_id", "max_points"
    ):
        totals[rubric_id] += points
    return dict(totals)


def item_outcomes(item: GradeItem) -> dict[str, Outcome]:
    """Every evaluated piece of the item's work, by subject."""
    evaluations = list(
        RubricEvaluation.objects.filter(item=item)
        .select_related("grader", "rubric")
        .order_by("subject", "created_at", "pk")
    )
    by_subject: dict[str, list[RubricEvaluation]] = defaultdict(list)
    for evaluation in evaluations:
        by_subject[evaluation.subject].append(evaluation)
    policy = rubric_policy(item.course)
    final = final_graders(item.course, policy)
    totals = _rubric_totals(e.rubric_id for e in evaluations)
    return {
        subject: outcome_of(found, policy=policy, final=final, rubric_points=totals)
        for subject, found in by_subject.items()
    }


@dataclass
class StudentPoints:
    """A student's points on an item from the rubric, before rounding, and how they came."""

    points: Decimal | None
    late_penalty_percent: Decimal = Decimal(0)
    lines: list[str] = field(default_factory=list)
    # The evaluations that made the points.
    counted: list[RubricEvaluation] = field(default_factory=list)


def student_points(
    item: GradeItem,
    student_id: int,
    works: Sequence[Work],
    outcomes: dict[str, Outcome],
    adjustments: dict[tuple[str, int], MemberAdjustment],
    source: SubjectSource,
) -> StudentPoints:
    """The student's rubric points on the item: the mean over their evaluated work (module doc)."""
    shares: list[Decimal] = []
    penalties: list[Decimal] = []
    lines: list[str] = []
    counted: list[RubricEvaluation] = []
    for work in works:
        outcome = outcomes.get(work.subject)
        if student_id not in work.students or outcome is None or outcome.points is None:
            continue
        if outcome.rubric_points <= 0:
            continue
        share = outcome.points / outcome.rubric_points * item.max_points
        line = f"{work.label}: {_cents(share)}"
        adjustment = adjustments.get((work.subject, student_id))
        if adjustment is not None:
            share = min(item.max_points, max(Decimal(0), share + adjustment.points))
            line += f", adjusted {adjustment.points:+} ({adjustment.reason})"
        penalty = source.penalty_percent(item, work.subject)
        if penalty:
            share = share * (HUNDRED - penalty) / HUNDRED
            line += f", {penalty}% late penalty"
        shares.append(share)
        penalties.append(penalty)
        lines.append(line)
        counted.extend(outcome.counted)
    if not shares:
        return StudentPoints(None)
    mean = sum(shares, Decimal(0)) / len(shares)
    penalty = penalties[0] if len(set(penalties)) == 1 else Decimal(0)
    return StudentPoints(mean, penalty, lines, counted)


def _criteria_summary(result: StudentPoints) -> str:
    """Criterion by criterion, when one evaluation alone made the points (an exam's questions)."""
    if len(result.counted) != 1:
        return ""
    marks = CriterionMark.objects.filter(evaluation=result.counted[0]).select_related("criterion")
    shown = [
        f"{m.criterion.title[:60]} {_plain(m.points)}/{_plain(m.criterion.max_points)}"
        for m in marks
    ]
    return " (" + ", ".join(shown) + ")" if shown else ""


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def item_scores_refresh(
    *,
    item: GradeItem,
    students: Iterable[int] | None = None,
    changed_by: AbstractBaseUser | None,
    reason: str,
) -> int:
    """Make the rubric Scores of ``students`` (default: every student with evaluated work) on
    ``item`` match the evaluations. Returns how many Scores changed."""
    source = source_of_item(item)
    works = source.works(item)
    outcomes = item_outcomes(item)
    if source.records_itself:
        return _works_record(source, item, works, outcomes, students, changed_by, reason)
    adjustments = {(a.subject, a.student_id): a for a in MemberAdjustment.objects.filter(item=item)}
    wanted = (
        set(students)
        if students is not None
        else {pk for work in works if work.subject in outcomes for pk in work.students}
    )
    scores = {s.student_id: s for s in Score.objects.filter(item=item, student_id__in=wanted)}
    users = User.objects.in_bulk(wanted)
    changed = 0
    for student_id in sorted(wanted):
        result = student_points(item, student_id, works, outcomes, adjustments, source)
        old = scores.get(student_id)
        if result.points is None:
            if old is None or old.source != ScoreSource.RUBRIC or old.points is None:
                continue
            points, comment = None, "rubric: no evaluation counts"
        else:
            points = _cents(result.points)
            comment = "rubric: " + "; ".join(result.lines) + _criteria_summary(result)
        if student_id not in users:
            continue
        score = score_record(
            item=item,
            student=users[student_id],
            points=points,
            source=ScoreSource.RUBRIC,
            comment=comment[:2000],
            late_penalty_percent=result.late_penalty_percent,
            changed_by=changed_by,  # type: ignore[arg-type]
            reason=reason,
        )
        changed += int(old is None or score.updated_at != old.updated_at)
    return changed


def _works_record(
    source: SubjectSource,
    item: GradeItem,
    works: Sequence[Work],
    outcomes: dict[str, Outcome],
    students: Iterable[int] | None,
    changed_by: AbstractBaseUser | None,
    reason: str,
) -> int:
    """``item_scores_refresh`` for a source that records its work's points itself."""
    wanted = set(students) if students is not None else None
    changed = 0
    for work in works:
        if wanted is not None and not wanted & set(work.students):
            continue
        outcome = outcomes.get(work.subject)
        fraction = None
        if outcome is not None and outcome.points is not None and outcome.rubric_points > 0:
            fraction = outcome.points / outcome.rubric_points
        changed += int(
            source.record(item, work.subject, fraction, changed_by=changed_by, reason=reason)
        )
    return changed


# Adjusting one member of a group.


@transaction.atomic
def member_adjust(
    *,
    item: GradeItem,
    subject: str,
    student: AbstractBaseUser,
    points: Decimal,
    reason: str,
    by: AbstractBaseUser,
    now: datetime | None = None,
) -> MemberAdjustment | None:
    """Add ``points`` (negative: take off) to one member's share of a group's work, with the
    reason; 0 removes the adjustment. Returns the adjustment, or None when removed."""
    if not is_course_staff(item.course, by):
        raise ValidationError({"by": f"{by} is not on the staff of {item.course}."})
    _, work = work_of(item, subject)
    if student.pk not in work.students:
        raise ValidationError({"student": f"{student} has no share in {work.label}."})
    if not points.is_finite() or abs(points) > item.max_points or points != points.quantize(CENT):
        raise ValidationError(
            {"points": f"Adjust by at most {item.max_points} points, in hundredths."}
        )
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why this member's points differ from the group's."})
    if len(reason) > 300:
        raise ValidationError({"reason": "Keep the reason under 300 characters."})
    existing = MemberAdjustment.objects.filter(item=item, subject=subject, student_id=student.pk)
    adjustment: MemberAdjustment | None = None
    if points == 0:
        existing.delete()
        why = f"adjustment removed by {by}: {reason}"
    else:
        adjustment, _ = MemberAdjustment.objects.update_or_create(
            item=item,
            subject=subject,
            student_id=student.pk,
            defaults={
                "points": points,
                "reason": reason,
                "adjusted_by_id": by.pk,
                "adjusted_at": now or timezone.now(),
            },
        )
        why = f"{work.label}: {points:+} by {by}: {reason}"
    item_scores_refresh(item=item, students=[student.pk], changed_by=by, reason=why)
    return adjustment


# Reading evaluations: staff's comparisons and students' view.


@dataclass(frozen=True)
class CriterionRow:
    """One criterion across a piece of work's evaluations, for a side-by-side view."""

    criterion: Criterion
    marks: tuple[CriterionMark | None, ...]

    @property
    def spread(self) -> Decimal:
        given = [m.points for m in self.marks if m is not None]
        return max(given) - min(given) if len(given) > 1 else Decimal(0)


def comparison(outcome: Outcome) -> list[CriterionRow]:
    """The evaluations' marks criterion by criterion (columns in the order of
    ``outcome.evaluations``)."""
    evaluations = outcome.evaluations
    if not evaluations:
        return []
    marks = {
        (m.evaluation_id, m.criterion_id): m
        for m in CriterionMark.objects.filter(evaluation__in=evaluations).select_related("level")
    }
    criteria = Criterion.objects.filter(rubric_id__in={e.rubric_id for e in evaluations}).order_by(
        "rubric_id", "position", "pk"
    )
    return [CriterionRow(c, tuple(marks.get((e.pk, c.pk)) for e in evaluations)) for c in criteria]


@dataclass(frozen=True)
class Disagreement:
    item: GradeItem
    work: Work
    outcome: Outcome


def disagreements(course: Course) -> list[Disagreement]:
    """The work on which graders differ by more than the course's margin."""
    found = []
    for item in items_scored_by_rubric(course):
        outcomes = {s: o for s, o in item_outcomes(item).items() if o.disagree}
        if not outcomes:
            continue
        source = source_of_item(item)
        for subject, outcome in outcomes.items():
            work = source.work(item, subject) or Work(subject, subject, ())
            found.append(Disagreement(item, work, outcome))
    return found


@dataclass(frozen=True)
class ShownEvaluation:
    """An evaluation as its student sees it."""

    work: Work
    evaluation: RubricEvaluation
    marks: tuple[CriterionMark, ...]
    grader_name: str | None


def student_evaluations(*, item: GradeItem, student: AbstractBaseUser) -> list[ShownEvaluation]:
    """The evaluations that count for the student's work on a released item (none before)."""
    if not item.released:
        return []
    source = source_of_item(item)
    works = [w for w in source.works(item) if student.pk in w.students]
    outcomes = item_outcomes(item)
    policy = rubric_policy(item.course)
    shown = []
    for work in works:
        outcome = outcomes.get(work.subject)
        if outcome is None:
            continue
        for evaluation in outcome.counted:
            marks = tuple(
                evaluation.marks.select_related("criterion", "level").order_by(
                    "criterion__position", "criterion__pk"
                )
            )
            name = (
                evaluation.grader.get_full_name() or evaluation.grader.username
                if policy.show_grader_names
                else None
            )
            shown.append(ShownEvaluation(work, evaluation, marks, name))
    return shown


# Copying a rubric.


@transaction.atomic
def rubric_copy(*, rubric: Rubric, course: Course, slug: str | None = None) -> Rubric:
    """A copy of ``rubric`` (criteria and levels, not the items it scores) in ``course``."""
    slug = slug or rubric.slug
    if Rubric.objects.filter(course=course, slug=slug).exists():
        raise ValidationError({"slug": f"{course} already has a rubric {slug!r}."})
    copy = Rubric.objects.create(
        course=course, slug=slug, title=rubric.title, description=rubric.description
    )
    for criterion in rubric.criteria.prefetch_related("levels"):
        levels = list(criterion.levels.all())
        criterion.pk = None
        criterion.rubric = copy
        criterion.save()
        for level in levels:
            level.pk = None
            level.criterion = criterion
            level.save()
    return copy


def criterion_max_sync(criterion: Criterion) -> None:
    """A criterion with levels is worth its best level's points."""
    best = max((level.points for level in criterion.levels.all()), default=None)
    if best is not None and best > 0 and criterion.max_points != best:
        criterion.max_points = best
        criterion.save(update_fields=["max_points"])

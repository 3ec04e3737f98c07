"""Reads of hand-ins: a course's grace-day ledger, who handed in what, and the rows of the
hand-in pages and API, with their lateness."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone

from coursesite.answers import next_moment
from coursesite.gradebook.work import Work
from coursesite.models import (
    Course,
    GracePolicy,
    GradeItem,
    GroupMembership,
    Membership,
    ProjectGroup,
    Role,
)
from grading.models import GradingJob, JobStatus, Queue, Visibility
from grading.services import current_bundle
from submissions import grace
from submissions.models import Assignment, Extension, Submission
from submissions.permissions import HandInItem


def course_policy(course: Course) -> grace.Policy:
    """The course's grace policy; a course that has none yet gets a new policy's defaults."""
    try:
        policy = course.grace_policy
    except GracePolicy.DoesNotExist:
        # Unsaved, but set on the course, so pages that show course.grace_policy show these too.
        policy = GracePolicy(course=course)
    return grace.Policy(
        time_zone=course.time_zone,
        pool_days=policy.pool_days,
        per_item_cap=policy.per_item_cap,
        slack=timedelta(minutes=policy.slack_minutes),
        partial_day=policy.partial_day,
        after_pool=policy.after_pool,
        penalty_percent_per_day=policy.penalty_percent_per_day,
        late_days_after_pool=policy.late_days_after_pool,
    )


def grace_ledger(*, course: Course, students: Collection[int] | None = None) -> grace.GraceLedger:
    """Lateness and grace days of every student of the course, recomputed from the database; of
    ``students`` (user ids) alone where given: a student's grace days depend on nothing of the
    others', and a page polled by one student need not read the whole course's hand-ins.

    A group's hand-in and a group's extension count for each of its members. Six queries,
    whatever the size of the course.
    """
    roster = Membership.objects.filter(course=course, role=Role.STUDENT)
    groups = GroupMembership.objects.filter(course=course)
    if students is not None:
        roster = roster.filter(user_id__in=students)
        groups = groups.filter(student_id__in=students)
    enrolled = set(roster.order_by().values_list("user_id", flat=True))
    members: dict[int, list[int]] = defaultdict(list)
    for group_id, student_id in groups.order_by().values_list("group_id", "student_id"):
        members[group_id].append(student_id)
    # Every row of the course, or the rows that count for the students asked about.
    owned = Q() if students is None else Q(student_id__in=enrolled) | Q(group_id__in=list(members))
    items = [
        grace.Due(item=pk, due_at=due_at, uses_grace_days=uses)
        for pk, due_at, uses in GradeItem.objects.filter(course=course)
        .order_by()
        .values_list("pk", "due_at", "uses_grace_days")
    ]
    extensions = [
        grace.Extension(student=student, item=item, due_at=due_at)
        for student_id, group_id, item, due_at in Extension.objects.filter(
            owned, item__course=course, revoked_at__isnull=True
        )
        .order_by()
        .values_list("student_id", "group_id", "item_id", "due_at")
        for student in ([student_id] if student_id else members[group_id])
        if student in enrolled
    ]
    handins = [
        grace.HandIn(student=student, item=item, submitted_at=submitted_at)
        for student_id, group_id, item, submitted_at in Submission.objects.filter(
            owned, item__course=course, active=True
        )
        .order_by()
        .values_list("student_id", "group_id", "item_id", "submitted_at")
        for student in ([student_id] if student_id else members[group_id])
        if student in enrolled
    ]
    return grace.grace_compute(
        policy=course_policy(course),
        items=items,
        students=enrolled,
        extensions=extensions,
        handins=handins,
    )


def submissions_of(
    *, item: GradeItem, student: User | None = None, group: ProjectGroup | None = None
) -> QuerySet[Submission]:
    """The hand-ins of one student (or one group) for one item, newest first, with the item, the
    owner and who handed each in: the API's list is polled, and grows with every hand-in, so it
    must not cost a query per row."""
    owner = {"student": student} if student else {"group": group}
    return (
        Submission.objects.filter(item=item, **owner)
        .select_related("item", "student", "group", "submitted_by")
        .order_by("-submitted_at", "-pk")
    )


def group_of(*, course: Course, student: User) -> ProjectGroup | None:
    membership = (
        GroupMembership.objects.filter(course=course, student=student)
        .select_related("group")
        .first()
    )
    return membership.group if membership else None


def owned_by(student: User, group: ProjectGroup | None) -> Q:
    """Rows that belong to the student, or to their project group."""
    return Q(student=student) | Q(group=group) if group else Q(student=student)


def extension_due(item: GradeItem, student: User, group: ProjectGroup | None) -> datetime | None:
    """The due date of the student's (or their group's) live extension on the item, if any."""
    return (
        Extension.objects.filter(owned_by(student, group), item=item, revoked_at__isnull=True)
        .values_list("due_at", flat=True)
        .first()
    )


def lateness_row(username: str, lateness: grace.Lateness) -> dict[str, Any]:
    return {
        "student": username,
        "due_at": lateness.due_at,
        "late_by_seconds": int(lateness.late_by.total_seconds()),
        "days_late": lateness.days_late,
        "grace_days_used": lateness.grace_days_used,
        "penalty_percent": lateness.penalty_percent,
        "pool_left": lateness.pool_left,
    }


def with_lateness(
    submissions: list[Submission], course: Course, viewer: User, staff: bool
) -> list[Submission]:
    """Attach to each active submission the lateness of the students it counts for; a student
    sees only their own. The ledger is read for those students alone."""
    group_ids = {s.group_id for s in submissions if s.group_id}
    members: dict[int, list[int]] = {}
    for group_id, student_id in (
        GroupMembership.objects.filter(group_id__in=group_ids)
        .order_by()
        .values_list("group_id", "student_id")
    ):
        members.setdefault(group_id, []).append(student_id)
    if staff:
        wanted = {s.student_id for s in submissions if s.student_id}
        wanted.update(student for group in members.values() for student in group)
        usernames = dict(
            Membership.objects.filter(course=course, role=Role.STUDENT, user_id__in=wanted)
            .order_by()
            .values_list("user_id", "user__username")
        )
    else:
        usernames = {viewer.pk: viewer.username}
    ledger = grace_ledger(course=course, students=list(usernames))
    for submission in submissions:
        students = (
            [submission.student_id]
            if submission.student_id
            else members.get(submission.group_id or 0, [])
        )
        rows = []
        if submission.active:
            for student in students:
                lateness = ledger.lateness.get((student, submission.item_id))
                if lateness and (staff or student == viewer.pk):
                    rows.append(lateness_row(usernames.get(student, ""), lateness))
        submission.lateness_rows = rows  # type: ignore[attr-defined]
    return submissions


@dataclass(frozen=True)
class WorkRow:
    """One assignment or deliverable on a student's work page."""

    item: GradeItem
    handin: HandInItem
    url: str
    extended_due_at: datetime | None
    submission: Submission | None
    lateness: dict[str, Any] | None

    @property
    def is_assignment(self) -> bool:
        return isinstance(self.handin, Assignment)


def handin_of(item: GradeItem) -> HandInItem:
    """The assignment or deliverable of an item loaded with ``select_related`` on both."""
    return item.assignment if hasattr(item, "assignment") else item.deliverable


def handin_url(course: Course, handin: HandInItem) -> str:
    """The hand-in page of an assignment or a deliverable."""
    name = "assignment" if isinstance(handin, Assignment) else "deliverable"
    return reverse(name, args=[course.slug, handin.pk])


def handin_items(course: Course) -> list[GradeItem]:
    """The course's assignments and deliverables as items, soonest due first."""
    return list(
        GradeItem.objects.filter(course=course)
        .filter(Q(assignment__isnull=False) | Q(deliverable__isnull=False))
        .select_related("assignment", "deliverable")
        .order_by(F("due_at").asc(nulls_last=True), "position", "pk")
    )


def work_rows(*, course: Course, student: User) -> tuple[list[WorkRow], int]:
    """Each assignment and deliverable with the student's active hand-in and its lateness, and
    the grace days the student has left. A fixed number of queries, whatever the course's size."""
    owner = owned_by(student, group_of(course=course, student=student))
    active = {
        submission.item_id: submission
        for submission in Submission.objects.filter(owner, item__course=course, active=True)
    }
    extended = dict(
        Extension.objects.filter(owner, item__course=course, revoked_at__isnull=True).values_list(
            "item_id", "due_at"
        )
    )
    ledger = grace_ledger(course=course, students=[student.pk])
    rows = []
    for item in handin_items(course):
        lateness = ledger.lateness.get((student.pk, item.pk))
        handin = handin_of(item)
        rows.append(
            WorkRow(
                item=item,
                handin=handin,
                url=handin_url(course, handin),
                extended_due_at=extended.get(item.pk),
                submission=active.get(item.pk),
                lateness=lateness_row(student.username, lateness) if lateness else None,
            )
        )
    return rows, ledger.pool_left[student.pk]


def grace_table(*, course: Course) -> tuple[list[tuple[GradeItem, str]], list[dict[str, Any]]]:
    """The items handed in on the site with their pages, and per student their lateness on each
    and the grace days left. A fixed number of queries, whatever the course's size."""
    columns = [
        (item, handin_url(course, handin))
        for item in handin_items(course)
        if (handin := handin_of(item)).handin_files
    ]
    ledger = grace_ledger(course=course)
    students = Membership.objects.filter(course=course, role=Role.STUDENT).select_related("user")
    rows = []
    for membership in students.order_by("user__username"):
        user = membership.user
        cells = [ledger.lateness.get((user.pk, item.pk)) for item, _ in columns]
        rows.append(
            {
                "student": user,
                "pool_left": ledger.pool_left[user.pk],
                "cells": [lateness_row(user.username, cell) if cell else None for cell in cells],
            }
        )
    return columns, rows


def visible_to_student(
    visibility: str, *, item: GradeItem, due_at: datetime | None, now: datetime
) -> bool:
    """Gradescope's rules: visible always, after_due_date once the (extended) due date has passed,
    after_published once the item's scores are released, hidden never."""
    if visibility == Visibility.VISIBLE:
        return True
    if visibility == Visibility.AFTER_DUE_DATE:
        return due_at is None or now > due_at
    if visibility == Visibility.AFTER_PUBLISHED:
        return item.released
    return False


def _handin_id(subject: str) -> int | None:
    """The id of the hand-in a grading job's ``subject`` names (``submission:42``)."""
    kind, _, pk = subject.partition(":")
    return int(pk) if kind == "submission" and pk.isdigit() else None


def _next_fresh_subject() -> Case:
    """For a superseded job, the subject of the owner's next fresh (not regrade) job of the item:
    the hand-in whose arrival, or activation, took its place in the queue, for a fresh job
    supersedes every waiting one of its owner. ``""`` for any other job."""
    later = (
        GradingJob.objects.filter(item=OuterRef("item"), owner=OuterRef("owner"))
        .filter(
            Q(created_at__gt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
        )
        .exclude(queue=Queue.REGRADE)
        .order_by("created_at", "pk")
        .values("subject")[:1]
    )
    return Case(When(status=JobStatus.SUPERSEDED, then=Subquery(later)), default=Value(""))


def with_results(submissions: list[Submission], *, staff: bool) -> list[Submission]:
    """Attach to each submission its latest grading job and the test results the viewer may see.

    Staff see every test. A student sees the tests their visibility allows. Before the item is
    released, the total shows only when they see every test, so hidden points cannot be worked
    out; once it is released, the whole total shows, hidden tests included (as Gradescope shows a
    published score), while those tests' names and outputs stay hidden. A hand-in whose latest
    job was superseded says so, with the id of the hand-in that took its place
    (``superseded_by``), rather than nothing. Four queries, however many submissions.
    """
    subjects = {s.grading_subject: s for s in submissions}
    extended: dict[tuple[int, int | None, int | None], datetime] = {
        (item, student, group): due
        for item, student, group, due in Extension.objects.filter(
            item__in={s.item_id for s in submissions}, revoked_at__isnull=True
        ).values_list("item_id", "student_id", "group_id", "due_at")
    }
    jobs: dict[str, GradingJob] = {}
    for job in (
        GradingJob.objects.filter(subject__in=subjects)
        # The bundle's version alone: its manifest is a document read for nothing here.
        .annotate(superseded_by=_next_fresh_subject(), bundle_version=F("bundle__version"))
        .prefetch_related("tests")
        .order_by("subject", "-created_at", "-pk")
    ):
        jobs.setdefault(job.subject, job)
    now = timezone.now()
    for subject, submission in subjects.items():
        latest = jobs.get(subject)
        submission.result = None  # type: ignore[attr-defined]
        if latest is None:
            continue
        # A student with an extension sees "after the due date" tests only after their own.
        owner = (submission.item_id, submission.student_id, submission.group_id)
        due = extended.get(owner) or submission.item.due_at
        tests = [
            test
            for test in latest.tests.all()
            if staff
            or visible_to_student(test.visibility, item=submission.item, due_at=due, now=now)
        ]
        total_shown = len(tests) == len(latest.tests.all()) or submission.item.released
        submission.result = _result(  # type: ignore[attr-defined]
            latest,
            superseded_by=_handin_id(latest.superseded_by or ""),  # type: ignore[attr-defined]
            bundle_version=latest.bundle_version,  # type: ignore[attr-defined]
            tests=tests,
            total_shown=total_shown,
            staff=staff,
        )
    return submissions


def with_fresh_result(submission: Submission, *, staff: bool) -> Submission:
    """Attach to a hand-in ``submission_create`` has just stored the result ``with_results``
    would read back: the job it queued (with its bundle), waiting, with no test run yet. No
    query: an upload's answer need not read back what it has just written."""
    job = submission.queued_job
    submission.result = (  # type: ignore[attr-defined]
        None
        if job is None
        else _result(
            job,
            superseded_by=None,
            bundle_version=job.bundle.version,
            tests=[],
            total_shown=True,
            staff=staff,
        )
    )
    return submission


def _result(
    job: GradingJob,
    *,
    superseded_by: int | None,
    bundle_version: int,
    tests: list[Any],
    total_shown: bool,
    staff: bool,
) -> dict[str, Any]:
    """What a hand-in's answer shows of its latest grading job."""
    return {
        "status": job.status,
        "superseded_by": superseded_by,
        "verdict": job.verdict,
        "verdict_label": job.get_verdict_display(),
        "bundle_version": bundle_version,
        "score": job.score if total_shown else None,
        "max_score": job.max_score,
        "self_reported": job.self_reported,
        "finished_at": job.finished_at,
        "tests": tests,
        "logs": job.logs if staff else "",
        "images": job.images,
    }


def results_change_at(submissions: list[Submission]) -> datetime | None:
    """The next moment a student's view of these hand-ins' results changes by the clock alone:
    the due date, extended or not, after which tests shown "after the due date" show. One query
    where there are hand-ins."""
    if not submissions:
        return None
    dues = [s.item.due_at for s in submissions]
    owners = Q()
    for item, student, group in {(s.item_id, s.student_id, s.group_id) for s in submissions}:
        owners |= Q(item_id=item, student_id=student, group_id=group)
    dues += Extension.objects.filter(owners, revoked_at__isnull=True).values_list(
        "due_at", flat=True
    )
    return next_moment(dues)


def gradebook_work(course: Course) -> Work:
    """Live extensions and active hand-ins of every student, a group's counting for each of its
    members: the gradebook tells missing work from work waiting to be graded by them. Three
    queries, whatever the course's size."""
    members: dict[int, list[int]] = defaultdict(list)
    for group_id, student_id in GroupMembership.objects.filter(course=course).values_list(
        "group_id", "student_id"
    ):
        members[group_id].append(student_id)
    work = Work()
    for student_id, group_id, item_id, due_at in Extension.objects.filter(
        item__course=course, revoked_at__isnull=True
    ).values_list("student_id", "group_id", "item_id", "due_at"):
        for student in [student_id] if student_id else members[group_id]:
            # A student's own extension and their group's: the later due date counts.
            key = (student, item_id)
            work.extensions[key] = max(due_at, work.extensions.get(key, due_at))
    for student_id, group_id, item_id in Submission.objects.filter(
        item__course=course, active=True
    ).values_list("student_id", "group_id", "item_id"):
        for student in [student_id] if student_id else members[group_id]:
            work.handed_in.add((student, item_id))
    return work


def handin_lateness(
    *, course: Course, student: User, group: ProjectGroup | None, submissions: list[Submission]
) -> dict[int, grace.Lateness]:
    """The lateness of each of the student's hand-ins of one item as if it were the active one:
    for the active one, what counts now; for another, what making it active would count, their
    other items' active hand-ins unchanged. Four queries, however many hand-ins."""
    items = [
        grace.Due(item=pk, due_at=due_at, uses_grace_days=uses)
        for pk, due_at, uses in GradeItem.objects.filter(course=course).values_list(
            "pk", "due_at", "uses_grace_days"
        )
    ]
    owner = owned_by(student, group)
    extended: dict[int, datetime] = {}
    for item, due_at in Extension.objects.filter(
        owner, item__course=course, revoked_at__isnull=True
    ).values_list("item_id", "due_at"):
        # The student's own extension and their group's: the later due date counts.
        extended[item] = max(due_at, extended.get(item, due_at))
    extensions = [grace.Extension(student.pk, item, due_at) for item, due_at in extended.items()]
    active = {
        item: grace.HandIn(student.pk, item, submitted_at)
        for item, submitted_at in Submission.objects.filter(
            owner, item__course=course, active=True
        ).values_list("item_id", "submitted_at")
    }
    policy = course_policy(course)
    lateness = {}
    for submission in submissions:
        handins = {**active, submission.item_id: grace.HandIn(
            student.pk, submission.item_id, submission.submitted_at
        )}  # fmt: skip
        ledger = grace.grace_compute(
            policy=policy,
            items=items,
            students=[student.pk],
            extensions=extensions,
            handins=list(handins.values()),
        )
        lateness[submission.pk] = ledger.lateness[(student.pk, submission.item_id)]
    return lateness


@dataclass(frozen=True)
class GradingState:
    """Where the grading of one hand-in stands: the status of its latest grading job (``""``
    when nothing grades it), its place among the queued jobs of its queue, and when it started."""

    status: str
    queue_place: int | None = None
    started_at: datetime | None = None
    limits: dict[str, Any] | None = None

    @property
    def waiting(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)


def grading_states(submissions: list[Submission]) -> dict[int, GradingState]:
    """The grading state of each hand-in, from its latest grading job (a superseded one too). The
    place in the queue counts the queued jobs of the same queue sent before this one, in the
    order the broker hands them out. One query, plus one per queued hand-in."""
    subjects = {s.grading_subject: s.pk for s in submissions}
    latest: dict[str, GradingJob] = {}
    for found in (
        GradingJob.objects.filter(subject__in=subjects)
        .select_related("bundle")
        .order_by("subject", "-created_at", "-pk")
    ):
        latest.setdefault(found.subject, found)
    states = {}
    for subject, pk in subjects.items():
        job = latest.get(subject)
        if job is None:
            states[pk] = GradingState(status="")
            continue
        place = None
        if job.status == JobStatus.QUEUED:
            place = (
                1
                + GradingJob.objects.filter(
                    Q(enqueued_at__lt=job.enqueued_at)
                    | Q(enqueued_at=job.enqueued_at, pk__lt=job.pk),
                    status=JobStatus.QUEUED,
                    queue=job.queue,
                ).count()
            )
        states[pk] = GradingState(
            status=job.status,
            queue_place=place,
            started_at=job.started_at if job.status == JobStatus.RUNNING else None,
            limits=job.bundle.manifest.get("limits", {}),
        )
    return states


def autograder_limits(item: GradeItem) -> dict[str, Any] | None:
    """The limits of the item's current autograder, or ``None`` when it has none."""
    bundle = current_bundle(item)
    return bundle.manifest.get("limits", {}) if bundle else None

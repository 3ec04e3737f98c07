"""The staff's page of one item's hand-ins: a row per student of the course (per project group
for a deliverable), whether or not they handed in.

A row shows the active hand-in: when it came, its lateness, the autograder's verdict and score
on it (from its latest grading job, whose page shows the whole result and its logs), the item's
Score of each student it counts for, its file, and every earlier hand-in, marked when a newer one
superseded it before it was graded. Staff narrow the rows with ``?show=``:

- ``missing``: nothing handed in;
- ``late``: the active hand-in is late for at least one of the students it counts for;
- ``failed``: its grading ended in error, or its code did not run to the end;
- ``ungraded``: handed in, not failed, and neither graded by the autograder nor scored yet;
- ``all`` (or anything else): every row.

The page costs a fixed number of queries, however many students and hand-ins.

Grading's pages name a job's hand-in only as ``submission:<id>``; this module tells them, when the
app is ready, to link it to the hand-in's file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from coursesite.models import Course, GroupMembership, Membership, ProjectGroup, Role, Score
from grading.job_names import subject_link
from grading.models import GradingJob, JobStatus, Verdict
from submissions.models import Assignment, Submission
from submissions.permissions import HandInItem
from submissions.selectors import with_lateness

SHOWS = {
    "all": "All",
    "missing": "Missing",
    "late": "Late",
    "failed": "Failed",
    "ungraded": "Ungraded",
}


@subject_link("submission")
def handin_file_url(course: Course, pk: int) -> str:
    return reverse("submission-file", args=[course.slug, pk])


@dataclass
class HandInRow:
    """One student (or group) and their hand-ins of the item, newest first."""

    student: User | None
    group: ProjectGroup | None
    members: list[User]
    handins: list[Submission] = field(default_factory=list)
    job: GradingJob | None = None
    history: list[tuple[Submission, GradingJob | None]] = field(default_factory=list)
    scores: list[tuple[User, Score | None]] = field(default_factory=list)

    @property
    def active(self) -> Submission | None:
        return next((handin for handin in self.handins if handin.active), None)

    @property
    def missing(self) -> bool:
        return self.active is None

    @property
    def late(self) -> bool:
        active = self.active
        return active is not None and any(row["days_late"] for row in active.lateness_rows)  # type: ignore[attr-defined]

    @property
    def failed(self) -> bool:
        job = self.job
        return job is not None and (
            job.status == JobStatus.ERROR
            or (job.status == JobStatus.DONE and job.verdict != Verdict.OK)
        )

    @property
    def scored(self) -> list[tuple[User, Score]]:
        """The members whose Score of the item has points, or excuses them."""
        return [
            (member, score)
            for member, score in self.scores
            if score is not None and (score.points is not None or score.excused)
        ]

    @property
    def ungraded(self) -> bool:
        autograded = self.job is not None and self.job.status == JobStatus.DONE
        return not self.missing and not self.failed and not autograded and not self.scored

    def shown(self, show: str) -> bool:
        return show == "all" or bool(getattr(self, show))


def owner_rows(course: Course, is_assignment: bool) -> list[HandInRow]:
    """A row per student of the course, by username; for a deliverable, per project group, by
    name, with its members."""
    if is_assignment:
        students = (
            Membership.objects.filter(course=course, role=Role.STUDENT)
            .select_related("user")
            .order_by("user__username")
        )
        return [
            HandInRow(student=membership.user, group=None, members=[membership.user])
            for membership in students
        ]
    groups = (
        ProjectGroup.objects.filter(course=course)
        .prefetch_related(
            Prefetch("group_memberships", GroupMembership.objects.select_related("student"))
        )
        .order_by("name", "pk")
    )
    return [
        HandInRow(
            student=None,
            group=group,
            members=sorted(
                (gm.student for gm in group.group_memberships.all()), key=lambda s: s.username
            ),
        )
        for group in groups
    ]


def latest_jobs(handins: list[Submission]) -> dict[str, GradingJob]:
    """The latest grading job of each hand-in, a superseded one included.

    ``with_results`` finds the same jobs, with their tests, for one student's page; this page
    needs only each job's state and its id, to link the job's own page.
    """
    jobs: dict[str, GradingJob] = {}
    for job in GradingJob.objects.filter(
        subject__in=[handin.grading_subject for handin in handins]
    ).order_by("subject", "-created_at", "-pk"):
        jobs.setdefault(job.subject, job)
    return jobs


def handin_rows(course: Course, handin: HandInItem, viewer: User) -> list[HandInRow]:
    """Every row of the page (see the module doc), with the hand-ins, jobs and Scores of each."""
    item = handin.item
    rows = owner_rows(course, isinstance(handin, Assignment))
    submissions = list(
        item.submissions.select_related("submitted_by").order_by("-submitted_at", "-pk")
    )
    with_lateness([s for s in submissions if s.active], course, viewer, True)
    jobs = latest_jobs(submissions)
    owned: dict[tuple[int | None, int | None], list[Submission]] = defaultdict(list)
    for submission in submissions:
        owned[(submission.student_id, submission.group_id)].append(submission)
    scores = {
        score.student_id: score
        for score in Score.objects.filter(
            item=item, student__in=[member for row in rows for member in row.members]
        )
    }
    for row in rows:
        key = (row.student.pk, None) if row.student else (None, row.group.pk if row.group else None)
        row.handins = owned[key]
        row.history = [(handin, jobs.get(handin.grading_subject)) for handin in row.handins]
        if (current := row.active) is not None:
            row.job = jobs.get(current.grading_subject)
        row.scores = [(member, scores.get(member.pk)) for member in row.members]
    return rows


def render_staff_handin(
    request: HttpRequest, course: Course, handin: HandInItem, viewer: User
) -> HttpResponse:
    show = request.GET.get("show", "all")
    if show not in SHOWS:
        show = "all"
    rows = handin_rows(course, handin, viewer)
    filters = [
        (key, label, len(rows) if key == "all" else sum(1 for row in rows if row.shown(key)))
        for key, label in SHOWS.items()
    ]
    context: dict[str, Any] = {
        "course": course,
        "handin": handin,
        "item": handin.item,
        "rows": [row for row in rows if row.shown(show)],
        "show": show,
        "shown_label": SHOWS[show],
        "filters": filters,
        "is_assignment": isinstance(handin, Assignment),
    }
    return render(request, "submissions/handin_staff.html", context)

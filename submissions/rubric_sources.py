"""What rubric grading needs to know of project deliverables.

``group:N`` is project group N's work on a deliverable: every member shares its points. Every
group of the course that has members has work on each of the course's deliverables, handed in
or not (a presented deliverable has nothing to hand in). A late hand-in takes the late penalty
that the hand-in pages show its members (the grace-day ledger's); should members' penalties
differ (one member's own extension), the group's work takes the smallest. Beside the rubric,
staff see the project's title and abstract, the files of the group's active hand-in, and the
hand-in itself: inline when it is a single PDF, as a download otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from coursesite.models import GradeItem, GroupMembership, ProjectGroup
from grading.rubrics import SubjectSource, Work, subject_pk
from submissions.models import Deliverable, HandInKind, Submission
from submissions.selectors import grace_ledger

PDF_MAGIC = b"%PDF-"


def submission_is_pdf(submission: Submission) -> bool:
    """A hand-in of one file whose stored bytes are a PDF's (whatever its name says)."""
    if submission.kind != HandInKind.FILE:
        return False
    with submission.file.open("rb") as stream:
        return bytes(stream.read(len(PDF_MAGIC))) == PDF_MAGIC


def _groups(item: GradeItem) -> QuerySet[ProjectGroup]:
    return (
        ProjectGroup.objects.filter(course_id=item.course_id)
        .prefetch_related(
            Prefetch(
                "group_memberships",
                queryset=GroupMembership.objects.select_related("student").order_by(
                    "student__username"
                ),
            )
        )
        .order_by("name", "pk")
    )


def _work(group: ProjectGroup, handed_in: set[int] | None) -> Work | None:
    """The group's work; ``handed_in`` holds the groups with an active hand-in, or None when the
    deliverable takes no upload."""
    members = [gm.student_id for gm in group.group_memberships.all()]
    if not members:
        return None
    label = f"{group.name}: {group.title}" if group.title else group.name
    missing = handed_in is not None and group.pk not in handed_in
    return Work(f"group:{group.pk}", label, tuple(members), missing=missing)


def _handed_in(item: GradeItem) -> set[int] | None:
    deliverable = Deliverable.objects.filter(item=item).first()
    if deliverable is None or not deliverable.handin_files:
        return None
    return set(
        Submission.objects.filter(item=item, active=True, group__isnull=False).values_list(
            "group_id", flat=True
        )
    )


def _active(item: GradeItem, subject: str) -> Submission | None:
    return Submission.objects.filter(item=item, group_id=subject_pk(subject), active=True).first()


class GroupSource(SubjectSource):
    kind = "group"

    def claims(self, item: GradeItem) -> bool:
        return Deliverable.objects.filter(item=item).exists()

    def works(self, item: GradeItem) -> list[Work]:
        if not self.claims(item):
            return []
        handed_in = _handed_in(item)
        return [work for group in _groups(item) if (work := _work(group, handed_in)) is not None]

    def work(self, item: GradeItem, subject: str) -> Work | None:
        pk = subject_pk(subject)
        group = _groups(item).filter(pk=pk).first() if pk is not None else None
        if group is None or not self.claims(item):
            return None
        return _work(group, _handed_in(item))

    def penalty_percent(self, item: GradeItem, subject: str) -> Decimal:
        handin = _active(item, subject)
        # The ledger reads the whole course; a hand-in by the due date is on time without it.
        if handin is None or item.due_at is None or handin.submitted_at <= item.due_at:
            return Decimal(0)
        ledger = grace_ledger(course=item.course)
        members = GroupMembership.objects.filter(group_id=handin.group_id)
        penalties = [
            lateness.penalty_percent
            for student in members.values_list("student_id", flat=True)
            if (lateness := ledger.lateness.get((student, item.pk))) is not None
        ]
        return min(penalties, default=Decimal(0))

    def context(self, item: GradeItem, subject: str) -> dict[str, Any]:
        group = ProjectGroup.objects.get(pk=subject_pk(subject) or 0, course_id=item.course_id)
        deliverable = Deliverable.objects.get(item=item)
        parts: list[tuple[str, str]] = []
        if group.title:
            parts.append(("Project title", group.title))
        if group.abstract:
            parts.append(("Abstract", group.abstract))
        context: dict[str, Any] = {
            "parts": parts,
            "links": [],
            "page": reverse("deliverable", args=[item.course.slug, deliverable.pk]),
        }
        if not deliverable.handin_files:
            return context
        handin = _active(item, subject)
        if handin is None:
            parts.append(("Hand-in", "Nothing handed in."))
            return context
        files = [f"{handin.filename} ({filesizeformat(handin.size)})"]
        if handin.kind != HandInKind.FILE:
            files += [f"  {e['name']} ({filesizeformat(e['size'])})" for e in handin.entries]
        parts.append(("Hand-in", "\n".join(files)))
        url = reverse("submission-file", args=[item.course.slug, handin.pk])
        if submission_is_pdf(handin):
            context["file_url"] = url
        else:
            context["links"] = [(f"Download {handin.filename}", url)]
        return context

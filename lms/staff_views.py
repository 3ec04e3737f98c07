"""The staff's page of a course's LMS link: which LMS course it is, the roster sync with the LMS
(a dry run lists the changes, applying it makes exactly those), and grade passback (each item's
LMS column, when its scores were last sent, the last error, and a button that sends the changed
grades now, on the housekeeping queue).

Only the course's instructors and TAs see these pages; anyone else gets the 404 of a course that
does not exist. A course that no LMS course is linked to gets a page that says how to link one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from coursesite.models import Course, GradeItem, Membership, Role
from coursesite.views import page_user, staff_course
from lms.models import CourseLink, LineItemLink, RosterSync
from lms.passback import (
    FINAL_LABEL,
    FINAL_RESOURCE_ID,
    item_resource_id,
    passback_students,
)
from lms.roster import APPLIED, CHANGE_LABELS, CHANGE_NOTES, roster_sync
from lms.tasks import lms_scores_post_on_commit

SYNCS_SHOWN = 10


def course_link(course: Course, link_id: int) -> CourseLink:
    """A link of the course; 404 for another course's, as for none."""
    link = (
        CourseLink.objects.filter(pk=link_id, course=course)
        .select_related("context__deployment__registration", "course")
        .first()
    )
    if link is None:
        raise Http404
    return link


@dataclass
class ColumnLine:
    """A row of the grade passback table: an item (None: the course total) and its LMS column."""

    label: str
    item: GradeItem | None
    row: LineItemLink | None

    @property
    def sent(self) -> bool:
        """Whether it is sent at all: a released item, or the total."""
        return self.item is None or self.item.released


@dataclass
class SyncLine:
    sync: RosterSync
    summary: str


@dataclass
class LinkState:
    link: CourseLink
    syncs: list[SyncLine]
    columns: list[ColumnLine]
    # Active students no grade reaches: no LMS user is tied to them yet.
    unreached: int


def change_counts(sync: RosterSync) -> str:
    """How many changes of each kind a sync found, for its line in the history."""
    counts = Counter(change["change"] for change in sync.changes)
    return ", ".join(
        f"{kind_label(kind)}: {counts[kind]}" for kind in CHANGE_LABELS if counts[kind]
    )


def kind_label(kind: str) -> str:
    return CHANGE_LABELS[kind].split(" (")[0].split(":")[0]


def link_states(course: Course) -> list[LinkState]:
    """Every link of the course with its latest syncs and its columns: two queries, and five per
    link, whatever the number of items, syncs and students."""
    items = list(GradeItem.objects.filter(course=course).order_by("category__position", "position"))
    students = Membership.objects.filter(course=course, role=Role.STUDENT, active=True).count()
    states = []
    for link in CourseLink.objects.filter(course=course).select_related(
        "context__deployment__registration", "linked_by"
    ):
        rows = {row.resource_id: row for row in LineItemLink.objects.filter(link=link)}
        columns = [ColumnLine(item.title, item, rows.get(item_resource_id(item))) for item in items]
        if link.post_final_grade or FINAL_RESOURCE_ID in rows:
            columns.append(ColumnLine(FINAL_LABEL, None, rows.get(FINAL_RESOURCE_ID)))
        syncs = [
            SyncLine(sync, change_counts(sync))
            for sync in link.roster_syncs.select_related("run_by")[:SYNCS_SHOWN]
        ]
        reached = len(passback_students(link=link))
        states.append(LinkState(link, syncs, columns, students - reached))
    return states


@login_required
@require_safe
def lms_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = staff_course(request, slug)
    context = {"course": course, "states": link_states(course)}
    return render(request, "lms/staff/lms.html", context)


@login_required
@require_POST
def roster_dry_run_page(request: HttpRequest, slug: str, link_id: int) -> HttpResponse:
    """Ask the LMS for its roster and list the changes, changing nothing."""
    link = course_link(staff_course(request, slug), link_id)
    sync = roster_sync(link=link, run_by=page_user(request), dry_run=True)
    return redirect("lms-roster-sync", slug, sync.pk)


def listed(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes as the page lists them: the label of each and whether a sync makes it."""
    return [
        {
            **change,
            "label": CHANGE_LABELS[change["change"]],
            "note": CHANGE_NOTES.get(change["change"], ""),
            "applied": change["change"] in APPLIED,
        }
        for change in changes
    ]


def course_sync(course: Course, pk: int) -> RosterSync:
    sync = (
        RosterSync.objects.filter(pk=pk, link__course=course)
        .select_related("link__context", "run_by")
        .first()
    )
    if sync is None:
        raise Http404
    return sync


def may_apply(sync: RosterSync) -> bool:
    """A dry run that found changes to make is applied while it is its link's latest sync: an
    older one may no longer say what the LMS holds."""
    if not sync.dry_run or sync.error or not any(c["change"] in APPLIED for c in sync.changes):
        return False
    latest = RosterSync.objects.filter(link_id=sync.link_id).values_list("pk", flat=True).first()
    return latest == sync.pk


@login_required
@require_safe
def roster_sync_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    course = staff_course(request, slug)
    sync = course_sync(course, pk)
    changes = listed(sync.changes)
    context = {
        "course": course,
        "sync": sync,
        "changes": changes,
        "applicable": sum(change["applied"] for change in changes),
        "may_apply": may_apply(sync),
    }
    return render(request, "lms/staff/sync.html", context)


@login_required
@require_POST
def roster_apply_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Make the changes of a dry run, refused when the LMS's roster has changed since."""
    course = staff_course(request, slug)
    dry_run = course_sync(course, pk)
    if not may_apply(dry_run):
        messages.error(request, "Only the latest dry run, with changes to make, can be applied.")
        return redirect("lms-roster-sync", slug, dry_run.pk)
    link = course_link(course, dry_run.link_id)
    sync = roster_sync(link=link, run_by=page_user(request), dry_run=False, confirming=dry_run)
    if not sync.error:
        messages.success(request, "The roster is in step with the LMS.")
    return redirect("lms-roster-sync", slug, sync.pk)


@login_required
@require_POST
def grades_send_page(request: HttpRequest, slug: str, link_id: int) -> HttpResponse:
    """Send the released grades that changed since they were last sent, in the background."""
    link = course_link(staff_course(request, slug), link_id)
    lms_scores_post_on_commit(link_id=link.pk)
    messages.success(
        request,
        "The grades are being sent to the LMS: reload this page in a minute to see how it went.",
    )
    return redirect("lms-staff", slug)

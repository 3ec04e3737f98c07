"""What the student's dashboard shows of hand-ins: the assignments and deliverables due soon,
each with the student's own due date (an extension moves it) and whether it is handed in (a
group's hand-in counts for each member), and the grace days the student has left."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from coursesite.dashboard import DashboardSource, Deadline, Fact, Outlook, Panel
from submissions.models import Assignment, Extension, Submission
from submissions.selectors import (
    course_policy,
    grace_ledger,
    group_of,
    handin_items,
    handin_of,
    handin_url,
    owned_by,
)


class HandInSource(DashboardSource):
    key = "handins"

    def deadlines(self, outlook: Outlook) -> list[Deadline]:
        """Five queries, whatever the number of items."""
        course, student = outlook.course, outlook.student
        owner = owned_by(student, group_of(course=course, student=student))
        handed_in = set(
            Submission.objects.filter(owner, item__course=course, active=True).values_list(
                "item_id", flat=True
            )
        )
        extended: dict[int, list[datetime]] = {}
        for item_id, extended_to in Extension.objects.filter(
            owner, item__course=course, revoked_at__isnull=True
        ).values_list("item_id", "due_at"):
            extended.setdefault(item_id, []).append(extended_to)
        deadlines = []
        for item in handin_items(course):
            # The student's own extension and their group's: the later one counts.
            due_at: datetime | None = max(extended.get(item.pk, []), default=item.due_at)
            if not outlook.shows(due_at=due_at, opens_at=item.opens_at):
                continue
            assert due_at is not None  # shows() is false without a due date
            handin = handin_of(item)
            is_assignment = isinstance(handin, Assignment)
            if item.pk in handed_in:
                state = "handed in"
            elif not handin.handin_files:
                state = "nothing to upload: presented or judged in class"
            else:
                state = "not handed in yet"
            deadlines.append(
                Deadline(
                    title=item.title,
                    kind="Assignment" if is_assignment else "Project deliverable",
                    due_at=due_at,
                    url=handin_url(course, handin),
                    done=item.pk in handed_in,
                    state=state,
                    opens_at=item.opens_at,
                )
            )
        return deadlines

    def panels(self, outlook: Outlook) -> list[Panel]:
        """The grace days left and where they went: the ledger's six queries, and one for the
        titles of the items they went to."""
        course, student = outlook.course, outlook.student
        ledger = grace_ledger(course=course)
        pool = ledger.pool_left.get(student.pk)
        if pool is None:
            return []
        used: dict[int, int] = {}
        for (who, item), lateness in ledger.lateness.items():
            # The ledger is keyed by the ids it was given: students' and items' primary keys.
            if who == student.pk and isinstance(item, int) and lateness.grace_days_used:
                used[item] = lateness.grace_days_used
        titles = dict(course.items.filter(pk__in=used).values_list("pk", "title"))
        spent = "; ".join(
            f"{titles[item]}: {days} day{'' if days == 1 else 's'}"
            for item, days in sorted(used.items(), key=lambda pair: titles[pair[0]])
        )
        return [
            Panel(
                key="grace-days",
                title="Grace days",
                facts=[
                    Fact(
                        label="Left",
                        value=f"{pool} of {course_policy(course).pool_days}",
                        note=f"Used on {spent}." if spent else "None used yet.",
                        tone="bad" if pool == 0 else "",
                    )
                ],
                link_text="Your work and grace days",
                link_url=reverse("work", args=[course.slug]),
                order=10,
            )
        ]

"""What the student's dashboard shows of papers: the reviews due soon, whether each is
submitted, and the presentation slots in which the student holds a role."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.dateformat import format as date_format

from coursesite.dashboard import DashboardSource, Deadline, Fact, Outlook, Panel
from presentations.models import Presenter
from presentations.reviews import ReviewState, review_deadline, review_state
from presentations.selectors import fellow_presenters, presentations_of, review_papers


def names(students: list[User]) -> str:
    return ", ".join(student.get_full_name() or student.username for student in students)


class PapersSource(DashboardSource):
    key = "papers"

    def deadlines(self, outlook: Outlook) -> list[Deadline]:
        """The paper reviews due soon: two queries."""
        course = outlook.course
        deadlines = []
        for paper, review in review_papers(course=course, student=outlook.student):
            due_at = review_deadline(paper)
            if due_at is None or not outlook.shows(due_at=due_at):
                continue
            state = review_state(review, paper, outlook.now)
            done = state in (ReviewState.SUBMITTED, ReviewState.LATE)
            deadlines.append(
                Deadline(
                    title=f"Review of {paper.title}",
                    kind="Paper review",
                    due_at=due_at,
                    url=reverse("review", args=[course.slug, paper.key]),
                    done=done,
                    state="submitted" if done else str(state),
                )
            )
        return deadlines

    def panels(self, outlook: Outlook) -> list[Panel]:
        """The student's presentation slots, by date: two queries."""
        today = outlook.now.astimezone(outlook.course.tz).date()
        return [
            Panel(
                key="presentations",
                title="My presentations",
                facts=[
                    self._fact(presenter, today)
                    for presenter in presentations_of(
                        course=outlook.course, student=outlook.student
                    )
                ],
                empty="You hold no presentation role yet.",
                link_text="Paper presentations",
                link_url=reverse("presentations", args=[outlook.course.slug]),
                order=40,
            )
        ]

    def _fact(self, presenter: Presenter, today: date) -> Fact:
        slot, role = presenter.slot, presenter.slot_role
        fellows = fellow_presenters(presenter)
        when = date_format(slot.date, "D j M Y") if slot.date else "date not set yet"
        return Fact(
            label=when,
            value=f"{role.get_role_display()} ({role.minutes} min): {slot.paper.title}",
            note=f"With {names(fellows)}." if fellows else "",
            tone="" if slot.date is None or slot.date >= today else "done",
        )

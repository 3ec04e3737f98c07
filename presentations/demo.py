"""The demo semester's presentations and reviews: presenters are assigned to every paper's
roles once, and the demo students write their weekly reviews before each deadline that has
passed (one comes a day late, two are never written); the week still open has drafts.

Reviews are dated from their deadline, so they move with the calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User

from coursesite.demo import FORM, DemoPlayer, DemoSemester, instant_shift
from coursesite.models import Course, Membership, Role
from presentations.models import Paper, PaperReview, PresentationSlot, Presenter
from presentations.reviews import review_save, review_submit
from presentations.slots import presenters_assign

# (paper, student): what happens instead of a review some hours before the deadline.
MISSED = {("dropout", "student07"), ("resnet", "student09")}
LATE = {("batchnorm", "student12"): timedelta(hours=20)}
# In the week still open: drafts, and one review handed in early.
DRAFTS = ("student01", "student05")
EARLY = ("student11",)


def _hours_before(paper: Paper, username: str) -> timedelta:
    return timedelta(hours=2 + sum(map(ord, paper.key + username)) % 60)


def review_parts(paper: Paper, username: str, *, draft: bool = False) -> dict[str, str]:
    """A review in the guideline's five parts, worded a little differently per student."""
    level = FORM.get(username, 80)
    careful = level >= 85
    parts = {
        "summary": f"The paper {paper.title} ({paper.year}) proposes a method and shows "
        f"experimentally that it improves on the state of the art it compares with.",
        "strengths": (
            "The idea is simple and the ablations isolate what each part contributes; the "
            "experiments cover several datasets and the gains are consistent."
            if careful
            else "Good results and a clear paper."
        ),
        "weaknesses": (
            "The method's cost grows with the input size, and the paper does not study where "
            "it breaks down; the comparison uses the baselines' published numbers."
            if careful
            else "Needs a lot of compute."
        ),
        "suggestions": (
            "Report the compute budget of every run and add an experiment at a smaller scale "
            "to show whether the gain is due to the idea or to the size."
            if careful
            else "More experiments."
        ),
        "questions": f"Would the main result of {paper.key} hold with a tenth of the data? "
        "Which assumption is the one that matters?",
    }
    if draft:
        return {"summary": parts["summary"], "strengths": parts["strengths"]}
    return parts


class PresentationsPlayer(DemoPlayer):
    key = "presentations"

    def play(self, semester: DemoSemester) -> list[str]:
        course = semester.course
        lines: list[str] = []
        slots = PresentationSlot.objects.filter(paper__course=course)
        if slots.exists() and not Presenter.objects.filter(slot__in=slots).exists():
            presenters_assign(course=course)
            lines.append(f"presenters assigned to {slots.count()} papers")
        students = {
            m.user.username: m.user
            for m in Membership.objects.filter(
                course=course, role=Role.STUDENT, user__username__in=FORM
            ).select_related("user")
        }
        written = set(
            PaperReview.objects.filter(paper__course=course).values_list(
                "paper_id", "student__username"
            )
        )
        count = 0
        papers = course.papers.filter(review_item__due_at__isnull=False).select_related(
            "review_item"
        )
        open_week_done = False
        for paper in papers.order_by("review_item__due_at"):
            due = paper.review_item.due_at  # type: ignore[union-attr]
            assert due is not None
            past = semester.is_past(due)
            if not past and open_week_done:
                break
            for username, student in sorted(students.items()):
                if (paper.pk, username) in written:
                    continue
                count += self._write(paper, username, student, due, past=past)
            open_week_done = open_week_done or not past
        if count:
            lines.append(f"{count} paper reviews written")
        return lines

    def _write(
        self, paper: Paper, username: str, student: User, due: datetime, *, past: bool
    ) -> int:
        if past:
            if (paper.key, username) in MISSED:
                return 0
            when = due + LATE.get((paper.key, username), -_hours_before(paper, username))
            review = review_save(
                paper=paper, student=student, parts=review_parts(paper, username), now=when
            )
            review_submit(review=review, now=when)
            return 1
        if username in DRAFTS:
            review_save(
                paper=paper,
                student=student,
                parts=review_parts(paper, username, draft=True),
            )
            return 1
        if username in EARLY:
            review = review_save(paper=paper, student=student, parts=review_parts(paper, username))
            review_submit(review=review)
            return 1
        return 0

    def move(self, course: Course, weeks: int) -> None:
        """Reviews move with their deadlines, so a review on time stays on time."""
        zone = course.tz
        for review in PaperReview.objects.filter(paper__course=course):
            for field in ("created_at", "updated_at", "submitted_at"):
                moment = getattr(review, field)
                if moment is not None:
                    setattr(review, field, instant_shift(moment, weeks=weeks, zone=zone))
            review.save(update_fields=["created_at", "updated_at", "submitted_at"])

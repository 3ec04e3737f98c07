"""The demo semester's rubric grading: the TAs score the work that was done before the as-of
date with the course's rubrics, the instructor scores some of it a second time, and the items
staff are done with are released.

What is scored
    Every piece of work of an item that a rubric scores (``items_scored_by_rubric``): reviews,
    the presentation roles held so far, the project's deliverables, the midterm's questions,
    once its day (a presentation's date, else the item's due date, else the day of the
    schedule's event about the item: the midterm's week) is more than ``BACKLOG``
    before the as-of date. The work of the last few days is left to staff, so the scoring
    queue has something in it. Work with no day is never scored here.
Levels
    Each piece of work is scored near its students' usual level (``coursesite.demo.FORM``), a
    little differently per criterion, so that evaluations and the gradebook look like a class.
Second graders
    The instructor scores the first piece of work of some items again, once close to the TA
    (no disagreement) and once far from it, so the disagreement page shows one.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User

from coursesite.demo import FORM, DemoPlayer, DemoSemester
from coursesite.gradebook.services import item_release
from coursesite.models import CourseEvent, GradeItem, Lecture, Membership, Role
from grading.models import Rubric, RubricEvaluation
from grading.rubrics import MarkInput, Work, evaluation_save, items_scored_by_rubric, source_of_item

BACKLOG = timedelta(days=4)
# Items staff have finished with: released once they are scored.
RELEASED = ("midterm", "proposal", "review-w05", "review-w06")
# (item, how far the instructor's second evaluation is from the TA's, in percent points)
SECOND_LOOKS = {"paper-presentation": -40, "proposal": 0}
DEFAULT_FORM = 80


def _form(work: Work, usernames: dict[int, str]) -> int:
    forms = [FORM.get(usernames.get(pk, ""), DEFAULT_FORM) for pk in work.students]
    return round(sum(forms) / len(forms)) if forms else DEFAULT_FORM


def demo_marks(rubric: Rubric, *, form: int, salt: str) -> list[MarkInput]:
    """Marks near ``form`` percent on every criterion, varying with ``salt``."""
    marks = []
    for criterion in rubric.criteria.prefetch_related("levels"):
        swing = (sum(map(ord, salt + criterion.title)) % 21) - 10
        target = Decimal(max(0, min(100, form + swing))) / 100
        levels = list(criterion.levels.all())
        if levels:
            best = min(levels, key=lambda level: abs(level.points / criterion.max_points - target))
            marks.append(MarkInput(criterion.pk, level_id=best.pk, comment=_comment(target)))
        else:
            points = (criterion.max_points * target).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            marks.append(MarkInput(criterion.pk, points=points))
    return marks


def _comment(target: Decimal) -> str:
    if target >= Decimal("0.9"):
        return "Very well done."
    if target >= Decimal("0.7"):
        return ""
    return "See the rubric's description of the next level up."


def _event_day(item: GradeItem) -> date | None:
    """The day of the schedule's event about an item with no due date (an exam): the event's
    date, else the first meeting of its week."""
    event = CourseEvent.objects.filter(item=item).order_by("week").first()
    if event is None:
        return None
    if event.date is not None:
        return event.date
    meeting = (
        Lecture.objects.filter(course_id=item.course_id, week=event.week).order_by("date").first()
    )
    return meeting.date if meeting is not None else None


class RubricPlayer(DemoPlayer):
    key = "rubrics"
    order = 100  # after the players that make the work

    def play(self, semester: DemoSemester) -> list[str]:
        course = semester.course
        staff = {
            m.role: m.user
            for m in Membership.objects.filter(course=course, role__in=[Role.INSTRUCTOR])
            .select_related("user")
            .order_by("user__username")
        }
        tas = [
            m.user
            for m in Membership.objects.filter(course=course, role=Role.TA)
            .select_related("user")
            .order_by("user__username")
        ]
        instructor = staff.get(Role.INSTRUCTOR)
        if not tas or instructor is None:
            return []
        usernames = dict(
            Membership.objects.filter(course=course, role=Role.STUDENT).values_list(
                "user_id", "user__username"
            )
        )
        done = set(
            RubricEvaluation.objects.filter(item__course=course).values_list("item_id", "subject")
        )
        scored = 0
        lines: list[str] = []
        for item in items_scored_by_rubric(course):
            source = source_of_item(item)
            works = [
                w for w in source.works(item) if not w.missing and self._due(semester, item, w)
            ]
            for index, work in enumerate(works):
                if (item.pk, work.subject) in done:
                    continue
                rubric = source.rubric(item, work.subject)
                if rubric is None or not rubric.criteria.exists():
                    continue
                form = _form(work, usernames)
                self._evaluate(item, work, rubric, tas[index % len(tas)], form)
                scored += 1
                if index == 0 and item.slug in SECOND_LOOKS:
                    self._evaluate(item, work, rubric, instructor, form + SECOND_LOOKS[item.slug])
            if works and item.slug in RELEASED and item.released_at is None:
                item_release(item=item, released=True)
                lines.append(f"{item.title} released to the students")
        if scored:
            lines.insert(0, f"{scored} pieces of work scored with rubrics")
        return lines

    def _due(self, semester: DemoSemester, item: GradeItem, work: Work) -> bool:
        day: date | None = work.when
        if day is None and item.due_at is not None:
            day = item.due_at.astimezone(semester.course.tz).date()
        if day is None:
            day = _event_day(item)
        return day is not None and day + BACKLOG < semester.as_of

    def _evaluate(
        self, item: GradeItem, work: Work, rubric: Rubric, grader: User, form: int
    ) -> None:
        evaluation_save(
            item=item,
            subject=work.subject,
            grader=grader,
            marks=demo_marks(rubric, form=form, salt=work.subject + grader.username),
            comment="",
        )

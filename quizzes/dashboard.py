"""What the student's dashboard shows of quizzes: the quizzes due soon or open now, whether the
student has taken each, and where the student stands on a quiz required to pass.

A read never submits: an attempt whose deadline has passed counts as taken here, as the site
submits it at its deadline (``quizzes.services.attempts_finish_expired``) the next time
anything reads it for writing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.urls import reverse

from coursesite.dashboard import DashboardSource, Deadline, Outlook, PassState, points_text
from quizzes.models import Attempt, Quiz
from quizzes.selectors import quizzes_of
from quizzes.services import counted_attempt


def quiz_url(outlook: Outlook, quiz: Quiz) -> str:
    return reverse("quiz", args=[outlook.course.slug, quiz.item.slug])


def taken(attempt: Attempt, now: datetime) -> bool:
    return attempt.submitted_at is not None or attempt.deadline_at <= now


class QuizSource(DashboardSource):
    key = "quizzes"

    def _attempts(self, outlook: Outlook) -> tuple[list[Quiz], dict[int, list[Attempt]]]:
        """The course's quizzes, and the student's attempts of each: two queries."""
        quizzes = quizzes_of(outlook.course)
        attempts: dict[int, list[Attempt]] = {quiz.pk: [] for quiz in quizzes}
        for attempt in Attempt.objects.filter(quiz__in=quizzes, student=outlook.student):
            attempts[attempt.quiz_id].append(attempt)
        return quizzes, attempts

    def deadlines(self, outlook: Outlook) -> list[Deadline]:
        quizzes, attempts = self._attempts(outlook)
        deadlines = []
        for quiz in quizzes:
            item = quiz.item
            if item.due_at is None or not outlook.shows(due_at=item.due_at, opens_at=item.opens_at):
                continue
            mine = attempts[quiz.pk]
            done = any(taken(attempt, outlook.now) for attempt in mine)
            if done:
                state = "taken"
            elif mine:
                state = "attempt running"
            elif item.opens_at and outlook.now < item.opens_at:
                state = "not open yet"
            else:
                state = "not taken yet"
            deadlines.append(
                Deadline(
                    item.title,
                    "Quiz",
                    item.due_at,
                    quiz_url(outlook, quiz),
                    done,
                    state,
                    item.opens_at,
                )
            )
        return deadlines

    def pass_states(self, outlook: Outlook) -> dict[int, PassState]:
        """The quizzes required to pass: two queries, and one per such quiz the student has
        taken (the attempt that counts is the services' rule)."""
        quizzes, attempts = self._attempts(outlook)
        states = {}
        for quiz in quizzes:
            item = quiz.item
            if not item.required_to_pass or item.pass_mark is None:
                continue
            mine = attempts[quiz.pk]
            counted = counted_attempt(quiz, outlook.student) if mine else None
            states[item.pk] = PassState(
                *self._standing(quiz, mine, counted, outlook), quiz_url(outlook, quiz)
            )
        return states

    def _standing(
        self, quiz: Quiz, mine: list[Attempt], counted: Attempt | None, outlook: Outlook
    ) -> tuple[bool, str]:
        item = quiz.item
        assert item.pass_mark is not None  # only items required to pass get here
        closed = item.due_at is not None and item.due_at <= outlook.now
        if counted is None:
            if any(not taken(attempt, outlook.now) for attempt in mine):
                return False, "attempt running"
            if mine:
                return False, "taken: its points are being counted"
            return False, "not taken: the quiz is closed" if closed else "not taken yet"
        shown = points_text(counted.points or Decimal(0), item)
        if (counted.points or Decimal(0)) >= item.pass_mark:
            return True, f"passed with {shown} points"
        if counted.pending_review:
            return False, f"{shown} points so far; a derivation is still to be scored"
        left = 0 if closed else quiz.attempts_allowed - len(mine)
        more = f"; {left} attempt{'' if left == 1 else 's'} left" if left > 0 else ""
        return False, f"not passed yet: {shown} points{more}"

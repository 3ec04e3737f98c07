"""The live demo semester: the demo course as it looks in its week 9, today (or on any day).

The course file keeps its real dates. ``demo_semester_load`` loads it with the whole calendar
moved by whole weeks, then plays the weeks before the as-of date. The rules:

Weeks
    Week 1 is the calendar week (Monday to Sunday) that holds the course's first day; week n
    is n - 1 weeks later. The calendar moves by the whole number of weeks that puts the as-of
    date in week ``DEMO_WEEK``.
The move
    Dates move by whole weeks, so weekdays stay. A date and time moves on the course's wall
    clock: a due date written "23:59" stays 23:59 in the course's time zone across a daylight-
    saving change (one real hour more or less), and a wall time that the clocks skip on the new
    day becomes the time an hour later. Everything the course file dates moves: the term, the
    group lock, each item's opening and due date, the meetings and the course events. The
    apps above move what they date in the course (hand-ins, extensions) by the same weeks.
Playing
    Each ``DemoPlayer`` plays its part of the weeks before the as-of date: the course's staff
    scores and releases (here), the students' hand-ins (``submissions``), and so on. Hand-ins
    are only queued: the worker grades them when it runs, nobody waits for them here.
Running it again
    A player plays only what is not there yet, so a second run plays nothing twice, and a run on
    the same day changes nothing. On a later day the calendar moves again from the file's dates,
    and what was played moves with it, so every hand-in keeps its lateness. Items released
    since the file was loaded stay released.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coursesite.course_file.load import course_file_load
from coursesite.course_file.spec import CoursePlan
from coursesite.course_file.sync import Changes
from coursesite.gradebook.services import item_release
from coursesite.models import (
    Course,
)

DEMO_WEEK = 9
WEEK = timedelta(weeks=1)


# The calendar: pure functions of dates.


def week_of(*, starts_on: date, day: date) -> int:
    """The week of the course that ``day`` falls in (week 1 holds ``starts_on``; 0 or less is
    before the course)."""
    monday = starts_on - timedelta(days=starts_on.weekday())
    return (day - monday).days // 7 + 1


def weeks_to_week(*, starts_on: date, as_of: date, week: int = DEMO_WEEK) -> int:
    """How many weeks a course that starts on ``starts_on`` moves so that ``as_of`` falls in
    its ``week`` (negative: back in time)."""
    return week_of(starts_on=starts_on, day=as_of) - week


def date_shift(day: date, *, weeks: int) -> date:
    return day + weeks * WEEK


def instant_shift(moment: datetime, *, weeks: int, zone: ZoneInfo) -> datetime:
    """``moment`` moved by ``weeks`` on the wall clock of ``zone``, as an instant in UTC (as the
    course file gives instants)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment} has no time zone")
    local = moment.astimezone(zone)
    wall = local.replace(tzinfo=None) + weeks * WEEK
    # The fold picks the same pass through an hour the clocks repeat.
    shifted = wall.replace(tzinfo=zone, fold=local.fold).astimezone(UTC)
    if shifted.astimezone(zone).replace(tzinfo=None) != wall:
        # The clocks skip this wall time on the new day; fold 0 reads it an hour later.
        shifted = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return shifted


def calendar_shift(plan: CoursePlan, *, weeks: int) -> CoursePlan:
    """The course file's plan with every date in it moved by ``weeks`` (see the module doc)."""
    zone = plan.zone

    def moved(moment: datetime | None) -> datetime | None:
        return None if moment is None else instant_shift(moment, weeks=weeks, zone=zone)

    facts = plan.facts
    return replace(
        plan,
        facts=replace(
            facts,
            starts_on=date_shift(facts.starts_on, weeks=weeks),
            ends_on=date_shift(facts.ends_on, weeks=weeks),
            groups_locked_at=moved(facts.groups_locked_at),
        ),
        categories=[
            replace(
                category,
                items=tuple(
                    replace(item, opens_at=moved(item.opens_at), due_at=moved(item.due_at))
                    for item in category.items
                ),
            )
            for category in plan.categories
        ],
        meetings=[
            replace(meeting, date=date_shift(meeting.date, weeks=weeks))
            for meeting in plan.meetings
        ],
        events=[
            replace(event, date=event.date and date_shift(event.date, weeks=weeks))
            for event in plan.events
        ],
        claimed=dict(plan.claimed),
        published=dict(plan.published),
    )


# The players: each app's part of the weeks before the as-of date.


@dataclass(frozen=True)
class DemoSemester:
    course: Course
    as_of: date
    # How far the calendar is from the course file's dates.
    weeks: int
    course_file: Path

    @property
    def starts(self) -> datetime:
        """The first instant of the as-of date: what is due before it has been played."""
        return datetime.combine(self.as_of, time.min, tzinfo=self.course.tz)

    def is_past(self, moment: datetime | None) -> bool:
        return moment is not None and moment < self.starts


class DemoPlayer(ABC):
    key: str
    # Players play in this order (then in the order their apps registered them): scoring comes
    # after the work it scores.
    order: int = 0

    @abstractmethod
    def play(self, semester: DemoSemester) -> list[str]:
        """Play what is not played yet, inside the load's transaction; say what was played."""

    def move(self, course: Course, weeks: int) -> None:  # noqa: B027 - most players date nothing
        """Move what this app dates in the course by ``weeks``, as the calendar moved."""


def demo_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a title and some lines of text (enough for a demo's reports)."""

    def escaped(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = [f"BT /F1 18 Tf 72 740 Td ({escaped(title)}) Tj ET"]
    for index, line in enumerate(lines):
        text.append(f"BT /F1 11 Tf 72 {700 - 16 * index} Td ({escaped(line)}) Tj ET")
    stream = "\n".join(text).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


_players: dict[str, DemoPlayer] = {}


def demo_player_register(player: DemoPlayer) -> None:
    if player.key in _players and type(_players[player.key]) is not type(player):
        raise ValueError(f"two apps claim the demo player {player.key!r}")
    _players[player.key] = player


def demo_players() -> list[DemoPlayer]:
    return list(_players.values())


# The course's own part: what staff released in the first weeks. (The quizzes are taken and
# the assignments handed in by the students themselves; rubric work is scored by the rubric
# player in ``grading``.)

# Each demo student's usual level, in percent: the players of the apps above vary around it.
FORM = {
    "student01": 93, "student02": 84, "student03": 77, "student04": 88,
    "student05": 91, "student06": 72, "student07": 55, "student08": 80,
    "student09": 68, "student10": 86, "student11": 96, "student12": 74,
}  # fmt: skip
RELEASED = ("a1",)


class StaffPlayer(DemoPlayer):
    """The course's staff: A1's release once it is due."""

    key = "staff"

    def play(self, semester: DemoSemester) -> list[str]:
        lines = []
        # Released once: staff who take a release back in the panel keep it taken back.
        for item in semester.course.items.filter(slug__in=RELEASED, released_at__isnull=True):
            if semester.is_past(item.due_at):
                item_release(item=item, released=True)
                lines.append(f"{item.title} released to the students")
        return lines


# The service.


@dataclass
class _Move:
    as_of: date | None
    weeks: int = 0
    # Where the calendar stood before this load, in weeks from the file's dates.
    weeks_before: int = 0


def demo_semester_load(
    *, path: Path, as_of: date | None = None
) -> tuple[DemoSemester, Changes, list[str]]:
    """Load the demo's course file with its calendar moved so that ``as_of`` (default: today in
    the course's time zone) falls in week 9, and play the weeks before it (see the module doc).

    All in one transaction. Raises ``CourseFileError`` for a bad file, and ``ValidationError``
    for an as-of date after today (the demo hands in work before it). Returns the semester, the
    changes the file made, and a line per thing played.
    """
    move = _Move(as_of)
    with transaction.atomic():
        course, changes = course_file_load(path=path, adjust=lambda plan: _demo_plan(plan, move))
        if move.weeks != move.weeks_before:
            for player in demo_players():
                player.move(course, move.weeks - move.weeks_before)
        assert move.as_of is not None  # set by _demo_plan
        semester = DemoSemester(course, move.as_of, move.weeks, path)
        played = [
            line
            for player in (StaffPlayer(), *sorted(demo_players(), key=lambda p: p.order))
            for line in player.play(semester)
        ]
    return semester, changes, played


def _demo_plan(plan: CoursePlan, move: _Move) -> CoursePlan:
    """The file's plan with its calendar moved, keeping the items released since it was loaded
    (a reload would otherwise take back the release that was played)."""
    today = timezone.localdate(timezone=plan.zone)
    move.as_of = move.as_of or today
    if move.as_of > today:
        raise ValidationError(
            f"The demo plays the weeks before {move.as_of}, which is after today ({today})."
        )
    move.weeks = weeks_to_week(starts_on=plan.facts.starts_on, as_of=move.as_of)
    existing = Course.objects.filter(slug=plan.facts.slug).first()
    released: set[str] = set()
    move.weeks_before = move.weeks
    if existing is not None:
        move.weeks_before = (existing.starts_on - plan.facts.starts_on).days // 7
        released = set(existing.items.filter(released=True).values_list("slug", flat=True))
    moved = calendar_shift(plan, weeks=move.weeks)
    return replace(
        moved,
        categories=[
            replace(
                category,
                items=tuple(
                    replace(item, released=item.released or item.slug in released)
                    for item in category.items
                ),
            )
            for category in moved.categories
        ],
    )

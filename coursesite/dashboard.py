"""A student's dashboard at the top of the course page: the week's meetings, the deadlines ahead,
and what each app knows of the student (grace days, grades, the quiz to pass, presentations).

The apps above the course layer know the deadlines and the panels; they register a
``DashboardSource`` here when their app is ready, so the course layer never imports them (as
course-file sections and demo players do). The rules:

The week
    The meetings shown are those of the course week (``Lecture.week``) of the first meeting that
    has not ended yet: this week's while any of them is still to come, the next week's once they
    are all over (a weekend, a break between weeks, the days before the term). Dates and times
    are on the course's wall clock. The course events of that week come with them.
Deadlines
    A deadline is shown from now on: due within ``HORIZON`` (14 days), or open now (its item
    opened and is not due yet), however far its due date is. Each source gives the student's own
    due date (an extension moves it) and whether the student has handed it in or taken it.
    Soonest first.
Countdowns
    "in 2 days 4 hours": days and hours from a day on, hours and minutes from an hour on, minutes
    and seconds below that; nothing smaller than the second largest unit, and a unit that is
    zero is left out. ``countdown.js`` writes the same words in the browser as time passes.
Grades
    From the gradebook as the student sees it (released scores only): each released score, the
    current weighted total, and the work waiting for a grade (handed in, and not graded or not
    released yet).
Required to pass
    Every item required to pass, with its state: a source may say it (a quiz knows its attempts);
    otherwise the gradebook does, from the released score and the pass mark, or from whether
    the work is handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.template.defaultfilters import floatformat

from coursesite.gradebook import engine
from coursesite.gradebook.selectors import gradebook_read
from coursesite.gradebook.work import course_work
from coursesite.models import Course, CourseEvent, GradeItem, Lecture

HORIZON = timedelta(days=14)
# How many deadlines a student's list of courses shows per course.
HOME_DEADLINES = 2


@dataclass(frozen=True)
class Outlook:
    """Whose dashboard, in which course, at what moment: what every source is asked with."""

    course: Course
    student: User
    now: datetime
    horizon: timedelta = HORIZON

    def shows(self, *, due_at: datetime | None, opens_at: datetime | None = None) -> bool:
        """Whether a deadline at ``due_at`` is on the dashboard (see the module doc)."""
        if due_at is None or due_at < self.now:
            return False
        return due_at <= self.now + self.horizon or (opens_at is not None and opens_at <= self.now)


@dataclass(frozen=True)
class Deadline:
    """Something the student hands in, takes or writes by a moment, with its page."""

    title: str
    kind: str  # in words: "Assignment", "Quiz", ...
    due_at: datetime
    url: str
    done: bool
    # In words, e.g. "handed in" or "not taken yet".
    state: str
    opens_at: datetime | None = None


@dataclass(frozen=True)
class Fact:
    """One line of a panel: a label, its value, and optionally a note and a page to read more."""

    label: str
    value: str
    note: str = ""
    url: str = ""
    # "good" or "bad" to mark the value, "done" for a line of the past, or empty.
    tone: str = ""


@dataclass
class Panel:
    """A box of the dashboard: a heading, its lines, and a link to the page with everything."""

    key: str
    title: str
    facts: list[Fact] = field(default_factory=list)
    empty: str = ""
    link_text: str = ""
    link_url: str = ""
    # Panels show in this order.
    order: int = 0


@dataclass(frozen=True)
class PassState:
    """An item required to pass as the student stands on it: ``passed`` or not, in words."""

    passed: bool
    state: str
    url: str = ""


class DashboardSource:
    """What an app tells the dashboard of one student; each method has a default, so a source
    gives only what it knows. Each reads a fixed number of queries, whatever the number of
    items."""

    key: str

    def deadlines(self, outlook: Outlook) -> list[Deadline]:
        """The student's deadlines that ``outlook.shows``."""
        return []

    def panels(self, outlook: Outlook) -> list[Panel]:
        return []

    def pass_states(self, outlook: Outlook) -> dict[int, PassState]:
        """By item id, the state of the items required to pass that this app knows better than
        the gradebook."""
        return {}


_sources: dict[str, DashboardSource] = {}


def dashboard_source_register(source: DashboardSource) -> None:
    if source.key in _sources and type(_sources[source.key]) is not type(source):
        raise ValueError(f"two apps claim the dashboard source {source.key!r}")
    _sources[source.key] = source


def dashboard_sources() -> list[DashboardSource]:
    return list(_sources.values())


# Countdowns.

UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def countdown(due_at: datetime, now: datetime) -> str:
    """How long until ``due_at``, in words (see the module doc); the same as countdown.js."""
    left = int((due_at - now).total_seconds())
    if left <= 0:
        return "due now"
    for index, (_, size) in enumerate(UNITS):
        if left >= size:
            parts = []
            for name, unit in UNITS[index : index + 2]:
                amount = left // unit
                left -= amount * unit
                if amount:
                    parts.append(f"{amount} {name}{'' if amount == 1 else 's'}")
            return "in " + " ".join(parts)
    raise AssertionError("unreachable: a positive number of seconds is at least one second")


def iso(moment: datetime) -> str:
    """A moment as countdown.js reads it: UTC, to the second."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ShownDeadline:
    deadline: Deadline
    countdown: str
    iso: str


def deadlines_of(outlook: Outlook) -> list[ShownDeadline]:
    """Every source's deadlines for the student, soonest first, with their countdowns."""
    found = [
        deadline
        for source in dashboard_sources()
        for deadline in source.deadlines(outlook)
        if outlook.shows(due_at=deadline.due_at, opens_at=deadline.opens_at)
    ]
    found.sort(key=lambda deadline: (deadline.due_at, deadline.title))
    return [ShownDeadline(d, countdown(d.due_at, outlook.now), iso(d.due_at)) for d in found]


# The week.


@dataclass(frozen=True)
class MeetingWeek:
    number: int
    # "This week", "Next week" or "Week 12", as it stands from today.
    label: str
    meetings: list[tuple[Lecture, bool]]  # each with whether it is over
    events: list[CourseEvent]


def meeting_week(course: Course, now: datetime) -> MeetingWeek | None:
    """The week of meetings the dashboard shows (see the module doc); None once the last meeting
    is over. Reads the course's meetings and events as ``course_detail`` loaded them."""
    zone = course.tz
    meetings = sorted(course.lectures.all(), key=lambda m: (m.date, m.starts_at))

    def over(meeting: Lecture) -> bool:
        return datetime.combine(meeting.date, meeting.ends_at, tzinfo=zone) <= now

    coming = next((meeting for meeting in meetings if not over(meeting)), None)
    if coming is None:
        return None
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    first = min(m.date for m in meetings if m.week == coming.week)
    if first < monday + timedelta(weeks=1):
        label = "This week"
    elif first < monday + timedelta(weeks=2):
        label = "Next week"
    else:
        label = f"Week {coming.week}"
    return MeetingWeek(
        number=coming.week,
        label=label,
        meetings=[(m, over(m)) for m in meetings if m.week == coming.week],
        events=[event for event in course.events.all() if event.week == coming.week],
    )


# Grades and the items required to pass, from the gradebook.


@dataclass(frozen=True)
class ReleasedScore:
    item: GradeItem
    points: Decimal | None
    percent: Decimal | None
    state: str


@dataclass(frozen=True)
class Grades:
    current: Decimal | None
    released: list[ReleasedScore]
    # Handed in, and not graded or not released yet.
    waiting: list[GradeItem]
    required: list[tuple[GradeItem, PassState]]


def points_text(points: Decimal | None, item: GradeItem) -> str:
    return f"{floatformat(points, -2)} of {floatformat(item.max_points, -2)}"


def grades_of(outlook: Outlook, passes: dict[int, PassState]) -> Grades:
    """The student's released scores, current total, work waiting for a grade, and the items
    required to pass with their states (``passes`` overrides the gradebook's)."""
    book = gradebook_read(
        course=outlook.course, released_only=True, student=outlook.student, now=outlook.now
    )
    handed_in = course_work(outlook.course).handed_in
    grade = book.rows[0].grade
    released, waiting, required = [], [], []
    for item in book.items:
        mine = grade.items[item.pk]
        if item.released and mine.state != engine.PENDING:
            released.append(ReleasedScore(item, mine.points, mine.percent, mine.state))
        elif (outlook.student.pk, item.pk) in handed_in:
            waiting.append(item)
        if item.required_to_pass:
            state = passes.get(item.pk) or _pass_state(item, mine, waiting, outlook.now)
            required.append((item, state))
    return Grades(grade.current, released, waiting, required)


def _pass_state(
    item: GradeItem, mine: engine.ItemGrade, waiting: list[GradeItem], now: datetime
) -> PassState:
    if mine.state == engine.GRADED and item.pass_mark is not None:
        shown = points_text(mine.points, item)
        if mine.points is not None and mine.points >= item.pass_mark:
            return PassState(True, f"passed with {shown} points")
        return PassState(False, f"not passed yet: {shown} points")
    if mine.state == engine.EXCUSED:
        return PassState(True, "excused")
    if item in waiting:
        return PassState(False, "handed in, waiting for its grade")
    if item.due_at is not None and item.due_at < now:
        return PassState(False, "not passed: nothing handed in")
    return PassState(False, "not handed in yet")


# The whole dashboard.


@dataclass(frozen=True)
class Dashboard:
    week: MeetingWeek | None
    deadlines: list[ShownDeadline]
    grades: Grades
    panels: list[Panel]
    now_iso: str


def student_dashboard(*, course: Course, student: User, now: datetime) -> Dashboard:
    """Everything the dashboard shows ``student``. ``course`` comes from ``course_detail``, whose
    meetings and events the week reads. A fixed number of queries, whatever the course's size."""
    outlook = Outlook(course, student, now)
    passes: dict[int, PassState] = {}
    panels: list[Panel] = []
    for source in dashboard_sources():
        passes.update(source.pass_states(outlook))
        panels.extend(source.panels(outlook))
    panels.sort(key=lambda panel: panel.order)
    return Dashboard(
        week=meeting_week(course, now),
        deadlines=deadlines_of(outlook),
        grades=grades_of(outlook, passes),
        panels=panels,
        now_iso=iso(now),
    )


def next_deadlines(*, course: Course, student: User, now: datetime) -> list[ShownDeadline]:
    """The next ``HOME_DEADLINES`` deadlines of the student in the course."""
    return deadlines_of(Outlook(course, student, now))[:HOME_DEADLINES]

"""Lateness and grace days, computed from scratch.

``grace_compute`` is a pure function: it reads no database and keeps no running counter, so the
caller recomputes the whole ledger whenever any input changes (a due date moved, an extension
granted or revoked, another submission activated). It is given only each student's active
submission per item.

The rules
---------
Effective due date
    The student's extension for the item if there is one, else the item's due date. An item
    without a due date is never late.
On time
    A hand-in is on time when it arrives no later than ``due + slack``. This is decided on real
    instants, so the hour repeated when clocks fall back can never make late work look early.
    An on-time hand-in has ``late_by`` zero.
How late
    ``late_by`` is measured on the course's wall clock: both instants are converted to the
    course's time zone and their wall times subtracted, so a day across a daylight-saving change
    is one calendar day (23 or 25 real hours). Slack only decides whether work is late; late work
    is measured from the due date itself. Inside the repeated hour a late hand-in can show an
    earlier wall time than its due date; there the real delay is used instead.
Days late
    Partial day ``"counts"``: a started day counts (ceil of ``late_by`` in days). ``"ignored"``:
    only whole days count (floor), so work less than a day late has 0 days late and is treated
    as on time, although ``late_by`` still says how late it came.
Drawing on the pool
    Each student's hand-ins are taken in the order of their effective due dates (ties by the
    item key as ``str``; items without a due date last). Only items that use grace days draw.
    Days used = min(days late, pool left, per-item cap if set); the rest are uncovered.
Penalty on uncovered days (percent of the item's credit taken off, 0 to 100)
    ``"zero"``: 100 if any day is uncovered. ``"percent_per_day"``: min(100, uncovered x rate).
    ``"no_credit_after"``: 0 if uncovered <= ``late_days_after_pool``, else 100.
Never spend on work that earns nothing
    If drawing the available days would still leave a 100 % penalty, none are drawn: the pool is
    kept for later items and the penalty is 100.
Items that do not use grace days
    Days late are counted the same way, nothing is drawn, and the penalty rule applies to every
    late day.
Group deliverables
    The engine knows only students. The caller expands a group's hand-in, and each extension
    granted to the group, into one ``HandIn`` and one ``Extension`` per member. Each member then
    draws on their own pool, so members with different pools left can get different results.
Errors
    ``ValueError`` for a hand-in or extension naming a student or item that is not given, two
    hand-ins or two extensions for one student and item, an item listed twice, a naive datetime
    anywhere, an unknown time zone, or a policy lacking the figure its penalty rule needs.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The values of coursesite.models.grades.PartialDay and AfterPool, spelled out so that the engine
# (and its benchmark) runs without Django; a test pins them to the model's choices.
PARTIAL_DAY_COUNTS = "counts"
PARTIAL_DAY_IGNORED = "ignored"
AFTER_POOL_ZERO = "zero"
AFTER_POOL_PERCENT_PER_DAY = "percent_per_day"
AFTER_POOL_NO_CREDIT_AFTER = "no_credit_after"

DAY = timedelta(days=1)
ON_TIME = timedelta(0)
NO_PENALTY = Decimal(0)
NO_CREDIT = Decimal(100)
UNDATED = datetime.min.replace(tzinfo=UTC)

Key = tuple[Hashable, Hashable]


@dataclass(frozen=True)
class Policy:
    time_zone: str
    pool_days: int = 7
    per_item_cap: int | None = None
    slack: timedelta = ON_TIME
    partial_day: str = PARTIAL_DAY_COUNTS
    after_pool: str = AFTER_POOL_ZERO
    penalty_percent_per_day: Decimal | None = None
    late_days_after_pool: int | None = None

    def __post_init__(self) -> None:
        course_zone(self.time_zone)
        if self.pool_days < 0 or (self.per_item_cap or 0) < 0 or self.slack < ON_TIME:
            raise ValueError("pool_days, per_item_cap and slack cannot be negative")
        if self.partial_day not in (PARTIAL_DAY_COUNTS, PARTIAL_DAY_IGNORED):
            raise ValueError(f"unknown partial_day rule {self.partial_day!r}")
        _check_after_pool(self)


@dataclass(frozen=True)
class Due:
    item: Hashable
    due_at: datetime | None
    uses_grace_days: bool


@dataclass(frozen=True)
class Extension:
    student: Hashable
    item: Hashable
    due_at: datetime


@dataclass(frozen=True)
class HandIn:
    student: Hashable
    item: Hashable
    submitted_at: datetime


@dataclass(frozen=True)
class Lateness:
    student: Hashable
    item: Hashable
    due_at: datetime | None
    submitted_at: datetime
    late_by: timedelta
    days_late: int
    grace_days_used: int
    penalty_percent: Decimal
    pool_left: int


@dataclass(frozen=True)
class GraceLedger:
    lateness: dict[Key, Lateness]
    pool_left: dict[Hashable, int]


def grace_compute(
    *,
    policy: Policy,
    items: Iterable[Due],
    students: Iterable[Hashable],
    extensions: Iterable[Extension],
    handins: Iterable[HandIn],
) -> GraceLedger:
    """Lateness, grace days used and penalty of every hand-in; the rules are in the module doc."""
    dues = _index_items(items)
    # Sorting the roster makes the ledger's order independent of the order of the inputs.
    roster = sorted(dict.fromkeys(students), key=str)
    known = set(roster)
    moved = _index_extensions(extensions, dues, known)
    by_student = _group_handins(handins, dues, known)
    zone = course_zone(policy.time_zone)
    lateness: dict[Key, Lateness] = {}
    pool_left: dict[Hashable, int] = {}
    for student in roster:
        rows = _student_rows(by_student.get(student, []), dues, moved, policy, zone)
        lateness.update(((row.student, row.item), row) for row in rows)
        pool_left[student] = rows[-1].pool_left if rows else policy.pool_days
    return GraceLedger(lateness=lateness, pool_left=pool_left)


def course_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def _check_after_pool(policy: Policy) -> None:
    rule = policy.after_pool
    if rule not in (AFTER_POOL_ZERO, AFTER_POOL_PERCENT_PER_DAY, AFTER_POOL_NO_CREDIT_AFTER):
        raise ValueError(f"unknown after_pool rule {rule!r}")
    rate = policy.penalty_percent_per_day
    if rule == AFTER_POOL_PERCENT_PER_DAY and (rate is None or not NO_PENALTY <= rate <= NO_CREDIT):
        raise ValueError("percent_per_day needs penalty_percent_per_day between 0 and 100")
    allowed = policy.late_days_after_pool
    if rule == AFTER_POOL_NO_CREDIT_AFTER and (allowed is None or allowed < 0):
        raise ValueError("no_credit_after needs late_days_after_pool of 0 or more")


def _require_aware(when: datetime | None, what: str) -> None:
    if when is not None and when.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime: {when.isoformat()}")


def _require_known(
    student: Hashable, item: Hashable, dues: dict[Hashable, Due], known: set[Hashable], what: str
) -> None:
    if student not in known:
        raise ValueError(f"{what} names student {student!r}, who is not among the students")
    if item not in dues:
        raise ValueError(f"{what} names item {item!r}, which is not among the items")


def _index_items(items: Iterable[Due]) -> dict[Hashable, Due]:
    dues: dict[Hashable, Due] = {}
    for due in items:
        if due.item in dues:
            raise ValueError(f"item {due.item!r} is listed twice")
        _require_aware(due.due_at, f"the due date of item {due.item!r}")
        dues[due.item] = due
    return dues


def _index_extensions(
    extensions: Iterable[Extension], dues: dict[Hashable, Due], known: set[Hashable]
) -> dict[Key, datetime]:
    moved: dict[Key, datetime] = {}
    for extension in extensions:
        key = (extension.student, extension.item)
        what = f"the extension of {key!r}"
        _require_known(extension.student, extension.item, dues, known, what)
        _require_aware(extension.due_at, what)
        if key in moved:
            raise ValueError(f"{what} is given twice")
        moved[key] = extension.due_at
    return moved


def _group_handins(
    handins: Iterable[HandIn], dues: dict[Hashable, Due], known: set[Hashable]
) -> dict[Hashable, list[HandIn]]:
    by_student: dict[Hashable, list[HandIn]] = {}
    seen: set[Key] = set()
    for handin in handins:
        key = (handin.student, handin.item)
        what = f"the hand-in of {key!r}"
        _require_known(handin.student, handin.item, dues, known, what)
        _require_aware(handin.submitted_at, what)
        if key in seen:
            raise ValueError(f"{what} is given twice; pass only the active submission")
        seen.add(key)
        by_student.setdefault(handin.student, []).append(handin)
    return by_student


def _student_rows(
    handins: list[HandIn],
    dues: dict[Hashable, Due],
    moved: dict[Key, datetime],
    policy: Policy,
    zone: ZoneInfo,
) -> list[Lateness]:
    effective = [(h, moved.get((h.student, h.item), dues[h.item].due_at)) for h in handins]
    effective.sort(key=lambda pair: _due_order(pair[1], pair[0].item))
    pool = policy.pool_days
    rows: list[Lateness] = []
    for handin, due_at in effective:
        late_by = _late_by(due_at, handin.submitted_at, policy.slack, zone)
        days_late = _days_late(late_by, policy.partial_day)
        available = pool if dues[handin.item].uses_grace_days else 0
        used, penalty = _charge(days_late, available, policy)
        pool -= used
        rows.append(
            Lateness(
                student=handin.student,
                item=handin.item,
                due_at=due_at,
                submitted_at=handin.submitted_at,
                late_by=late_by,
                days_late=days_late,
                grace_days_used=used,
                penalty_percent=penalty,
                pool_left=pool,
            )
        )
    return rows


def _due_order(due_at: datetime | None, item: Hashable) -> tuple[bool, datetime, str]:
    # In UTC: aware datetimes sharing one tzinfo compare by wall time, ignoring the fold.
    return (due_at is None, UNDATED if due_at is None else due_at.astimezone(UTC), str(item))


def _late_by(
    due_at: datetime | None, submitted_at: datetime, slack: timedelta, zone: ZoneInfo
) -> timedelta:
    if due_at is None:
        return ON_TIME
    real = submitted_at.astimezone(UTC) - due_at.astimezone(UTC)
    if real <= slack:
        return ON_TIME
    wall = _wall(submitted_at, zone) - _wall(due_at, zone)
    return wall if wall > ON_TIME else real


def _wall(when: datetime, zone: ZoneInfo) -> datetime:
    return when.astimezone(zone).replace(tzinfo=None)


def _days_late(late_by: timedelta, partial_day: str) -> int:
    whole, rest = divmod(late_by, DAY)
    return whole + (1 if rest and partial_day == PARTIAL_DAY_COUNTS else 0)


def _charge(days_late: int, available: int, policy: Policy) -> tuple[int, Decimal]:
    """Grace days to draw and the penalty left, never drawing for work that earns nothing."""
    used = min(days_late, available)
    if policy.per_item_cap is not None:
        used = min(used, policy.per_item_cap)
    penalty = _penalty(days_late - used, policy)
    return (0, penalty) if penalty == NO_CREDIT else (used, penalty)


def _penalty(uncovered: int, policy: Policy) -> Decimal:
    if uncovered == 0:
        return NO_PENALTY
    if policy.after_pool == AFTER_POOL_PERCENT_PER_DAY:
        assert policy.penalty_percent_per_day is not None  # checked when the policy was made
        return min(NO_CREDIT, uncovered * policy.penalty_percent_per_day)
    if policy.after_pool == AFTER_POOL_NO_CREDIT_AFTER:
        assert policy.late_days_after_pool is not None  # checked when the policy was made
        return NO_PENALTY if uncovered <= policy.late_days_after_pool else NO_CREDIT
    return NO_CREDIT

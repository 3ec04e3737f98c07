"""The gradebook engine: from a course's grade structure and scores to every student's grade.

A pure function of its inputs (no database, no clock but the ``now`` it is given), so that every
rule below is checked by hand-written cases. Its rules, in order:

1. **Item states.** For each student and item:
   - ``excused``: the score says so. The item leaves the computation.
   - ``graded``: the score has points. Percent = points / max points x 100.
   - ``pending``: no points, and either the student has handed it in and it is not graded yet,
     or it is not due yet (its due date, moved by the student's extension, is still ahead, or it
     has none). In the student's own view (``released_only``) an unreleased item is pending too,
     whatever its score: nothing of it shows.
   - ``missing``: no points, not handed in, and its (extended) due date has passed. It counts 0.
   Late penalties are already inside the points of an autograded score; the engine never takes
   one off again.
2. **Weights.** A category is ``weight`` percent of the final grade. An item with its own
   ``weight`` is that many percent; the items without one share what is left of their
   category's weight (the category's weight minus its items' own weights) in proportion to
   their max points.
3. **Drop lowest.** A category's ``drop_lowest`` N drops, per student, the N items with the
   lowest percent among its items without an own weight whose percent is known (graded or
   missing), never an excused or pending one, and never so many that none of those is left.
   Ties go to the item that comes first in the category. The same items are dropped from both
   totals.
4. **Leaving the computation.** An excused or dropped item gives its weight to the rest of its
   category: the shared weight is split again among the shared items that still count, and the
   category's percent is the average of its counting items' percents weighted by their
   effective weights. A category with no counting item leaves the total, and the total is
   renormalised over the categories that remain.
5. **Two totals**, as Canvas keeps them: ``current`` leaves pending items out (weights
   renormalised over what is graded or missing); ``final`` counts pending items as 0. A total
   with nothing to count is empty (``None``).
6. **Rounding.** Everything is computed exactly in decimals; each percent shown (items,
   categories, totals) is rounded to two decimals, half up, once, at the end.
7. **Letter.** From the course's scale (steps with inclusive lower bounds), applied to the
   rounded ``final``: the step with the highest bound at or below it. No scale, no letter.
8. **Flags.** ``required_not_passed``: an item required to pass is missing, or graded below its
   pass mark. ``missing_work``: some item is missing. ``pending_grading``: some item is handed in
   and not graded yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
CENT = Decimal("0.01")

GRADED, MISSING, PENDING, EXCUSED = "graded", "missing", "pending", "excused"
REQUIRED_NOT_PASSED, MISSING_WORK, PENDING_GRADING = (
    "required_not_passed",
    "missing_work",
    "pending_grading",
)


@dataclass(frozen=True)
class CategorySpec:
    id: int
    name: str
    weight: Decimal
    drop_lowest: int = 0


@dataclass(frozen=True)
class ItemSpec:
    """An item, in the order the course lists them (drop-lowest ties go to the earlier one)."""

    id: int
    category: int
    max_points: Decimal
    weight: Decimal | None = None
    due_at: datetime | None = None
    released: bool = True
    required_to_pass: bool = False
    pass_mark: Decimal | None = None


@dataclass(frozen=True)
class Mark:
    """A student's Score on an item."""

    student: int
    item: int
    points: Decimal | None
    excused: bool = False


@dataclass(frozen=True)
class LetterStep:
    letter: str
    minimum: Decimal


@dataclass(frozen=True)
class ItemGrade:
    item: int
    state: str
    points: Decimal | None
    percent: Decimal | None
    dropped: bool = False


@dataclass(frozen=True)
class StudentGrade:
    student: int
    items: dict[int, ItemGrade]
    # Per category id: its percent over what counts in ``current`` and in ``final``.
    categories_current: dict[int, Decimal | None]
    categories_final: dict[int, Decimal | None]
    current: Decimal | None
    final: Decimal | None
    letter: str | None
    flags: list[str] = field(default_factory=list)


def rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def letter_for(total: Decimal | None, scale: Sequence[LetterStep]) -> str | None:
    """The letter of a rounded total: the step with the highest bound at or below it."""
    if total is None:
        return None
    for step in sorted(scale, key=lambda step: step.minimum, reverse=True):
        if total >= step.minimum:
            return step.letter
    return None


def _state(
    item: ItemSpec,
    mark: Mark | None,
    *,
    due_at: datetime | None,
    handed_in: bool,
    now: datetime,
    released_only: bool,
) -> ItemGrade:
    if released_only and not item.released:
        return ItemGrade(item.id, PENDING, None, None)
    if mark is not None and mark.excused:
        return ItemGrade(item.id, EXCUSED, None, None)
    if mark is not None and mark.points is not None:
        return ItemGrade(item.id, GRADED, mark.points, mark.points / item.max_points * HUNDRED)
    if handed_in or due_at is None or now <= due_at:
        return ItemGrade(item.id, PENDING, None, None)
    return ItemGrade(item.id, MISSING, Decimal(0), Decimal(0))


def _dropped(category: CategorySpec, items: list[ItemSpec], grades: dict[int, ItemGrade]) -> set:
    candidates = [
        item for item in items if item.weight is None and grades[item.id].state in (GRADED, MISSING)
    ]
    count = min(category.drop_lowest, max(0, len(candidates) - 1))
    # sorted() is stable, so among equal percents the earlier item is dropped first.
    ranked = sorted(candidates, key=lambda item: grades[item.id].percent or Decimal(0))
    return {item.id for item in ranked[:count]}


def _category_percent(
    category: CategorySpec, counting: list[ItemSpec], percents: Mapping[int, Decimal]
) -> Decimal | None:
    """The weighted average of the counting items' percents; None when nothing counts."""
    if not counting:
        return None
    own = sum((item.weight for item in counting if item.weight is not None), Decimal(0))
    shared = [item for item in counting if item.weight is None]
    shared_points = sum((item.max_points for item in shared), Decimal(0))
    left = max(Decimal(0), category.weight - own)
    weights = {
        item.id: item.weight if item.weight is not None else left * item.max_points / shared_points
        for item in counting
    }
    total_weight = sum(weights.values(), Decimal(0))
    if total_weight == 0:
        # Nothing carries weight (a category of weight 0): average by points instead.
        points = sum((item.max_points for item in counting), Decimal(0))
        return sum((percents[item.id] * item.max_points for item in counting), Decimal(0)) / points
    return sum((percents[item.id] * weights[item.id] for item in counting), Decimal(0)) / (
        total_weight
    )


def _total(
    categories: Sequence[CategorySpec], percents: Mapping[int, Decimal | None]
) -> Decimal | None:
    counted = [c for c in categories if percents[c.id] is not None]
    weight = sum((c.weight for c in counted), Decimal(0))
    if not counted:
        return None
    if weight == 0:
        return sum((percents[c.id] or Decimal(0) for c in counted), Decimal(0)) / len(counted)
    return sum((c.weight * (percents[c.id] or Decimal(0)) for c in counted), Decimal(0)) / weight


def _flags(items: Sequence[ItemSpec], grades: Mapping[int, ItemGrade], handed_in: set) -> list:
    flags = []
    for item in items:
        grade = grades[item.id]
        if item.required_to_pass and (
            grade.state == MISSING
            or (grade.state == GRADED and item.pass_mark is not None and grade.points is not None
                and grade.points < item.pass_mark)
        ):  # fmt: skip
            flags.append(REQUIRED_NOT_PASSED)
            break
    if any(grade.state == MISSING for grade in grades.values()):
        flags.append(MISSING_WORK)
    if any(grades[item].state == PENDING for item in handed_in if item in grades):
        flags.append(PENDING_GRADING)
    return flags


def student_grade(
    *,
    student: int,
    categories: Sequence[CategorySpec],
    items: Sequence[ItemSpec],
    marks: Mapping[int, Mark],
    extensions: Mapping[int, datetime] | None = None,
    handed_in: Iterable[int] = (),
    now: datetime,
    letter_scale: Sequence[LetterStep] = (),
    released_only: bool = False,
) -> StudentGrade:
    """One student's grade. ``marks``, ``extensions`` (new due dates) and ``handed_in`` (items
    with an active hand-in) are this student's, keyed by item id."""
    extensions = extensions or {}
    handed = set(handed_in)
    grades = {
        item.id: _state(
            item,
            marks.get(item.id),
            due_at=extensions.get(item.id, item.due_at),
            handed_in=item.id in handed,
            now=now,
            released_only=released_only,
        )
        for item in items
    }
    current: dict[int, Decimal | None] = {}
    final: dict[int, Decimal | None] = {}
    for category in categories:
        members = [item for item in items if item.category == category.id]
        dropped = _dropped(category, members, grades)
        for item_id in dropped:
            grade = grades[item_id]
            grades[item_id] = ItemGrade(item_id, grade.state, grade.points, grade.percent, True)
        kept = [item for item in members if item.id not in dropped]
        known = [item for item in kept if grades[item.id].state in (GRADED, MISSING)]
        percents = {item.id: grades[item.id].percent or Decimal(0) for item in kept}
        current[category.id] = _category_percent(category, known, percents)
        final[category.id] = _category_percent(
            category, [item for item in kept if grades[item.id].state != EXCUSED], percents
        )
    final_total = rounded(_total(categories, final))
    return StudentGrade(
        student=student,
        items={
            item_id: ItemGrade(g.item, g.state, g.points, rounded(g.percent), g.dropped)
            for item_id, g in grades.items()
        },
        categories_current={key: rounded(value) for key, value in current.items()},
        categories_final={key: rounded(value) for key, value in final.items()},
        current=rounded(_total(categories, current)),
        final=final_total,
        letter=letter_for(final_total, letter_scale),
        flags=_flags(items, grades, handed),
    )


def course_grades(
    *,
    students: Sequence[int],
    categories: Sequence[CategorySpec],
    items: Sequence[ItemSpec],
    marks: Iterable[Mark],
    extensions: Mapping[tuple[int, int], datetime] | None = None,
    handed_in: Iterable[tuple[int, int]] = (),
    now: datetime,
    letter_scale: Sequence[LetterStep] = (),
    released_only: bool = False,
) -> dict[int, StudentGrade]:
    """Every student's grade; ``extensions`` and ``handed_in`` are keyed by (student, item)."""
    by_student: dict[int, dict[int, Mark]] = {student: {} for student in students}
    for mark in marks:
        if mark.student in by_student:
            by_student[mark.student][mark.item] = mark
    ext: dict[int, dict[int, datetime]] = {}
    for (student, item), due in (extensions or {}).items():
        ext.setdefault(student, {})[item] = due
    handed: dict[int, set[int]] = {}
    for student, item in handed_in:
        handed.setdefault(student, set()).add(item)
    return {
        student: student_grade(
            student=student,
            categories=categories,
            items=items,
            marks=by_student[student],
            extensions=ext.get(student),
            handed_in=handed.get(student, ()),
            now=now,
            letter_scale=letter_scale,
            released_only=released_only,
        )
        for student in students
    }

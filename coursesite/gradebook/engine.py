"""The gradebook engine: from a course's grade structure and scores to every student's grade.

A pure function of its inputs (no database, no clock but the ``now`` it is given), so that every
rule below is checked by hand-written cases. Its rules, in order:

1. **Item states.** For each student and item:
   - ``excused``: the score says so. The item leaves the computation.
   - ``graded``: the score has points. Percent = points / max points x 100. The points are used
     as they are: a late penalty is already inside an autograded score, and the engine never
     takes one off again.
   - ``pending``: no points, and either the student has handed it in and it is not graded yet,
     or it is not due yet (its due date, moved by the student's extension, is still ahead or is
     this very instant, or it has none). In the student's own view (``released_only``) an
     unreleased item is pending too, whatever its score: nothing of it shows.
   - ``missing``: no points, not handed in, and its (extended) due date has passed. It counts 0.
2. **Weights.** A category is ``weight`` percent of the final grade; its percent is the average
   of its counting items' percents weighted by their weights. An item with its own ``weight``
   has that weight; the items without one share what is left of their category's weight (the
   category's weight minus the own weights of its counting items) in proportion to their max
   points. Where the items a percent is taken over all weigh 0, it is their points over their
   max points instead.
3. **Drop lowest.** A category's ``drop_lowest`` N drops, per student, the N items with the
   lowest percent among its items without an own weight whose percent is known (graded or
   missing), never an excused or pending one, and never so many that none of those is left.
   Ties go to the item that comes first in the category. The same items are dropped from both
   totals.
4. **Leaving the computation.** Excused and dropped items do not count: the weight they had goes
   to the rest of their category (the items without an own weight share the category's weight
   left over again; where none of those counts, the own weights that count are renormalised).
   A category with no counting item leaves both totals, and the totals are renormalised over
   the categories that remain (their plain average, should none of those weigh anything).
5. **Two totals**, as Canvas keeps them. ``final`` counts pending items as 0. ``current`` leaves
   pending items out: a category's percent is the average over its graded and missing items,
   with the weights they have in ``final``, renormalised (a pending item's share is not split
   again among the others); a category with none of those leaves ``current``, and the total is
   renormalised over the categories that remain. A total with nothing to count is empty
   (``None``).
6. **Rounding.** Everything is computed exactly, each quotient kept as its numerator and
   denominator (the arithmetic raises rather than round); each percent shown (items,
   categories, totals) is rounded to two decimals, half up, once, at the end.
7. **Letter.** From the course's scale (steps with inclusive lower bounds), applied to the
   rounded ``final``: the step with the highest bound at or below it. No scale, no letter.
8. **Flags.** ``required_not_passed``: an item required to pass is missing, or graded below its
   pass mark. ``missing_work``: some item is missing. ``pending_grading``: some item is handed in
   and not graded yet. Each as the view sees the items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal, Inexact, localcontext
from math import lcm
from typing import NamedTuple

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
ZERO = Decimal(0)
NO_PERCENT = Decimal("0.00")
# Sums and products of the inputs are exact in 1000 digits; a quotient never is, so none is taken
# (see ``_half_up``), and the trap turns any rounding that would creep in into an error.
EXACT = Context(prec=1000, traps=[Inexact])

GRADED, MISSING, PENDING, EXCUSED = "graded", "missing", "pending", "excused"
REQUIRED_NOT_PASSED, MISSING_WORK, PENDING_GRADING = (
    "required_not_passed",
    "missing_work",
    "pending_grading",
)

# An exact quotient, kept as numerator and denominator until it is rounded once.
Ratio = tuple[Decimal, Decimal]


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


class Mark(NamedTuple):
    """A student's Score on an item (a tuple: a course has one per student and item)."""

    student: int
    item: int
    points: Decimal | None
    excused: bool = False


@dataclass(frozen=True)
class LetterStep:
    letter: str
    minimum: Decimal


class ItemGrade(NamedTuple):
    # A tuple rather than a dataclass, as Mark: cheap to make by the thousand.
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


def letter_for(total: Decimal | None, scale: Sequence[LetterStep]) -> str | None:
    """The letter of a rounded total: the step with the highest bound at or below it."""
    if total is None:
        return None
    for step in sorted(scale, key=lambda step: step.minimum, reverse=True):
        if total >= step.minimum:
            return step.letter
    return None


def _cents(ratio: Ratio | None) -> Decimal | None:
    return None if ratio is None else _half_up(*ratio)


def _half_up(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator (> 0) rounded to two decimals, half up, exactly: a quotient
    computed first would already be rounded, and one exactly halfway could come out below it.

    Runs in the ``EXACT`` context, as everything that calls it."""
    if numerator < 0:
        return -_half_up(-numerator, denominator)
    return ((200 * numerator + denominator) // (2 * denominator)).scaleb(-2)


@dataclass(frozen=True)
class _Category:
    """A category and its items, with what the arithmetic needs of them once per course."""

    spec: CategorySpec
    items: tuple[ItemSpec, ...]
    # A whole multiple of every item's max points, and per item that multiple over the item's
    # max points: points x scale_of[item] is the item's percent / 100 x scale, without dividing.
    scale: Decimal
    scale_of: dict[int, Decimal]


def _plan(categories: Sequence[CategorySpec], items: Sequence[ItemSpec]) -> list[_Category]:
    """The course's categories with their items; runs in the ``EXACT`` context."""
    plan = []
    for category in categories:
        members = tuple(item for item in items if item.category == category.id)
        # max points = a / b in lowest terms: lcm(a) / (a / b) = lcm(a) / a x b is whole.
        scale = Decimal(lcm(*(item.max_points.as_integer_ratio()[0] for item in members)))
        scale_of = {item.id: scale / item.max_points for item in members}
        plan.append(_Category(category, members, scale, scale_of))
    return plan


def _state(
    item: ItemSpec,
    mark: Mark | None,
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
        percent = _half_up(HUNDRED * mark.points, item.max_points)
        return ItemGrade(item.id, GRADED, mark.points, percent)
    if handed_in or due_at is None or now <= due_at:
        return ItemGrade(item.id, PENDING, None, None)
    return ItemGrade(item.id, MISSING, ZERO, NO_PERCENT)


def _dropped(category: _Category, grades: Mapping[int, ItemGrade]) -> set[int]:
    if not category.spec.drop_lowest:
        return set()
    candidates = [
        item
        for item in category.items
        if item.weight is None and grades[item.id].state in (GRADED, MISSING)
    ]
    count = min(category.spec.drop_lowest, max(0, len(candidates) - 1))
    # Percents compared exactly, scaled by the category's scale; sorted() is stable, so among
    # equal percents the earlier item is dropped first.
    ranked = sorted(
        candidates, key=lambda item: (grades[item.id].points or ZERO) * category.scale_of[item.id]
    )
    return {item.id for item in ranked[:count]}


def _category_percents(
    category: _Category, grades: Mapping[int, ItemGrade], dropped: set[int]
) -> tuple[Ratio | None, Ratio | None]:
    """The category's percent in ``current`` and in ``final``, exactly, in one pass.

    With S the max points of the counting items without an own weight, ``left`` the weight they
    share and Q the category's scale, an item with an own weight W weighs W, one without weighs
    left x max / S. Multiplied through by S x Q, the sum of weights x percents is
    100 x (S x sum(W x points x Q / max) + Q x left x sum(points)), the same in both totals as a
    pending item has no points, and the sum of weights is Q x (S x sum(W) + left x sum(max)):
    over every counting item for ``final``, without the pending ones for ``current``.
    """
    counting = pending = 0
    points = own_points = shared_points = ZERO
    own_weight = shared_max = max_points = ZERO  # of the counting items
    own_pending = shared_pending = max_pending = ZERO  # of the pending ones among them
    for item in category.items:
        grade = grades[item.id]
        if grade.state == EXCUSED or item.id in dropped:
            continue
        is_pending = grade.state == PENDING
        counting, pending = counting + 1, pending + is_pending
        points += grade.points or ZERO
        max_points += item.max_points
        max_pending += item.max_points if is_pending else ZERO
        if item.weight is None:
            shared_points += grade.points or ZERO
            shared_max += item.max_points
            shared_pending += item.max_points if is_pending else ZERO
        else:
            own_points += item.weight * (grade.points or ZERO) * category.scale_of[item.id]
            own_weight += item.weight
            own_pending += item.weight if is_pending else ZERO
    if not counting:
        return None, None
    left = max(ZERO, category.spec.weight - own_weight) if shared_max else ZERO
    per, scale = shared_max or Decimal(1), category.scale
    weighted = HUNDRED * (per * own_points + scale * left * shared_points)

    def percent(own: Decimal, shared: Decimal, most: Decimal) -> Ratio:
        weight = scale * (per * own + left * shared)
        # Nothing carries weight (a category of weight 0): points over max points instead.
        return (weighted, weight) if weight else (HUNDRED * points, most)

    final = percent(own_weight, shared_max, max_points)
    if counting == pending:
        return None, final
    current = percent(
        own_weight - own_pending, shared_max - shared_pending, max_points - max_pending
    )
    return current, final


def _total(plan: Sequence[_Category], percents: Mapping[int, Ratio | None]) -> Ratio | None:
    """The categories' percents weighted by their weights, over the categories that count."""
    counted = [
        (category.spec.weight, percent)
        for category in plan
        if (percent := percents[category.spec.id]) is not None
    ]
    if not counted:
        return None
    weight = sum(category_weight for category_weight, _ in counted)
    if weight == 0:
        # No counted category carries weight: their plain average.
        counted = [(Decimal(1), percent) for _, percent in counted]
        weight = Decimal(len(counted))
    numerator, denominator = ZERO, Decimal(1)
    for category_weight, (top, bottom) in counted:
        numerator = numerator * bottom + category_weight * top * denominator
        denominator *= bottom
    return numerator, denominator * weight


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


def _student_grade(
    plan: Sequence[_Category],
    items: Sequence[ItemSpec],
    *,
    student: int,
    marks: Mapping[int, Mark],
    extensions: Mapping[int, datetime],
    handed_in: set[int],
    now: datetime,
    letter_scale: Sequence[LetterStep],
    released_only: bool,
) -> StudentGrade:
    """One student's grade; runs in the ``EXACT`` context."""
    grades = {
        item.id: _state(
            item,
            marks.get(item.id),
            extensions.get(item.id, item.due_at),
            item.id in handed_in,
            now,
            released_only,
        )
        for item in items
    }
    current: dict[int, Ratio | None] = {}
    final: dict[int, Ratio | None] = {}
    for category in plan:
        dropped = _dropped(category, grades)
        for item_id in dropped:
            grades[item_id] = grades[item_id]._replace(dropped=True)
        current[category.spec.id], final[category.spec.id] = _category_percents(
            category, grades, dropped
        )
    final_percent = _cents(_total(plan, final))
    return StudentGrade(
        student=student,
        items=grades,
        categories_current={key: _cents(value) for key, value in current.items()},
        categories_final={key: _cents(value) for key, value in final.items()},
        current=_cents(_total(plan, current)),
        final=final_percent,
        letter=letter_for(final_percent, letter_scale),
        flags=_flags(items, grades, handed_in),
    )


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
    with localcontext(EXACT):
        return _student_grade(
            _plan(categories, items),
            items,
            student=student,
            marks=marks,
            extensions=extensions or {},
            handed_in=set(handed_in),
            now=now,
            letter_scale=letter_scale,
            released_only=released_only,
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
    with localcontext(EXACT):
        plan = _plan(categories, items)
        return {
            student: _student_grade(
                plan,
                items,
                student=student,
                marks=by_student[student],
                extensions=ext.get(student, {}),
                handed_in=handed.get(student, set()),
                now=now,
                letter_scale=letter_scale,
                released_only=released_only,
            )
            for student in students
        }

"""Who presents which paper in which role: a fair assignment of presenters, computed from scratch.

``assignment_compute`` is a pure function: it reads no database. It is given the students (in a
stable order, e.g. by username), the slots in date order with their presenting roles, the weeks
in which students cannot present, the places staff pinned, the fewest presenters a role's group
may have and a seed. ``assignment_problems`` lists every rule that any given assignment breaks,
so that an edit by staff can be refused with the rule it would break.

The rules
---------
Places
    Each presenting role of each slot is held by a group of students. With R such roles, N
    students and ``presenters_per_role`` p, there are P = max(R x p, N) presenter places in all:
    every role gets p students, more when there are more students than that, so that everybody
    presents.
Group sizes
    The P places are spread evenly over the R roles: every group has floor(P / R) or
    ceil(P / R) students, so sizes differ by at most one and none is below p.
Fair counts
    The P places are spread evenly over the N students: every student presents floor(P / N) or
    ceil(P / N) times, so counts differ by at most one.
One role per slot
    A student holds at most one role of a slot (and is listed once in a group).
A new role each time
    A student never holds the same role in two of their presentations in a row (in slot order;
    the slots in between, where they do not present, do not count).
Blocked weeks
    A student never presents in a slot of a week they are blocked in. A slot without a week can
    be held by anyone.
Pins
    A pinned place (student, slot, role) is kept as it is.

How it is found
---------------
First the input is checked for what makes every assignment impossible (see Errors). Then a
constructive spread fills the slots in date order: the students who present in a slot are those
with the most presentations left to give for the fewest free slots left, as long as a matching
can still give each of them a role other than their last one (and their next pinned one); a
student who must present in every free slot left always does. Ties are broken by
``random.Random(seed)``, so the same input gives the same assignment and another seed another
one. Whatever rules the spread still breaks are repaired by a local search that only makes
moves within the counts and sizes above (swap two places, hand a place to another student, move
a student to another group, exchange two students' places from a slot on), taking the move that
breaks the fewest rules, with a short memory of recent moves, a little chance, restarts from a
fresh spread and a bounded number of steps. Rosters of up to ``EXHAUSTIVE_ROSTER`` students,
where few assignments may exist at all, are also searched exhaustively (with a bound too), so a
small class gets an assignment whenever one exists or is told that none does.

Errors
------
``AssignmentError``, with a plain explanation, when the input cannot be assigned: no students;
a pin that is itself against the rules (an unknown student, slot or role, a blocked week, two
roles in a slot, more pins than a group or a student may hold, two pins to one role with no
room for another presentation between them); a slot whose week leaves too few free students;
students free in too few slots; a single presenting role that students would have to hold twice
in a row; too few free students to fill all places; or when the search finds no assignment (the
message says whether every way was tried, and names the rules the closest assignment still
breaks). ``ValueError`` for a student or a slot given twice, or a slot that lists a role twice.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from itertools import pairwise
from typing import Any, Generic, TypeVar

S = TypeVar("S", bound=Hashable)  # a student: a username or an id
K = TypeVar("K", bound=Hashable)  # a slot: a paper's key or an id

# Steps of the repair search in all; an input that passes the checks is usually repaired in a
# few dozen.
DEFAULT_EFFORT = 6000
# Steps without a better assignment before the search starts again from a fresh spread.
STALL = 500
# Steps during which a student may not go back to the group they just left.
TABU_STEPS = 6
# How often the search takes a random move instead of the best one.
NOISE = 0.05
# Rosters this small, where few assignments may exist, are also searched exhaustively, up to
# this many partial assignments.
EXHAUSTIVE_ROSTER = 10
EXHAUSTIVE_TRIES = 20000


class AssignmentError(Exception):
    """The input cannot be assigned; the message says why, in the course's words."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Slot(Generic[K]):
    """A slot in date order: its key, its week (``None``: no week) and its presenting roles."""

    key: K
    week: int | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Pin(Generic[S, K]):
    """A place staff chose: the assignment keeps ``student`` in ``role`` of slot ``slot``."""

    student: S
    slot: K
    role: str


class Rule(StrEnum):
    STUDENT = "a presenter is a student of the course"
    PLACE = "only presenting roles of the slots have presenters"
    GROUP_SIZE = "group sizes are at least the presenters per role and differ by at most one"
    PLACES = "the places are max(roles x presenters per role, students)"
    COUNTS = "every student presents about equally often (counts differ by at most one)"
    ONE_ROLE_PER_SLOT = "a student holds one role per slot"
    NEW_ROLE = "a student never holds the same role in two presentations in a row"
    BLOCKED_WEEK = "a student never presents in a week they are blocked"
    PIN = "a pinned place is kept"


@dataclass(frozen=True)
class Breach:
    """One rule broken by an assignment, with the students and slots it concerns."""

    rule: Rule
    message: str
    students: tuple[Hashable, ...] = ()
    slots: tuple[Hashable, ...] = ()


@dataclass(frozen=True)
class Shape:
    """How many places there are, and the sizes and counts that spread them evenly."""

    places: int
    group_min: int
    group_max: int
    count_min: int
    count_max: int


def assignment_shape(*, students: int, roles: int, presenters_per_role: int) -> Shape:
    """The number of places, and the group sizes and presentation counts they allow."""
    if presenters_per_role < 1:
        raise ValueError("presenters_per_role must be at least 1")
    if roles == 0 or students == 0:
        return Shape(0, 0, 0, 0, 0)
    places = max(roles * presenters_per_role, students)
    return Shape(
        places=places,
        group_min=places // roles,
        group_max=-(-places // roles),
        count_min=places // students,
        count_max=-(-places // students),
    )


def assignment_compute(
    *,
    students: Sequence[S],
    slots: Sequence[Slot[K]],
    blocked: Iterable[tuple[S, int]] = (),
    pins: Iterable[Pin[S, K]] = (),
    presenters_per_role: int = 1,
    seed: int = 0,
    effort: int = DEFAULT_EFFORT,
) -> dict[tuple[K, str], list[S]]:
    """The students of every (slot, presenting role), in the order of ``students``.

    The rules are in the module doc. Blocked weeks of anyone not in ``students`` are ignored.
    """
    problem = _Problem(students, slots, blocked, presenters_per_role)
    pinned = problem.index_pins(pins)
    if not problem.groups:
        return {}
    problem.check(pinned)
    rng = random.Random(seed)  # noqa: S311 - a reproducible spread, not a secret
    exhaustive = _Exhaustive(problem, pinned, EXHAUSTIVE_TRIES, rng)
    best: _State | None = None
    steps_left = effort
    while best is None or (best.total and steps_left > 0):
        state = _State.spread(problem, pinned, rng)
        steps_left = state.repair(rng, steps_left)
        if best is None or state.total < best.total:
            best = state
        if best.total and len(problem.students) <= EXHAUSTIVE_ROSTER and not exhaustive.tried:
            found = exhaustive.run()
            if found is not None:
                return problem.result(found)
            if exhaustive.proven:
                break
    if best.total == 0:
        return problem.result(best)
    breaches = assignment_breaches(
        students=students,
        slots=slots,
        blocked=problem.blocked_pairs,
        assignment=problem.result(best),
        presenters_per_role=presenters_per_role,
    )
    shown = "; ".join(breach.message for breach in breaches[:3])
    searched = (
        "every way to fill the slots was tried"
        if exhaustive.proven
        else f"none was found within {effort} steps of search"
    )
    raise AssignmentError(
        f"no assignment keeps every rule ({searched}); the blocked weeks and pins leave too "
        f"little room. The closest one found still breaks these: {shown}"
    )


def assignment_problems(
    *,
    students: Sequence[S],
    slots: Sequence[Slot[K]],
    blocked: Iterable[tuple[S, int]] = (),
    assignment: Mapping[tuple[K, str], Sequence[S]],
    presenters_per_role: int = 1,
    pins: Iterable[Pin[S, K]] = (),
) -> list[str]:
    """Every rule ``assignment`` breaks, each message naming the student, the slot and the rule."""
    return [
        breach.message
        for breach in assignment_breaches(
            students=students,
            slots=slots,
            blocked=blocked,
            assignment=assignment,
            presenters_per_role=presenters_per_role,
            pins=pins,
        )
    ]


def assignment_breaches(
    *,
    students: Sequence[S],
    slots: Sequence[Slot[K]],
    blocked: Iterable[tuple[S, int]] = (),
    assignment: Mapping[tuple[K, str], Sequence[S]],
    presenters_per_role: int = 1,
    pins: Iterable[Pin[S, K]] = (),
) -> list[Breach]:
    """``assignment_problems`` with each problem's rule, students and slots, for callers that
    check only some rules (an edit by staff is not refused for uneven counts)."""
    breaches: list[Breach] = []
    known = set(students)
    order = {slot.key: index for index, slot in enumerate(slots)}
    places = [(slot.key, role) for slot in slots for role in slot.roles]
    blocked_weeks: dict[Hashable, set[int]] = {}
    for someone, week in blocked:
        blocked_weeks.setdefault(someone, set()).add(week)

    for (key, role), group in assignment.items():
        if (key, role) not in places:
            text = f"the {role} of {key} is not a presenting role of a slot"
            breaches.append(_breach(Rule.PLACE, text, tuple(group), (key,)))
    held: dict[Hashable, list[tuple[int, str]]] = {}
    for key, role in places:
        for student, times in Counter(assignment.get((key, role), ())).items():
            if student not in known:
                text = f"{student} holds the {role} of {key} but is not a student of the course"
                breaches.append(_breach(Rule.STUDENT, text, (student,), (key,)))
            if times > 1:
                text = f"{student} is listed {times} times in the {role} of {key}"
                breaches.append(_breach(Rule.ONE_ROLE_PER_SLOT, text, (student,), (key,)))
            held.setdefault(student, []).append((order[key], role))

    breaches += _size_breaches(assignment, places, len(students), presenters_per_role)
    breaches += _count_breaches(held, students)
    for holder, placements in held.items():
        breaches += _student_breaches(
            holder, sorted(placements), slots, blocked_weeks.get(holder, set())
        )
    for pin in pins:
        if pin.student not in assignment.get((pin.slot, pin.role), ()):
            text = f"{pin.student} is pinned to the {pin.role} of {pin.slot} but does not hold it"
            breaches.append(_breach(Rule.PIN, text, (pin.student,), (pin.slot,)))
    return breaches


def _breach(
    rule: Rule, text: str, students: tuple[Hashable, ...] = (), slots: tuple[Hashable, ...] = ()
) -> Breach:
    return Breach(rule, f"{text}: {rule}", students, slots)


def _size_breaches(
    assignment: Mapping[tuple[K, str], Sequence[S]],
    places: list[tuple[K, str]],
    students: int,
    presenters_per_role: int,
) -> list[Breach]:
    if not places:
        return []
    breaches: list[Breach] = []
    sizes = {place: len(assignment.get(place, ())) for place in places}
    for (key, role), size in sizes.items():
        if size < presenters_per_role:
            text = f"the {role} of {key} has {size} presenter(s), fewer than {presenters_per_role}"
            breaches.append(_breach(Rule.GROUP_SIZE, text, (), (key,)))
    largest = max(places, key=sizes.__getitem__)
    smallest = min(places, key=sizes.__getitem__)
    if sizes[largest] - sizes[smallest] > 1:
        text = (
            f"the {largest[1]} of {largest[0]} has {sizes[largest]} presenters but the "
            f"{smallest[1]} of {smallest[0]} {sizes[smallest]}"
        )
        breaches.append(_breach(Rule.GROUP_SIZE, text, (), (largest[0], smallest[0])))
    shape = assignment_shape(
        students=students, roles=len(places), presenters_per_role=presenters_per_role
    )
    total = sum(sizes.values())
    if students and total != shape.places:
        text = (
            f"there are {total} presenter places, but {len(places)} roles of at least "
            f"{presenters_per_role} presenter(s) and {students} students make {shape.places}"
        )
        breaches.append(_breach(Rule.PLACES, text))
    return breaches


def _count_breaches(
    held: Mapping[Hashable, list[tuple[int, str]]], students: Sequence[S]
) -> list[Breach]:
    if not students:
        return []
    counts = {student: len(held.get(student, ())) for student in students}
    most = max(students, key=counts.__getitem__)
    fewest = min(students, key=counts.__getitem__)
    if counts[most] - counts[fewest] <= 1:
        return []
    text = f"{most} presents {counts[most]} times but {fewest} {counts[fewest]}"
    return [_breach(Rule.COUNTS, text, (most, fewest))]


def _student_breaches(
    student: Hashable,
    placements: list[tuple[int, str]],
    slots: Sequence[Slot[K]],
    blocked: set[int],
) -> list[Breach]:
    """A student's breaches of the per-slot, role and week rules; ``placements`` are (slot
    index, role) in slot order."""
    breaches: list[Breach] = []
    for (first, role), (second, next_role) in pairwise(placements):
        a, b = slots[first].key, slots[second].key
        if first == second and role != next_role:
            text = f"{student} holds both the {role} and the {next_role} of {a}"
            breaches.append(_breach(Rule.ONE_ROLE_PER_SLOT, text, (student,), (a,)))
        elif first != second and role == next_role:
            text = f"{student} holds the {role} of {a} and then of {b}, two presentations in a row"
            breaches.append(_breach(Rule.NEW_ROLE, text, (student,), (a, b)))
    for index in dict.fromkeys(index for index, _ in placements):
        slot = slots[index]
        if slot.week is not None and slot.week in blocked:
            text = f"{student} presents in {slot.key} in week {slot.week}, a week they are blocked"
            breaches.append(_breach(Rule.BLOCKED_WEEK, text, (student,), (slot.key,)))
    return breaches


class _Problem(Generic[S, K]):
    """The input by index: students 0..N-1, slots 0..T-1 and groups (a slot's role) 0..R-1."""

    def __init__(
        self,
        students: Sequence[S],
        slots: Sequence[Slot[K]],
        blocked: Iterable[tuple[S, int]],
        presenters_per_role: int,
    ) -> None:
        self.students = list(students)
        self.student_index: dict[S, int] = {}
        for index, student in enumerate(self.students):
            if student in self.student_index:
                raise ValueError(f"the student {student} is given twice")
            self.student_index[student] = index
        self.slots = list(slots)
        self.slot_index: dict[K, int] = {}
        self.group_slot: list[int] = []
        self.group_role: list[int] = []
        self.group_role_name: list[str] = []
        self.slot_groups: list[list[int]] = []
        role_ids: dict[str, int] = {}
        for index, slot in enumerate(self.slots):
            if slot.key in self.slot_index:
                raise ValueError(f"the slot {slot.key} is given twice")
            if len(set(slot.roles)) != len(slot.roles):
                raise ValueError(f"the slot {slot.key} lists a role twice")
            self.slot_index[slot.key] = index
            self.slot_groups.append([])
            for role in slot.roles:
                self.slot_groups[index].append(len(self.group_slot))
                self.group_slot.append(index)
                self.group_role.append(role_ids.setdefault(role, len(role_ids)))
                self.group_role_name.append(role)
        self.groups = range(len(self.group_slot))
        self.blocked_pairs = [(s, w) for s, w in blocked if s in self.student_index]
        self.blocked: list[set[int]] = [set() for _ in self.students]
        for student, week in self.blocked_pairs:
            self.blocked[self.student_index[student]].update(
                index for index, slot in enumerate(self.slots) if slot.week == week
            )
        self.presenters_per_role = presenters_per_role
        self.shape = assignment_shape(
            students=len(self.students),
            roles=len(self.group_slot),
            presenters_per_role=presenters_per_role,
        )

    def name(self, group: int) -> str:
        return f"the {self.group_role_name[group]} of {self.slots[self.group_slot[group]].key}"

    def index_pins(self, pins: Iterable[Pin[S, K]]) -> list[tuple[int, int]]:
        indexed: dict[tuple[int, int], None] = {}
        for pin in pins:
            if pin.student not in self.student_index:
                raise AssignmentError(
                    f"{pin.student} is pinned to the {pin.role} of {pin.slot} but is not a "
                    "student of the course"
                )
            slot = self.slot_index.get(pin.slot)
            if slot is None:
                raise AssignmentError(f"{pin.student} is pinned to {pin.slot}, which is no slot")
            groups = [g for g in self.slot_groups[slot] if self.group_role_name[g] == pin.role]
            if not groups:
                raise AssignmentError(
                    f"{pin.student} is pinned to the {pin.role} of {pin.slot}, which is not a "
                    "presenting role of that slot"
                )
            indexed[(self.student_index[pin.student], groups[0])] = None
        return list(indexed)

    def check(self, pinned: list[tuple[int, int]]) -> None:
        """Refuse, in plain words, an input that no assignment can satisfy."""
        shape = self.shape
        if not self.students:
            raise AssignmentError("the course has no students to present the papers")
        self._check_pins(pinned)
        roles = set(self.group_role)
        if len(roles) == 1 and shape.count_max > 1:
            raise AssignmentError(
                f"the slots have only one role to present ({self.group_role_name[0]}), and with "
                f"{len(self.students)} students for {shape.places} places some present "
                f"{shape.count_max} times, so they would hold it twice in a row"
            )
        for slot, groups in enumerate(self.slot_groups):
            free = self.free_students(slot)
            need = len(groups) * shape.group_min
            if free < need:
                key, week = self.slots[slot].key, self.slots[slot].week
                raise AssignmentError(
                    f"only {free} students are free to present in week {week}, but the "
                    f"{len(groups)} roles of {key} need at least {need}"
                )
        for i, student in enumerate(self.students):
            free = len(self.slots) - len(self.blocked[i])
            if free < shape.count_min:
                raise AssignmentError(
                    f"{student} is free to present in only {free} slot(s), but every student "
                    f"presents at least {shape.count_min} times"
                )
        short = [
            student
            for i, student in enumerate(self.students)
            if len(self.slots) - len(self.blocked[i]) < shape.count_max
        ]
        if (
            shape.count_min < shape.count_max
            and len(short) > len(self.students) - self._busier_students()
        ):
            raise AssignmentError(
                f"{', '.join(map(str, short))} are free in fewer than {shape.count_max} slots, "
                f"but only {len(self.students) - self._busier_students()} students may present "
                f"fewer than {shape.count_max} times"
            )
        capacity = sum(
            min(self.free_students(slot), len(groups) * shape.group_max)
            for slot, groups in enumerate(self.slot_groups)
        )
        if capacity < shape.places:
            raise AssignmentError(
                f"the students free in each slot's week can fill at most {capacity} of the "
                f"{shape.places} presenter places"
            )

    def _check_pins(self, pinned: list[tuple[int, int]]) -> None:
        shape = self.shape
        by_student: dict[int, list[int]] = {}
        for i, group in pinned:
            slot = self.group_slot[group]
            if slot in self.blocked[i]:
                raise AssignmentError(
                    f"{self.students[i]} is pinned to {self.name(group)} in week "
                    f"{self.slots[slot].week}, a week they are blocked"
                )
            for other in by_student.get(i, []):
                if self.group_slot[other] == slot:
                    raise AssignmentError(
                        f"{self.students[i]} is pinned to both {self.name(other)} and "
                        f"{self.name(group)}; a student holds one role per slot"
                    )
            by_student.setdefault(i, []).append(group)
        for group, pins in Counter(group for _, group in pinned).items():
            if pins > shape.group_max:
                raise AssignmentError(
                    f"{pins} students are pinned to {self.name(group)}, but with "
                    f"{len(self.students)} students its group has at most {shape.group_max}"
                )
        full_groups = sum(
            1 for _, pins in Counter(g for _, g in pinned).items() if pins == shape.group_max
        )
        if shape.group_min < shape.group_max and full_groups > self._larger_groups():
            raise AssignmentError(
                f"{full_groups} groups are filled to {shape.group_max} by pins, but only "
                f"{self._larger_groups()} groups may have that many"
            )
        busiest = 0
        for i, groups in by_student.items():
            if len(groups) > shape.count_max:
                raise AssignmentError(
                    f"{self.students[i]} is pinned to {len(groups)} places, but every student "
                    f"presents {shape.count_min} or {shape.count_max} times"
                )
            busiest += len(groups) == shape.count_max > shape.count_min
            self._check_pins_in_a_row(i, sorted(groups, key=self.group_slot.__getitem__))
        if busiest > self._busier_students():
            raise AssignmentError(
                f"{busiest} students are pinned to {shape.count_max} places, but only "
                f"{self._busier_students()} students present that often"
            )

    def _check_pins_in_a_row(self, i: int, groups: list[int]) -> None:
        """Two pins of a student to the same role need a presentation of theirs in between."""
        between_needed = 0
        for first, second in pairwise(groups):
            if self.group_role[first] != self.group_role[second]:
                continue
            between_needed += 1
            between = range(self.group_slot[first] + 1, self.group_slot[second])
            if all(slot in self.blocked[i] for slot in between):
                raise AssignmentError(
                    f"{self.students[i]} is pinned to {self.name(first)} and to "
                    f"{self.name(second)} with no slot between them to hold another role; a "
                    "student never holds the same role in two presentations in a row"
                )
        if between_needed and len(groups) + between_needed > self.shape.count_max:
            raise AssignmentError(
                f"{self.students[i]} is pinned to the same role in two presentations in a row "
                f"unless they present in between, but with {len(groups)} pins they would "
                f"present more than {self.shape.count_max} times"
            )

    def _larger_groups(self) -> int:
        return self.shape.places - len(self.group_slot) * self.shape.group_min

    def _busier_students(self) -> int:
        return self.shape.places - len(self.students) * self.shape.count_min

    def free_students(self, slot: int) -> int:
        return sum(1 for blocked in self.blocked if slot not in blocked)

    def cost(self, student: int, groups: list[int]) -> int:
        """How many rules a student's places break: blocked weeks, two places in a slot, and
        the same role twice in a row."""
        placed = sorted((self.group_slot[g], self.group_role[g]) for g in groups)
        blocked = self.blocked[student]
        broken = sum(1 for slot, _ in placed if slot in blocked)
        for (slot, role), (next_slot, next_role) in pairwise(placed):
            if slot == next_slot or role == next_role:
                broken += 1
        return broken

    def result(self, state: _State) -> dict[tuple[K, str], list[S]]:
        members: list[list[int]] = [[] for _ in self.groups]
        for student, group in zip(state.occ_student, state.occ_group, strict=True):
            members[group].append(student)
        return {
            (self.slots[self.group_slot[g]].key, self.group_role_name[g]): [
                self.students[i] for i in sorted(members[g])
            ]
            for g in self.groups
        }


# A move gives places new holders: (place, student, group) for each place it changes.
Move = tuple[tuple[int, int, int], ...]


class _State:
    """A full assignment within the counts and sizes: each place is a (student, group) pair."""

    def __init__(
        self,
        problem: _Problem[Any, Any],
        students: list[int],
        groups: list[int],
        pinned: list[bool],
    ) -> None:
        self.problem = problem
        self.occ_student, self.occ_group, self.occ_pinned = students, groups, pinned
        self.placed: list[list[int]] = [[] for _ in problem.students]
        self.size = [0 for _ in problem.groups]
        for student, group in zip(students, groups, strict=True):
            self.placed[student].append(group)
            self.size[group] += 1
        self.cost = [problem.cost(i, self.placed[i]) for i in range(len(problem.students))]
        self.total = sum(self.cost)
        self.tabu: dict[tuple[int, int], int] = {}

    @classmethod
    def spread(
        cls, problem: _Problem[Any, Any], pinned: list[tuple[int, int]], rng: random.Random
    ) -> _State:
        return _Spread(problem, pinned, rng).state()

    def repair(self, rng: random.Random, steps: int) -> int:
        """Search for an assignment that breaks no rule; give back the steps left."""
        best = self.total
        stall = 0
        step = 0
        while self.total and steps > 0 and stall < STALL:
            steps -= 1
            step += 1
            moves = self._moves(rng)
            if not moves:
                stall += 1
                continue
            scored = [(self._delta(move), move) for move in moves]
            allowed = [
                (delta, move) for delta, move in scored
                if self.total + delta < best or not self._is_tabu(move, step)
            ]  # fmt: skip
            if not allowed:
                stall += 1
                continue
            if rng.random() < NOISE:
                _, move = rng.choice(allowed)
            else:
                least = min(delta for delta, _ in allowed)
                move = rng.choice([move for delta, move in allowed if delta == least])
            self._apply(move, step)
            if self.total < best:
                best, stall = self.total, 0
            else:
                stall += 1
        return steps

    def _moves(self, rng: random.Random) -> list[Move]:
        """Moves around one place of a student who breaks a rule: swap it with another place,
        hand it to another student or move it to another group; take another student's place;
        or exchange all places from that slot on with another student."""
        problem, shape = self.problem, self.problem.shape
        student = rng.choice([i for i, cost in enumerate(self.cost) if cost])
        counts = [len(groups) for groups in self.placed]
        free = [o for o in range(len(self.occ_student)) if not self.occ_pinned[o]]
        own = [o for o in free if self.occ_student[o] == student]
        moves: list[Move] = []
        n = len(problem.students)
        if counts[student] < shape.count_max:
            moves += [
                ((o, student, self.occ_group[o]),) for o in free
                if self.occ_student[o] != student and counts[self.occ_student[o]] > shape.count_min
            ]  # fmt: skip
        if not own:
            return moves
        place = rng.choice(own)
        group = self.occ_group[place]
        moves += [
            ((place, self.occ_student[o], group), (o, student, self.occ_group[o])) for o in free
            if self.occ_student[o] != student and self.occ_group[o] != group
        ]  # fmt: skip
        if counts[student] > shape.count_min:
            moves += [
                ((place, other, group),) for other in range(n)
                if other != student and counts[other] < shape.count_max
            ]  # fmt: skip
        if self.size[group] > shape.group_min:
            moves += [
                ((place, student, other),) for other in problem.groups
                if other != group and self.size[other] < shape.group_max
            ]  # fmt: skip
        slot = problem.group_slot[group]
        for cut in (slot, slot + 1):
            moves += [
                move for other in range(n) if other != student
                for move in [self._tails(student, other, cut)] if move
            ]  # fmt: skip
        return moves

    def _tails(self, student: int, other: int, cut: int) -> Move | None:
        """Exchange all places of two students from slot ``cut`` on, if none is pinned and
        their counts stay even."""
        shape, slots = self.problem.shape, self.problem.group_slot
        tails = [o for o, i in enumerate(self.occ_student) if i in (student, other)]
        tails = [o for o in tails if slots[self.occ_group[o]] >= cut]
        if not tails or any(self.occ_pinned[o] for o in tails):
            return None
        mine = sum(1 for o in tails if self.occ_student[o] == student)
        shift = (len(tails) - mine) - mine
        for i, change in ((student, shift), (other, -shift)):
            if not shape.count_min <= len(self.placed[i]) + change <= shape.count_max:
                return None
        return tuple(
            (o, other if self.occ_student[o] == student else student, self.occ_group[o])
            for o in tails
        )

    def _changes(self, move: Move) -> dict[int, tuple[list[int], list[int]]]:
        """The groups each student a move touches leaves and joins."""
        changes: dict[int, tuple[list[int], list[int]]] = {}
        for place, student, group in move:
            changes.setdefault(self.occ_student[place], ([], []))[0].append(self.occ_group[place])
            changes.setdefault(student, ([], []))[1].append(group)
        return changes

    def _delta(self, move: Move) -> int:
        delta = 0
        for student, (left, joined) in self._changes(move).items():
            groups = list(self.placed[student])
            for group in left:
                groups.remove(group)
            delta += self.problem.cost(student, groups + joined) - self.cost[student]
        return delta

    def _is_tabu(self, move: Move, step: int) -> bool:
        return any(
            self.tabu.get((student, group), 0) > step
            for student, (_, joined) in self._changes(move).items()
            for group in joined
        )

    def _apply(self, move: Move, step: int) -> None:
        changes = self._changes(move)
        for place, student, group in move:
            self.size[self.occ_group[place]] -= 1
            self.size[group] += 1
            self.occ_student[place], self.occ_group[place] = student, group
        for student, (left, joined) in changes.items():
            for group in left:
                self.placed[student].remove(group)
                self.tabu[(student, group)] = step + TABU_STEPS
            self.placed[student] += joined
            cost = self.problem.cost(student, self.placed[student])
            self.total += cost - self.cost[student]
            self.cost[student] = cost


class _Spread:
    """The constructive spread: the slots in order, first who presents in a slot (those who
    need it most, as long as they can all get a role other than their last and their next
    pinned one), then who holds which role (a matching that respects that wish)."""

    def __init__(
        self, problem: _Problem[Any, Any], pinned: list[tuple[int, int]], rng: random.Random
    ) -> None:
        self.problem, self.pinned, self.rng = problem, pinned, rng
        shape, n = problem.shape, len(problem.students)
        self.pins_of = [[g for i, g in pinned if i == student] for student in range(n)]
        self.pins_in = [[i for i, g in pinned if g == group] for group in problem.groups]
        self.targets = _raised(
            [len(p) for p in self.pins_of],
            [len(problem.slots) - len(b) for b in problem.blocked],
            shape.count_min,
            shape.count_max,
            shape.places - n * shape.count_min,
            rng,
        )
        self.sizes = _raised(
            [len(p) for p in self.pins_in],
            [problem.free_students(problem.group_slot[g]) for g in problem.groups],
            shape.group_min,
            shape.group_max,
            shape.places - len(problem.group_slot) * shape.group_min,
            rng,
        )
        self.pinned_slots = [{problem.group_slot[g] for g in p} for p in self.pins_of]
        self.placed = [len(p) for p in self.pins_of]
        self.last_role: list[int | None] = [None] * n

    def state(self) -> _State:
        problem = self.problem
        students = [i for i, _ in self.pinned]
        groups = [g for _, g in self.pinned]
        for slot, slot_groups in enumerate(problem.slot_groups):
            seats = [g for g in slot_groups for _ in range(self.sizes[g] - len(self.pins_in[g]))]
            self.rng.shuffle(seats)
            chosen = self._presenters(slot, seats)
            roles = _match(chosen, seats, partial(self._wished, slot=slot))
            students += chosen
            groups += roles
            for g in slot_groups:
                for i in self.pins_in[g]:
                    self.last_role[i] = problem.group_role[g]
            for i, g in zip(chosen, roles, strict=True):
                self.placed[i] += 1
                self.last_role[i] = problem.group_role[g]
        pinned = [True] * len(self.pinned) + [False] * (len(students) - len(self.pinned))
        return _State(problem, students, groups, pinned)

    def _wished(self, student: int, group: int, slot: int) -> bool:
        """Whether the student may hold this role without holding a role twice in a row."""
        role = self.problem.group_role[group]
        if role == self.last_role[student] or student in self.pins_in[group]:
            return False
        later = [g for g in self.pins_of[student] if self.problem.group_slot[g] > slot]
        return not later or self.problem.group_role[min(later)] != role

    def _presenters(self, slot: int, seats: list[int]) -> list[int]:
        """Who presents in the slot besides the pinned: the students with the most
        presentations left for the fewest slots left, unless they cannot all get a wished
        role; a student who must present in every slot left always does."""
        problem, n = self.problem, len(self.problem.students)
        here = {i for g in problem.slot_groups[slot] for i in self.pins_in[g]}
        need: dict[int, float] = {}
        for i in range(n):
            left = sum(
                1
                for s in range(slot, len(problem.slots))
                if s not in problem.blocked[i] and s not in self.pinned_slots[i]
            )
            if self.targets[i] > self.placed[i]:
                need[i] = (self.targets[i] - self.placed[i]) / max(1, left)
        ranked = sorted(
            need,
            key=lambda i: (i in here, slot in problem.blocked[i], -need[i], self.rng.random()),
        )
        fit = [i for i in ranked if i not in here and slot not in problem.blocked[i]]
        chosen: list[int] = []
        for i in fit:
            if len(chosen) == len(seats):
                break
            trial = [*chosen, i]
            if need[i] >= 1 or _matched(trial, seats, partial(self._wished, slot=slot)):
                chosen = trial
        for i in ranked:
            if len(chosen) == len(seats):
                break
            if i not in chosen:
                chosen.append(i)
        # Places left over go to whoever still has presentations to give, even twice here.
        while len(chosen) < len(seats):
            chosen.append(
                max(ranked, key=lambda i: self.targets[i] - self.placed[i] - chosen.count(i))
            )
        return chosen


def _raised(
    fixed: list[int], room: list[int], low: int, high: int, raised: int, rng: random.Random
) -> list[int]:
    """``low`` for each, ``high`` for ``raised`` of them: those ``fixed`` at ``high`` first, then
    those with the most room, ties by chance."""
    targets = [low] * len(fixed)
    if high == low:
        return targets
    order = sorted(range(len(fixed)), key=lambda i: (fixed[i] < high, -room[i], rng.random()))
    for i in order[:raised]:
        targets[i] = high
    return targets


def _matching(
    students: list[int], seats: list[int], allowed: Callable[[int, int], bool]
) -> list[int | None]:
    """A largest matching of students (by index) to seats they are ``allowed``, by augmenting
    paths: the student index holding each seat, or ``None``."""
    owner: list[int | None] = [None] * len(seats)

    def place(student: int, seen: set[int]) -> bool:
        for seat, group in enumerate(seats):
            if seat in seen or not allowed(students[student], group):
                continue
            seen.add(seat)
            holder = owner[seat]
            if holder is None or place(holder, seen):
                owner[seat] = student
                return True
        return False

    for student in range(len(students)):
        place(student, set())
    return owner


def _matched(students: list[int], seats: list[int], allowed: Callable[[int, int], bool]) -> bool:
    """Whether every student can get a seat they are ``allowed``."""
    return sum(o is not None for o in _matching(students, seats, allowed)) == len(students)


def _match(students: list[int], seats: list[int], allowed: Callable[[int, int], bool]) -> list[int]:
    """The seat's group of each student: a largest matching, and any free seat for a student
    left over."""
    owner = _matching(students, seats, allowed)
    for student in range(len(students)):
        if student not in owner:
            owner[owner.index(None)] = student
    seat_of = {student: seat for seat, student in enumerate(owner) if student is not None}
    return [seats[seat_of[student]] for student in range(len(students))]


class _Exhaustive:
    """A depth-first search of every way to fill the slots in order, which remembers the
    (slot, counts, last roles) it found hopeless; it gives up after ``tries`` partial
    assignments, and ``proven`` then stays false."""

    def __init__(
        self,
        problem: _Problem[Any, Any],
        pinned: list[tuple[int, int]],
        tries: int,
        rng: random.Random,
    ) -> None:
        self.problem, self.tries = problem, tries
        self.tried = self.proven = False
        # Students who need a slot equally are tried in an order of the seed's.
        self.chance = [rng.random() for _ in problem.students]
        n, slots = len(problem.students), len(problem.slots)
        self.pins_at: list[dict[int, int]] = [{} for _ in range(slots)]
        for i, group in pinned:
            self.pins_at[problem.group_slot[group]][i] = group
        # free_from[i][t]: the slots from t on in which student i may present.
        self.free_from = [[0] * (slots + 1) for _ in range(n)]
        for i in range(n):
            for t in reversed(range(slots)):
                free = t not in problem.blocked[i]
                self.free_from[i][t] = self.free_from[i][t + 1] + free
        self.hopeless: set[tuple[int, tuple[int, ...], tuple[int, ...]]] = set()
        self.path: list[list[tuple[int, int]]] = []

    def run(self) -> _State | None:
        self.tried = True
        shape = self.problem.shape
        if shape.group_min != shape.group_max:
            return None
        n = len(self.problem.students)
        if self._fill(0, (0,) * n, (-1,) * n):
            places = [place for fill in self.path for place in fill]
            pinned = {(i, g) for slot in self.pins_at for i, g in slot.items()}
            return _State(
                self.problem,
                [i for i, _ in places],
                [g for _, g in places],
                [place in pinned for place in places],
            )
        self.proven = self.tries > 0
        return None

    def _fill(self, slot: int, counts: tuple[int, ...], last: tuple[int, ...]) -> bool:
        problem, shape = self.problem, self.problem.shape
        if slot == len(problem.slots):
            return all(shape.count_min <= count <= shape.count_max for count in counts)
        if (slot, counts, last) in self.hopeless or self.tries <= 0:
            return False
        self.tries -= 1
        if any(c + self.free_from[i][slot] < shape.count_min for i, c in enumerate(counts)):
            self.hopeless.add((slot, counts, last))
            return False
        for fill in self._fills(slot, counts, last):
            new_counts, new_last = list(counts), list(last)
            for i, group in fill:
                new_counts[i] += 1
                new_last[i] = problem.group_role[group]
            self.path.append(fill)
            if self._fill(slot + 1, tuple(new_counts), tuple(new_last)):
                return True
            self.path.pop()
            if self.tries <= 0:
                return False
        self.hopeless.add((slot, counts, last))
        return False

    def _fills(
        self, slot: int, counts: tuple[int, ...], last: tuple[int, ...]
    ) -> Iterator[list[tuple[int, int]]]:
        """Every way to fill the slot's seats, the students who need it most first."""
        problem, shape = self.problem, self.problem.shape
        pins = self.pins_at[slot]
        if any(problem.group_role[g] == last[i] for i, g in pins.items()):
            return
        seats = {g: shape.group_min for g in problem.slot_groups[slot]}
        for g in pins.values():
            seats[g] -= 1
        students = sorted(
            (
                i for i in range(len(counts))
                if i not in pins and slot not in problem.blocked[i] and counts[i] < shape.count_max
            ),
            key=lambda i: ((counts[i] - shape.count_min) - self.free_from[i][slot], self.chance[i]),
        )  # fmt: skip
        fill = list(pins.items())

        def choose(index: int, open_seats: int) -> Iterator[list[tuple[int, int]]]:
            if open_seats == 0:
                yield list(fill)
                return
            if len(students) - index < open_seats:
                return
            i = students[index]
            for group, free in seats.items():
                if free and problem.group_role[group] != last[i]:
                    seats[group] -= 1
                    fill.append((i, group))
                    yield from choose(index + 1, open_seats - 1)
                    fill.pop()
                    seats[group] += 1
            if counts[i] + self.free_from[i][slot + 1] >= shape.count_min:
                yield from choose(index + 1, open_seats)

        yield from choose(0, sum(seats.values()))

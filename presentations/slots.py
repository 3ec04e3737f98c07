"""Who presents in the slots: the fair assignment of presenters and staff's edits.

Assigning
    ``presenters_assign`` replaces every presenter who is not pinned with a fresh assignment
    (``presentations.assignment``, whose module doc has the rules) that keeps the pinned ones.
    The course's ``PresentationPolicy`` gives the presenters per role and the seed (1 and 0
    without one); a seed given to the call is used instead.
Staff's edits
    ``presenter_pin`` places a student in a role (pinned, so that a new assignment keeps them),
    ``presenters_swap`` exchanges two students' places (both then pinned), ``presenter_unpin``
    lets a new assignment move a student again. A pin or a swap is refused with a
    ``ValidationError`` that names the rule when it would bring a breach of a rule that holds
    student by student: a presenter is a student of the course, holds one role per slot, never
    the same role in two presentations in a row, and never presents in a week they are blocked.
    A breach the assignment already had (a week blocked after it was made) does not block an
    edit that leaves it as it was. Even counts and group sizes are not checked for edits, since
    no single edit can keep them (placing a student adds a presentation to one count only):
    ``presenters_assign`` checks them, and restores them around the pinned places. A role that
    staff have scored was presented: a new assignment keeps its presenters as if pinned, and
    an edit of its presenters moves their presentation Scores with them.
    ``presenter_remove`` is never refused: it is how a student who left is taken out, and the
    gap it leaves is for a new assignment to fill. Assignments and edits of one course take a
    lock on its row, so that none of them checks a state that another is changing.
Reads
    The slots with their papers, dates, roles, minutes and presenters, and a student's
    presentations with their fellow presenters, are read with ``presentations.selectors``
    (``slots_of_course``, ``presentations_of`` and ``fellow_presenters``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from coursesite.models import Course, Role
from grading.models import RubricEvaluation
from grading.rubrics import item_scores_refresh
from presentations.assignment import (
    AssignmentError,
    Breach,
    Pin,
    Rule,
    Slot,
    assignment_breaches,
    assignment_compute,
)
from presentations.models import (
    PRESENTING_ROLES,
    PresentationPolicy,
    Presenter,
    SlotRole,
)
from presentations.selectors import slots_of_course

# The rules an edit by staff is checked for (see the module doc).
EDIT_RULES = frozenset({Rule.STUDENT, Rule.ONE_ROLE_PER_SLOT, Rule.NEW_ROLE, Rule.BLOCKED_WEEK})

Groups = dict[tuple[str, str], list[str]]


@dataclass(frozen=True)
class PresentersAssigned:
    """What ``presenters_assign`` did: the seed it used, the pinned places it kept, the places
    it filled, and how often each student presents now (by username, every student)."""

    seed: int
    kept: int
    placed: int
    counts: dict[str, int]


@dataclass
class _Roster:
    """The course's presentations as the pure assignment sees them: students by username and
    slots by paper key."""

    students: list[str]
    slots: list[Slot[str]]
    blocked: list[tuple[str, int]]
    groups: Groups
    presenters: list[Presenter]
    users: dict[str, User]
    slot_roles: dict[tuple[str, str], SlotRole]

    @classmethod
    def of(cls, course: Course) -> _Roster:
        users = {
            user.username: user
            for user in User.objects.filter(
                memberships__course=course, memberships__role=Role.STUDENT
            ).order_by("username")
        }
        slots = slots_of_course(course)
        groups: Groups = {}
        presenters: list[Presenter] = []
        slot_roles: dict[tuple[str, str], SlotRole] = {}
        for slot in slots:
            for role in slot.roles.all():
                if role.role in PRESENTING_ROLES:
                    rows = list(role.presenters.all())
                    # The prefetch reached the role from its slot; the rows are told so, to
                    # spare a query each.
                    role.slot = slot
                    for row in rows:
                        row.slot_role = role
                    presenters += rows
                    groups[(slot.paper.key, role.role)] = [row.student.username for row in rows]
                    slot_roles[(slot.paper.key, role.role)] = role
        return cls(
            students=list(users),
            slots=[
                Slot(
                    key=slot.paper.key,
                    week=slot.paper.week,
                    roles=tuple(r.role for r in slot.roles.all() if r.role in PRESENTING_ROLES),
                )
                for slot in slots
            ],
            blocked=list(course.blocked_weeks.values_list("student__username", "week")),
            groups=groups,
            presenters=presenters,
            users=users,
            slot_roles=slot_roles,
        )

    def edit_problems(self, after: Groups) -> list[str]:
        """The breaches of the per-student rules that ``after`` has and the current one has not."""
        before = {breach.message for breach in self._breaches(self.groups)}
        return [breach.message for breach in self._breaches(after) if breach.message not in before]

    def _breaches(self, groups: Groups) -> list[Breach]:
        found = assignment_breaches(
            students=self.students, slots=self.slots, blocked=self.blocked, assignment=groups
        )
        return [breach for breach in found if breach.rule in EDIT_RULES]


def _course_of(slot_role: SlotRole) -> Course:
    return slot_role.slot.paper.course


def _lock(course: Course) -> None:
    """Hold the course's row until the transaction ends, so that two assignments or edits of
    one course's presenters never interleave (each reads what the other writes)."""
    Course.objects.select_for_update().filter(pk=course.pk).first()


def _place(slot_role: SlotRole) -> tuple[str, str]:
    return (slot_role.slot.paper.key, slot_role.role)


def _scored_subjects(course: Course) -> set[str]:
    return set(
        RubricEvaluation.objects.filter(
            item__course=course, subject__startswith="role:"
        ).values_list("subject", flat=True)
    )


def _rescore(course: Course, students: list[int]) -> None:
    """Bring the presentation Scores of ``students`` in line after their places changed (a
    place in a role already scored moves its points with it)."""
    policy = PresentationPolicy.objects.filter(course=course).select_related("item").first()
    if policy is not None and policy.item is not None:
        item_scores_refresh(
            item=policy.item,
            students=students,
            changed_by=None,
            reason="the presenters of a scored role changed",
        )


@transaction.atomic
def presenters_assign(*, course: Course, seed: int | None = None) -> PresentersAssigned:
    """Replace every presenter who is not pinned with a fresh, fair assignment that keeps the
    pinned ones; ``ValidationError`` (and no change) when no assignment keeps every rule."""
    _lock(course)
    policy = PresentationPolicy.objects.filter(course=course).first() or PresentationPolicy()
    seed = policy.seed if seed is None else seed
    roster = _Roster.of(course)
    # A role that has been scored was presented: its presenters stay, as pinned ones do.
    scored = _scored_subjects(course)
    pinned = [row for row in roster.presenters if row.pinned or row.slot_role.subject in scored]
    try:
        groups = assignment_compute(
            students=roster.students,
            slots=roster.slots,
            blocked=roster.blocked,
            pins=[Pin(row.student.username, *_place(row.slot_role)) for row in pinned],
            presenters_per_role=policy.presenters_per_role,
            seed=seed,
        )
    except AssignmentError as error:
        raise ValidationError(error.message) from None
    Presenter.objects.filter(slot__paper__course=course, pinned=False).exclude(
        pk__in=[row.pk for row in pinned]
    ).delete()
    kept = {(row.student.username, *_place(row.slot_role)) for row in pinned}
    roles = roster.slot_roles
    new = [
        Presenter(slot=roles[place].slot, slot_role=roles[place], student=roster.users[name])
        for place, names in groups.items()
        for name in names
        if (name, *place) not in kept
    ]
    # Each place was checked by the assignment, which also keeps one role per student and slot.
    Presenter.objects.bulk_create(new)
    counts = Counter(name for names in groups.values() for name in names)
    return PresentersAssigned(
        seed=seed,
        kept=len(pinned),
        placed=len(new),
        counts={name: counts[name] for name in roster.students},
    )


def presenter_place_problems(
    *, slot_role: SlotRole, student: User, replacing: Presenter | None = None
) -> list[str]:
    """What placing ``student`` in ``slot_role`` (instead of ``replacing``, if given) would
    break of the rules checked for edits; empty when the place may be taken."""
    if slot_role.role not in PRESENTING_ROLES:
        return [
            f"the {slot_role.get_role_display().lower()} belong to the whole class; only "
            f"{', '.join(PRESENTING_ROLES)} have presenters"
        ]
    roster = _Roster.of(_course_of(slot_role))
    after = {place: list(names) for place, names in roster.groups.items()}
    if replacing is not None and replacing.pk is not None:
        after[_place(replacing.slot_role)].remove(replacing.student.username)
    after.setdefault(_place(slot_role), []).append(student.username)
    return roster.edit_problems(after)


@transaction.atomic
def presenter_pin(*, slot_role: SlotRole, student: User) -> Presenter:
    """Place the student in the role, pinned; a student already there is pinned. Refused with
    the rule it would break (see the module doc)."""
    _lock(_course_of(slot_role))
    held = Presenter.objects.filter(slot_role=slot_role, student=student).first()
    if held is not None:
        if not held.pinned:
            held.pinned = True
            held.save(update_fields=["pinned"])
        return held
    problems = presenter_place_problems(slot_role=slot_role, student=student)
    if problems:
        raise ValidationError(problems)
    presenter = Presenter(slot=slot_role.slot, slot_role=slot_role, student=student, pinned=True)
    presenter.full_clean()
    presenter.save()
    _rescore(_course_of(slot_role), [student.pk])
    return presenter


@transaction.atomic
def presenter_unpin(*, presenter: Presenter) -> Presenter:
    """Let a new assignment move the student again."""
    if presenter.pinned:
        presenter.pinned = False
        presenter.save(update_fields=["pinned"])
    return presenter


@transaction.atomic
def presenter_remove(*, presenter: Presenter) -> None:
    """Take the student out of the role; never refused (see the module doc)."""
    course, student = _course_of(presenter.slot_role), presenter.student_id
    presenter.delete()
    _rescore(course, [student])


@transaction.atomic
def presenters_swap(*, first: Presenter, second: Presenter) -> tuple[Presenter, Presenter]:
    """Exchange two students' places, both then pinned. Refused with the rule it would break
    (see the module doc)."""
    if _course_of(first.slot_role) != _course_of(second.slot_role):
        raise ValidationError("Only presenters of the same course can swap places.")
    if first.student_id == second.student_id:
        raise ValidationError("A student cannot swap places with themselves.")
    if {first.slot_role.role, second.slot_role.role} - set(PRESENTING_ROLES):
        raise ValidationError("Only presenters of presenting roles swap places.")
    if first.slot_role_id == second.slot_role_id:
        raise ValidationError(
            f"{first.student.username} and {second.student.username} are in the same group "
            f"({first.slot_role}); there is nothing to swap."
        )
    _lock(_course_of(first.slot_role))
    roster = _Roster.of(_course_of(first.slot_role))
    after = {place: list(names) for place, names in roster.groups.items()}
    one, other = _place(first.slot_role), _place(second.slot_role)
    after[one].remove(first.student.username)
    after[other].remove(second.student.username)
    after[one].append(second.student.username)
    after[other].append(first.student.username)
    problems = roster.edit_problems(after)
    if problems:
        raise ValidationError(problems)
    first_role, second_role = first.slot_role, second.slot_role
    for row, role in ((first, second_role), (second, first_role)):
        row.slot_role, row.slot, row.pinned = role, role.slot, True
        row.full_clean()
        row.save(update_fields=["slot_role", "slot", "pinned"])
    _rescore(_course_of(first_role), [first.student_id, second.student_id])
    return first, second

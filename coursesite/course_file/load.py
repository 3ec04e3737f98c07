"""``course_file_load``: check a whole course file, then write it in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction

from coursesite.course_file.reader import read_course_yaml
from coursesite.course_file.sections import registered_sections
from coursesite.course_file.spec import TOP_KEYS, CoursePlan, parse_course
from coursesite.course_file.sync import Changes, prune, sync_row
from coursesite.models import (
    Course,
    CourseEvent,
    GracePolicy,
    GradeCategory,
    GradeItem,
    GroupMembership,
    Lecture,
    LetterGrade,
    Membership,
    ProjectGroup,
    Score,
)
from coursesite.services import staff_access_grant


def course_file_load(
    *, path: Path, adjust: Callable[[CoursePlan], CoursePlan] | None = None
) -> tuple[Course, Changes]:
    """Create or update the course that the file at ``path`` describes.

    Everything is checked before the first write; a file that fails any check raises
    ``CourseFileError`` and leaves the database exactly as it was. ``adjust`` may change the
    checked plan before anything is written (the demo moves its calendar to today this way).
    """
    root = read_course_yaml(path)
    sections = registered_sections()
    keys = root.mapping(
        required=("course", "grading"),
        optional=TOP_KEYS + tuple(section.key for section in sections),
    )
    plan = parse_course(root, keys, path.parent)
    if adjust is not None:
        plan = adjust(plan)
    parsed = {section.key: section.parse(keys.get(section.key), plan) for section in sections}
    changes = Changes(file=str(path))
    with transaction.atomic():
        course = _apply_course(plan, changes)
        for section in sections:
            section.apply(course, parsed[section.key], changes)
    return course, changes


def _apply_course(plan: CoursePlan, changes: Changes) -> Course:
    facts = asdict(plan.facts)
    course = sync_row(changes, Course, {"slug": facts.pop("slug")}, facts)
    _apply_people(course, plan, changes)
    _apply_groups(course, plan, changes)
    _apply_grading(course, plan, changes)
    _apply_letter_scale(course, plan, changes)
    sync_row(changes, GracePolicy, {"course": course}, asdict(plan.grace))
    _apply_schedule(course, plan, changes)
    return course


def _students_with_scores(course: Course, rows: Any) -> list[str]:
    users = [row.user_id for row in rows]
    return sorted(
        Score.objects.filter(item__course=course, student__in=users)
        .values_list("student__username", flat=True)
        .distinct()
    )


def _apply_people(course: Course, plan: CoursePlan, changes: Changes) -> None:
    kept = []
    for person in plan.people:
        # A new account cannot log in until someone sets its password (or single sign-on does).
        user = sync_row(
            changes,
            User,
            {"username": person.username},
            {"first_name": person.first_name, "last_name": person.last_name, "email": person.email},
            create_only={"password": make_password(None)},
        )
        membership = sync_row(
            changes,
            Membership,
            {"course": course, "user": user},
            {
                "role": person.role,
                "section": person.section,
                "sis_user_id": person.sis_user_id,
                "sis_login_id": person.sis_login_id,
            },
        )
        if membership.is_staff_role:
            staff_access_grant(user=user)
        kept.append(membership.pk)
    prune(
        changes,
        course.memberships.exclude(pk__in=kept),
        key="people",
        in_use=lambda rows: _students_with_scores(course, rows),
    )


def _apply_groups(course: Course, plan: CoursePlan, changes: Changes) -> None:
    if plan.groups is None:
        return
    wanted = {(group.name, username) for group in plan.groups for username in group.members}
    current = GroupMembership.objects.filter(course=course).select_related("group", "student")
    stale = [gm.pk for gm in current if (gm.group.name, gm.student.username) not in wanted]
    # Members leave their old groups first, so that a student can move between groups.
    prune(changes, GroupMembership.objects.filter(pk__in=stale), key="groups")
    kept = []
    for spec in plan.groups:
        group = sync_row(changes, ProjectGroup, {"course": course, "name": spec.name}, {})
        for username in spec.members:
            student = User.objects.get(username=username)
            sync_row(
                changes, GroupMembership, {"course": course, "group": group, "student": student}, {}
            )
        kept.append(group.pk)
    prune(changes, course.project_groups.exclude(pk__in=kept), key="groups")


def _apply_grading(course: Course, plan: CoursePlan, changes: Changes) -> None:
    categories = {}
    for spec in plan.categories:
        categories[spec.name] = sync_row(
            changes,
            GradeCategory,
            {"course": course, "name": spec.name},
            {"weight": spec.weight, "drop_lowest": spec.drop_lowest, "position": spec.position},
        )
    slugs = []
    for item in plan.items():
        values = asdict(item)
        slug = values.pop("slug")
        values["category"] = categories[values.pop("category")]
        sync_row(changes, GradeItem, {"course": course, "slug": slug}, values)
        slugs.append(slug)
    prune(
        changes,
        course.items.exclude(slug__in=slugs),
        key="grading",
        in_use=lambda rows: [f"the item {row.slug!r}" for row in rows if row.scores.exists()],
    )
    prune(changes, course.categories.exclude(name__in=list(categories)), key="grading")


def _apply_letter_scale(course: Course, plan: CoursePlan, changes: Changes) -> None:
    """A step is its letter and its bound together: a step whose bound moved is replaced."""
    wanted = {(step.letter, step.minimum) for step in plan.letter_scale}
    stale = [
        row.pk for row in course.letter_grades.all() if (row.letter, row.minimum) not in wanted
    ]
    # Stale steps go first: a new step may take the letter or the bound one of them held.
    prune(changes, LetterGrade.objects.filter(pk__in=stale), key="letter_scale")
    for step in plan.letter_scale:
        lookup = {"course": course, "letter": step.letter, "minimum": step.minimum}
        sync_row(changes, LetterGrade, lookup, {})


def _apply_schedule(course: Course, plan: CoursePlan, changes: Changes) -> None:
    kept = []
    for meeting in plan.meetings:
        values = asdict(meeting)
        lookup = {
            "course": course,
            "date": values.pop("date"),
            "starts_at": values.pop("starts_at"),
        }
        kept.append(sync_row(changes, Lecture, lookup, values).pk)
    prune(changes, course.lectures.exclude(pk__in=kept), key="schedule")
    items = {item.slug: item for item in course.items.all()}
    kept = []
    for event in plan.events:
        lookup = {"course": course, "week": event.week, "title": event.title}
        values = {"date": event.date, "item": items[event.item] if event.item else None}
        kept.append(sync_row(changes, CourseEvent, lookup, values).pk)
    prune(changes, course.events.exclude(pk__in=kept), key="schedule")

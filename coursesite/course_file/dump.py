"""``course_file_dump``: write a course back as a course file that loads into the same course."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

import yaml

from coursesite.course_file.reader import DATETIME_FORMAT, TIME_FORMAT
from coursesite.course_file.sections import registered_sections
from coursesite.models import Course, GradeItem, Lecture, Role


def number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def course_file_dump(course: Course) -> str:
    document: dict[str, Any] = {
        "course": _facts(course),
        "people": _people(course),
        "groups": _groups(course),
        "grace_days": _grace(course),
        "grading": _grading(course),
        "letter_scale": _letter_scale(course),
        "schedule": _schedule(course),
    }
    for section in registered_sections():
        value = section.dump(course)
        if value is not None:
            document[section.key] = value
    for key in ("groups", "letter_scale"):
        if not document[key]:
            del document[key]
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _facts(course: Course) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "slug": course.slug,
        "code": course.code,
        "title": course.title,
        "term": course.term,
        "time_zone": course.time_zone,
        "starts_on": course.starts_on.isoformat(),
        "ends_on": course.ends_on.isoformat(),
    }
    if course.textbook:
        facts["textbook"] = course.textbook
    facts["group_size"] = {"min": course.group_size_min, "max": course.group_size_max}
    if course.groups_locked_at:
        facts["groups_locked_at"] = _local(course.groups_locked_at, course)
    facts["regrade_window_days"] = course.regrade_window_days
    facts["tas_release"] = course.tas_release
    facts["tas_grant_extensions"] = course.tas_grant_extensions
    return facts


def _people(course: Course) -> list[dict[str, str]]:
    people = []
    memberships = course.memberships.select_related("user").order_by("user__username")
    order = list(Role)
    for membership in sorted(memberships, key=lambda m: order.index(Role(m.role))):
        user = membership.user
        person = {
            "username": user.username,
            "name": f"{user.first_name} {user.last_name}".strip(),
            "email": user.email,
            "role": membership.role,
            "section": membership.section,
            "sis_user_id": membership.sis_user_id,
            "sis_login_id": membership.sis_login_id,
        }
        people.append({key: value for key, value in person.items() if value})
    return people


def _groups(course: Course) -> list[dict[str, Any]]:
    return [
        {
            "name": group.name,
            "members": sorted(gm.student.username for gm in group.group_memberships.all()),
        }
        for group in course.project_groups.prefetch_related("group_memberships__student")
    ]


def _grace(course: Course) -> dict[str, Any]:
    policy = course.grace_policy
    grace: dict[str, Any] = {
        "pool": policy.pool_days,
        "per_item_cap": policy.per_item_cap,
        "slack_minutes": policy.slack_minutes,
        "partial_day": str(policy.partial_day),
        "after_pool": str(policy.after_pool),
        "penalty_percent_per_day": (
            number(policy.penalty_percent_per_day)
            if policy.penalty_percent_per_day is not None
            else None
        ),
        "late_days_after_pool": policy.late_days_after_pool,
    }
    return {key: value for key, value in grace.items() if value is not None}


def _local(moment: datetime, course: Course) -> str:
    return moment.astimezone(course.tz).strftime(DATETIME_FORMAT)


def _item(item: GradeItem, course: Course) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "slug": item.slug,
        "title": item.title,
        "points": number(item.max_points),
    }
    if item.weight is not None:
        entry["weight"] = number(item.weight)
    if item.opens_at:
        entry["opens"] = _local(item.opens_at, course)
    if item.due_at:
        entry["due"] = _local(item.due_at, course)
    if item.released:
        entry["released"] = True
    if item.required_to_pass:
        entry["required_to_pass"] = True
        entry["pass_mark"] = number(item.pass_mark or Decimal(0))
    if item.uses_grace_days:
        entry["uses_grace_days"] = True
    return entry


def _grading(course: Course) -> list[dict[str, Any]]:
    grading = []
    for category in course.categories.prefetch_related("items"):
        entry: dict[str, Any] = {"category": category.name, "weight": number(category.weight)}
        if category.drop_lowest:
            entry["drop_lowest"] = category.drop_lowest
        entry["items"] = [
            _item(item, course) for item in sorted(category.items.all(), key=lambda i: i.position)
        ]
        grading.append(entry)
    return grading


def _letter_scale(course: Course) -> list[dict[str, Any]]:
    return [
        {"letter": step.letter, "min": number(step.minimum)}
        for step in course.letter_grades.order_by("-minimum")
    ]


def _meeting(lecture: Lecture, week_topic: str) -> dict[str, Any]:
    meeting: dict[str, Any] = {
        "kind": lecture.kind,
        "date": lecture.date.isoformat(),
        "start": lecture.starts_at.strftime(TIME_FORMAT),
        "end": lecture.ends_at.strftime(TIME_FORMAT),
    }
    if lecture.room:
        meeting["room"] = lecture.room
    if lecture.topic != week_topic:
        meeting["topic"] = lecture.topic
    return meeting


def _schedule(course: Course) -> list[dict[str, Any]]:
    lectures = {
        week: list(rows)
        for week, rows in groupby(
            course.lectures.order_by("week", "date", "starts_at"), key=lambda lecture: lecture.week
        )
    }
    events: dict[int, list[dict[str, Any]]] = {}
    for event in course.events.select_related("item").order_by("week", "date", "title"):
        entry: dict[str, Any] = {"title": event.title}
        if event.date:
            entry["date"] = event.date.isoformat()
        if event.item:
            entry["item"] = event.item.slug
        events.setdefault(event.week, []).append(entry)
    schedule = []
    for week in sorted(set(lectures) | set(events)):
        entry = {"week": week}
        meetings = lectures.get(week, [])
        topic = Counter(m.topic for m in meetings).most_common(1)[0][0] if meetings else ""
        if topic:
            entry["topic"] = topic
        if meetings:
            entry["meetings"] = [_meeting(lecture, topic) for lecture in meetings]
        if week in events:
            entry["events"] = events[week]
        schedule.append(entry)
    return schedule

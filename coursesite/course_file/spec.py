"""The core of a course file, parsed and checked into plain values before anything is written.

A ``CoursePlan`` is everything the file says about the course itself; sections that other apps
add (assignments, papers, ...) are checked against it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from coursesite.course_file.letter_scale import parse_letter_scale
from coursesite.course_file.reader import CourseFileError, Node, clipped, read_limited, shown
from coursesite.gradebook.engine import LetterStep
from coursesite.models import Course, LectureKind, Membership, Role
from coursesite.models.grades import AfterPool, PartialDay

HUNDRED = Decimal(100)
PERSON_KEYS = ("username", "name", "email", "role", "section", "sis_user_id", "sis_login_id")
MEMBERSHIP_KEYS = ("section", "sis_user_id", "sis_login_id")


@dataclass(frozen=True)
class CourseFacts:
    slug: str
    code: str
    title: str
    term: str
    time_zone: str
    starts_on: date
    ends_on: date
    textbook: str
    group_size_min: int
    group_size_max: int
    groups_locked_at: datetime | None
    regrade_window_days: int
    tas_release: bool = True
    tas_grant_extensions: bool = True


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    section: str
    sis_user_id: str
    sis_login_id: str


@dataclass(frozen=True)
class Group:
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    slug: str
    title: str
    category: str
    max_points: Decimal
    weight: Decimal | None
    opens_at: datetime | None
    due_at: datetime | None
    released: bool
    required_to_pass: bool
    pass_mark: Decimal | None
    uses_grace_days: bool
    position: int


@dataclass(frozen=True)
class Category:
    name: str
    weight: Decimal
    drop_lowest: int
    position: int
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Grace:
    pool_days: int
    per_item_cap: int | None
    slack_minutes: int
    partial_day: str
    after_pool: str
    penalty_percent_per_day: Decimal | None
    late_days_after_pool: int | None


@dataclass(frozen=True)
class Meeting:
    week: int
    date: date
    starts_at: time
    ends_at: time
    room: str
    kind: str
    topic: str


@dataclass(frozen=True)
class Event:
    week: int
    title: str
    date: date | None
    item: str | None


@dataclass
class CoursePlan:
    facts: CourseFacts
    people: list[Person]
    # None when the file has no groups section: groups the students formed are then kept.
    groups: list[Group] | None
    categories: list[Category]
    grace: Grace
    # Highest bound first; empty when the course shows no letters.
    letter_scale: list[LetterStep]
    meetings: list[Meeting]
    events: list[Event]
    claimed: dict[str, str] = field(default_factory=dict)
    # What a section tells the sections parsed after it (e.g. the slugs of the file's rubrics).
    published: dict[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.facts.time_zone)

    def items(self) -> list[Item]:
        return [item for category in self.categories for item in category.items]

    def item_ref(self, node: Node) -> Item:
        """The item a section refers to by slug, or an error naming the slugs that exist."""
        slug = node.slug()
        for item in self.items():
            if item.slug == slug:
                return item
        raise node.error(f"no graded item has the slug {shown(slug)} (see grading)")

    def claim_item(self, node: Node, owner: str) -> Item:
        """The item a section makes its own (an assignment, a deliverable): one owner per item."""
        item = self.item_ref(node)
        if item.slug in self.claimed:
            raise node.error(
                f"the item {shown(item.slug)} is already listed under {self.claimed[item.slug]}"
            )
        self.claimed[item.slug] = owner
        return item

    def check_in_term(self, node: Node, day: date) -> None:
        check_in_term(node, day, self.facts)


def check_in_term(node: Node, day: date, facts: CourseFacts) -> None:
    if not facts.starts_on <= day <= facts.ends_on:
        raise node.error(
            f"{day.isoformat()} is outside the term "
            f"({facts.starts_on.isoformat()} to {facts.ends_on.isoformat()})"
        )


TOP_KEYS = (
    "course", "people", "roster", "groups", "grading", "letter_scale", "grace_days", "schedule",
)  # fmt: skip


def parse_course(root: Node, keys: dict[str, Node], base_dir: Path) -> CoursePlan:
    facts = _parse_facts(keys["course"])
    people = _parse_people(keys.get("people"), keys.get("roster"), base_dir)
    categories = _parse_grading(keys["grading"], facts)
    plan = CoursePlan(
        facts=facts,
        people=people,
        groups=None,
        categories=categories,
        grace=_parse_grace(keys.get("grace_days")),
        letter_scale=parse_letter_scale(keys.get("letter_scale")),
        meetings=[],
        events=[],
    )
    if "groups" in keys:
        plan.groups = _parse_groups(keys["groups"], plan)
    if "schedule" in keys:
        plan.meetings, plan.events = _parse_schedule(keys["schedule"], plan)
    return plan


def _parse_facts(node: Node) -> CourseFacts:
    keys = node.mapping(
        required=("slug", "code", "title", "term", "time_zone", "starts_on", "ends_on"),
        optional=(
            "textbook",
            "group_size",
            "groups_locked_at",
            "regrade_window_days",
            "tas_release",
            "tas_grant_extensions",
        ),
    )
    zone = keys["time_zone"].text(max_length=64)
    if zone not in available_timezones():
        raise keys["time_zone"].error(
            f"{shown(zone)} is not an IANA time zone such as Europe/Istanbul"
        )
    starts_on, ends_on = keys["starts_on"].date(), keys["ends_on"].date()
    if ends_on < starts_on:
        raise keys["ends_on"].error("the term ends before it starts")
    group_min, group_max = 2, 3
    if "group_size" in keys:
        size = keys["group_size"].mapping(required=("min", "max"))
        group_min = size["min"].integer(minimum=1, maximum=20)
        group_max = size["max"].integer(minimum=group_min, maximum=20)
    locked_at = (
        keys["groups_locked_at"].local_datetime(ZoneInfo(zone))
        if "groups_locked_at" in keys
        else None
    )
    facts = CourseFacts(
        slug=keys["slug"].slug(),
        code=keys["code"].text(max_length=64),
        title=keys["title"].text(max_length=200),
        term=keys["term"].text(max_length=64),
        time_zone=zone,
        starts_on=starts_on,
        ends_on=ends_on,
        textbook=keys["textbook"].text(allow_empty=True) if "textbook" in keys else "",
        group_size_min=group_min,
        group_size_max=group_max,
        groups_locked_at=locked_at,
        regrade_window_days=(
            keys["regrade_window_days"].integer(maximum=365)
            if "regrade_window_days" in keys
            else Course._meta.get_field("regrade_window_days").get_default()
        ),
        tas_release=keys["tas_release"].boolean() if "tas_release" in keys else True,
        tas_grant_extensions=(
            keys["tas_grant_extensions"].boolean() if "tas_grant_extensions" in keys else True
        ),
    )
    if locked_at is not None:
        check_in_term(keys["groups_locked_at"], locked_at.astimezone(ZoneInfo(zone)).date(), facts)
    return facts


def _longest(key: str) -> int:
    """The row's own limit: a long value is refused here, not halfway through the writes."""
    if key not in MEMBERSHIP_KEYS:
        return 150
    field = Membership._meta.get_field(key)
    assert isinstance(field, models.CharField) and field.max_length
    return field.max_length


def _person(node: Node) -> Person:
    keys = node.mapping(required=("username", "name", "role"), optional=PERSON_KEYS)
    role = keys["role"].text(max_length=16)
    if role not in Role.values:
        raise keys["role"].error(
            f"{shown(role)} is not a role (use one of {', '.join(Role.values)})"
        )
    first, _, last = keys["name"].text(max_length=150).rpartition(" ")
    optional = {
        key: keys[key].text(max_length=_longest(key), allow_empty=True) if key in keys else ""
        for key in ("email", *MEMBERSHIP_KEYS)
    }
    if optional["email"]:
        try:
            validate_email(optional["email"])
        except ValidationError:
            raise keys["email"].error(
                f"{shown(optional['email'])} is not an email address"
            ) from None
    username = keys["username"].text(max_length=150)
    if not all(ch.isalnum() or ch in "@.+-_" for ch in username):
        raise keys["username"].error(f"{shown(username)} is not a valid user name")
    return Person(
        username=username,
        first_name=first if first else last,
        last_name=last if first else "",
        role=role,
        **optional,
    )


def _roster_nodes(node: Node, base_dir: Path) -> list[Node]:
    """The rows of a roster CSV beside the course file, each as a node named by file and row."""
    path = node.path_inside(base_dir, max_length=255)
    try:
        text = read_limited(path, encoding="utf-8-sig")
    except OSError as error:
        raise node.error(f"the roster cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise node.error("the roster is not UTF-8 text") from None
    except ValueError as error:
        raise node.error(f"the roster {error}") from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        columns = reader.fieldnames or []
        unknown = [column for column in columns if column not in PERSON_KEYS]
        if unknown:
            raise CourseFileError(
                str(path),
                "header",
                f"unknown column(s) {clipped(', '.join(unknown))}; known: {', '.join(PERSON_KEYS)}",
                1,
            )
        rows = []
        for row in reader:
            values = {key: value for key, value in row.items() if key is not None and value != ""}
            if "role" not in values:
                values["role"] = Role.STUDENT
            rows.append(Node(values, f"row {reader.line_num - 1}", str(path), reader.line_num))
    except csv.Error as error:
        raise CourseFileError(str(path), "", f"not a CSV file: {clipped(str(error))}") from None
    return rows


def _parse_people(people: Node | None, roster: Node | None, base_dir: Path) -> list[Person]:
    nodes = list(people.items()) if people is not None else []
    if roster is not None:
        nodes += _roster_nodes(roster, base_dir)
    result: list[Person] = []
    seen: dict[str, str] = {}
    for node in nodes:
        person = _person(node)
        if person.username in seen:
            raise node.error(
                f"{shown(person.username)} is listed twice (first at {seen[person.username]})"
            )
        seen[person.username] = node.path
        result.append(person)
    if not any(person.role == Role.INSTRUCTOR for person in result):
        where = people or roster
        raise CourseFileError(where.file if where else "", "people", "the course has no instructor")
    return result


def _parse_groups(node: Node, plan: CoursePlan) -> list[Group]:
    students = {person.username for person in plan.people if person.role == Role.STUDENT}
    smallest, largest = plan.facts.group_size_min, plan.facts.group_size_max
    groups: list[Group] = []
    placed: dict[str, str] = {}
    for group_node in node.items():
        keys = group_node.mapping(required=("name", "members"))
        name = keys["name"].text(max_length=100)
        if any(group.name == name for group in groups):
            raise keys["name"].error(f"two groups are named {shown(name)}")
        members = tuple(member.text(max_length=150) for member in keys["members"].items())
        if not smallest <= len(members) <= largest:
            raise keys["members"].error(
                f"the group has {len(members)} members; groups have {smallest} to {largest}"
            )
        for username in members:
            if username not in students:
                raise keys["members"].error(f"{shown(username)} is not a student of the course")
            if username in placed:
                raise keys["members"].error(
                    f"{shown(username)} is already in the group {shown(placed[username])}"
                )
            placed[username] = name
        groups.append(Group(name=name, members=members))
    return groups


ITEM_KEYS = (
    "slug", "title", "points", "weight", "opens", "due", "released",
    "required_to_pass", "pass_mark", "uses_grace_days",
)  # fmt: skip


def _parse_item(node: Node, category: str, position: int, facts: CourseFacts) -> Item:
    keys = node.mapping(required=("slug", "title", "points"), optional=ITEM_KEYS)
    max_points = keys["points"].decimal(minimum=Decimal("0.01"), maximum=Decimal(100000))
    required = keys["required_to_pass"].boolean() if "required_to_pass" in keys else False
    pass_mark = None
    if "pass_mark" in keys:
        if not required:
            raise keys["pass_mark"].error("a pass mark needs required_to_pass: true")
        pass_mark = keys["pass_mark"].decimal(maximum=max_points)
    elif required:
        raise node.error("required_to_pass: true needs a pass_mark (points needed to pass)")
    zone = ZoneInfo(facts.time_zone)
    opens_at = due_at = None
    if "opens" in keys:
        opens_at = keys["opens"].local_datetime(zone)
        check_in_term(keys["opens"], opens_at.astimezone(zone).date(), facts)
    if "due" in keys:
        due_at = keys["due"].local_datetime(zone)
        check_in_term(keys["due"], due_at.astimezone(zone).date(), facts)
    if opens_at and due_at and due_at < opens_at:
        raise keys["due"].error("the item is due before it opens")
    return Item(
        slug=keys["slug"].slug(),
        title=keys["title"].text(max_length=200),
        category=category,
        max_points=max_points,
        weight=keys["weight"].decimal(maximum=HUNDRED) if "weight" in keys else None,
        opens_at=opens_at,
        due_at=due_at,
        released=keys["released"].boolean() if "released" in keys else False,
        required_to_pass=required,
        pass_mark=pass_mark,
        uses_grace_days=keys["uses_grace_days"].boolean() if "uses_grace_days" in keys else False,
        position=position,
    )


def _parse_grading(node: Node, facts: CourseFacts) -> list[Category]:
    categories: list[Category] = []
    slugs: dict[str, str] = {}
    for position, category_node in enumerate(node.items()):
        keys = category_node.mapping(
            required=("category", "weight", "items"), optional=("drop_lowest",)
        )
        name = keys["category"].text(max_length=100)
        if any(category.name == name for category in categories):
            raise keys["category"].error(f"two categories are named {shown(name)}")
        weight = keys["weight"].decimal(maximum=HUNDRED)
        items = []
        for index, item_node in enumerate(keys["items"].items()):
            item = _parse_item(item_node, name, index, facts)
            if item.slug in slugs:
                raise item_node.error(
                    f"the slug {shown(item.slug)} is used twice (also in {slugs[item.slug]})"
                )
            slugs[item.slug] = item_node.path
            items.append(item)
        if not items:
            raise keys["items"].error("a category needs at least one item")
        _check_item_weights(keys["items"], items, weight)
        drop = keys["drop_lowest"].integer(maximum=len(items) - 1) if "drop_lowest" in keys else 0
        categories.append(Category(name, weight, drop, position, tuple(items)))
    total = sum((category.weight for category in categories), Decimal(0))
    if total != HUNDRED:
        raise node.error(f"the category weights add up to {total}, not 100")
    return categories


def _check_item_weights(node: Node, items: list[Item], weight: Decimal) -> None:
    """Items with their own weight take that much of the category's weight; the items without
    one share the rest by points, so there must be some rest for them to share."""
    own = sum((item.weight for item in items if item.weight is not None), Decimal(0))
    sharing = [item.slug for item in items if item.weight is None]
    if not sharing and own != weight:
        raise node.error(f"the items' weights add up to {own}, not to the category's {weight}")
    if sharing and own > weight:
        raise node.error(
            f"the items' own weights add up to {own}, more than the category's {weight}"
        )
    # A category of weight 0 counts for nothing anyway; in any other, an item without an own
    # weight that shares nothing would silently count for nothing.
    if sharing and weight and own == weight:
        raise node.error(
            f"the items' own weights take all of the category's {weight}, leaving nothing for "
            f"the items without one ({', '.join(sharing)})"
        )


def _parse_grace(node: Node | None) -> Grace:
    if node is None:
        return Grace(7, None, 0, PartialDay.COUNTS, AfterPool.ZERO, None, None)
    keys = node.mapping(
        required=("pool",),
        optional=(
            "pool", "per_item_cap", "slack_minutes", "partial_day", "after_pool",
            "penalty_percent_per_day", "late_days_after_pool",
        ),
    )  # fmt: skip
    partial = keys["partial_day"].text() if "partial_day" in keys else PartialDay.COUNTS
    if partial not in PartialDay.values:
        raise keys["partial_day"].error(f"use one of {', '.join(PartialDay.values)}")
    after = keys["after_pool"].text() if "after_pool" in keys else AfterPool.ZERO
    if after not in AfterPool.values:
        raise keys["after_pool"].error(f"use one of {', '.join(AfterPool.values)}")
    penalty = (
        keys["penalty_percent_per_day"].decimal(maximum=HUNDRED)
        if "penalty_percent_per_day" in keys
        else None
    )
    late_days = (
        keys["late_days_after_pool"].integer(maximum=365)
        if "late_days_after_pool" in keys
        else None
    )
    if after == AfterPool.PERCENT_PER_DAY and penalty is None:
        raise node.error("after_pool: percent_per_day needs penalty_percent_per_day")
    if after == AfterPool.NO_CREDIT_AFTER and late_days is None:
        raise node.error("after_pool: no_credit_after needs late_days_after_pool")
    if penalty is not None and after != AfterPool.PERCENT_PER_DAY:
        raise keys["penalty_percent_per_day"].error("only used with after_pool: percent_per_day")
    if late_days is not None and after != AfterPool.NO_CREDIT_AFTER:
        raise keys["late_days_after_pool"].error("only used with after_pool: no_credit_after")
    return Grace(
        pool_days=keys["pool"].integer(maximum=365),
        per_item_cap=keys["per_item_cap"].integer(maximum=365) if "per_item_cap" in keys else None,
        slack_minutes=keys["slack_minutes"].integer(maximum=1440) if "slack_minutes" in keys else 0,
        partial_day=partial,
        after_pool=after,
        penalty_percent_per_day=penalty,
        late_days_after_pool=late_days,
    )


def _parse_schedule(node: Node, plan: CoursePlan) -> tuple[list[Meeting], list[Event]]:
    meetings: list[Meeting] = []
    events: list[Event] = []
    weeks: list[int] = []
    for week_node in node.items():
        keys = week_node.mapping(required=("week",), optional=("topic", "meetings", "events"))
        week = keys["week"].integer(minimum=1, maximum=60)
        if week in weeks:
            raise keys["week"].error(f"week {week} is listed twice")
        weeks.append(week)
        topic = keys["topic"].text(max_length=200) if "topic" in keys else ""
        if topic and "meetings" not in keys:
            raise keys["topic"].error(
                "a week's topic is kept on its meetings, and this week has none"
            )
        for meeting_node in keys["meetings"].items() if "meetings" in keys else ():
            meetings.append(_parse_meeting(meeting_node, week, topic, plan))
        for event_node in keys["events"].items() if "events" in keys else ():
            event = _parse_event(event_node, week, plan)
            if any(other.week == week and other.title == event.title for other in events):
                raise event_node.error(f"week {week} lists the event {shown(event.title)} twice")
            events.append(event)
    slots = Counter((meeting.date, meeting.starts_at) for meeting in meetings)
    for (day, start), count in slots.items():
        if count > 1:
            raise node.error(f"{count} meetings start at {day.isoformat()} {start:%H:%M}")
    return meetings, events


def _parse_meeting(node: Node, week: int, week_topic: str, plan: CoursePlan) -> Meeting:
    keys = node.mapping(required=("kind", "date", "start", "end"), optional=("room", "topic"))
    kind = keys["kind"].text()
    if kind not in LectureKind.values:
        raise keys["kind"].error(
            f"{shown(kind)} is not a kind of meeting ({', '.join(LectureKind.values)})"
        )
    day = keys["date"].date()
    plan.check_in_term(keys["date"], day)
    starts_at, ends_at = keys["start"].time(), keys["end"].time()
    if ends_at <= starts_at:
        raise keys["end"].error("a meeting must end after it starts")
    return Meeting(
        week=week,
        date=day,
        starts_at=starts_at,
        ends_at=ends_at,
        room=keys["room"].text(max_length=64) if "room" in keys else "",
        kind=kind,
        topic=keys["topic"].text(max_length=200) if "topic" in keys else week_topic,
    )


def _parse_event(node: Node, week: int, plan: CoursePlan) -> Event:
    keys = node.mapping(required=("title",), optional=("date", "item"))
    day = keys["date"].date() if "date" in keys else None
    if day is not None:
        plan.check_in_term(keys["date"], day)
    return Event(
        week=week,
        title=keys["title"].text(max_length=200),
        date=day,
        item=plan.item_ref(keys["item"]).slug if "item" in keys else None,
    )

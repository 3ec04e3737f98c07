"""The staff gradebook's note under each item's heading: when the item's grades were last sent to
the LMS, or the LMS's last error with a link to the LMS page, where staff send them again.

A course that no LMS course is linked to gets no note at all. A released item with nothing sent
yet says so, with the same link (grades are sent when staff ask); an unreleased one is never
sent, so it says nothing unless it was sent before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.text import Truncator

from coursesite.gradebook.notes import ItemNote
from coursesite.models import Course, GradeItem
from lms.models import CourseLink, LineItemLink
from lms.passback import item_resource_id

TIME_FORMAT = "D j M, H:i"
TITLE_LIMIT = 500


def lms_item_notes(course: Course, items: Sequence[GradeItem]) -> dict[int, ItemNote]:
    """Each item's passback state across the course's LMS links: two queries for a linked
    course, one for a course without a link, whatever the number of items."""
    links = list(CourseLink.objects.filter(course=course).select_related("context"))
    if not links or not items:
        return {}
    by_resource = {item_resource_id(item): item for item in items}
    columns: dict[int, dict[int, LineItemLink]] = {}
    for row in LineItemLink.objects.filter(link__in=links, resource_id__in=by_resource):
        columns.setdefault(by_resource[row.resource_id].pk, {})[row.link_id] = row
    notes = {}
    for item in items:
        note = item_note(course, item, links, columns.get(item.pk, {}))
        if note is not None:
            notes[item.pk] = note
    return notes


def item_note(
    course: Course, item: GradeItem, links: list[CourseLink], rows: dict[int, LineItemLink]
) -> ItemNote | None:
    """The note of one item, ``rows`` being its LMS column of each link that has one."""
    failed = [link for link in links if link.pk in rows and rows[link.pk].last_error]
    if failed:
        errors = "\n".join(
            lms_named(link, links, rows[link.pk].last_error.strip()) for link in failed
        )
        return ItemNote(
            "LMS: error",
            tone="error",
            title=Truncator(errors).chars(TITLE_LIMIT),
            link=reverse("lms-staff", args=[course.slug]),
        )
    sent = {link.pk: rows[link.pk].last_sent_at for link in links if link.pk in rows}
    times = [at for at in sent.values() if at is not None]
    if times:
        # Where several LMS courses are linked, the tooltip tells each one's time.
        title = "\n".join(
            lms_named(link, links, sent_words(course, sent.get(link.pk))) for link in links
        )
        return ItemNote(
            f"LMS: sent {course_time(course, max(times))}", title=title if len(links) > 1 else ""
        )
    if item.released:
        return ItemNote(
            "LMS: not sent yet",
            title="Released; none of its scores is on the LMS yet: send them from the LMS page.",
            link=reverse("lms-staff", args=[course.slug]),
        )
    return None


def lms_named(link: CourseLink, links: list[CourseLink], words: str) -> str:
    """``words`` about one LMS course, named where several are linked to the course."""
    if len(links) == 1:
        return words
    context = link.context
    return f"{context.title or context.id_on_platform}: {words}"


def sent_words(course: Course, at: datetime | None) -> str:
    return f"last sent {course_time(course, at)}" if at is not None else "not sent yet"


def course_time(course: Course, at: datetime) -> str:
    return dateformat.format(timezone.localtime(at, course.tz), TIME_FORMAT)

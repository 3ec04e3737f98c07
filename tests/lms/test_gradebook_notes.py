"""The LMS note under each item's heading on the staff gradebook: when its grades were last sent
(in the course's time zone), not sent yet, or the LMS's last error with a link to the LMS page;
nothing for a course without an LMS link, and nothing on a student's Grades page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lti_tool.models import LtiContext, LtiDeployment

from coursesite.models import GradeItem
from lms.models import CourseLink, LineItemLink
from lms.passback import item_resource_id
from lms.services import course_link_create
from tests.conftest import Personas
from tests.coursesite.test_gradebook_pages import GRADEBOOK_QUERIES
from tests.coursesite.test_pages import logged_in
from tests.lms.conftest import link_course
from tests.lms.platform import Platform

SENT_AT = datetime(2024, 11, 6, 9, 30, tzinfo=UTC)  # 12:30 in Istanbul


@dataclass
class Linked:
    personas: Personas
    link: CourseLink
    a1: GradeItem  # released, sent
    a2: GradeItem  # released, the LMS refused it
    a3: GradeItem  # released, never sent
    a4: GradeItem  # not released, never sent

    @property
    def url(self) -> str:
        return f"/courses/{self.personas.course.slug}/gradebook/"


def item(personas: Personas, slug: str, *, released: bool) -> GradeItem:
    return GradeItem.objects.create(
        course=personas.course, category=personas.quiz.category, slug=slug,
        title=slug.upper(), max_points=100, released=released, position=int(slug[1]),
    )  # fmt: skip


def column(link: CourseLink, graded: GradeItem, **state: object) -> LineItemLink:
    return LineItemLink.objects.create(
        link=link, item=graded, resource_id=item_resource_id(graded),
        url=f"https://lms.example/lineitems/{graded.slug}", **state,
    )  # fmt: skip


@pytest.fixture
def linked(platform: Platform, personas: Personas) -> Linked:
    a1, a2, a3 = (item(personas, slug, released=True) for slug in ("a1", "a2", "a3"))
    a4 = item(personas, "a4", released=False)
    link = link_course(platform, personas.course, linked_by=personas.alice)
    column(link, a1, last_sent_at=SENT_AT, last_attempt_at=SENT_AT)
    column(
        link, a2, last_sent_at=SENT_AT, last_attempt_at=SENT_AT,
        last_error="carol: 400 Bad Request: scoreGiven exceeds scoreMaximum",
    )  # fmt: skip
    return Linked(personas, link, a1, a2, a3, a4)


def heading(html: str, graded: GradeItem) -> str:
    """The HTML of the item's column heading on the staff gradebook."""
    return html.split(f'sort=item-{graded.slug}"', 1)[1].split("</th>", 1)[0]


def test_it_shows_when_an_item_was_last_sent_in_the_course_s_time_zone(linked: Linked) -> None:
    html = logged_in(linked.personas.alice).get(linked.url).content.decode()

    assert '<span class="item-note muted">LMS: sent Wed 6 Nov, 12:30</span>' in heading(
        html, linked.a1
    )


def test_it_shows_the_lms_s_error_with_a_link_to_the_lms_page(linked: Linked) -> None:
    html = logged_in(linked.personas.bob).get(linked.url).content.decode()

    note = heading(html, linked.a2)
    assert (
        '<span class="item-note late" title="carol: 400 Bad Request: scoreGiven exceeds '
        'scoreMaximum"><a href="/courses/dl-fall2024/lms/">LMS: error</a></span>'
    ) in note
    assert "LMS: sent" not in note


def test_it_says_a_released_item_is_not_sent_yet_and_nothing_of_an_unreleased_one(
    linked: Linked,
) -> None:
    html = logged_in(linked.personas.alice).get(linked.url).content.decode()

    assert ">LMS: not sent yet</a></span>" in heading(html, linked.a3)
    assert "item-note" not in heading(html, linked.a4)


def test_it_names_each_lms_course_where_two_are_linked(linked: Linked, platform: Platform) -> None:
    second = LtiContext.objects.create(
        deployment=LtiDeployment.objects.get(registration=platform.registration),
        id_on_platform="lms-441",
        title="Deep Learning (undergraduate)",
    )
    personas = linked.personas
    alice = cast(User, personas.alice)
    other = course_link_create(context=second, course=personas.course, linked_by=alice)
    column(other, linked.a1, last_attempt_at=SENT_AT, last_error="erin: 404 Not Found")

    html = logged_in(personas.alice).get(linked.url).content.decode()

    assert (
        'title="Deep Learning (undergraduate): erin: 404 Not Found"><a href="/courses/'
        'dl-fall2024/lms/">LMS: error</a>'
    ) in heading(html, linked.a1)
    # A column the second LMS course has not got yet: the latest send, and each course's in the
    # tooltip.
    column(other, linked.a3, last_sent_at=SENT_AT)
    html = logged_in(personas.alice).get(linked.url).content.decode()
    assert (
        '<span class="item-note muted" title="Deep Learning: not sent yet\nDeep Learning '
        '(undergraduate): last sent Wed 6 Nov, 12:30">LMS: sent Wed 6 Nov, 12:30</span>'
    ) in heading(html, linked.a3)


def test_it_shows_no_lms_note_for_a_course_without_an_lms_link(personas: Personas) -> None:
    GradeItem.objects.filter(pk=personas.quiz.pk).update(released=True)

    html = logged_in(personas.alice).get(f"/courses/{personas.course.slug}/gradebook/")

    assert "LMS:" not in heading(html.content.decode(), personas.quiz)
    assert "item-note" not in html.content.decode()


def test_it_never_shows_the_notes_to_a_student(linked: Linked) -> None:
    carol = logged_in(linked.personas.carol)

    grades = carol.get(f"/courses/{linked.personas.course.slug}/grades/")
    gradebook = carol.get(linked.url, follow=True)

    assert grades.status_code == 200
    assert gradebook.redirect_chain[-1][0].endswith("/grades/")
    for page in (grades, gradebook):
        html = page.content.decode()
        assert "item-note" not in html and "LMS: sent" not in html and "LMS: error" not in html


def test_it_reads_the_notes_in_one_more_query_whatever_the_number_of_items(
    linked: Linked,
) -> None:
    alice = logged_in(linked.personas.alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(linked.url).status_code == 200
        return len(captured)

    few = queries()
    for number in range(5, 10):
        more = item(linked.personas, f"a{number}", released=True)
        column(linked.link, more, last_sent_at=SENT_AT, last_error="refused")

    # The course's links, then their line items; the course without a link stops at the first.
    assert (few, queries()) == (GRADEBOOK_QUERIES + 1, GRADEBOOK_QUERIES + 1)

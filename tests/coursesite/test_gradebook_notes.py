"""Notes under the staff gradebook's item headings: the providers the apps above register are
merged, a provider that fails is logged and left out, and the page shows what they say."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import pytest

from coursesite.gradebook import notes
from coursesite.gradebook.notes import ItemNote, item_notes, item_notes_register
from coursesite.models import Course, GradeItem
from tests.conftest import Personas
from tests.coursesite.test_pages import logged_in


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A registry of the test's own: the apps' providers stay out, and the test's do not stay."""
    monkeypatch.setattr(notes, "_providers", [])
    yield


def on_time(course: Course, items: Sequence[GradeItem]) -> dict[int, ItemNote]:
    return {item.pk: ItemNote(f"On time in {course.code}") for item in items}


def late_ones(course: Course, items: Sequence[GradeItem]) -> dict[int, ItemNote]:
    return {
        item.pk: ItemNote("Late", tone="error", title="Handed to the printer late", link="/late/")
        for item in items
        if item.slug == "quiz"
    }


def broken(course: Course, items: Sequence[GradeItem]) -> dict[int, ItemNote]:
    raise RuntimeError("the printer is on fire")


def test_it_merges_the_providers_notes_in_their_order(providers: None, personas: Personas) -> None:
    item_notes_register(on_time)
    item_notes_register(late_ones)
    other = GradeItem.objects.create(
        course=personas.course, category=personas.quiz.category, slug="a1", title="A1",
        max_points=100,
    )  # fmt: skip

    merged = item_notes(personas.course, [personas.quiz, other])

    assert merged == {
        personas.quiz.pk: [
            ItemNote("On time in COMP541"),
            ItemNote("Late", tone="error", title="Handed to the printer late", link="/late/"),
        ],
        other.pk: [ItemNote("On time in COMP541")],
    }


def test_it_keeps_one_provider_registered_twice(providers: None, personas: Personas) -> None:
    item_notes_register(on_time)
    item_notes_register(on_time)

    assert item_notes(personas.course, [personas.quiz]) == {
        personas.quiz.pk: [ItemNote("On time in COMP541")]
    }


def test_it_leaves_out_a_provider_that_fails_and_logs_it(
    providers: None, personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    item_notes_register(broken)
    item_notes_register(late_ones)

    with caplog.at_level(logging.ERROR, logger="coursesite.gradebook.notes"):
        merged = item_notes(personas.course, [personas.quiz])

    assert merged == {
        personas.quiz.pk: [
            ItemNote("Late", tone="error", title="Handed to the printer late", link="/late/")
        ]
    }
    (record,) = caplog.records
    assert "dl-fall2024" in record.getMessage()
    assert record.exc_info is not None and "on fire" in str(record.exc_info[1])


def test_it_shows_the_notes_under_the_item_heading_of_the_staff_gradebook(
    providers: None, personas: Personas
) -> None:
    item_notes_register(broken)
    item_notes_register(late_ones)

    response = logged_in(personas.alice).get(f"/courses/{personas.course.slug}/gradebook/")

    assert response.status_code == 200
    heading = response.content.decode().split('sort=item-quiz"', 1)[1].split("</th>")[0]
    assert (
        '<span class="item-note late" title="Handed to the printer late">'
        '<a href="/late/">Late</a></span>'
    ) in heading


def test_it_escapes_what_a_provider_writes(providers: None, personas: Personas) -> None:
    item_notes_register(
        lambda course, items: {
            item.pk: ItemNote("<b>sent</b>", title='"><script>') for item in items
        }
    )

    page = logged_in(personas.bob).get(f"/courses/{personas.course.slug}/gradebook/")

    html = page.content.decode()
    assert "&lt;b&gt;sent&lt;/b&gt;" in html
    assert "<b>sent</b>" not in html and '"><script>' not in html

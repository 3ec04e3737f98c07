"""A student the roster marks inactive (dropped the course, by hand or by an LMS roster sync)
keeps their work for the staff, and the course opens nothing to them any more."""

from __future__ import annotations

from coursesite.models import Membership
from coursesite.permissions import courses_of
from tests.conftest import Personas
from tests.coursesite.test_pages import logged_in, page_text


def drop(personas: Personas) -> None:
    Membership.objects.filter(course=personas.course, user=personas.carol).update(active=False)


def test_it_opens_the_course_to_an_active_student(personas: Personas) -> None:
    assert logged_in(personas.carol).get(f"/courses/{personas.course.slug}/").status_code == 200
    assert list(courses_of(personas.carol)) == [personas.course]


def test_it_answers_a_dropped_student_s_course_page_as_not_found(personas: Personas) -> None:
    drop(personas)
    assert logged_in(personas.carol).get(f"/courses/{personas.course.slug}/").status_code == 404
    assert list(courses_of(personas.carol)) == []


def test_it_answers_a_dropped_student_s_api_calls_as_not_found(personas: Personas) -> None:
    client = personas.client(personas.carol)
    drop(personas)
    assert client.get(f"/api/v1/courses/{personas.course.slug}/").status_code == 404
    assert client.get("/api/v1/courses/").json() == []


def test_it_keeps_a_dropped_student_on_the_staff_s_roster(personas: Personas) -> None:
    drop(personas)
    membership = Membership.objects.get(course=personas.course, user=personas.carol)
    assert membership.active is False
    answer = personas.client(personas.alice).get(
        f"/api/v1/courses/{personas.course.slug}/gradebook/"
    )
    assert answer.status_code == 200
    assert "carol" in {row["student"]["username"] for row in answer.json()["rows"]}


def test_it_marks_a_dropped_student_on_the_staff_gradebook(personas: Personas) -> None:
    page = f"/courses/{personas.course.slug}/gradebook/"
    assert "carol dropped" not in page_text(logged_in(personas.alice).get(page))
    drop(personas)
    assert "carol dropped" in page_text(logged_in(personas.alice).get(page))

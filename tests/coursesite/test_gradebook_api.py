"""GET /api/v1/courses/{slug}/gradebook/: every row for staff, one's own released row for a
student, and the course's items."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openapi_spec_validator import validate

from coursesite.models import Role
from tests.conftest import make_member
from tests.coursesite.gradebook_setup import COURSE, enrol, record, semester

URL = f"{COURSE}/gradebook/"


@pytest.fixture
def term(personas):
    return semester(personas)


def rows_by_username(answer):
    return {row["student"]["username"]: row for row in answer.json()["rows"]}


def cells(row):
    return {item["slug"]: item for item in row["items"]}


def test_it_gives_staff_every_students_row_with_unreleased_scores(term):
    answer = term.client(term.personas.alice).get(URL)
    assert answer.status_code == 200
    assert answer.json()["view"] == "staff"
    rows = rows_by_username(answer)
    assert list(rows) == ["carol", "erin"]
    quiz = cells(rows["carol"])["quiz"]
    assert (quiz["state"], quiz["points"], quiz["percent"], quiz["comment"]) == (
        "graded", "8.00", "80.00", "Good work",
    )  # fmt: skip


def test_it_lets_a_ta_read_the_gradebook_as_staff(term):
    answer = term.client(term.personas.bob).get(URL)
    assert answer.status_code == 200
    assert set(rows_by_username(answer)) == {"carol", "erin"}


def test_it_describes_each_student_with_their_sis_ids_and_section(term):
    rows = rows_by_username(term.client(term.personas.alice).get(URL))
    assert rows["carol"]["student"] == {
        "username": "carol",
        "name": "Carol Chen",
        "sis_user_id": "S1001",
        "sis_login_id": "carol@uni.example",
        "section": "01",
    }


def test_it_computes_categories_totals_letter_and_flags(term):
    rows = rows_by_username(term.client(term.personas.alice).get(URL))
    carol = rows["carol"]
    # Quizzes 80%, A1 90%, A2 not due: current = (20*80 + 80*90)/100; final counts A2 as 0.
    assert (carol["current"], carol["final"], carol["letter"]) == ("88.00", "52.00", "C")
    assert carol["categories"] == [
        {"name": "Quizzes", "weight": "20.00", "current": "80.00", "final": "80.00"},
        {"name": "Assignments", "weight": "80.00", "current": "90.00", "final": "45.00"},
    ]
    erin = rows["erin"]
    assert cells(erin)["quiz"]["state"] == "excused"
    assert cells(erin)["a1"]["state"] == "missing"
    assert erin["flags"] == ["missing_work"]


def test_it_shows_each_score_with_its_late_penalty_and_comment(term):
    a1 = cells(rows_by_username(term.client(term.personas.alice).get(URL))["carol"])["a1"]
    assert a1 == {
        "slug": "a1", "state": "graded", "points": "90.00", "percent": "90.00", "dropped": False,
        "max_points": "100.00", "comment": "Late by a day", "late_penalty_percent": "10.00",
    }  # fmt: skip


def test_it_gives_a_student_only_their_own_row(term):
    answer = term.client(term.personas.carol).get(URL)
    assert answer.status_code == 200
    assert answer.json()["view"] == "student"
    assert list(rows_by_username(answer)) == ["carol"]


def test_it_shows_a_student_nothing_of_an_unreleased_item(term):
    row = rows_by_username(term.client(term.personas.carol).get(URL))["carol"]
    assert cells(row)["quiz"] == {
        "slug": "quiz", "state": "pending", "points": None, "percent": None, "dropped": False,
        "max_points": "10.00", "comment": "", "late_penalty_percent": None,
    }  # fmt: skip
    assert cells(row)["a1"]["points"] == "90.00"
    assert cells(row)["a1"]["comment"] == "Late by a day"
    # Only A1 counts: the unreleased quiz is pending, not its 8 points.
    assert (row["current"], row["final"]) == ("90.00", "36.00")


def test_it_shows_staff_the_students_view_on_request(term):
    answer = term.client(term.personas.bob).get(URL, {"view": "student"})
    assert answer.json()["view"] == "student"
    rows = rows_by_username(answer)
    assert set(rows) == {"carol", "erin"}
    assert cells(rows["carol"])["quiz"]["points"] is None
    assert cells(rows["carol"])["quiz"]["comment"] == ""


def test_it_ignores_a_students_request_for_the_staff_view(term):
    answer = term.client(term.personas.carol).get(URL, {"view": "staff"})
    row = rows_by_username(answer)["carol"]
    assert cells(row)["quiz"]["points"] is None


def test_it_filters_the_rows_by_section(term):
    answer = term.client(term.personas.alice).get(URL, {"section": "02"})
    assert list(rows_by_username(answer)) == ["erin"]


def test_it_lists_the_courses_items_with_due_dates_in_the_course_time_zone(term):
    items = term.client(term.personas.carol).get(URL).json()["items"]
    assert [item["slug"] for item in items] == ["quiz", "a1", "a2"]
    assert items[0] == {
        "slug": "quiz", "title": "Quiz", "category": "Quizzes", "max_points": "10.00",
        "weight": None, "due": "2024-10-09T23:59:00+03:00", "released": False,
    }  # fmt: skip
    assert items[1]["released"] is True


def test_it_counts_a_released_item_for_the_student_at_once(term):
    from coursesite.gradebook.services import item_release

    item_release(item=term.quiz, released=True)
    row = rows_by_username(term.client(term.personas.carol).get(URL))["carol"]
    assert cells(row)["quiz"]["points"] == "8.00"
    assert row["current"] == "88.00"


def test_it_gives_a_member_of_another_course_404(term):
    answer = term.client(term.personas.dave).get(URL)
    assert answer.status_code == 404


def test_it_gives_the_staff_of_another_course_404(term):
    outsider = make_member(term.personas.other_course, "olga", Role.INSTRUCTOR)
    assert term.client(outsider).get(URL).status_code == 404


def test_it_asks_an_anonymous_caller_to_authenticate(term):
    assert term.client(None).get(URL).status_code == 401


def test_it_reads_the_gradebook_in_queries_that_do_not_grow_with_the_students(term, settings):
    settings.API_ANSWER_SECONDS = (
        0  # computed each time (a kept one: tests/coursesite/test_answers.py)
    )
    client = term.client(term.personas.alice)
    client.get(URL)  # the token's first use is recorded once

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = queries()
    for index in range(6):
        student = enrol(term.personas, f"student{index}", section="01")
        record(term.quiz, student, Decimal(index))
        record(term.a1, student, Decimal(50 + index))
    assert queries() == few


def test_it_describes_the_gradebook_api_in_a_valid_schema(term):
    schema = yaml.safe_load(term.client(term.personas.carol).get("/api/schema/").content)
    validate(schema)
    assert {
        f"/api/v1/courses/{{course_slug}}/{path}"
        for path in [
            "gradebook/",
            "gradebook.csv",
            "items/{item_slug}/scores/{username}/",
            "items/{item_slug}/scores/{username}/history/",
            "items/{item_slug}/scores/import/",
            "items/{item_slug}/release/",
            "items/{item_slug}/unrelease/",
            "regrade-requests/",
            "regrade-requests/{id}/answer/",
        ]
    } <= set(schema["paths"])
    gradebook = schema["paths"]["/api/v1/courses/{course_slug}/gradebook/"]["get"]
    assert set(gradebook["responses"]["200"]["content"]) == {"application/json", "text/csv"}

"""Manual scores over the API: PUT .../items/{item}/scores/{username}/, the history of a score,
and releasing an item's scores to its students."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coursesite.models import GradeItem, Role, Score, ScoreChange, ScoreSource
from tests.conftest import make_member
from tests.coursesite.gradebook_setup import COURSE, semester


@pytest.fixture
def term(personas):
    return semester(personas)


def score_url(item="quiz", username="carol"):
    return f"{COURSE}/items/{item}/scores/{username}/"


def put(client, body, **where):
    return client.put(score_url(**where), body, format="json")


def test_it_records_a_manual_score_with_who_and_why(term):
    answer = put(
        term.client(term.personas.bob), {"points": "9.5", "comment": "Fixed", "reason": "recount"}
    )
    assert answer.status_code == 200
    assert answer.json() | {"updated_at": None} == {
        "item": "quiz", "student": "carol", "points": "9.50", "excused": False,
        "source": "manual", "comment": "Fixed", "late_penalty_percent": "0.00",
        "updated_at": None,
    }  # fmt: skip
    change = ScoreChange.objects.filter(score__item=term.quiz).latest("pk")
    assert (change.old_points, change.new_points, change.changed_by, change.reason) == (
        Decimal(8), Decimal("9.5"), term.personas.bob, "recount"
    )  # fmt: skip


def test_it_keeps_the_comment_when_none_is_given(term):
    put(term.client(term.personas.alice), {"points": 7, "reason": "recount"})
    score = Score.objects.get(item=term.quiz, student=term.personas.carol)
    assert (score.points, score.comment) == (Decimal(7), "Good work")


def test_it_excuses_a_student(term):
    answer = put(term.client(term.personas.alice), {"excused": True, "reason": "medical report"})
    assert (answer.json()["points"], answer.json()["excused"]) == (None, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": 5, "excused": True, "reason": "x"}, "non_field_errors"),
        ({"reason": "x"}, "non_field_errors"),
        ({"points": 5}, "reason"),
        ({"points": 5, "reason": "   "}, "reason"),
        ({"points": 11, "reason": "x"}, "points"),
        ({"points": "ten", "reason": "x"}, "points"),
    ],
)
def test_it_refuses_a_bad_score_and_writes_nothing(term, body, field):
    changes = ScoreChange.objects.count()
    answer = put(term.client(term.personas.alice), body)
    assert answer.status_code == 400
    assert field in answer.json()
    assert ScoreChange.objects.count() == changes


@pytest.mark.parametrize("where", [{"username": "bob"}, {"username": "nobody"}, {"item": "nope"}])
def test_it_answers_404_for_a_student_or_item_the_course_does_not_have(term, where):
    answer = put(term.client(term.personas.alice), {"points": 5, "reason": "x"}, **where)
    assert answer.status_code == 404


def test_it_lets_no_student_outsider_or_anonymous_caller_set_a_score(term):
    body = {"points": 10, "reason": "I deserve it"}
    assert put(term.client(term.personas.carol), body).status_code == 403
    assert put(term.client(term.erin), body).status_code == 403
    assert put(term.client(term.personas.dave), body).status_code == 404
    outsider = make_member(term.personas.other_course, "olga", Role.INSTRUCTOR)
    assert put(term.client(outsider), body).status_code == 404
    assert put(term.client(None), body).status_code == 401
    assert Score.objects.get(item=term.quiz, student=term.personas.carol).points == Decimal(8)


def history(client, item="a1", username="carol"):
    return client.get(score_url(item, username) + "history/")


def test_it_shows_staff_every_change_oldest_first_in_the_course_time_zone(term):
    put(term.client(term.personas.bob), {"points": 95, "reason": "recount"}, item="a1")
    answer = history(term.client(term.personas.alice))
    assert answer.status_code == 200
    changes = answer.json()
    assert [
        (c["changed_by"], c["old_points"], c["new_points"], c["source"], c["reason"])
        for c in changes
    ] == [
        (None, None, "90.00", ScoreSource.MANUAL, "set up"),
        ("bob", "90.00", "95.00", ScoreSource.MANUAL, "recount"),
    ]
    assert changes[1]["changed_at"].endswith("+03:00")


def test_it_shows_a_student_the_history_of_their_released_score(term):
    answer = history(term.client(term.personas.carol))
    assert answer.status_code == 200
    assert [change["new_points"] for change in answer.json()] == ["90.00"]


def test_it_hides_the_history_of_an_unreleased_score_from_its_student(term):
    answer = history(term.client(term.personas.carol), item="quiz")
    assert answer.status_code == 403
    assert "not released" in answer.json()["detail"]


def test_it_hides_another_students_history_as_if_it_did_not_exist(term):
    assert history(term.client(term.erin)).status_code == 404
    assert history(term.client(term.personas.dave)).status_code == 404
    assert history(term.client(None)).status_code == 401


def test_it_gives_an_empty_history_where_there_is_no_score(term):
    answer = history(term.client(term.personas.alice), username="erin")
    assert (answer.status_code, answer.json()) == (200, [])


def release(client, item="quiz", action="release"):
    return client.post(f"{COURSE}/items/{item}/{action}/")


def test_it_lets_a_ta_release_and_unrelease_an_item(term):
    client = term.client(term.personas.bob)
    answer = release(client)
    assert answer.status_code == 200
    assert answer.json()["released"] is True
    assert answer.json()["released_at"].endswith("+03:00")
    assert GradeItem.objects.get(pk=term.quiz.pk).released is True
    answer = release(client, action="unrelease")
    assert answer.json()["released"] is False
    assert GradeItem.objects.get(pk=term.quiz.pk).released is False


def test_it_shows_the_student_a_score_only_while_its_item_is_released(term):
    staff, carol = term.client(term.personas.alice), term.client(term.personas.carol)

    def quiz_points():
        row = carol.get(f"{COURSE}/gradebook/").json()["rows"][0]
        return next(item["points"] for item in row["items"] if item["slug"] == "quiz")

    assert quiz_points() is None
    release(staff)
    assert quiz_points() == "8.00"
    release(staff, action="unrelease")
    assert quiz_points() is None


def test_it_lets_no_student_or_outsider_release(term):
    assert release(term.client(term.personas.carol)).status_code == 403
    assert release(term.client(term.personas.dave)).status_code == 404
    assert release(term.client(None)).status_code == 401
    assert release(term.client(term.personas.alice), item="nope").status_code == 404
    assert GradeItem.objects.get(pk=term.quiz.pk).released is False

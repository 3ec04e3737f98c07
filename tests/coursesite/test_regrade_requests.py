"""Regrade requests: a student asks about a released score within the course's regrade window,
staff answer with or without new points, and the student reads the answer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coursesite.gradebook.services import regrade_request_create
from coursesite.models import GradeItem, RegradeRequest, Role, Score, ScoreChange
from tests.conftest import make_member
from tests.coursesite.gradebook_setup import COURSE, semester

URL = f"{COURSE}/regrade-requests/"


@pytest.fixture
def term(personas):
    return semester(personas)


def ask(client, item="a1", message="Test 3 should pass: see my log.", **extra):
    return client.post(URL, {"item": item, "message": message, **extra}, format="json")


def answer(client, pk, **body):
    return client.post(f"{URL}{pk}/answer/", {"answer": "Checked.", **body}, format="json")


def released_days_ago(item, days, minutes=0):
    released_at = timezone.now() - timedelta(days=days, minutes=minutes)
    GradeItem.objects.filter(pk=item.pk).update(released_at=released_at)


def test_it_takes_a_students_request_about_a_released_item(term):
    created = ask(term.client(term.personas.carol), part="test_backprop")
    assert created.status_code == 201
    body = created.json()
    assert (body["item"], body["student"], body["part"], body["state"]) == (
        "a1", "carol", "test_backprop", "open",
    )  # fmt: skip
    assert body["created_at"].endswith("+03:00")


def test_it_refuses_a_request_about_an_unreleased_item(term):
    refused = ask(term.client(term.personas.carol), item="quiz")
    assert refused.status_code == 400
    assert refused.json()["item"] == ["The scores of Quiz are not released yet."]


def test_it_takes_requests_until_the_regrade_window_closes(term):
    released_days_ago(term.a1, 6, minutes=1439)
    assert ask(term.client(term.personas.carol)).status_code == 201


def test_it_refuses_a_request_after_the_regrade_window_closed(term):
    released_days_ago(term.a1, 7, minutes=1)
    refused = ask(term.client(term.personas.carol))
    assert refused.status_code == 400
    assert refused.json()["item"][0].startswith("The regrade window of A1: MLP closed on ")
    assert RegradeRequest.objects.count() == 0


def test_it_follows_the_courses_regrade_window(term):
    term.personas.course.regrade_window_days = 14
    term.personas.course.save()
    released_days_ago(term.a1, 10)
    assert ask(term.client(term.personas.carol)).status_code == 201


def test_it_keeps_one_open_request_per_student_and_item(term):
    carol = term.client(term.personas.carol)
    first = ask(carol).json()
    again = ask(carol)
    assert again.status_code == 400
    assert "already an open regrade request" in again.json()["item"][0]
    answer(term.client(term.personas.bob), first["id"])
    assert ask(carol).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"item": "nope", "message": "x"}, "item"),
        ({"item": "a1", "message": ""}, "message"),
        ({"item": "a1", "message": "   "}, "message"),
        ({"item": "a1"}, "message"),
        ({"item": "a1", "message": "x", "part": "p" * 201}, "part"),
    ],
)
def test_it_refuses_a_request_that_says_too_little(term, body, field):
    refused = term.client(term.personas.carol).post(URL, body, format="json")
    assert refused.status_code == 400
    assert field in refused.json()


def test_it_takes_no_request_from_staff_outsiders_or_anonymous_callers(term):
    assert ask(term.client(term.personas.bob)).status_code == 400
    assert ask(term.client(term.personas.dave)).status_code == 404
    assert ask(term.client(None)).status_code == 401
    assert RegradeRequest.objects.count() == 0


def test_it_lists_every_request_for_staff_and_filters_the_open_ones(term):
    carol = ask(term.client(term.personas.carol)).json()
    ask(term.client(term.erin))
    answer(term.client(term.personas.bob), carol["id"])
    staff = term.client(term.personas.alice)
    assert sorted(r["student"] for r in staff.get(URL).json()) == ["carol", "erin"]
    opened = staff.get(URL, {"state": "open"}).json()
    assert [(r["student"], r["state"]) for r in opened] == [("erin", "open")]


def test_it_shows_a_student_only_their_own_requests_with_the_answer(term):
    mine = ask(term.client(term.personas.carol)).json()
    ask(term.client(term.erin))
    answer(term.client(term.personas.bob), mine["id"], answer="Test 3 was graded right.")
    listed = term.client(term.personas.carol).get(URL).json()
    assert [(r["student"], r["answer"], r["answered_by"]) for r in listed] == [
        ("carol", "Test 3 was graded right.", "bob")
    ]
    assert term.client(term.personas.dave).get(URL).status_code == 404


def test_it_gives_new_points_through_the_audited_score_and_says_so(term):
    pk = ask(term.client(term.personas.carol)).json()["id"]
    answered = answer(term.client(term.personas.bob), pk, answer="Right, +5.", points="95")
    assert answered.status_code == 200
    body = answered.json()
    assert (body["state"], body["score_changed"], body["answered_by"]) == ("answered", True, "bob")
    score = Score.objects.get(item=term.a1, student=term.personas.carol)
    assert (score.points, score.comment) == (Decimal(95), "Late by a day")
    change = score.changes.latest("pk")
    assert (change.changed_by, change.reason) == (
        term.personas.bob, f"Regrade request #{pk}: Right, +5."
    )  # fmt: skip


@pytest.mark.parametrize("points", [None, "90"])
def test_it_answers_without_changing_the_score(term, points):
    pk = ask(term.client(term.personas.carol)).json()["id"]
    changes = ScoreChange.objects.count()
    body = {"points": points} if points else {}
    answered = answer(term.client(term.personas.alice), pk, **body).json()
    assert (answered["state"], answered["score_changed"]) == ("answered", False)
    assert ScoreChange.objects.count() == changes


def test_it_refuses_to_answer_a_request_twice(term):
    pk = ask(term.client(term.personas.carol)).json()["id"]
    staff = term.client(term.personas.alice)
    answer(staff, pk)
    again = answer(staff, pk, points="100")
    assert again.status_code == 400
    assert "already answered" in again.json()["state"][0]
    assert Score.objects.get(item=term.a1, student=term.personas.carol).points == Decimal(90)


def test_it_refuses_points_out_of_range_and_leaves_the_request_open(term):
    pk = ask(term.client(term.personas.carol)).json()["id"]
    refused = answer(term.client(term.personas.alice), pk, points="150")
    assert refused.status_code == 400
    assert RegradeRequest.objects.get(pk=pk).state == "open"


def test_it_lets_only_the_courses_staff_answer(term):
    pk = ask(term.client(term.personas.carol)).json()["id"]
    assert answer(term.client(term.personas.carol), pk, points="100").status_code == 403
    assert answer(term.client(term.personas.dave), pk).status_code == 404
    outsider = make_member(term.personas.other_course, "olga", Role.INSTRUCTOR)
    assert answer(term.client(outsider), pk).status_code == 404
    assert answer(term.client(None), pk).status_code == 401
    assert answer(term.client(term.personas.alice), pk + 1000).status_code == 404
    assert RegradeRequest.objects.get(pk=pk).state == "open"


def test_it_opens_the_window_anew_on_a_new_release(term):
    from coursesite.gradebook.services import item_release

    released_days_ago(term.a1, 30)
    item_release(item=term.a1, released=False)
    item_release(item=term.a1, released=True)
    created = regrade_request_create(
        item=GradeItem.objects.get(pk=term.a1.pk), student=term.personas.carol, message="again"
    )
    assert created.state == "open"

"""The quiz API, as a script would use it: start, save answers, read them back, submit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coursesite.models import Role, Score
from quizzes.models import Attempt
from quizzes.services import question_values
from tests.conftest import make_member
from tests.quizzes.conftest import RIGHT, QuizWorld

Q = "/api/v1/courses/dl-fall2024/quizzes/quiz"


@pytest.fixture
def open_world(world: QuizWorld) -> QuizWorld:
    """The quiz opened an hour ago and closes in two days."""
    item = world.quiz.item
    item.opens_at = timezone.now() - timedelta(hours=1)
    item.due_at = timezone.now() + timedelta(days=2)
    item.save(update_fields=["opens_at", "due_at"])
    return world


def test_a_student_takes_a_quiz_over_the_api(open_world):
    world, carol = open_world, open_world.personas.carol
    client = world.personas.client(carol)
    started = client.post(f"{Q}/attempts/")
    assert (started.status_code, started.json()["running"]) == (201, 1)
    norm = world.right_norm(carol)
    for key, text in {"norm": norm, **RIGHT}.items():
        saved = client.put(f"{Q}/attempts/1/answers/{key}/", {"text": text}, format="json")
        assert saved.status_code == 200, saved.json()
    read = client.get(f"{Q}/attempts/1/").json()
    assert {q["key"]: q["answer"] for q in read["questions"]} == {"norm": norm, **RIGHT}
    assert all(q["expected"] == "" for q in read["questions"])
    submitted = client.post(f"{Q}/attempts/1/submit/").json()
    assert [q["points_awarded"] for q in submitted["questions"]] == ["4.00", "3.00", "3.00"]
    assert Score.objects.get(item=world.quiz.item, student=carol).points == Decimal(10)


def test_a_student_reads_their_own_numbers(open_world):
    world, carol = open_world, open_world.personas.carol
    view = world.personas.client(carol).get(f"{Q}/").json()
    drawn = question_values(world.quiz.questions.get(key="norm"), carol)
    assert view["questions"][0]["text"] == (
        f"What is the length of the vector ({drawn['a']}, {drawn['b']})?"
    )


def test_it_refuses_what_the_rules_refuse_with_the_reason(open_world):
    world, carol = open_world, open_world.personas.carol
    client = world.personas.client(carol)
    client.post(f"{Q}/attempts/")
    too_long = client.put(
        f"{Q}/attempts/1/answers/derivative/", {"text": "x+" * 1500}, format="json"
    )
    assert too_long.status_code == 400
    client.post(f"{Q}/attempts/1/submit/")
    again = client.post(f"{Q}/attempts/1/submit/")
    late = client.put(f"{Q}/attempts/1/answers/convex/", {"text": "0"}, format="json")
    assert (again.status_code, again.json()) == (
        400,
        {"attempt": ["This attempt was submitted already."]},
    )
    assert late.json() == {"attempt": ["This attempt was submitted; its answers are final."]}


def test_a_hostile_expression_is_read_as_a_wrong_answer_not_run(open_world, tmp_path):
    world, carol = open_world, open_world.personas.carol
    client = world.personas.client(carol)
    client.post(f"{Q}/attempts/")
    marker = tmp_path / "ran"
    hostile = f"__import__('os').system('touch {marker}')"
    client.put(f"{Q}/attempts/1/answers/derivative/", {"text": hostile}, format="json")
    result = client.post(f"{Q}/attempts/1/submit/").json()
    derivative = next(q for q in result["questions"] if q["key"] == "derivative")
    assert (derivative["points_awarded"], marker.exists()) == ("0.00", False)
    assert derivative["problem"]


def test_staff_read_every_attempt_and_take_none(open_world):
    world = open_world
    world.personas.client(world.personas.carol).post(f"{Q}/attempts/")
    staff = world.personas.client(world.personas.bob)
    read = staff.get(f"{Q}/").json()
    assert [(a["student"], a["number"]) for a in read["attempts"]] == [("carol", 1)]
    assert read["questions"][0]["spec"]["answer"] == "sqrt(a**2 + b**2)"
    assert staff.post(f"{Q}/attempts/").status_code == 403
    assert Attempt.objects.count() == 1


def test_another_students_attempt_is_not_found(open_world):
    world = open_world
    world.personas.client(world.personas.carol).post(f"{Q}/attempts/")
    erin = make_member(world.personas.course, "erin", Role.STUDENT)
    erins = world.personas.client(erin)
    assert erins.get(f"{Q}/attempts/1/").status_code == 404
    put = erins.put(f"{Q}/attempts/1/answers/convex/", {"text": "0"}, format="json")
    assert put.status_code == 404

from decimal import Decimal

import pytest
import yaml
from openapi_spec_validator import validate

from coursesite.course_file.load import course_file_load
from tests.conftest import EXAMPLE_COURSE


@pytest.fixture
def demo(db):
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    return course


def token_client(client_factory, username):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from coursesite.tokens import api_token_create

    client = APIClient()
    _, key = api_token_create(user=get_user_model().objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_it_trades_a_password_for_a_token_that_authenticates(personas):
    from rest_framework.test import APIClient

    client = APIClient()
    answer = client.post(
        "/api/v1/auth/token/", {"username": "carol", "password": "secret-password"}, format="json"
    )
    assert answer.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    assert client.get("/api/v1/courses/").status_code == 200


def test_it_refuses_a_wrong_password_with_401(personas):
    from rest_framework.test import APIClient

    answer = APIClient().post(
        "/api/v1/auth/token/", {"username": "carol", "password": "wrong"}, format="json"
    )
    assert answer.status_code == 401
    assert "token" not in answer.json()


def test_it_answers_401_without_credentials(personas):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/courses/").status_code == 401


def test_it_lists_only_the_callers_courses_with_the_callers_role(personas):
    answer = personas.client(personas.bob).get("/api/v1/courses/")
    assert answer.status_code == 200
    assert [(c["slug"], c["role"]) for c in answer.json()] == [("dl-fall2024", "ta")]


def test_it_lists_courses_in_a_fixed_number_of_queries(personas, django_assert_num_queries):
    from tests.conftest import make_course, make_member

    for index in range(5):
        make_member(make_course(f"extra-{index}"), "carol", "student")
    client = personas.client(personas.carol)
    # the token, its first use recorded, the courses with the caller's role
    with django_assert_num_queries(3):
        answer = client.get("/api/v1/courses/")
    assert len(answer.json()) == 6


def test_it_gives_an_outsider_404_for_a_course_that_exists(personas):
    client = personas.client(personas.dave)
    existing = client.get("/api/v1/courses/dl-fall2024/")
    missing = client.get("/api/v1/courses/no-such-course/")
    assert existing.status_code == missing.status_code == 404
    assert existing.json() == missing.json()


def test_it_shows_the_demo_course_to_its_instructor(demo):
    body = token_client(None, "aerdem").get("/api/v1/courses/comp541-fall2024/").json()
    categories = {c["name"]: c for c in body["categories"]}
    assert [Decimal(c["weight"]) for c in body["categories"]] == [2, 20, 17, 36, 10, 5, 10]
    assert sum(Decimal(c["weight"]) for c in body["categories"]) == 100
    assignments = categories["Programming Assignments"]["items"]
    assert [item["slug"] for item in assignments] == ["a1", "a2", "a3", "a4"]
    project = categories["Course Project"]["items"]
    assert [Decimal(item["weight"]) for item in project] == [2, 4, 6, 8, 12, 4]
    assert body["role"] == "instructor"
    assert body["grace_days"]["pool_days"] == 7


def test_it_gives_due_dates_in_the_courses_time_zone(demo):
    body = token_client(None, "student01").get("/api/v1/courses/comp541-fall2024/").json()
    quiz = body["categories"][0]["items"][0]
    assert quiz["slug"] == "quiz-theory"
    assert quiz["due_at"] == "2024-10-09T23:59:00+03:00"
    assert quiz["required_to_pass"] is True


def test_it_shows_the_schedule_week_by_week(demo):
    schedule = (
        token_client(None, "student01").get("/api/v1/courses/comp541-fall2024/").json()["schedule"]
    )
    week1 = [m for m in schedule["meetings"] if m["week"] == 1]
    assert [(m["kind"], m["date"], m["starts_at"]) for m in week1] == [
        ("lecture", "2024-10-08", "16:00:00"),
        ("lecture", "2024-10-10", "16:00:00"),
        ("problem_session", "2024-10-11", "14:30:00"),
    ]
    assert {m["week"] for m in schedule["meetings"]} == set(range(1, 15)) | {16}
    assert {"week": 8, "date": None, "title": "Midterm Exam", "item": "midterm"} in schedule[
        "events"
    ]


def test_it_reads_a_course_in_a_fixed_number_of_queries(demo, django_assert_num_queries):
    client = token_client(None, "abond")
    # the token, its first use recorded, membership + course, the course with its grace policy,
    # lectures, events, categories, items
    with django_assert_num_queries(8):
        assert client.get("/api/v1/courses/comp541-fall2024/").status_code == 200


def test_it_serves_a_valid_openapi_schema(personas):
    answer = personas.client(personas.carol).get("/api/schema/")
    assert answer.status_code == 200
    schema = yaml.safe_load(answer.content)
    validate(schema)
    assert "/api/v1/courses/{course_slug}/" in schema["paths"]
    assert "/api/v1/auth/token/" in schema["paths"]


def test_it_serves_the_browsable_api_docs(personas):
    answer = personas.client(personas.carol).get("/api/docs/")
    assert answer.status_code == 200
    assert b"swagger" in answer.content.lower()

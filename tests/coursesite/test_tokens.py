"""API tokens: stored as a hash, expiring, revoked by a password change, and the read-only
gradebook export token that reads its course's gradebook and nothing else."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from coursesite.models import ApiToken, Membership, Role, TokenScope
from coursesite.services import staff_access_grant
from coursesite.tokens import api_token_create

COURSE = "/api/v1/courses/dl-fall2024"
GRADEBOOK = f"{COURSE}/gradebook/"
GRADEBOOK_CSV = f"{COURSE}/gradebook.csv"
TOKENS = "/api/v1/auth/tokens/"


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def courses_status(key: str) -> tuple[int, str]:
    """What listing the courses with this key answers: the status, and a refusal's message."""
    answer = key_client(key).get("/api/v1/courses/")
    return answer.status_code, answer.json()["detail"] if answer.status_code != 200 else ""


@pytest.fixture
def export_key(personas) -> str:
    """Bob's (the TA's) export token for the course."""
    _, key = api_token_create(
        user=personas.bob, scope=TokenScope.GRADEBOOK_EXPORT, course=personas.course
    )
    return key


# Storage


def test_it_stores_the_key_only_as_its_hash(personas):
    token, key = api_token_create(user=personas.carol, name="laptop")
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert [name for name, value in row.items() if key in str(value)] == []
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:8]


def test_it_makes_a_different_key_each_time(personas):
    keys = {api_token_create(user=personas.carol)[1] for _ in range(3)}
    assert len(keys) == 3
    assert all(len(key) >= 40 for key in keys)


# Expiry


def test_it_makes_tokens_that_live_the_sites_number_of_days(personas, settings):
    settings.API_TOKEN_DAYS = 7
    token, _ = api_token_create(user=personas.carol)
    assert token.expires_at - token.created_at == timedelta(days=7)


def test_it_makes_a_shorter_lived_token_on_request(personas):
    token, _ = api_token_create(user=personas.carol, days=2)
    assert token.expires_at - token.created_at == timedelta(days=2)


def test_it_refuses_a_lifetime_beyond_the_sites_limit(personas, settings):
    settings.API_TOKEN_DAYS = 30
    with pytest.raises(ValidationError) as refused:
        api_token_create(user=personas.carol, days=31)
    assert "days" in refused.value.message_dict
    assert not ApiToken.objects.exists()


def test_it_refuses_an_expired_token_with_401(personas):
    token, key = api_token_create(user=personas.carol)
    assert courses_status(key) == (200, "")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert courses_status(key) == (401, "Token has expired.")


# Revocation


def test_it_revokes_every_token_of_a_user_whose_password_changes(personas):
    keys = [api_token_create(user=personas.carol)[1] for _ in range(2)]
    assert [courses_status(key)[0] for key in keys] == [200, 200]
    personas.carol.set_password("another-secret-password")
    personas.carol.save()
    assert [courses_status(key) for key in keys] == [(401, "Token has been revoked.")] * 2


def test_it_keeps_other_users_tokens_when_one_password_changes(personas):
    _, key = api_token_create(user=personas.alice)
    personas.carol.set_password("another-secret-password")
    personas.carol.save()
    assert courses_status(key) == (200, "")


def test_it_deletes_dead_tokens_when_the_user_makes_a_new_one(personas):
    expired, _ = api_token_create(user=personas.carol)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    api_token_create(user=personas.carol)
    personas.carol.set_password("another-secret-password")
    personas.carol.save()
    fresh, _ = api_token_create(user=personas.carol)
    assert list(ApiToken.objects.filter(user=personas.carol)) == [fresh]


def test_it_refuses_a_token_of_a_deactivated_user(personas):
    _, key = api_token_create(user=personas.carol)
    personas.carol.is_active = False
    personas.carol.save()
    assert courses_status(key) == (401, "Token has been revoked.")


def test_it_answers_a_wrong_key_as_one_that_never_existed(personas):
    token, key = api_token_create(user=personas.carol)
    wrong = key_client(key[:-1] + ("A" if key[-1] != "A" else "B")).get("/api/v1/courses/")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"] == "Token"
    token.delete()
    deleted = key_client(key).get("/api/v1/courses/")
    assert wrong.json() == {"detail": "Invalid token."}
    assert (deleted.status_code, deleted.json()) == (401, wrong.json())


# Last use


def test_it_records_the_last_use_at_most_once_a_minute(personas):
    token, key = api_token_create(user=personas.carol)
    assert token.last_used_at is None
    key_client(key).get("/api/v1/courses/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert timezone.now() - first < timedelta(seconds=30)

    key_client(key).get("/api/v1/courses/")
    token.refresh_from_db()
    assert token.last_used_at == first

    long_ago = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    key_client(key).get("/api/v1/courses/")
    token.refresh_from_db()
    assert token.last_used_at > first


# Export tokens


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_it_lets_the_courses_staff_make_an_export_token(personas, username):
    staff = getattr(personas, username)
    answer = personas.client(staff).post(
        f"{COURSE}/export-tokens/", {"name": "Canvas sync"}, format="json"
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["scope"], body["course"], body["name"]) == (
        "gradebook_export",
        "dl-fall2024",
        "Canvas sync",
    )
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == staff
    assert token.key_hash == hashlib.sha256(body["key"].encode()).hexdigest()


def test_it_refuses_a_student_an_export_token(personas):
    answer = personas.client(personas.carol).post(f"{COURSE}/export-tokens/", {}, format="json")
    assert answer.status_code == 403
    assert not ApiToken.objects.filter(scope=TokenScope.GRADEBOOK_EXPORT).exists()


def test_it_answers_an_outsider_404_for_an_export_token(personas):
    answer = personas.client(personas.dave).post(f"{COURSE}/export-tokens/", {}, format="json")
    assert answer.status_code == 404
    assert not ApiToken.objects.filter(scope=TokenScope.GRADEBOOK_EXPORT).exists()


def test_it_refuses_a_student_an_export_token_from_the_service(personas):
    with pytest.raises(ValidationError) as refused:
        api_token_create(
            user=personas.carol, scope=TokenScope.GRADEBOOK_EXPORT, course=personas.course
        )
    assert "course" in refused.value.message_dict


def test_it_refuses_a_personal_token_that_names_a_course(personas):
    with pytest.raises(ValidationError):
        api_token_create(user=personas.alice, course=personas.course)


def test_it_reads_the_gradebook_of_its_course_with_an_export_token(personas, export_key):
    client = key_client(export_key)
    book = client.get(GRADEBOOK)
    assert book.status_code == 200
    assert book.json()["view"] == "staff"
    assert [row["student"]["username"] for row in book.json()["rows"]] == ["carol"]
    csv = client.get(GRADEBOOK_CSV)
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    assert "carol" in csv.content.decode()


def other_gradebook(personas) -> str:
    # Bob runs the other course too: the token still reads only the course it was made for.
    Membership.objects.create(course=personas.other_course, user=personas.bob, role=Role.TA)
    return f"/api/v1/courses/{personas.other_course.slug}/gradebook/"


REFUSED = [
    ("get", "/api/v1/courses/"),
    ("get", f"{COURSE}/"),
    ("get", f"{COURSE}/groups/"),
    ("get", TOKENS),
    ("post", TOKENS),
    ("post", f"{COURSE}/export-tokens/"),
    ("get", "/api/schema/"),
    ("post", GRADEBOOK),
    ("options", GRADEBOOK),
    ("put", f"{COURSE}/items/quiz/scores/carol/"),
    ("get", f"{COURSE}/items/quiz/scores/carol/history/"),
    ("post", f"{COURSE}/items/quiz/release/"),
    ("get", f"{COURSE}/regrade-requests/"),
]


@pytest.mark.parametrize(("method", "url"), REFUSED)
def test_it_refuses_an_export_token_everything_but_its_gradebook(personas, export_key, method, url):
    answer = getattr(key_client(export_key), method)(url, {}, format="json")
    assert answer.status_code == 403
    # The schema view answers in its own format, so look for the message in the bytes.
    assert b"An export token only reads the gradebook of dl-fall2024" in answer.content


def test_it_refuses_an_export_token_another_courses_gradebook(personas, export_key):
    url = other_gradebook(personas)
    assert key_client(export_key).get(url).status_code == 403
    assert personas.client(personas.bob).get(url).status_code == 200


def test_it_stops_an_export_token_whose_owner_leaves_the_course(personas, export_key):
    assert key_client(export_key).get(GRADEBOOK).status_code == 200
    Membership.objects.filter(course=personas.course, user=personas.bob).delete()
    answer = key_client(export_key).get(GRADEBOOK)
    assert (answer.status_code, answer.json()["detail"]) == (401, "Token has been revoked.")


def test_it_stops_an_export_token_whose_owner_becomes_a_student(personas, export_key):
    Membership.objects.filter(course=personas.course, user=personas.bob).update(role=Role.STUDENT)
    assert key_client(export_key).get(GRADEBOOK).status_code == 401


# The endpoints


def test_it_makes_a_new_token_at_each_password_login(personas):
    client = APIClient()
    credentials = {"username": "carol", "password": "secret-password"}
    answers = [client.post("/api/v1/auth/token/", credentials, format="json") for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    keys = [answer.json()["token"] for answer in answers]
    assert keys[0] != keys[1]
    assert [courses_status(key)[0] for key in keys] == [200, 200]
    token = ApiToken.objects.get(key_hash=hashlib.sha256(keys[1].encode()).hexdigest())
    assert answers[1].json()["expires_at"] == token.expires_at.isoformat().replace("+00:00", "Z")
    assert token.scope == TokenScope.PERSONAL


def test_it_lists_the_callers_tokens_without_their_keys(personas):
    laptop, laptop_key = api_token_create(user=personas.carol, name="laptop")
    api_token_create(user=personas.alice, name="alice's")
    client = personas.client(personas.carol)
    answer = client.get(TOKENS)
    assert answer.status_code == 200
    listed = answer.json()
    assert len(listed) == 2
    assert listed[1] == {
        "id": laptop.pk,
        "prefix": laptop_key[:8],
        "name": "laptop",
        "scope": "personal",
        "course": None,
        "created_at": laptop.created_at.isoformat().replace("+00:00", "Z"),
        "expires_at": laptop.expires_at.isoformat().replace("+00:00", "Z"),
        "last_used_at": None,
    }
    assert laptop_key not in answer.content.decode()


def test_it_leaves_tokens_that_no_longer_work_out_of_the_list(personas):
    expired, _ = api_token_create(user=personas.carol, name="old")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    listed = personas.client(personas.carol).get(TOKENS).json()
    assert [token["name"] for token in listed] == [""]


def test_it_makes_a_personal_token_through_the_api(personas):
    answer = personas.client(personas.carol).post(
        TOKENS, {"name": "laptop", "days": 3}, format="json"
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["name"], body["scope"], body["course"]) == ("laptop", "personal", None)
    assert courses_status(body["key"]) == (200, "")
    token = ApiToken.objects.get(pk=body["id"])
    assert token.expires_at - token.created_at == timedelta(days=3)


def test_it_refuses_a_token_living_longer_than_the_site_allows(personas, settings):
    settings.API_TOKEN_DAYS = 30
    answer = personas.client(personas.carol).post(TOKENS, {"days": 365}, format="json")
    assert answer.status_code == 400
    assert "days" in answer.json()


def test_it_revokes_one_of_the_callers_tokens(personas):
    token, key = api_token_create(user=personas.carol)
    answer = personas.client(personas.carol).delete(f"{TOKENS}{token.pk}/")
    assert answer.status_code == 204
    assert courses_status(key) == (401, "Invalid token.")


def test_it_answers_404_for_another_users_token(personas):
    token, key = api_token_create(user=personas.alice)
    answer = personas.client(personas.carol).delete(f"{TOKENS}{token.pk}/")
    assert answer.status_code == 404
    assert courses_status(key) == (200, "")


def test_it_documents_the_token_endpoints(personas):
    schema = yaml.safe_load(personas.client(personas.carol).get("/api/schema/").content)
    paths = schema["paths"]
    assert set(paths["/api/v1/auth/tokens/"]) >= {"get", "post"}
    assert "delete" in paths["/api/v1/auth/tokens/{id}/"]
    assert "post" in paths["/api/v1/courses/{course_slug}/export-tokens/"]
    issued = schema["components"]["schemas"]["TokenIssued"]["properties"]
    assert set(issued) == {"token", "expires_at"}
    token_auth = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (token_auth["in"], token_auth["name"]) == ("header", "Authorization")


# The instructor panel


def panel(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_only_the_users_own_tokens_in_the_panel(personas):
    staff_access_grant(user=personas.alice)
    own, own_key = api_token_create(user=personas.alice, name="alice-script")
    api_token_create(user=personas.bob, name="bob-script")
    page = panel(personas.alice).get(reverse("admin:coursesite_apitoken_changelist"))
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [own]
    assert "bob-script" not in page.content.decode()
    assert own_key not in page.content.decode()


def test_it_lists_every_token_to_a_superuser(personas):
    root = get_user_model().objects.create_superuser(username="root", password="root-password")
    api_token_create(user=personas.alice)
    api_token_create(user=personas.bob)
    page = panel(root).get(reverse("admin:coursesite_apitoken_changelist"))
    assert page.context["cl"].result_count == 2


def test_it_revokes_a_token_deleted_in_the_panel(personas):
    staff_access_grant(user=personas.alice)
    token, key = api_token_create(user=personas.alice)
    url = reverse("admin:coursesite_apitoken_delete", args=[token.pk])
    assert panel(personas.alice).post(url, {"post": "yes"}).status_code == 302
    assert courses_status(key) == (401, "Invalid token.")


def test_it_keeps_another_users_token_out_of_reach_in_the_panel(personas):
    staff_access_grant(user=personas.alice)
    token, _ = api_token_create(user=personas.bob)
    url = reverse("admin:coursesite_apitoken_delete", args=[token.pk])
    panel(personas.alice).post(url, {"post": "yes"})
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_it_never_shows_a_key_hash_in_the_panel(personas):
    staff_access_grant(user=personas.alice)
    token, _ = api_token_create(user=personas.alice)
    page = panel(personas.alice).get(reverse("admin:coursesite_apitoken_change", args=[token.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert token.prefix in content
    assert token.key_hash not in content
    assert token.password_hash not in content

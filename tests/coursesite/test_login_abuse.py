"""Guessing passwords: the lockouts of the API's token endpoint, the site's login form and the
panel's login, the address they count, and the throttle of the token endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from coursesite.models import ApiToken

TOKEN = "/api/v1/auth/token/"
LOCKED = "Too many failed logins: this account or address is locked. Try again in 15 minutes."
WRONG_PASSWORD_PAGE = "Please enter a correct username and password"
COOL_OFF = "900"


@pytest.fixture(autouse=True)
def _lockouts(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.TRUSTED_PROXY_COUNT = 0


def token_login(
    username: str, password: str, *, forwarded: str | None = None, address: str = "127.0.0.1"
):
    headers = {"REMOTE_ADDR": address}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(
        TOKEN, {"username": username, "password": password}, format="json", **headers
    )


def fail_token_logins(username: str, times: int = 5, **where: str) -> None:
    for _ in range(times):
        assert token_login(username, "wrong", **where).status_code in {401, 429}


# The token endpoint


def test_it_answers_a_wrong_password_with_401(personas):
    answer = token_login("carol", "wrong")
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Unable to log in with the user name and password given."}
    assert answer["WWW-Authenticate"] == "Token"


def test_it_locks_the_token_endpoint_whatever_x_forwarded_for_says(personas):
    answers = [token_login("carol", "wrong", forwarded=f"203.0.113.{n}") for n in range(30)]
    assert [answer.status_code for answer in answers] == [401] * 4 + [429] * 26
    assert all(answer.has_header("Retry-After") for answer in answers[4:])
    assert answers[4].json() == {"detail": LOCKED, "retry_after": 900}
    assert answers[4]["Retry-After"] == COOL_OFF


def test_it_refuses_the_right_password_of_a_locked_account_over_the_api(personas):
    fail_token_logins("carol")
    cache.clear()  # the throttle forgets; the lockout does not
    answer = token_login("carol", "secret-password", forwarded="198.51.100.1")
    assert (answer.status_code, answer.json()) == (429, {"detail": LOCKED, "retry_after": 900})
    assert answer["Retry-After"] == COOL_OFF
    assert not ApiToken.objects.filter(user=personas.carol).exists()


def test_it_keeps_counting_failures_across_a_successful_login_from_the_address(personas):
    fail_token_logins("carol", times=4)
    assert token_login("dave", "secret-password").status_code == 200
    assert token_login("carol", "wrong").status_code == 429


def test_it_throttles_the_token_endpoint_per_connection_not_per_forwarded_header(personas):
    # An empty body never reaches a password check: only the throttle answers 429 here.
    answers = [
        APIClient().post(TOKEN, {}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        for n in range(21)
    ]
    assert [answer.status_code for answer in answers] == [400] * 20 + [429]
    assert answers[20].has_header("Retry-After")


# The site's login form and the panel's


def post_form(client: Client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password})


def test_it_locks_the_login_form_and_says_so(personas):
    client = Client()
    answers = [post_form(client, "/accounts/login/", "carol", "wrong") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 4 + [429]
    assert WRONG_PASSWORD_PAGE in answers[3].content.decode()
    page = answers[4].content.decode()
    assert LOCKED in page and WRONG_PASSWORD_PAGE not in page
    assert answers[4]["Retry-After"] == COOL_OFF


def test_it_does_not_log_in_a_locked_account_through_the_form(personas):
    client = Client()
    for _ in range(5):
        post_form(client, "/accounts/login/", "carol", "wrong")
    answer = post_form(client, "/accounts/login/", "carol", "secret-password")
    assert answer.status_code == 429
    assert LOCKED in answer.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_it_locks_the_panel_login(personas):
    personas.alice.is_staff = True
    personas.alice.save(update_fields=["is_staff"])
    client = Client()
    answers = [post_form(client, "/admin/login/", "alice", "wrong") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 4 + [429]
    assert LOCKED in answers[4].content.decode()
    assert answers[4]["Retry-After"] == COOL_OFF
    answer = post_form(client, "/admin/login/", "alice", "secret-password")
    assert (answer.status_code, answer["Retry-After"]) == (429, COOL_OFF)
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


# Who else is locked


def test_it_leaves_another_account_from_another_address_alone(personas):
    fail_token_logins("carol")
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    answer = post_form(elsewhere, "/accounts/login/", "dave", "secret-password")
    assert (answer.status_code, answer["Location"]) == (302, "/")


def test_it_locks_the_account_from_every_address(personas):
    fail_token_logins("carol")
    assert token_login("carol", "secret-password", address="198.51.100.7").status_code == 429


def test_it_locks_the_address_for_every_account(personas):
    fail_token_logins("carol")
    assert token_login("dave", "secret-password").status_code == 429


# Behind proxies


def test_it_counts_the_forwarded_address_behind_a_trusted_proxy(personas, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    fail_token_logins("carol", forwarded="192.0.2.1, 203.0.113.9", address="10.0.0.1")
    addresses = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == {"203.0.113.9"}
    another_client = token_login("dave", "secret-password", forwarded="203.0.113.10")
    assert another_client.status_code == 200
    # The locked client claims another address; the proxy appends the one it saw.
    claiming = token_login("dave", "secret-password", forwarded="203.0.113.10, 203.0.113.9")
    assert claiming.status_code == 429


def test_it_throttles_per_forwarded_address_behind_a_trusted_proxy(personas, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    answers = [
        APIClient().post(TOKEN, {}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        for n in range(21)
    ]
    assert [answer.status_code for answer in answers] == [400] * 21

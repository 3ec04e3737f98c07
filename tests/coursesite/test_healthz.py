"""``/healthz`` tells everyone the status, and staff the state of the database, the broker and
the workers."""

import json
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model

from coursesite.models import Role, TokenScope
from coursesite.tokens import api_token_create
from tests.conftest import REPO, django_env, make_member
from tests.grading.conftest import database_url

PROBE = (
    "import os; from django.test import Client; "
    "token = os.environ.get('PROBE_TOKEN'); "
    "headers = {'HTTP_AUTHORIZATION': f'Token {token}'} if token else {}; "
    "r = Client().get('/healthz', **headers); print(r.status_code); print(r.content.decode())"
)
DETAILS = {"status", "database", "broker", "workers"}


def probe(**overrides):
    """``/healthz`` asked by a Django process of its own; ``PROBE_TOKEN`` sends an API token."""
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PROBE}"],
        cwd=REPO,
        env=django_env(
            DJANGO_SETTINGS_MODULE="coursesite.settings.test",
            ALLOWED_HOSTS="testserver",
            **overrides,
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    status, _, body = done.stdout.partition("\n")
    assert status.isdigit(), done.stderr
    return int(status), json.loads(body)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def staff_token() -> str:
    """A key of a site staff user in the test database, which a probe reads when given
    ``DATABASE_URL=database_url()`` (the test must be a ``transactional_db`` one)."""
    user = get_user_model().objects.create_user("operator", is_staff=True)
    return api_token_create(user=user)[1]


def test_it_answers_an_anonymous_caller_with_the_status_only(db, client):
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_it_answers_a_student_with_the_status_only(personas, client):
    assert personas.client(personas.carol).get("/healthz").json() == {"status": "ok"}
    client.force_login(personas.carol)
    assert client.get("/healthz").json() == {"status": "ok"}


def test_it_answers_a_credential_that_fails_with_the_status_only(personas, client):
    answer = client.get("/healthz", HTTP_AUTHORIZATION="Token not-a-key")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    # An export token reads its course's gradebook and nothing else.
    _, key = api_token_create(
        user=personas.alice, scope=TokenScope.GRADEBOOK_EXPORT, course=personas.course
    )
    assert client.get("/healthz", HTTP_AUTHORIZATION=f"Token {key}").json() == {"status": "ok"}


def test_it_reports_the_embedded_database_and_broker_to_course_staff(personas, client):
    body = personas.client(personas.bob).get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": True, "transport": "filesystem"}
    assert body["workers"] == 0
    # Staff of another course see the details too; a session serves as well as a token.
    other_ta = make_member(personas.other_course, "olga", Role.TA)
    client.force_login(other_ta)
    assert set(client.get("/healthz").json()) == DETAILS


def test_it_shows_the_details_to_site_staff_and_superusers(db, client):
    users = get_user_model().objects
    for user in (
        users.create_user("operator", is_staff=True),
        users.create_superuser("root", email="root@example.org"),
    ):
        client.force_login(user)
        assert set(client.get("/healthz").json()) == DETAILS


def test_it_answers_503_when_the_database_is_down(tmp_path):
    status, body = probe(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/coursesite",
        COURSESITE_VAR_DIR=str(tmp_path),
        # Nobody can be recognized without the database, a token's bearer included.
        PROBE_TOKEN="any-key",
    )
    assert (status, body) == (503, {"status": "down"})


def test_it_stays_up_and_says_so_when_the_broker_is_down(transactional_db, tmp_path):
    broker_down = {
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "COURSESITE_VAR_DIR": str(tmp_path),
        "HEALTHZ_BROKER_TIMEOUT": "1",
        "DATABASE_URL": database_url(),
    }
    assert probe(**broker_down) == (200, {"status": "degraded"})
    status, body = probe(**broker_down, PROBE_TOKEN=staff_token())
    assert status == 200
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
    assert body["broker"]["transport"] == "redis"
    assert body["workers"] == 0


@pytest.fixture
def worker_on_redis(redis_url, tmp_path):
    # A database number of its own, so that no other test's worker answers this one's ping.
    broker = redis_url.rsplit("/", 1)[0] + "/14"
    env = django_env(
        DJANGO_SETTINGS_MODULE="coursesite.settings.test",
        CELERY_BROKER_URL=broker,
        COURSESITE_VAR_DIR=str(tmp_path),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "coursesite", "worker", "--pool", "solo",
         "-Q", "cpu", "--hostname", "healthz@%h", "--without-mingle", "--without-gossip"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield broker, tmp_path
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)


def test_it_counts_a_live_worker_on_redis(transactional_db, worker_on_redis):
    broker, var_dir = worker_on_redis
    token = staff_token()
    deadline = time.monotonic() + 45
    while True:
        status, body = probe(
            CELERY_BROKER_URL=broker,
            COURSESITE_VAR_DIR=str(var_dir),
            DATABASE_URL=database_url(),
            PROBE_TOKEN=token,
        )
        if body["workers"] == 1 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert status == 200
    assert body["broker"] == {"ok": True, "transport": "redis"}
    assert body["workers"] == 1

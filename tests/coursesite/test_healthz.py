"""``/healthz`` tells the state of the database, the broker and the workers."""

import json
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, django_env

PROBE = (
    "from django.test import Client; "
    "r = Client().get('/healthz'); print(r.status_code); print(r.content.decode())"
)


def probe(**overrides):
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


def test_it_reports_the_embedded_database_and_broker(db, client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": True, "transport": "filesystem"}
    assert body["workers"] == 0


def test_it_answers_503_when_the_database_is_down(tmp_path):
    status, body = probe(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/coursesite",
        COURSESITE_VAR_DIR=str(tmp_path),
    )
    assert status == 503
    assert body["status"] == "down"
    assert body["database"]["ok"] is False


def test_it_stays_up_and_says_so_when_the_broker_is_down(tmp_path):
    status, body = probe(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0",
        COURSESITE_VAR_DIR=str(tmp_path),
        HEALTHZ_BROKER_TIMEOUT="1",
    )
    assert status == 200
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
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


def test_it_counts_a_live_worker_on_redis(worker_on_redis):
    broker, var_dir = worker_on_redis
    deadline = time.monotonic() + 45
    while True:
        status, body = probe(CELERY_BROKER_URL=broker, COURSESITE_VAR_DIR=str(var_dir))
        if body["workers"] == 1 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert status == 200
    assert body["broker"] == {"ok": True, "transport": "redis"}
    assert body["workers"] == 1

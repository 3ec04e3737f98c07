"""Fixtures shared by the whole suite: the personas, and the real services some tests need.

Personas: instructor Alice, TA Bob and student Carol of one course; student Dave of another
course, who must see nothing of Alice's.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from rest_framework.test import APIClient

from coursesite.models import Course, GradeCategory, GradeItem, Membership, Role
from coursesite.tokens import api_token_create

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_COURSE = REPO / "examples" / "comp541-fall2024.yaml"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def need_service(name: str, host: str, port: int) -> None:
    """Skip a test whose service is not running; with REQUIRE_SERVICES=1, fail it instead."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as error:
        message = f"{name} is not reachable at {host}:{port} ({error})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; REQUIRE_SERVICES=1 says it must be")
    pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    need_service("Redis", host or "127.0.0.1", int(port or 6379))
    return url


@contextmanager
def celery_broker(url: str, options: dict[str, Any]) -> Iterator[None]:
    """Send this process's Celery messages to another broker for a while.

    ``app.close()`` forgets the connection pool but not the producer pool built on it, which
    would go on sending to the broker it first met; both are dropped on the way in and out.
    """
    from coursesite.celery import app

    def reconnect() -> None:
        app.close()
        app.amqp._producer_pool = None

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.update(broker_url=url, broker_transport_options=options)
    reconnect()
    try:
        yield
    finally:
        app.conf.update(broker_url=saved[0], broker_transport_options=saved[1])
        reconnect()


@dataclass
class Personas:
    course: Course
    other_course: Course
    alice: AbstractUser
    bob: AbstractUser
    carol: AbstractUser
    dave: AbstractUser
    quiz: GradeItem

    def client(self, user: AbstractUser | None) -> APIClient:
        client = APIClient()
        if user is not None:
            _, key = api_token_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client


def make_course(slug: str) -> Course:
    course = Course(
        slug=slug,
        code="COMP541",
        title="Deep Learning",
        term="Fall 2024",
        time_zone="Europe/Istanbul",
        starts_on=date(2024, 10, 7),
        ends_on=date(2025, 1, 26),
    )
    course.full_clean()
    course.save()
    return course


def make_member(course: Course, username: str, role: Role) -> AbstractUser:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_user(username=username, password="secret-password")
    Membership.objects.create(course=course, user=user, role=role)
    return user


def with_password(username: str, password: str) -> AbstractUser:
    """Give an existing user a password a test logs in with."""
    user = get_user_model().objects.get(username=username)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def personas(db: None) -> Personas:
    course = make_course("dl-fall2024")
    other = make_course("other-fall2024")
    category = GradeCategory.objects.create(course=course, name="Quizzes", weight=Decimal(100))
    quiz = GradeItem.objects.create(
        course=course,
        category=category,
        slug="quiz",
        title="Quiz",
        max_points=Decimal(10),
        due_at=datetime(2024, 10, 9, 23, 59, tzinfo=ZoneInfo("Europe/Istanbul")),
    )
    return Personas(
        course=course,
        other_course=other,
        alice=make_member(course, "alice", Role.INSTRUCTOR),
        bob=make_member(course, "bob", Role.TA),
        carol=make_member(course, "carol", Role.STUDENT),
        dave=make_member(other, "dave", Role.STUDENT),
        quiz=quiz,
    )


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Throttles count in the cache; a test must not inherit another's requests.
    from django.core.cache import cache

    cache.clear()


CONFIGURATION = {
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DEMO_MODE", "DATABASE_URL",
    "CELERY_BROKER_URL", "REDIS_URL", "MEDIA_ROOT", "COURSESITE_VAR_DIR",
}  # fmt: skip


def django_env(**overrides: str) -> dict[str, str]:
    """The environment for a Django process of its own: the embedded defaults plus ``overrides``,
    nothing of this test run's configuration."""
    env = {key: value for key, value in os.environ.items() if key not in CONFIGURATION}
    env.update(overrides)
    return env


def xdist_worker() -> int:
    """This pytest-xdist worker's number (0 without xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def xdist_slot(base: int, offset: int, *, per_worker: int = 10) -> int:
    """A sandbox slot of its own for this worker: ``base`` keeps test files apart, ``offset`` the
    gradings of one file. Two runs at once in one slot would kill each other's processes."""
    assert offset < per_worker, "more gradings than this file's slots per worker"
    return base + per_worker * xdist_worker() + offset


def need_sandbox() -> None:
    """Skip a test that needs the sandbox where there is none; fail it with REQUIRE_SERVICES=1."""
    from grading.sandbox import sandbox_available

    if sandbox_available():
        return
    message = "the sandbox cannot run here (bwrap, setpriv, prlimit, libseccomp and root needed)"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}; REQUIRE_SERVICES=1 says it must")
    pytest.skip(message)


def score_table(result: Any) -> dict[str, tuple[float, str]]:
    """Each test's score and status, from a result document or its JSON form."""
    tests = result["tests"] if isinstance(result, dict) else [vars(t) for t in result.tests]
    return {test["name"]: (test["score"], test["status"]) for test in tests}


# The slowest files, run first: with ``--dist loadfile --no-loadscope-reorder`` (the Makefile's)
# each then starts at once on a worker of its own while the other workers share the rest,
# instead of running alone at the end.
SLOW_FILES = ("tests/coursesite/test_demo_semester.py", "tests/grading/test_faults.py")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in SLOW_FILES)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Where tests skipped, name what this machine lacks, from the list `make test` installs from
    (.ci/system-packages), and root, without which the sandbox tests skip."""
    skipped = len(terminalreporter.stats.get("skipped", []))
    if not skipped or hasattr(config, "workerinput"):
        return
    listed = subprocess.run(
        [REPO / ".ci" / "system-packages", "--missing"],
        capture_output=True,
        text=True,
        check=False,
    )
    missing = listed.stdout.split()
    if os.geteuid() != 0:
        missing.append("root (for the sandbox)")
    if missing:
        terminalreporter.write_line(
            f"missing on this machine: {', '.join(missing)}; "
            f"{skipped} test{'s' if skipped > 1 else ''} skipped",
            yellow=True,
            bold=True,
        )

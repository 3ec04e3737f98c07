"""A web process loads ahead, when gunicorn loads the site, what its first request would load:
every namespace's URL patterns compiled for ``reverse`` and Celery's producer side set up. A
warm-up that fails leaves that work to the first request and stops nothing."""

from __future__ import annotations

import logging
import subprocess
import sys

from coursesite import warmup
from tests.conftest import REPO, django_env

# Run in a process of its own: this one has compiled every pattern long ago.
FIRST_REQUEST = """
from django.urls import resolvers

import coursesite.wsgi  # as a gunicorn worker loads the site

compiled = []
original = resolvers.URLResolver._populate


def populate(self):
    compiled.append(str(self.pattern))
    return original(self)


resolvers.URLResolver._populate = populate
from django.test import Client
from django.urls import reverse

from coursesite.celery import app

reverse("admin:index")  # on every request (the panel's time-zone middleware)
reverse("admin:auth_user_changelist")
reverse("assignment", args=["comp541", 1])
answer = Client(HTTP_HOST="localhost").get("/api/v1/courses/", HTTP_ACCEPT="application/json")
assert answer.status_code in (401, 403), answer.status_code
print("compiled", compiled)
print("tasks bound", app.finalized and "grading.tasks.grade_job" in app.tasks)
"""


def test_a_new_web_process_has_compiled_its_url_patterns_before_its_first_request(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST],
        cwd=REPO,
        env=django_env(
            DJANGO_SETTINGS_MODULE="coursesite.settings.development",
            COURSESITE_VAR_DIR=str(tmp_path),
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "compiled []" in done.stdout, done.stdout
    assert "tasks bound True" in done.stdout, done.stdout


def test_a_warm_up_that_fails_is_logged_and_stops_nothing(monkeypatch, caplog):
    def broken() -> None:
        raise RuntimeError("no URL patterns today")

    monkeypatch.setattr(warmup, "get_resolver", broken)
    with caplog.at_level(logging.WARNING, logger="coursesite.warmup"):
        warmup.web_process_warm()
    assert "could not load ahead" in caplog.text
    assert "no URL patterns today" in caplog.text

"""Settings read the environment and refuse bad values; production refuses unsafe defaults."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from coursesite.settings import env
from tests.conftest import REPO, django_env

GOOD_KEY = "k3Y-" + "".join(chr(ord("a") + i % 26) for i in range(60))


def run_django(code: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO,
        env=django_env(**overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_a_database_url_of_an_unknown_kind(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/coursesite")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL has the scheme 'mysql'"):
        env.env_database("DATABASE_URL", "sqlite:///x")


def test_it_refuses_a_postgres_url_without_a_database_name(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        env.env_database("DATABASE_URL", "sqlite:///x")


def test_it_reads_a_postgres_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coursesite")
    config = env.env_database("DATABASE_URL", "sqlite:///x")
    assert (config["ENGINE"], config["NAME"], config["PORT"]) == (
        "django.db.backends.postgresql",
        "coursesite",
        5432,
    )
    # Connections are kept a minute, and checked before reuse (a restarted server).
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)


def test_it_defaults_to_a_sqlite_file(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env.env_database("DATABASE_URL", "sqlite:////srv/var/coursesite.sqlite3")
    assert (config["ENGINE"], config["NAME"]) == (
        "django.db.backends.sqlite3",
        "/srv/var/coursesite.sqlite3",
    )


@pytest.mark.parametrize("word", ["maybe", "2", "enabled"])
def test_it_refuses_a_boolean_it_cannot_read(monkeypatch, word):
    monkeypatch.setenv("DEBUG", word)
    with pytest.raises(ImproperlyConfigured, match="is not a boolean"):
        env.env_bool("DEBUG", False)


def test_it_refuses_a_relative_media_root(monkeypatch):
    monkeypatch.setenv("MEDIA_ROOT", "media")
    with pytest.raises(ImproperlyConfigured, match="must be an absolute path"):
        env.env_path("MEDIA_ROOT", REPO)


def test_it_refuses_an_allowed_hosts_list_with_an_empty_entry(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "example.edu,,other.edu")
    with pytest.raises(ImproperlyConfigured, match="empty entry"):
        env.env_list("ALLOWED_HOSTS", [])


def test_it_will_not_start_production_without_a_secret_key():
    done = run_django(
        "", DJANGO_SETTINGS_MODULE="coursesite.settings.production", ALLOWED_HOSTS="example.edu"
    )
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_it_will_not_start_production_without_allowed_hosts():
    done = run_django(
        "", DJANGO_SETTINGS_MODULE="coursesite.settings.production", SECRET_KEY=GOOD_KEY
    )
    assert done.returncode != 0
    assert "ALLOWED_HOSTS must name" in done.stderr


def test_it_passes_the_deployment_check_in_production(tmp_path):
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=django_env(
            DJANGO_SETTINGS_MODULE="coursesite.settings.production",
            SECRET_KEY=GOOD_KEY,
            ALLOWED_HOSTS="courses.example.edu",
            COURSESITE_VAR_DIR=str(tmp_path),
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_it_turns_demo_mode_off_in_production_whatever_the_environment():
    done = run_django(
        "from django.conf import settings; print(settings.DEMO_MODE, settings.DEBUG)",
        DJANGO_SETTINGS_MODULE="coursesite.settings.production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="example.edu",
        DEMO_MODE="1",
        DEBUG="1",
    )
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_it_keeps_polled_answers_only_in_a_cache_the_workers_share():
    show = "from django.conf import settings; print(settings.API_ANSWER_SECONDS)"
    embedded = run_django(show, DJANGO_SETTINGS_MODULE="coursesite.settings.development")
    assert embedded.stdout.split() == ["0"], embedded.stderr
    shared = run_django(
        show,
        DJANGO_SETTINGS_MODULE="coursesite.settings.development",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert shared.stdout.split() == ["30"], shared.stderr
    refused = run_django(
        "", DJANGO_SETTINGS_MODULE="coursesite.settings.development", API_ANSWER_SECONDS="30"
    )
    assert refused.returncode != 0
    assert "API_ANSWER_SECONDS keeps answers in a cache the workers share" in refused.stderr

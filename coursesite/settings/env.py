"""Read settings from the environment, failing loudly on a value that cannot be right."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"{name}={value!r} has an empty entry (use a comma-separated list)"
        )
    return items


SUPPORTED_DATABASES = {"sqlite", "postgres", "postgresql", "pgsql"}


def env_database(name: str, default: str) -> dict[str, Any]:
    url = env_str(name, default) or default
    scheme = url.split(":", 1)[0]
    if scheme not in SUPPORTED_DATABASES:
        raise ImproperlyConfigured(
            f"{name} has the scheme {scheme!r}; coursesite runs on sqlite:/// or postgres://"
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is not a database URL: {error}") from None
    if config["ENGINE"].endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        # The embedded mode runs a web server and a worker on one file: wait for locks
        # instead of failing, and let readers work while a writer commits.
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database: {url!r}")
    else:
        # A kept connection is checked before a request uses it: after a restart of PostgreSQL
        # the first request opens a new one instead of failing on the old.
        config["CONN_HEALTH_CHECKS"] = True
    return config


def env_path(name: str, default: Path) -> Path:
    value = env_str(name)
    if not value:
        return default
    path = Path(value)
    if not path.is_absolute():
        raise ImproperlyConfigured(f"{name}={value!r} must be an absolute path")
    return path

"""Tests: the development settings on a folder of their own, with a fast password hasher."""

import os
import tempfile

# Set before the settings below read it: a test run must never share the broker folder or the
# uploads of a `make run` on the same checkout.
os.environ.setdefault("COURSESITE_VAR_DIR", tempfile.mkdtemp(prefix="coursesite-test-"))

from coursesite.settings.development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}

# A file, not memory, so that the Celery worker processes of the pipeline tests share the
# test's database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405

# django-axes refuses ``authenticate()`` without a request, which tests of the demo accounts call
# directly; the tests of the lockouts turn it back on.
AXES_ENABLED = False

# Polled API answers are kept in the tests too, so that every test that changes something and
# reads it back through the API checks that the change reaches the kept answer. The tests run in
# one process with the cache in its memory; the fixtures whose workers are processes of their
# own turn keeping off.
API_ANSWER_SECONDS = 30

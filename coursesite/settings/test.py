"""Tests: the development settings with a fast password hasher and a media folder of their own."""

import tempfile
from pathlib import Path

from coursesite.settings.development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="coursesite-test-media-"))
LOGGING = {"version": 1, "disable_existing_loggers": False}

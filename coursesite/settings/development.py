"""The embedded default: SQLite and a folder broker under var/, demo accounts allowed."""

from coursesite.settings.base import *  # noqa: F403
from coursesite.settings.base import VAR_DIR
from coursesite.settings.env import env_bool, env_str

DEBUG = env_bool("DEBUG", True)
# A fixed key is only acceptable on a developer's machine; production refuses to start without one.
SECRET_KEY = env_str("SECRET_KEY") or "development-only-key-never-used-in-production-8c1f4e"
DEMO_MODE = env_bool("DEMO_MODE", True)

VAR_DIR.mkdir(parents=True, exist_ok=True)

"""Settings shared by every mode. The mode modules set DEBUG, the secret key and security."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from coursesite.settings.env import env_bool, env_database, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = env_path("COURSESITE_VAR_DIR", BASE_DIR / "var")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_htmx",
    "csp",
    "coursesite",
    "grading",
    "submissions",
    "presentations",
    "quizzes",
    "lti_tool",
    "lms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "coursesite.middleware.BodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coursesite.middleware.PanelTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees a login view's answer and can put the lockout answer in its place.
    "axes.middleware.AxesMiddleware",
]

# Content Security Policy: every script, style sheet, font and image comes from this site (images
# also as data: URLs), never inline, so that injected markup cannot run or restyle anything. No
# plugins, no other site may frame a page, and forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}

ROOT_URLCONF = "coursesite.urls"
WSGI_APPLICATION = "coursesite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # First, so that coursesite's admin/base_site.html takes the place of the admin's own.
        "DIRS": [BASE_DIR / "coursesite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'coursesite.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Login lockouts (coursesite/lockout.py): django-axes counts the failed logins of the site, the
# panel and the API's token endpoint, per account and per address, and refuses every login of a
# locked account or address, the right password included, until the cool-off has passed since the
# last attempt.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Failures expire with the cool-off, never on a success: a success would forget every failure from
# its address, so one student's own logins would let them guess another's password without end.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "coursesite.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "coursesite.lockout.client_address"
# How many reverse proxies in front of the site append to X-Forwarded-For. With none, the header is
# the client's own words and the connection's address is used; lockouts and API throttles agree.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")

# Uploads: no request body over this size is read at all; every uploaded file goes to a
# temporary file (never memory) and is checked there before it is stored.
MAX_REQUEST_BYTES = env_int("MAX_UPLOAD_MB", 110, minimum=1) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
HANDIN_MAX_FILES = env_int("HANDIN_MAX_FILES", 200, minimum=1)
HANDIN_MAX_UNPACKED_BYTES = env_int("HANDIN_MAX_UNPACKED_MB", 200, minimum=1) * 1024 * 1024
SUBMISSIONS_PER_HOUR = env_int("SUBMISSIONS_PER_HOUR", 30, minimum=1)
STUDENT_STORAGE_QUOTA_BYTES = env_int("STUDENT_STORAGE_QUOTA_MB", 500, minimum=1) * 1024 * 1024

REDIS_URL = env_str("REDIS_URL") or None
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "coursesite.cache.SharedClientRedisCache", "LOCATION": REDIS_URL}
    }
# Polled API answers (a hand-in's status, the gradebook) are kept in the cache until what they
# show changes, and this many seconds at most (``coursesite.answers``); 0 keeps none. Only a cache
# shared with the workers can keep them, so the default keeps none without Redis.
API_ANSWER_SECONDS = env_int("API_ANSWER_SECONDS", 30 if REDIS_URL else 0, minimum=0)
if API_ANSWER_SECONDS and not REDIS_URL:
    raise ImproperlyConfigured(
        "API_ANSWER_SECONDS keeps answers in a cache the workers share: set REDIS_URL too"
    )

# Grading. Limits nest: the sandbox's wall limit < the task's soft limit < its hard limit < the
# time Redis waits before handing an unacknowledged task to another worker.
GRADING_WORK_DIR = env_path("GRADING_WORK_DIR", VAR_DIR / "grading")
GRADING_MAX_WALL_SECONDS = env_int("GRADING_MAX_WALL_SECONDS", 3600, minimum=1)
GRADING_MAX_ATTEMPTS = env_int("GRADING_MAX_ATTEMPTS", 3, minimum=1)
GRADING_LEASE_MARGIN_SECONDS = env_int("GRADING_LEASE_MARGIN_SECONDS", 60, minimum=1)
GRADING_REQUEUE_AFTER_SECONDS = env_int("GRADING_REQUEUE_AFTER_SECONDS", 120, minimum=1)
GRADING_SLOT_OFFSET = env_int("GRADING_SLOT_OFFSET", 0)
GRADING_GPUS = [int(index) for index in env_list("GRADING_GPUS", [])]
# How many jobs share one GPU at a time (`make gpu-check` measures 1, 2 and 4 side by side).
GRADING_JOBS_PER_GPU = env_int("GRADING_JOBS_PER_GPU", 1, minimum=1)
# Each worker slot starts its next job's sandboxes ahead, the bundle's heavy modules imported;
# one that waits longer than this is thrown away and the job runs cold.
GRADING_WARM_SANDBOXES = env_bool("GRADING_WARM_SANDBOXES", True)
GRADING_WARM_MAX_IDLE_SECONDS = env_int("GRADING_WARM_MAX_IDLE_SECONDS", 900, minimum=1)
GRADING_ALLOW_UNSANDBOXED = env_bool("COURSESITE_ALLOW_UNSANDBOXED", False)
CELERY_TASK_SOFT_TIME_LIMIT = GRADING_MAX_WALL_SECONDS + 120
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 120
# Housekeeping has a queue of its own, served by a worker that never grades, so the reconciler
# never waits behind a training job. A round not started within its minute is dropped: the next
# one does the same work.
CELERY_BEAT_SCHEDULE = {
    "reconcile-grading-jobs": {
        "task": "grading.tasks.reconcile_jobs",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
}
CELERY_TASK_ROUTES = {
    "grading.tasks.reconcile_jobs": {"queue": "housekeeping"},
    "lms.tasks.lms_scores_post": {"queue": "housekeeping"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The broker is only a doorbell: jobs live in the database. Without a server, messages go
# through folders under var/, which a web process and a worker on one machine can share.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A worker serving "cpu,regrade" always takes a fresh hand-in before a regrade.
        "queue_order_strategy": "priority",
        "visibility_timeout": GRADING_MAX_WALL_SECONDS + 1200,
    }
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "messages"),
        "data_folder_out": str(BROKER_DIR / "messages"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.25,
    }
    for folder in ("messages", "control", "processed"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

HEALTHZ_BROKER_TIMEOUT = env_int("HEALTHZ_BROKER_TIMEOUT", 2, minimum=1)

# How long an API token lives: the default, and the most a user may ask for.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30, minimum=1)

# Demo accounts with a known password exist only where a mode turns this on.
DEMO_MODE = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that a request without credentials is told how to authenticate (401).
        "coursesite.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coursesite.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "coursesite API",
    "DESCRIPTION": "Courses, schedules, grade structure and grades of coursesite.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load their scripts and styles from this site, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

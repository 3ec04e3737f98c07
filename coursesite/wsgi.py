"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coursesite.settings.production")

application = get_wsgi_application()

# Imported once the settings are: a worker loads ahead what its first request would.
from coursesite.warmup import web_process_warm  # noqa: E402

web_process_warm()

"""What a new web process does once, before it answers anyone.

Django and its libraries load much of themselves on first use: the first request of a fresh
gunicorn worker compiles every URL pattern for ``reverse`` (the panel's time-zone middleware
reverses on every request), imports the Redis client and DRF's renderers, parsers and
authentication classes, and its first upload sets up Celery's producer side: 0.4 s more for
its first caller, and for every request queued behind it. ``coursesite.wsgi`` calls
``web_process_warm`` when a worker loads the site, before it accepts a connection, so that
this work is done then (``bench/api_cost.py`` measures a fresh process's first requests).

Nothing here opens a connection: with gunicorn's ``--preload`` the site is loaded before the
workers fork, and a connection opened then would be shared by all of them.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from rest_framework.settings import api_settings

from coursesite.celery import app as celery_app

log = logging.getLogger(__name__)

# The classes DRF imports from its settings on first use.
DRF_CLASSES = (
    "DEFAULT_RENDERER_CLASSES",
    "DEFAULT_PARSER_CLASSES",
    "DEFAULT_AUTHENTICATION_CLASSES",
    "DEFAULT_PERMISSION_CLASSES",
    "DEFAULT_THROTTLE_CLASSES",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS",
    "DEFAULT_METADATA_CLASS",
    "DEFAULT_VERSIONING_CLASS",
    "DEFAULT_PAGINATION_CLASS",
    "DEFAULT_FILTER_BACKENDS",
    "DEFAULT_SCHEMA_CLASS",
    "EXCEPTION_HANDLER",
)


def _namespaces_populate(resolver: URLResolver, prefix: str = "") -> int:
    """Compile the patterns ``reverse`` reads for every namespace under ``resolver`` (a
    namespaced name is reversed through a resolver of its own, built and compiled on first use):
    one name of each is reversed, which compiles them whether or not it needs arguments.
    Returns how many namespaces were compiled."""
    count = 0
    for namespace, (_, nested) in resolver.namespace_dict.items():
        path = f"{prefix}{namespace}:"
        name = next((key for key in nested.reverse_dict if isinstance(key, str)), None)
        if name is not None:
            with suppress(NoReverseMatch):
                reverse(path + name)
        count += 1 + _namespaces_populate(nested, path)
    return count


def web_process_warm() -> None:
    """Load now what the first request would load (see the module doc). A failure here only
    leaves the loading to the first request: it is logged, never raised."""
    try:
        root = get_resolver()
        _ = root.reverse_dict
        namespaces = _namespaces_populate(root)
        for name in DRF_CLASSES:
            getattr(api_settings, name)
        if isinstance(caches["default"], RedisCache):
            import redis  # noqa: F401 - what the cache's client imports on first use
        # An upload rings the broker: Celery binds its tasks, loads its result backend and
        # builds its pool of producers on the first message (the connection opens on use).
        # The apps' task modules are imported directly: the worker's way of importing them
        # runs Django's system checks first (0.3 s), which a web process has no use for.
        celery_app.autodiscover_tasks(force=True)
        _ = celery_app.tasks, celery_app.backend, celery_app.producer_pool
    except Exception:
        log.warning("the web process could not load ahead of its first request", exc_info=True)
        return
    log.debug("web process warm: URL patterns of %d namespaces compiled", namespaces)

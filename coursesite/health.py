"""``GET /healthz``: is the database up, is the broker reachable, how many workers answer.

Everyone gets the status with its HTTP code: ``ok`` (200), ``degraded`` when the broker is down but
the database is up (200: the site still serves pages and takes hand-ins), ``down`` when the
database is (503). Only staff (a user with ``is_staff``, a superuser, or an instructor or TA of
any course), by session or API token, see the details: the database vendor, the broker transport,
the worker count and the errors. An anonymous caller, a student or a credential that fails gets
the status alone, and while the database is down nobody can be recognized, so nobody gets more.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from coursesite.celery import app as celery_app
from coursesite.models import Membership
from coursesite.models.course import STAFF_ROLES
from coursesite.tokens import ApiTokenAuthentication

log = logging.getLogger(__name__)


def database_state() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        log.warning("health check: database unreachable: %s", error)
        return {"ok": False, "vendor": connection.vendor, "error": str(error).splitlines()[0]}
    return {"ok": True, "vendor": connection.vendor}


def broker_state() -> dict[str, Any]:
    """Whether the broker answers, and how many workers reply to a ping over it."""
    timeout = settings.HEALTHZ_BROKER_TIMEOUT
    transport = celery_app.conf.broker_url.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            replies = celery_app.control.ping(timeout=min(1.0, timeout), connection=conn)
    except Exception as error:
        log.warning("health check: broker unreachable: %s", error)
        return {"ok": False, "transport": transport, "error": str(error), "workers": 0}
    return {"ok": True, "transport": transport, "workers": len(replies or [])}


def sees_health_details(request: HttpRequest) -> bool:
    """Whether the caller is staff (see the module doc). Reads the database, so ask only while it
    is up. A token or session that does not authenticate counts as no caller at all."""
    drf_request = Request(
        request, authenticators=[ApiTokenAuthentication(), SessionAuthentication()]
    )
    try:
        user: User | AnonymousUser = drf_request.user
        return user.is_authenticated and (
            user.is_staff
            or user.is_superuser
            or Membership.objects.filter(user=user, role__in=STAFF_ROLES).exists()
        )
    except (APIException, DatabaseError):
        # A database that went down since ``database_state`` asked recognizes nobody either.
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = database_state()
    broker = broker_state()
    status = "ok" if database["ok"] and broker["ok"] else "degraded" if database["ok"] else "down"
    body: dict[str, Any] = {"status": status}
    if database["ok"] and sees_health_details(request):
        body |= {
            "database": database,
            "broker": {key: value for key, value in broker.items() if key != "workers"},
            "workers": broker["workers"],
        }
    return JsonResponse(body, status=200 if database["ok"] else 503)

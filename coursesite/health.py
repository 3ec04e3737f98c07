"""``GET /healthz``: is the database up, is the broker reachable, how many workers answer."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coursesite.celery import app as celery_app

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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = database_state()
    broker = broker_state()
    body = {
        "status": "ok"
        if database["ok"] and broker["ok"]
        else "degraded"
        if database["ok"]
        else "down",
        "database": database,
        "broker": {key: value for key, value in broker.items() if key != "workers"},
        "workers": broker["workers"],
    }
    return JsonResponse(body, status=200 if database["ok"] else 503)

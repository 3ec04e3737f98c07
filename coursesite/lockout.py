"""Login lockouts: which address a login comes from, and what a locked-out caller is told.

django-axes watches every call of ``django.contrib.auth.authenticate`` that carries the request:
the site's login form, the instructor panel's login and the API's password-for-token endpoint.
The rules, set in the settings:

- After ``AXES_FAILURE_LIMIT`` failed logins of one account, or from one address, that account and
  that address are locked: every login is refused, the right password included.
- A lock lasts ``AXES_COOLOFF_TIME`` from the last attempt; each refused attempt starts it again,
  so the cool-off is also how long a caller who was just refused has to wait.
- Failures are forgotten only when the cool-off has passed since the last one, never on a
  successful login, which would clear every failure from its address.

A locked-out caller gets 429 and ``Retry-After`` (seconds), in the form the login was asked in:
the API answers JSON ``{"detail": ..., "retry_after": ...}``; a login page is shown again with
the lockout in place of the wrong-password message; anything else gets the message as text.

The address of a request is the connection's (``REMOTE_ADDR``). Behind ``TRUSTED_PROXY_COUNT``
reverse proxies that each append to ``X-Forwarded-For``, it is the entry that many places from
the right: the address the outermost trusted proxy saw. Entries further left were written by the
client and are never believed. This is the rule of DRF's ``NUM_PROXIES``, so lockouts and API
throttles count the same address.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from rest_framework.request import Request
from rest_framework.response import Response


def client_address(request: HttpRequest | Request) -> str | None:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies == 0 or not forwarded:
        return request.META.get("REMOTE_ADDR")
    addresses = forwarded.split(",")
    return addresses[-min(proxies, len(addresses))].strip()


def lockout_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return (
        "Too many failed logins: this account or address is locked. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes's AXES_LOCKOUT_CALLABLE: the answer to a refused login, in place of
    ``original_response``, the answer the login view gave."""
    seconds = int(get_cool_off(request).total_seconds())
    message = lockout_message(seconds)
    form = login_form(original_response)
    response: HttpResponse
    if isinstance(original_response, Response):
        response = JsonResponse({"detail": message, "retry_after": seconds}, status=429)
    elif isinstance(original_response, TemplateResponse) and form is not None:
        form.errors.pop(NON_FIELD_ERRORS, None)
        form.add_error(None, message)
        response = TemplateResponse(
            request, original_response.template_name, original_response.context_data, status=429
        )
        response.render()
    else:
        response = HttpResponse(message, content_type="text/plain; charset=utf-8", status=429)
    response["Retry-After"] = str(seconds)
    return response


def login_form(response: HttpResponse | None) -> Form | None:
    context = getattr(response, "context_data", None) or {}
    form = context.get("form")
    return form if isinstance(form, Form) and form.is_bound else None

"""API tokens: how they are made, listed and revoked, and the authentication that reads them from
``Authorization: Token <key>``.

A key is shown once, when its token is made; the database keeps only its sha256, so a copy of
the database holds no usable key. A token stops working when it expires, when its owner changes
their password (it keeps the owner's session hash of the moment it was made) or is deactivated,
and an export token also when its owner no longer runs its course.

An export token acts as the staff member who made it, but only for a GET of its own course's
gradebook (``EXPORT_URL_NAMES``). Everything else answers 403 here, before any view runs, so an
endpoint added later is closed to it until it is named here.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.request import Request

from coursesite.models import ApiToken, Course, Membership, TokenScope
from coursesite.models.course import STAFF_ROLES

KEY_BYTES = 32
PREFIX_LENGTH = 8
# Writing the time of every request would turn each read of the API into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
EXPORT_URL_NAMES = frozenset({"api-gradebook", "api-gradebook-csv"})

INVALID = "Invalid token."
EXPIRED = "Token has expired."
REVOKED = "Token has been revoked."


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def runs_course(user: User, course: Course) -> bool:
    """An instructor or TA of the course, or a superuser, who sees every course as its staff do."""
    return (
        user.is_superuser
        or Membership.objects.filter(course=course, user=user, role__in=STAFF_ROLES).exists()
    )


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str = "",
    scope: TokenScope = TokenScope.PERSONAL,
    course: Course | None = None,
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for ``user`` and return it with its key, which cannot be read again.

    It lives ``days`` days, at most and by default ``API_TOKEN_DAYS``. An export token names
    its course, and only the course's staff may make one. The user's tokens that no longer
    work (expired, or made before their password last changed) are deleted on the way.
    """
    lifetime = settings.API_TOKEN_DAYS if days is None else days
    if not 1 <= lifetime <= settings.API_TOKEN_DAYS:
        raise ValidationError({"days": f"A token lives 1 to {settings.API_TOKEN_DAYS} days."})
    if scope == TokenScope.GRADEBOOK_EXPORT and course and not runs_course(user, course):
        raise ValidationError({"course": "Only the course's staff may export its gradebook."})
    now = timezone.now()
    password_hash = user.get_session_auth_hash()
    ApiToken.objects.filter(user=user).filter(
        Q(expires_at__lte=now) | ~Q(password_hash=password_hash)
    ).delete()
    key = secrets.token_urlsafe(KEY_BYTES)
    token = ApiToken(
        user=user,
        name=name,
        key_hash=key_hash(key),
        prefix=key[:PREFIX_LENGTH],
        scope=scope,
        course=course,
        password_hash=password_hash,
        created_at=now,
        expires_at=now + timedelta(days=lifetime),
    )
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def api_token_mark_used(*, token: ApiToken, now: datetime) -> None:
    """Record the token's use, unless it was already recorded less than a minute ago."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    token.last_used_at = now
    token.save(update_fields=["last_used_at"])


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first: expired ones and those made before the
    password last changed are left out."""
    return ApiToken.objects.select_related("course").filter(
        user=user, expires_at__gt=timezone.now(), password_hash=user.get_session_auth_hash()
    )


def access_api_token(*, user: User, pk: int) -> ApiToken:
    """One of the user's own tokens; another's answers 404, as a token that does not exist."""
    token = ApiToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise Http404
    return token


def token_problem(token: ApiToken, *, now: datetime) -> str | None:
    """Why the token no longer authenticates, or None while it does."""
    if token.expires_at <= now:
        return EXPIRED
    owner = token.user
    if not owner.is_active or not constant_time_compare(
        token.password_hash, owner.get_session_auth_hash()
    ):
        return REVOKED
    if token.course is not None and not runs_course(owner, token.course):
        return REVOKED
    return None


def export_check(request: Request, token: ApiToken) -> None:
    """Refuse an export token everything but a GET of its own course's gradebook."""
    if token.scope != TokenScope.GRADEBOOK_EXPORT:
        return
    assert token.course is not None, "an export token names its course"
    match = request._request.resolver_match
    if (
        request.method != "GET"
        or match is None
        or match.url_name not in EXPORT_URL_NAMES
        or match.kwargs.get("course_slug") != token.course.slug
    ):
        raise PermissionDenied(
            f"An export token only reads the gradebook of {token.course.slug} (GET)."
        )


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``. A wrong, expired or revoked key answers 401 with a message
    that says which; none of them says anything about the user."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        found = super().authenticate(request)
        if found is not None:
            export_check(request, found[1])
        return found

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = (
            ApiToken.objects.select_related("user", "course").filter(key_hash=key_hash(key)).first()
        )
        if token is None:
            raise AuthenticationFailed(INVALID)
        now = timezone.now()
        problem = token_problem(token, now=now)
        if problem is not None:
            raise AuthenticationFailed(problem)
        api_token_mark_used(token=token, now=now)
        return token.user, token

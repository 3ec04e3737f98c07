"""Middleware of the whole site.

``BodyLimitMiddleware`` caps a request's body before anything reads it, so one upload cannot fill
a disk or a worker. ``PanelTimeZoneMiddleware`` shows the instructor panel's dates and times in
the time zone of the staff member's course, not the server's.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from coursesite.models import Course
from coursesite.models.course import STAFF_ROLES

# Plain HTML rather than the site's templates: those read the user and their messages, which
# this middleware runs too early to have.
TOO_LARGE_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Upload too large</title></head>
<body>
<h1>Upload too large</h1>
<p>{}</p>
<p>Go back and choose a smaller file.</p>
</body>
</html>
"""


def wants_page(request: HttpRequest) -> bool:
    """A browser asking for a page, not an API client; a missing Accept header means JSON."""
    if request.path_info.startswith("/api/"):
        return False
    return request.get_preferred_type(["application/json", "text/html"]) == "text/html"


class BodyLimitMiddleware:
    """Refuses with 413 a request whose body is over ``MAX_REQUEST_BYTES``, before it is read.

    Django reads no more of a body than its Content-Length announces (and nothing without one),
    so checking the announced length is enough. Runs before CSRF, which may read a form's body.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        try:
            announced = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"detail": "The Content-Length header is not a number."}, status=400
            )
        if announced > limit:
            megabytes = limit / (1024 * 1024)
            message = f"The request is larger than the {megabytes:.2f} MB this site accepts."
            if wants_page(request):
                return HttpResponse(format_html(TOO_LARGE_PAGE, message), status=413)
            return JsonResponse({"detail": message}, status=413)
        return self.get_response(request)


def panel_time_zone(user: AbstractUser) -> str | None:
    """The time zone the panel shows ``user``'s times in, or None for the server's.

    The zone of the courses the user teaches; where they teach courses in several zones, that of
    the first course by start date. A superuser who teaches none sees the zone of the latest
    course. Anyone else keeps the server's zone.
    """
    taught = Course.objects.filter(
        memberships__user_id=user.pk, memberships__role__in=STAFF_ROLES
    ).order_by("starts_on", "slug")
    zone = taught.values_list("time_zone", flat=True).first()
    if zone is None and user.is_superuser:
        zone = (
            Course.objects.order_by("-starts_on", "slug")
            .values_list("time_zone", flat=True)
            .first()
        )
    return zone


class PanelTimeZoneMiddleware:
    """Activates, for a staff member's request to the instructor panel, their course's time zone.

    A deadline of 23:59 in Istanbul then reads 23:59 in the panel's lists and forms, and a time
    typed into a form is taken in that zone. The panel's header names the zone. Needs the user,
    so it runs after the authentication middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        in_panel = request.path_info.startswith(reverse("admin:index"))
        zone = None
        if in_panel and isinstance(user, AbstractUser) and user.is_staff:
            zone = panel_time_zone(user)
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)

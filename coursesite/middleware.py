"""Cap a request's body before anything reads it, so one upload cannot fill a disk or a worker."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html

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

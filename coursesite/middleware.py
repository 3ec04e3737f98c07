"""Cap a request's body before anything reads it, so one upload cannot fill a disk or a worker."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


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
            return JsonResponse(
                {"detail": f"The request is larger than the {megabytes:.2f} MB this site accepts."},
                status=413,
            )
        return self.get_response(request)

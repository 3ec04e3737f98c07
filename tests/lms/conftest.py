"""The LMS the tool is launched from, and the launch itself as a browser goes through it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lti_tool.models import LtiContext, LtiDeployment

from coursesite.models import Course
from lms.models import CourseLink
from lms.services import course_link_create
from tests.lms.platform import Platform

TESTSERVER = "http://testserver"


@pytest.fixture
def platform(db: None) -> Iterator[Platform]:
    """A running platform, registered with the tool, its deployment active."""
    with Platform() as lms:
        lms.register()
        yield lms


def launch(
    client: Client, platform: Platform, *, sub: str, **id_token_options: Any
) -> HttpResponse:
    """Launch the tool from the LMS as user ``sub``, the way a browser does, with ``client`` (so
    the tool's state cookie and session are its real ones): the LMS's login initiation, the tool's
    redirect to the platform, the platform's answer posted back to the tool.

    Returns the launch's answer; where the tool's login step does not redirect to the platform,
    returns that answer instead, for the tests of refused logins.
    """
    login_url = reverse("lti-login")
    initiation = {
        "iss": platform.issuer,
        "login_hint": sub,
        "target_link_uri": TESTSERVER + reverse("lti-launch"),
        "lti_message_hint": secrets.token_urlsafe(8),
        "lti_deployment_id": platform.deployment_id,
        "client_id": platform.client_id,
    }
    login = client.get(login_url, initiation)
    if login.status_code == 200 and b"lti1p3_new_window" in login.content:
        # The tool first checked in the page that the browser keeps its cookies; a browser that
        # does comes back in a window of its own.
        login = client.get(login_url, {**initiation, "lti1p3_new_window": "1"})
    location = login.headers.get("Location", "") if login.status_code in (302, 303) else ""
    redirect = urlsplit(location)
    if f"{redirect.scheme}://{redirect.netloc}{redirect.path}" != platform.auth_url:
        return login
    fields = platform.authorize(dict(parse_qsl(redirect.query)), sub=sub, **id_token_options)
    target = urlsplit(dict(parse_qsl(redirect.query))["redirect_uri"])
    return client.post(
        target.path, urlencode(fields), content_type="application/x-www-form-urlencoded"
    )


def link_course(platform: Platform, course: Course, *, linked_by: User | None = None) -> CourseLink:
    """The platform's LMS course linked to ``course``, its service URLs as a launch syncs them:
    by ``linked_by`` through the service that links at a first staff launch, or made as it is."""
    context = LtiContext.objects.create(
        deployment=LtiDeployment.objects.get(
            registration=platform.registration, deployment_id=platform.deployment_id
        ),
        id_on_platform=platform.context_id,
        title=platform.context_title,
        label=platform.context_label,
        memberships_url=platform.memberships_url,
        lineitems_url=platform.lineitems_url,
    )
    if linked_by is None:
        return CourseLink.objects.create(context=context, course=course, linked_at=timezone.now())
    return course_link_create(context=context, course=course, linked_by=linked_by)

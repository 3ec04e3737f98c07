"""The demo's LMS: `load_demo` links the demo course to an example LMS that does not exist, and
nothing pretends to have come from it or gone to it. Its page lists every released item as not
sent yet, and a roster dry run or a grade send reaches no LMS and shows why.

The demo is loaded once for the module (a load takes some twenty seconds), committed, and flushed
away at the end; each test's own changes are rolled back.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from lti_tool.models import Key, LtiContext, LtiDeployment, LtiRegistration, LtiUser

from coursesite.models import Course, Membership
from lms.demo import CONTEXT_TITLE, LMS, REGISTRATION_NAME
from lms.models import CourseLink, LineItemLink, RosterSync, ScoreSent
from lms.passback import item_resource_id, scores_post

AS_OF = date(2025, 3, 4)  # week 9 of the demo: A1, the midterm and more are released by then

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", as_of=AS_OF, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def first_load(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The output of the demo's first load, its rows committed for the module's tests."""
    with django_db_blocker.unblock():
        output = load_demo()
    try:
        yield output
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


def demo_course() -> Course:
    return Course.objects.get(slug="comp541-fall2024")


def demo_link() -> CourseLink:
    return CourseLink.objects.select_related("context__deployment__registration").get(
        course=demo_course()
    )


def instructor_client() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="aerdem"))
    return client


def lms_rows() -> dict[str, Any]:
    """Every row the demo's LMS part makes or must not make, as a comparable snapshot."""
    return {
        "keys": list(Key.objects.values_list("pk", "public_key", "is_active")),
        "registrations": list(LtiRegistration.objects.values()),
        "deployments": list(LtiDeployment.objects.values()),
        "contexts": list(LtiContext.objects.values()),
        "links": list(CourseLink.objects.values()),
        "lms users": LtiUser.objects.count(),
        "line items": LineItemLink.objects.count(),
        "scores sent": ScoreSent.objects.count(),
        "syncs": RosterSync.objects.count(),
    }


def roster() -> list[tuple[str, str, bool, str]]:
    return sorted(
        Membership.objects.filter(course=demo_course()).values_list(
            "user__username", "role", "active", "sis_user_id"
        )
    )


def test_it_links_the_demo_course_to_the_example_lms_and_sends_nothing(first_load: str) -> None:

    link = demo_link()
    registration = link.context.deployment.registration
    assert (registration.name, registration.issuer, registration.is_active) == (
        REGISTRATION_NAME,
        LMS,
        True,
    )
    for url in (registration.auth_url, registration.token_url, registration.keyset_url):
        assert url.startswith("https://lms.example.invalid/")
    assert link.context.deployment.is_active
    assert link.context.title == CONTEXT_TITLE
    assert link.context.memberships_url.startswith("https://lms.example.invalid/")
    assert link.context.lineitems_url.startswith("https://lms.example.invalid/")
    assert link.linked_by == User.objects.get(username="aerdem")
    assert Key.objects.active().exists()
    rows = lms_rows()
    assert (rows["lms users"], rows["line items"], rows["scores sent"], rows["syncs"]) == (
        0,
        0,
        0,
        0,
    )
    assert CONTEXT_TITLE in first_load


def test_it_changes_nothing_of_the_lms_on_a_second_load(first_load: str) -> None:
    before = lms_rows()

    output = load_demo()

    assert lms_rows() == before
    assert "Nothing new to play" in output


def test_it_keeps_a_registration_an_administrator_switched_off(first_load: str) -> None:
    LtiRegistration.objects.filter(issuer=LMS).update(is_active=False)

    load_demo()

    assert not LtiRegistration.objects.get(issuer=LMS).is_active


def test_it_shows_the_demo_instructor_every_released_item_not_sent_yet(first_load: str) -> None:
    link = demo_link()
    released = list(demo_course().items.filter(released=True).values_list("slug", flat=True))
    assert "a1" in released

    page = instructor_client().get(reverse("lms-staff", args=["comp541-fall2024"]))

    assert page.status_code == 200
    html = page.content.decode()
    assert CONTEXT_TITLE in html and REGISTRATION_NAME in html
    for slug in released:
        row = html.split(f'id="column-{link.pk}-{slug}"', 1)[1].split("</tr>", 1)[0]
        assert "none yet" in row and "never" in row, slug
    assert "No sync yet" in html


def test_it_stores_the_error_of_a_dry_run_against_the_unreachable_lms_and_changes_no_one(
    first_load: str,
) -> None:
    link = demo_link()
    before = roster()
    client = instructor_client()

    answer = client.post(reverse("lms-roster-dry-run", args=["comp541-fall2024", link.pk]))

    sync = RosterSync.objects.get()
    assert (sync.dry_run, sync.changes) == (True, [])
    assert "could not reach the LMS at lms.example.invalid" in sync.error
    assert roster() == before
    assert LtiUser.objects.count() == 0
    assert answer["Location"] == reverse("lms-roster-sync", args=["comp541-fall2024", sync.pk])
    page = client.get(answer["Location"])
    assert page.status_code == 200
    assert 'id="sync-error"' in page.content.decode()
    lms_page = client.get(reverse("lms-staff", args=["comp541-fall2024"])).content.decode()
    assert "Failed:" in lms_page


def test_it_keeps_the_error_of_sending_grades_to_the_unreachable_lms_on_the_column(
    first_load: str,
) -> None:
    link = demo_link()

    result = scores_post(link=link)

    assert result.stopped_by is not None and result.stopped_by.transient
    assert ScoreSent.objects.count() == 0
    failed = LineItemLink.objects.exclude(last_error="").get()
    # The run stops at the first column: an LMS that does not answer is tried again later.
    assert failed.item is not None and failed.item.released
    assert failed.resource_id == item_resource_id(failed.item)
    assert "lms.example.invalid" in failed.last_error
    page = instructor_client().get(reverse("lms-staff", args=["comp541-fall2024"]))
    row = page.content.decode().split(f'id="column-{link.pk}-{failed.item.slug}"', 1)[1]
    assert "lms.example.invalid" in row.split("</tr>", 1)[0]

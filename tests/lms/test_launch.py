"""The launch: a student who clicks a link in the LMS lands on its page, logged in as the roster's
member; every launch that fails a check is refused with a page and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lti_tool.models import (
    LtiDeployment,
    LtiMembership,
    LtiRegistration,
    LtiResourceLink,
    LtiUser,
)

from coursesite.models import Course, GradeCategory, GradeItem, Membership, Role
from lms.models import CourseLink
from submissions.models import Assignment
from tests.conftest import Personas, make_member
from tests.lms.conftest import TESTSERVER, launch, link_course
from tests.lms.platform import Platform

TARGET = "coursesite_target"


@dataclass
class Roster:
    """The personas' course with university emails and SIS ids, an assignment A2, and Erin, a
    student who dropped the course."""

    personas: Personas
    course: Course
    a2: Assignment
    erin: AbstractUser


def course_roster(personas: Personas) -> Roster:
    course = personas.course
    for user in (personas.alice, personas.bob, personas.carol, personas.dave):
        user.email = f"{user.username}@uni.example.edu"
        user.save(update_fields=["email"])
    Membership.objects.filter(course=course, user=personas.carol).update(sis_user_id="2024001")
    category = GradeCategory.objects.create(course=course, name="Assignments", weight=Decimal(0))
    item = GradeItem.objects.create(
        course=course, category=category, slug="a2", title="A2: Convolutions",
        max_points=Decimal(100), due_at=timezone.now() + timedelta(days=3),
    )  # fmt: skip
    erin = make_member(course, "erin", Role.STUDENT)
    erin.email = "erin@uni.example.edu"
    erin.save(update_fields=["email"])
    Membership.objects.filter(course=course, user=erin).update(active=False)
    return Roster(
        personas, course, Assignment.objects.create(item=item, handin_files=["cnn.py"]), erin
    )


def authorized(client: Client, platform: Platform, *, sub: str, **options: Any) -> dict[str, str]:
    """The fields the LMS has the browser post to the tool's launch URL, for posting them by
    hand (twice, for a replay)."""
    login = client.get(
        reverse("lti-login"),
        {
            "iss": platform.issuer,
            "login_hint": sub,
            "target_link_uri": TESTSERVER + reverse("lti-launch"),
            "client_id": platform.client_id,
        },
    )
    assert login.status_code == 302
    return platform.authorize(
        dict(parse_qsl(urlsplit(login["Location"]).query)), sub=sub, **options
    )


def logged_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


@pytest.fixture
def roster(personas: Personas) -> Roster:
    return course_roster(personas)


@pytest.fixture
def linked(platform: Platform, roster: Roster) -> CourseLink:
    return link_course(platform, roster.course)


def test_it_logs_a_student_in_and_opens_the_assignment_they_clicked(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    carol = roster.personas.carol
    answer = launch(
        client, platform, sub="lms-carol", email="CAROL@uni.example.edu",
        custom={TARGET: "item:a2"},
    )  # fmt: skip

    page = reverse("assignment", kwargs={"slug": roster.course.slug, "pk": roster.a2.pk})
    assert (answer.status_code, answer["Location"]) == (302, page)
    assert logged_in_user_id(client) == carol.pk
    handin = client.get(page)
    assert handin.status_code == 200
    assert handin.wsgi_request.user == carol
    assert "A2: Convolutions" in handin.content.decode()
    assert LtiUser.objects.get(sub="lms-carol").auth_user == carol


def test_it_matches_the_sis_id_before_the_email(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    # The LMS sends Bob's address with Carol's SIS id: the university's id decides.
    launch(client, platform, sub="lms-carol", email="bob@uni.example.edu", sis_id="2024001")

    assert logged_in_user_id(client) == roster.personas.carol.pk


def test_it_opens_the_course_page_without_a_target_or_with_one_of_another_course(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    other = roster.personas.other_course
    category = GradeCategory.objects.create(course=other, name="Work", weight=Decimal(100))
    item = GradeItem.objects.create(
        course=other, category=category, slug="secret", title="Secret", max_points=Decimal(1)
    )
    Assignment.objects.create(item=item, handin_files=["x.py"])
    course_page = reverse("course", args=[roster.course.slug])

    for custom in (None, {TARGET: "item:secret"}, {TARGET: "item:nothing"}, {TARGET: "admin"}):
        answer = launch(
            Client(), platform, sub="lms-carol", email="carol@uni.example.edu", custom=custom
        )
        assert (answer.status_code, answer["Location"]) == (302, course_page), custom


def test_it_opens_the_gradebook_for_staff_and_the_grades_page_for_a_student(
    platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    slug = roster.course.slug
    staff = launch(Client(), platform, sub="lms-bob", email="bob@uni.example.edu",
                   roles=("TeachingAssistant",), custom={TARGET: "gradebook"})  # fmt: skip
    student = launch(Client(), platform, sub="lms-carol", email="carol@uni.example.edu",
                     custom={TARGET: "gradebook"})  # fmt: skip

    assert staff["Location"] == reverse("gradebook", args=[slug])
    assert student["Location"] == reverse("grades", args=[slug])


def test_it_gives_an_lms_instructor_whom_the_roster_has_as_a_student_student_access(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    slug = roster.course.slug
    launch(client, platform, sub="lms-carol", email="carol@uni.example.edu", roles=("Instructor",))

    assert logged_in_user_id(client) == roster.personas.carol.pk
    assert client.get(reverse("grades", args=[slug])).status_code == 200
    # The staff's pages send her to her own.
    for staff_page in ("gradebook", "gradebook-score"):
        args = [slug] if staff_page == "gradebook" else [slug, "a2", "bob"]
        answer = client.get(reverse(staff_page, args=args))
        assert (answer.status_code, answer["Location"]) == (302, reverse("grades", args=[slug]))
    release = client.post(
        reverse("gradebook-release", args=[slug]), {"item": "a2", "released": "1"}
    )
    assert release.status_code in (403, 404)
    assert not GradeItem.objects.get(course=roster.course, slug="a2").released


def test_it_logs_in_through_the_login_lockouts(
    settings: Any, client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    settings.AXES_ENABLED = True
    launch(client, platform, sub="lms-carol", email="carol@uni.example.edu")

    assert logged_in_user_id(client) == roster.personas.carol.pk


# Refusals: each leaves no coursesite user, membership, link or login, and no LMS user.


@dataclass
class Counts:
    users: int
    memberships: int
    links: int
    lti_users: int
    lti_memberships: int
    resource_links: int


def counts() -> Counts:
    return Counts(
        get_user_model().objects.count(),
        Membership.objects.count(),
        CourseLink.objects.count(),
        LtiUser.objects.count(),
        LtiMembership.objects.count(),
        LtiResourceLink.objects.count(),
    )


def assert_refused(answer: HttpResponse, client: Client, before: Counts, status: int) -> None:
    assert answer.status_code == status
    assert "lms/refused.html" in [template.name for template in answer.templates]
    assert 'id="launch-refused"' in answer.content.decode()
    assert logged_in_user_id(client) is None
    assert counts() == before


def forged_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("options", "status"),
    [
        pytest.param({"signing_key": forged_key()}, 400, id="bad signature"),
        pytest.param({"exp_seconds": -60}, 400, id="expired"),
        pytest.param({"audience": "another-tool"}, 403, id="wrong audience"),
        pytest.param(
            {"audience": ["coursesite", "another-tool"], "claims": {"azp": "another-tool"}},
            400,
            id="issued to another audience",
        ),
        pytest.param({"deployment_id": "deployment-9"}, 403, id="unknown deployment"),
        pytest.param({"claims": {"nonce": "a-nonce-never-handed-out"}}, 400, id="foreign nonce"),
    ],
)
def test_it_refuses_a_launch_that_fails_a_check(
    client: Client,
    platform: Platform,
    roster: Roster,
    linked: CourseLink,
    options: dict[str, Any],
    status: int,
) -> None:
    client.force_login(roster.personas.alice)
    before = counts()

    answer = launch(client, platform, sub="lms-carol", email="carol@uni.example.edu", **options)

    assert_refused(answer, client, before, status)


def test_it_records_an_unknown_deployment_inactive_for_an_administrator(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    launch(client, platform, sub="lms-carol", email="carol@uni.example.edu", deployment_id="d-9")

    deployment = LtiDeployment.objects.get(deployment_id="d-9")
    assert not deployment.is_active
    assert not deployment.contexts.exists()


def test_it_refuses_a_launch_from_an_inactive_deployment(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    LtiDeployment.objects.filter(deployment_id=platform.deployment_id).update(is_active=False)
    before = counts()

    answer = launch(client, platform, sub="lms-carol", email="carol@uni.example.edu")

    assert_refused(answer, client, before, 403)
    assert platform.deployment_id in answer.content.decode()


def test_it_refuses_an_lms_whose_registration_is_switched_off(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    LtiRegistration.objects.filter(issuer=platform.issuer).update(is_active=False)
    before = counts()

    answer = launch(client, platform, sub="lms-carol", email="carol@uni.example.edu")

    assert_refused(answer, client, before, 403)
    assert platform.received_matching("*", "/auth") == []


def test_it_refuses_the_same_id_token_posted_twice(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    fields = authorized(client, platform, sub="lms-carol", email="carol@uni.example.edu")
    first = client.post(reverse("lti-launch"), fields)
    assert logged_in_user_id(client) == roster.personas.carol.pk
    before = counts()

    # Whoever copies the posted form gets nothing, with or without the browser's cookies.
    for replayer in (Client(), client):
        again = replayer.post(reverse("lti-launch"), fields)
        assert_refused(again, replayer, before, 400)
        assert "already used" in again.content.decode()
    assert first.status_code == 302


def test_it_refuses_a_launch_with_no_state_cookie(
    platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    fields = authorized(Client(), platform, sub="lms-carol", email="carol@uni.example.edu")
    stranger = Client()
    before = counts()

    answer = stranger.post(reverse("lti-launch"), fields)

    assert_refused(answer, stranger, before, 400)


def test_it_refuses_someone_the_roster_does_not_list(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    before = counts()

    # Dave is a student of another course; the LMS calls him an instructor of this one.
    answer = launch(
        client, platform, sub="lms-dave", email="dave@uni.example.edu", roles=("Instructor",)
    )

    assert_refused(answer, client, before, 403)
    assert "not on this course&#x27;s roster" in answer.content.decode()


def test_it_refuses_a_student_who_dropped_the_course(
    client: Client, platform: Platform, roster: Roster, linked: CourseLink
) -> None:
    before = counts()

    answer = launch(client, platform, sub="lms-erin", email="erin@uni.example.edu")

    assert_refused(answer, client, before, 403)
    assert "no longer" in answer.content.decode()


def test_it_serves_the_tools_public_keys(client: Client, platform: Platform) -> None:
    keys = client.get(reverse("lti-jwks")).json()["keys"]

    assert keys and all("d" not in key and key["alg"] == "RS256" for key in keys)


def test_it_shows_the_tools_urls_where_a_registration_is_edited(
    client: Client, platform: Platform
) -> None:
    admin = get_user_model().objects.create_superuser("root", "root@uni.example.edu", "pw-root-1")
    client.force_login(admin)
    assert platform.registration is not None

    page = client.get(
        reverse("admin:lti_tool_ltiregistration_change", args=[platform.registration.pk])
    )

    text = page.content.decode()
    for name in ("lti-login", "lti-launch", "lti-jwks"):
        assert TESTSERVER + reverse(name) in text

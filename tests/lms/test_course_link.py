"""Linking an LMS course to its coursesite course: at the first launch from it, by a member of the
course's staff, once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from lti_tool.models import LtiContext

from coursesite.models import Membership, Role
from lms.models import CourseLink
from lms.services import course_link_create, course_link_move
from tests.conftest import Personas
from tests.lms.conftest import launch, link_course
from tests.lms.platform import Platform
from tests.lms.test_launch import Roster, course_roster, logged_in_user_id


@pytest.fixture
def roster(personas: Personas) -> Roster:
    return course_roster(personas)


def alice_launches(client: Client, platform: Platform, **options: object):
    return launch(
        client, platform, sub="lms-alice", email="alice@uni.example.edu",
        roles=("Instructor",), **options,
    )  # fmt: skip


def test_it_lets_the_first_staff_launch_link_the_course(platform: Platform, roster: Roster) -> None:
    client = Client(enforce_csrf_checks=True)
    alice, course = roster.personas.alice, roster.course
    answer = alice_launches(client, platform, custom={"coursesite_target": "item:a2"})
    assert (answer.status_code, answer["Location"]) == (302, reverse("lti-link"))
    assert logged_in_user_id(client) is None

    page = client.get(reverse("lti-link"))
    text = page.content.decode()
    assert page.status_code == 200
    assert f'value="{course.pk}"' in text
    assert f'value="{roster.personas.other_course.pk}"' not in text
    assert not CourseLink.objects.exists()
    # The form is CSRF-protected: a post without the page's token links nothing.
    assert client.post(reverse("lti-link"), {"course": course.pk}).status_code == 403
    assert not CourseLink.objects.exists()

    linked = client.post(
        reverse("lti-link"),
        {"course": course.pk, "csrfmiddlewaretoken": page.context["csrf_token"]},
    )

    link = CourseLink.objects.get()
    assert (link.context.id_on_platform, link.course, link.linked_by) == (
        platform.context_id,
        course,
        alice,
    )
    assert link.linked_at is not None
    assert linked["Location"] == reverse(
        "assignment", kwargs={"slug": course.slug, "pk": roster.a2.pk}
    )
    assert logged_in_user_id(client) == alice.pk


def test_it_tells_a_student_of_an_unlinked_course_to_ask_their_instructor(
    client: Client, platform: Platform, roster: Roster
) -> None:
    answer = launch(client, platform, sub="lms-carol", email="carol@uni.example.edu")

    assert answer.status_code == 403
    assert "ask your instructor" in answer.content.decode().lower()
    assert logged_in_user_id(client) is None
    assert not CourseLink.objects.exists()
    assert not LtiContext.objects.exists()
    # Nor can the student reach the linking page on their own.
    assert client.get(reverse("lti-link")).status_code == 400


def test_it_lets_staff_link_only_a_course_they_teach(
    client: Client, platform: Platform, roster: Roster
) -> None:
    alice_launches(client, platform)

    answer = client.post(reverse("lti-link"), {"course": roster.personas.other_course.pk})

    assert answer.status_code == 403
    assert not CourseLink.objects.exists()
    assert logged_in_user_id(client) is None


def test_it_never_relinks_a_linked_course(
    client: Client, platform: Platform, roster: Roster
) -> None:
    personas = roster.personas
    Membership.objects.create(
        course=personas.other_course, user=personas.alice, role=Role.INSTRUCTOR
    )
    link = link_course(platform, roster.course)

    answer = alice_launches(client, platform)

    assert answer["Location"] == reverse("course", args=[roster.course.slug])
    assert client.get(reverse("lti-link")).status_code == 400
    assert list(CourseLink.objects.all()) == [link]
    assert CourseLink.objects.get().course == roster.course


def test_it_links_once_and_only_for_staff(platform: Platform, roster: Roster) -> None:
    personas = roster.personas
    context = link_course(platform, roster.course).context

    with pytest.raises(ValidationError):
        course_link_create(context=context, course=personas.other_course, linked_by=personas.alice)
    other = LtiContext.objects.create(deployment=context.deployment, id_on_platform="lms-999")
    with pytest.raises(ValidationError):
        course_link_create(context=other, course=roster.course, linked_by=personas.carol)
    assert CourseLink.objects.count() == 1


def test_it_lets_staff_move_a_link_to_another_course_they_teach(
    platform: Platform, roster: Roster
) -> None:
    personas = roster.personas
    link = link_course(platform, roster.course)
    Membership.objects.create(course=personas.other_course, user=personas.bob, role=Role.TA)

    with pytest.raises(ValidationError):
        course_link_move(link=link, course=personas.other_course, moved_by=personas.alice)
    course_link_move(link=link, course=personas.other_course, moved_by=personas.bob)

    link.refresh_from_db()
    assert (link.course, link.linked_by) == (personas.other_course, personas.bob)


def test_it_lets_the_panel_move_a_link_and_records_who_moved_it(
    client: Client, platform: Platform, roster: Roster
) -> None:
    root = get_user_model().objects.create_superuser("root", "root@uni.example.edu", "pw-root-1")
    link = link_course(platform, roster.course)
    client.force_login(root)
    url = reverse("admin:lms_courselink_change", args=[link.pk])
    assert client.get(url).status_code == 200

    answer = client.post(url, {"course": roster.personas.other_course.pk})

    assert answer.status_code == 302
    link.refresh_from_db()
    assert (link.course, link.linked_by) == (roster.personas.other_course, root)

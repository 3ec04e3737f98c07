"""Deep links: staff pick coursesite pages to place in the LMS course; the LMS gets a signed answer
naming each page, and a student who follows such a link lands on that page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
import requests
from django.test import Client
from django.urls import reverse

from lms.deep_links import target_path
from lms.models import CourseLink
from quizzes.models import Quiz
from tests.conftest import Personas
from tests.lms.conftest import TESTSERVER, launch, link_course
from tests.lms.platform import Platform
from tests.lms.test_launch import Roster, course_roster, logged_in_user_id

CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


@pytest.fixture
def roster(personas: Personas) -> Roster:
    Quiz.objects.create(item=personas.quiz)
    return course_roster(personas)


def deep_link_launch(client: Client, platform: Platform, **options: Any):
    options.setdefault("email", "alice@uni.example.edu")
    options.setdefault("roles", ("Instructor",))
    return launch(
        client, platform, sub=options.pop("sub", "lms-alice"),
        message_type="LtiDeepLinkingRequest", **options,
    )  # fmt: skip


def place(client: Client, *targets: str) -> tuple[str, str, Any]:
    """Choose ``targets`` on the placing page: the form's action, its JWT and the answer."""
    answer = client.post(reverse("lti-deep-link"), {"target": list(targets)})
    assert answer.status_code == 200
    form = re.search(
        r'<form method="post" action="([^"]+)" id="deep-link-return">\s*'
        r'<input type="hidden" name="JWT" value="([^"]+)">',
        answer.content.decode(),
    )
    assert form is not None
    return unescape(form[1]), form[2], answer


def test_it_answers_the_lms_with_a_signed_link_to_the_chosen_assignment(
    client: Client, platform: Platform, roster: Roster
) -> None:
    link_course(platform, roster.course)
    answer = deep_link_launch(client, platform)
    assert (answer.status_code, answer["Location"]) == (302, reverse("lti-deep-link"))
    page = client.get(reverse("lti-deep-link")).content.decode()
    for target in ("item:a2", "item:quiz", "gradebook"):
        assert f'value="{target}"' in page

    action, token, placed = place(client, "item:a2")

    assert action == platform.deep_link_return_url
    claims = platform.deep_link_response(token)
    assert claims[CONTENT_ITEMS] == [
        {
            "type": "ltiResourceLink",
            "title": "A2: Convolutions",
            "url": TESTSERVER + reverse("lti-launch"),
            "custom": {"coursesite_target": "item:a2"},
        }
    ]
    assert claims[DATA].startswith("deep-link-")
    policy = placed["Content-Security-Policy"]
    assert re.search(rf"form-action [^;]*{re.escape(platform.issuer)}", policy)
    nonce = re.search(r'<script nonce="([^"]+)">', placed.content.decode())
    assert nonce is not None and f"'nonce-{nonce[1]}'" in policy
    # The browser's post to the LMS, over HTTP: the LMS takes it.
    assert requests.post(action, data={"JWT": token}, timeout=10).status_code == 200
    assert platform.deep_links[-1][CONTENT_ITEMS][0]["custom"] == {"coursesite_target": "item:a2"}
    # The page is spent: its launch cannot place more links.
    assert client.post(reverse("lti-deep-link"), {"target": ["gradebook"]}).status_code == 400

    # A student follows the placed link.
    student = Client()
    opened = launch(
        student, platform, sub="lms-carol", email="carol@uni.example.edu",
        custom=claims[CONTENT_ITEMS][0]["custom"],
    )  # fmt: skip
    handin = reverse("assignment", kwargs={"slug": roster.course.slug, "pk": roster.a2.pk})
    assert opened["Location"] == handin
    assert student.get(handin).status_code == 200


def test_it_places_several_links_and_each_opens_its_page(
    client: Client, platform: Platform, roster: Roster
) -> None:
    link_course(platform, roster.course)
    deep_link_launch(client, platform)

    _, token, _ = place(client, "item:quiz", "gradebook")

    items = platform.deep_link_response(token)[CONTENT_ITEMS]
    assert [item["custom"]["coursesite_target"] for item in items] == ["item:quiz", "gradebook"]
    slug = roster.course.slug
    student = Client()
    quiz = launch(student, platform, sub="lms-carol", email="carol@uni.example.edu",
                  custom=items[0]["custom"])  # fmt: skip
    assert quiz["Location"] == reverse("quiz", kwargs={"slug": slug, "item_slug": "quiz"})
    assert student.get(quiz["Location"]).status_code == 200


def test_it_asks_to_choose_something(client: Client, platform: Platform, roster: Roster) -> None:
    link_course(platform, roster.course)
    deep_link_launch(client, platform)

    answer = client.post(reverse("lti-deep-link"), {"target": ["item:unknown"]})

    assert answer.status_code == 400
    assert 'id="deep-link-error"' in answer.content.decode()


def test_it_lets_only_staff_place_links_whatever_the_lms_says(
    client: Client, platform: Platform, roster: Roster
) -> None:
    link_course(platform, roster.course)

    answer = deep_link_launch(client, platform, sub="lms-carol", email="carol@uni.example.edu")

    assert answer.status_code == 403
    assert logged_in_user_id(client) is None
    assert client.get(reverse("lti-deep-link")).status_code == 400


def test_it_links_an_unlinked_course_before_placing_links(
    client: Client, platform: Platform, roster: Roster
) -> None:
    answer = deep_link_launch(client, platform)
    assert answer["Location"] == reverse("lti-link")

    linked = client.post(reverse("lti-link"), {"course": roster.course.pk})

    assert linked["Location"] == reverse("lti-deep-link")
    assert CourseLink.objects.get().course == roster.course
    assert client.get(reverse("lti-deep-link")).status_code == 200


def test_it_reads_targets_in_the_linked_course_alone(roster: Roster) -> None:
    course, other = roster.course, roster.personas.other_course
    page = reverse("course", args=[course.slug])

    assert target_path(course=course, target="item:a2", staff=False) == reverse(
        "assignment", kwargs={"slug": course.slug, "pk": roster.a2.pk}
    )
    assert target_path(course=other, target="item:a2", staff=False) == reverse(
        "course", args=[other.slug]
    )
    assert target_path(course=course, target="item:nothing", staff=False) == page
    assert target_path(course=course, target="../../admin", staff=True) == page
    assert target_path(course=course, target=None, staff=True) == page

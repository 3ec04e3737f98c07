"""Roster sync with the LMS (Names and Role Provisioning Services), against the test platform over
real HTTP: a dry run lists the changes and makes none, a sync makes exactly them, an LMS that
fails changes nothing; and the staff's pages that run them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from lti_tool.models import LtiContext, LtiDeployment, LtiUser

from coursesite.models import Membership, Role, Score, ScoreSource
from coursesite.services import score_record
from lms.models import CourseLink, RosterSync
from lms.roster import roster_sync
from lms.services import course_link_create
from tests.conftest import Personas, make_member
from tests.lms.conftest import link_course
from tests.lms.platform import Platform, member


def set_person(user: User, email: str, first: str, last: str) -> None:
    user.email, user.first_name, user.last_name = email, first, last
    user.save()


@dataclass
class Course:
    personas: Personas
    link: CourseLink
    erin: User  # a student who dropped: the LMS lists her inactive
    frank: User  # a student the LMS no longer lists at all
    grace: User  # a student made inactive earlier whom the LMS lists again


@pytest.fixture
def course(platform: Platform, personas: Personas) -> Course:
    alice, bob, carol = personas.alice, personas.bob, personas.carol
    set_person(alice, "alice@uni.example.edu", "Alice", "Aydin")
    set_person(bob, "bob@uni.example.edu", "Bob", "Bal")
    set_person(carol, "carol@uni.example.edu", "Carol", "Cem")
    Membership.objects.filter(user=carol).update(sis_user_id="S-CAROL")
    erin = make_member(personas.course, "erin", Role.STUDENT)
    set_person(erin, "erin@uni.example.edu", "Erin", "Ekin")
    frank = make_member(personas.course, "frank", Role.STUDENT)
    set_person(frank, "frank@uni.example.edu", "Frank", "Firat")
    grace = make_member(personas.course, "grace", Role.STUDENT)
    set_person(grace, "grace@uni.example.edu", "Grace", "Gül")
    Membership.objects.filter(user=grace).update(active=False)
    score_record(
        item=personas.quiz, student=erin, points=Decimal(7), source=ScoreSource.MANUAL,
        changed_by=alice, reason="quiz 1",
    )  # fmt: skip
    platform.members = [
        member("lms-alice", name="Alice Aydin", email="alice@uni.example.edu",
               roles=("Instructor",)),
        member("lms-bob", name="Bob Bal", email="bob@uni.example.edu",
               roles=("TeachingAssistant",)),
        # Matched by SIS id, whatever the case of the email.
        member("lms-carol", name="Carol Cem", email="CAROL@uni.example.edu", sis_id="S-CAROL"),
        member("lms-erin", name="Erin Ekin", email="erin@uni.example.edu", status="Inactive"),
        member("lms-grace", name="Grace Gül", email="grace@uni.example.edu"),
        member("lms-heidi", name="Heidi Park", email="heidi.park@uni.example.edu",
               sis_id="S-HEIDI"),
        # An instructor of the LMS course whom coursesite does not list as staff.
        member("lms-judy", name="Judy Jin", email="judy@uni.example.edu", roles=("Instructor",)),
    ]  # fmt: skip
    return Course(
        personas,
        link_course(platform, personas.course, linked_by=personas.alice),
        erin,
        frank,
        grace,
    )


def kinds(sync: RosterSync) -> set[tuple[str, str]]:
    return {
        (change["change"], change.get("username") or change.get("email", ""))
        for change in sync.changes
    }


EXPECTED = {
    ("add", "heidi.park"),
    ("link", "carol"),
    ("deactivate", "erin"),
    ("deactivate", "frank"),
    ("reactivate", "grace"),
    ("staff_on_lms", "judy@uni.example.edu"),
}


def roster_state(course: Course) -> list[tuple[str, str, bool, str]]:
    return sorted(
        Membership.objects.filter(course=course.personas.course).values_list(
            "user__username", "role", "active", "sis_user_id"
        )
    )


def test_it_lists_the_changes_in_a_dry_run_and_makes_none(course: Course) -> None:
    before = roster_state(course)
    users = User.objects.count()

    sync = roster_sync(link=course.link, run_by=course.personas.alice, dry_run=True)

    assert (sync.dry_run, sync.error) == (True, "")
    assert kinds(sync) == EXPECTED
    added = next(change for change in sync.changes if change["change"] == "add")
    assert (added["sis_user_id"], added["email"], added["first_name"], added["last_name"]) == (
        "S-HEIDI",
        "heidi.park@uni.example.edu",
        "Heidi",
        "Park",
    )
    assert roster_state(course) == before
    assert User.objects.count() == users
    assert not LtiUser.objects.filter(auth_user__isnull=False).exists()


def test_it_makes_exactly_the_changes_of_the_dry_run(course: Course) -> None:
    personas = course.personas
    dry_run = roster_sync(link=course.link, run_by=personas.alice, dry_run=True)

    sync = roster_sync(link=course.link, run_by=personas.alice, dry_run=False, confirming=dry_run)

    assert (sync.dry_run, sync.error) == (False, "")
    assert sync.changes == dry_run.changes
    heidi = User.objects.get(username="heidi.park")
    assert (heidi.email, heidi.first_name, heidi.last_name, heidi.has_usable_password()) == (
        "heidi.park@uni.example.edu",
        "Heidi",
        "Park",
        False,
    )
    assert roster_state(course) == [
        ("alice", Role.INSTRUCTOR, True, ""),
        ("bob", Role.TA, True, ""),
        ("carol", Role.STUDENT, True, "S-CAROL"),
        ("erin", Role.STUDENT, False, ""),
        ("frank", Role.STUDENT, False, ""),
        ("grace", Role.STUDENT, True, ""),
        ("heidi.park", Role.STUDENT, True, "S-HEIDI"),
    ]
    # The dropped student keeps her work.
    assert Score.objects.get(student=course.erin, item=personas.quiz).points == Decimal(7)
    # The LMS's instructor is not made anything here.
    assert not User.objects.filter(email="judy@uni.example.edu").exists()
    assert not User.objects.filter(username="heidi.park", is_staff=True).exists()
    # Grades can reach the students the sync tied to their LMS users.
    ties = dict(
        LtiUser.objects.filter(auth_user__isnull=False).values_list("sub", "auth_user__username")
    )
    assert ties == {"lms-carol": "carol", "lms-grace": "grace", "lms-heidi": "heidi.park"}
    # A second sync finds nothing more to do but the instructor it leaves to staff.
    again = roster_sync(link=course.link, run_by=personas.alice, dry_run=True)
    assert kinds(again) == {("staff_on_lms", "judy@uni.example.edu")}


def test_it_never_makes_an_lms_instructor_staff(course: Course, platform: Platform) -> None:
    # Carol is a student here whom the LMS lists as an instructor.
    platform.members[2]["roles"] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]

    sync = roster_sync(link=course.link, run_by=course.personas.alice, dry_run=False)

    assert ("staff_on_lms", "carol") in kinds(sync)
    carol = Membership.objects.get(user=course.personas.carol)
    assert (carol.role, carol.active) == (Role.STUDENT, True)
    assert not User.objects.get(pk=course.personas.carol.pk).is_staff


def test_it_lists_name_email_and_sis_changes_and_makes_them(
    course: Course, platform: Platform
) -> None:
    platform.members = [
        member("lms-carol", name="Carol Cemal", email="carol.cemal@uni.example.edu",
               sis_id="S-CAROL"),
        # Matched by email (case aside), and the LMS now knows her SIS id.
        member("lms-erin", name="Erin Ekin", email="ERIN@uni.example.edu", sis_id="S-ERIN"),
    ]  # fmt: skip

    sync = roster_sync(link=course.link, run_by=None, dry_run=False)

    updates = {c["username"]: c["fields"] for c in sync.changes if c["change"] == "update"}
    assert updates == {
        "carol": {
            "email": ["carol@uni.example.edu", "carol.cemal@uni.example.edu"],
            "last_name": ["Cem", "Cemal"],
        },
        "erin": {"sis_user_id": ["", "S-ERIN"]},
    }
    carol = User.objects.get(username="carol")
    assert (carol.email, carol.last_name) == ("carol.cemal@uni.example.edu", "Cemal")
    assert Membership.objects.get(user=course.erin).sis_user_id == "S-ERIN"


def test_it_reads_every_page_of_the_roster(course: Course, platform: Platform) -> None:
    platform.page_size = 2

    sync = roster_sync(link=course.link, run_by=None, dry_run=True)

    assert kinds(sync) == EXPECTED
    pages = platform.received_matching("GET", platform.memberships_url)
    assert [request.query.get("page", "1") for request in pages] == ["1", "2", "3", "4"]


def test_it_keeps_the_case_of_the_next_page_url(course: Course, platform: Platform) -> None:
    # Some LMSes page with case-sensitive cursors: the next URL is followed as written.
    platform.page_size = 4

    roster_sync(link=course.link, run_by=None, dry_run=True)

    pages = platform.received_matching("GET", platform.memberships_url)
    assert len(pages) == 2
    assert pages[1].query == {"page": "2"}


def test_it_stores_an_lms_error_and_changes_nothing(course: Course, platform: Platform) -> None:
    before = roster_state(course)
    platform.fail_next("GET", platform.memberships_url, status=500)

    sync = roster_sync(link=course.link, run_by=course.personas.alice, dry_run=False)

    assert "500" in sync.error
    assert (sync.dry_run, sync.changes) == (False, [])
    assert roster_state(course) == before
    assert not User.objects.filter(username="heidi.park").exists()


def test_it_stores_an_error_for_a_roster_that_is_not_one(
    course: Course, platform: Platform
) -> None:
    before = roster_state(course)
    platform.members.append({"roles": ["Learner"], "status": "Active", "name": "Nobody"})

    sync = roster_sync(link=course.link, run_by=None, dry_run=False)

    assert "user_id" in sync.error
    assert roster_state(course) == before


def test_it_drops_nobody_when_the_lms_lists_no_student_at_all(
    course: Course, platform: Platform
) -> None:
    before = roster_state(course)
    platform.members[:] = [m for m in platform.members if "Learner" not in str(m.get("roles"))]

    sync = roster_sync(link=course.link, run_by=None, dry_run=False)

    assert "listed no active students" in sync.error
    assert (sync.dry_run, sync.changes) == (False, [])
    assert roster_state(course) == before


def test_it_refuses_a_dry_run_the_lms_roster_has_outgrown(
    course: Course, platform: Platform
) -> None:
    dry_run = roster_sync(link=course.link, run_by=None, dry_run=True)
    before = roster_state(course)
    platform.members.append(member("lms-ivan", name="Ivan Isik", email="ivan@uni.example.edu"))

    sync = roster_sync(link=course.link, run_by=None, dry_run=False, confirming=dry_run)

    assert "changed since the dry run" in sync.error
    assert roster_state(course) == before


def test_it_gives_a_new_student_a_username_of_their_own(course: Course, platform: Platform) -> None:
    User.objects.create_user(username="heidi.park")
    platform.members = [
        member("lms-heidi", name="Heidi Park", email="heidi.park@uni.example.edu"),
        member("lms-heidi2", name="Heidi Park", email="Heidi.Park@other.example.edu"),
        member("lms-kim", name="Kim Kaya", sis_id="S-KIM"),
    ]

    sync = roster_sync(link=course.link, run_by=None, dry_run=False)

    added = sorted(c["username"] for c in sync.changes if c["change"] == "add")
    assert added == ["heidi.park-2", "heidi.park-3", "s-kim"]
    assert (
        Membership.objects.filter(
            course=course.personas.course, user__username__in=added, role=Role.STUDENT
        ).count()
        == 3
    )


# The staff's pages


def staff_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_lms_page_to_staff_only(course: Course, platform: Platform) -> None:
    personas = course.personas
    url = reverse("lms-staff", args=[personas.course.slug])

    page = staff_client(personas.bob).get(url)

    assert page.status_code == 200
    assert platform.context_title in page.content.decode()
    assert platform.context_id in page.content.decode()
    for outsider in (personas.carol, personas.dave):
        assert staff_client(outsider).get(url).status_code == 404
    dry_run = reverse("lms-roster-dry-run", args=[personas.course.slug, course.link.pk])
    assert staff_client(personas.carol).post(dry_run).status_code == 404
    assert not RosterSync.objects.exists()


def test_it_says_how_to_link_a_course_without_a_link(personas: Personas) -> None:
    page = staff_client(personas.alice).get(reverse("lms-staff", args=[personas.course.slug]))

    assert page.status_code == 200
    assert 'id="not-linked"' in page.content.decode()
    assert "docs/lms.md" in page.content.decode()


def test_it_runs_a_dry_run_and_applies_it_from_the_pages(course: Course) -> None:
    personas = course.personas
    client = staff_client(personas.alice)
    slug = personas.course.slug

    answer = client.post(reverse("lms-roster-dry-run", args=[slug, course.link.pk]))

    dry_run = RosterSync.objects.get()
    assert answer["Location"] == reverse("lms-roster-sync", args=[slug, dry_run.pk])
    page = client.get(answer["Location"]).content.decode()
    assert "heidi.park" in page and 'id="apply"' in page
    assert not User.objects.filter(username="heidi.park").exists()

    applied = client.post(reverse("lms-roster-apply", args=[slug, dry_run.pk]))

    sync = RosterSync.objects.get(dry_run=False)
    assert applied["Location"] == reverse("lms-roster-sync", args=[slug, sync.pk])
    assert Membership.objects.get(user__username="heidi.park").role == Role.STUDENT
    # A dry run is applied once: it is no longer the latest sync.
    again = client.post(reverse("lms-roster-apply", args=[slug, dry_run.pk]))
    assert RosterSync.objects.filter(dry_run=False).count() == 1
    assert again.status_code == 302
    lms_page = client.get(reverse("lms-staff", args=[slug])).content.decode()
    assert f'id="sync-{sync.pk}"' in lms_page


def test_it_answers_404_for_another_courses_sync(course: Course, personas: Personas) -> None:
    sync = roster_sync(link=course.link, run_by=None, dry_run=True)
    dave_course_staff = make_member(personas.other_course, "oscar", Role.INSTRUCTOR)
    client = staff_client(dave_course_staff)

    url = reverse("lms-roster-sync", args=[personas.other_course.slug, sync.pk])

    assert client.get(url).status_code == 404
    apply_url = reverse("lms-roster-apply", args=[personas.other_course.slug, sync.pk])
    assert client.post(apply_url).status_code == 404


def test_it_keeps_the_students_another_linked_lms_course_lists(
    course: Course, platform: Platform
) -> None:
    # COMP441 and COMP541 are two LMS courses of one coursesite course: Frank is in COMP441.
    with Platform(context_id="lms-441") as undergraduate:
        undergraduate.register()
        undergraduate.members = [
            member("u-frank", name="Frank Firat", email="frank@uni.example.edu"),
        ]
        context = LtiContext.objects.create(
            deployment=LtiDeployment.objects.get(registration=undergraduate.registration),
            id_on_platform=undergraduate.context_id,
            memberships_url=undergraduate.memberships_url,
        )
        course_link_create(
            context=context, course=course.personas.course, linked_by=course.personas.alice
        )

        sync = roster_sync(link=course.link, run_by=None, dry_run=False)

    assert ("deactivate", "frank") not in kinds(sync)
    assert ("deactivate", "erin") in kinds(sync)
    assert Membership.objects.get(user=course.frank).active

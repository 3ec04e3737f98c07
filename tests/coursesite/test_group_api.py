"""The project group API: forming a group by invitation, and what a student may not reach."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from openapi_spec_validator import validate

from coursesite.groups import group_create, group_invite
from coursesite.models import InvitationState, ProjectGroup, Role
from tests.conftest import make_member

COURSE = "/api/v1/courses/dl-fall2024"


def test_it_forms_a_group_by_invitation_end_to_end(personas, erin):
    carol, erin_client = personas.client(personas.carol), personas.client(erin)
    created = carol.post(f"{COURSE}/groups/", {"name": "Neurons"}, format="json")
    assert created.status_code == 201
    group = created.json()["id"]
    invited = carol.post(f"{COURSE}/groups/{group}/invitations/", {"username": "erin"})
    assert invited.status_code == 201
    received = erin_client.get(f"{COURSE}/invitations/").json()
    assert [(i["group"]["name"], i["invited_by"]) for i in received] == [("Neurons", "carol")]
    accepted = erin_client.post(f"{COURSE}/invitations/{received[0]['id']}/accept/")
    assert accepted.json()["state"] == "accepted"
    groups = carol.get(f"{COURSE}/groups/").json()
    assert [m["username"] for m in groups[0]["members"]] == ["carol", "erin"]


def test_it_refuses_to_invite_a_student_of_another_group_without_naming_that_group(
    personas, neurons, frank
):
    group_create(course=personas.course, founder=frank, name="Tensors")
    carol = personas.client(personas.carol)
    answer = carol.post(f"{COURSE}/groups/{neurons.pk}/invitations/", {"username": "frank"})
    assert answer.status_code == 409
    assert answer.json()["detail"] == "frank cannot be invited."
    assert "Tensors" not in answer.content.decode()


def test_it_answers_a_new_group_with_its_founder(personas):
    answer = personas.client(personas.carol).post(f"{COURSE}/groups/", {"name": "Neurons"})
    assert answer.status_code == 201
    assert answer.json()["members"] == [{"username": "carol", "name": ""}]


def test_it_shows_a_student_only_their_own_group(personas, neurons, frank):
    group_create(course=personas.course, founder=frank, name="Tensors")
    groups = personas.client(personas.carol).get(f"{COURSE}/groups/").json()
    assert [group["name"] for group in groups] == ["Neurons"]


def test_it_shows_a_student_without_a_group_no_group(personas, neurons, erin):
    assert personas.client(erin).get(f"{COURSE}/groups/").json() == []


def test_it_shows_staff_every_group_with_members_and_pending_invitations(
    personas, invitation, frank
):
    group_create(course=personas.course, founder=frank, name="Tensors")
    groups = personas.client(personas.bob).get(f"{COURSE}/groups/").json()
    assert [
        (
            group["name"],
            [m["username"] for m in group["members"]],
            [i["invited"] for i in group["pending_invitations"]],
        )
        for group in groups
    ] == [("Neurons", ["carol"], ["erin"]), ("Tensors", ["frank"], [])]


def test_it_lists_groups_in_a_fixed_number_of_queries(personas, django_assert_num_queries):
    for index in range(6):
        student = make_member(personas.course, f"student{index}", Role.STUDENT)
        group_create(course=personas.course, founder=student, name=f"Group {index}")
    client = personas.client(personas.alice)
    # token, its first use, membership with course, groups, their members, their invitations
    with django_assert_num_queries(6):
        answer = client.get(f"{COURSE}/groups/")
    assert len(answer.json()) == 6


def test_it_lists_the_invitations_the_caller_sent(personas, invitation):
    listed = personas.client(personas.carol).get(f"{COURSE}/invitations/").json()
    assert [(i["invited_by"], i["invited"]) for i in listed] == [("carol", "erin")]


def test_it_lists_the_invitations_the_caller_received(personas, invitation, erin, frank):
    tensors = group_create(course=personas.course, founder=frank, name="Tensors")
    group_invite(group=tensors, invited_by=frank, invited=erin)
    listed = personas.client(erin).get(f"{COURSE}/invitations/").json()
    assert sorted(i["group"]["name"] for i in listed) == ["Neurons", "Tensors"]


def test_it_leaves_answered_invitations_out_of_the_list(personas, invitation, erin):
    personas.client(erin).post(f"{COURSE}/invitations/{invitation.pk}/decline/")
    assert personas.client(personas.carol).get(f"{COURSE}/invitations/").json() == []


def test_it_gives_invitation_times_in_the_course_zone(personas, invitation):
    invitation.created_at = datetime(2024, 11, 1, 9, 0, tzinfo=UTC)
    invitation.save(update_fields=["created_at"])
    listed = personas.client(personas.carol).get(f"{COURSE}/invitations/").json()
    assert listed[0]["created_at"] == "2024-11-01T12:00:00+03:00"


def test_it_declines_an_invitation(personas, invitation, erin):
    answer = personas.client(erin).post(f"{COURSE}/invitations/{invitation.pk}/decline/")
    assert (answer.status_code, answer.json()["state"]) == (200, "declined")


def test_it_cancels_an_invitation(personas, invitation):
    answer = personas.client(personas.carol).post(f"{COURSE}/invitations/{invitation.pk}/cancel/")
    assert (answer.status_code, answer.json()["state"]) == (200, "cancelled")


def test_it_leaves_a_group_and_deletes_it_when_empty(personas, neurons):
    answer = personas.client(personas.carol).post(f"{COURSE}/groups/{neurons.pk}/leave/")
    assert answer.status_code == 204
    assert not ProjectGroup.objects.filter(pk=neurons.pk).exists()


def test_it_refuses_the_inviter_accepting_their_own_invitation(personas, invitation):
    answer = personas.client(personas.carol).post(f"{COURSE}/invitations/{invitation.pk}/accept/")
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Only erin may accept this invitation."}


def test_it_refuses_a_full_group_with_409(personas, neurons, invitation, frank):
    personas.course.group_size_max = 2
    personas.course.save(update_fields=["group_size_max"])
    answer = personas.client(personas.carol).post(
        f"{COURSE}/groups/{neurons.pk}/invitations/", {"username": "frank"}
    )
    assert answer.status_code == 409
    assert "is full: 1 member(s) and 1 pending invitation(s)" in answer.json()["detail"]


def test_it_refuses_after_the_lock_saying_when_in_the_course_zone(personas):
    personas.course.groups_locked_at = datetime(2024, 11, 10, 20, 59, tzinfo=UTC)
    personas.course.save(update_fields=["groups_locked_at"])
    answer = personas.client(personas.carol).post(f"{COURSE}/groups/", {"name": "Late"})
    assert answer.status_code == 403
    assert answer.json()["detail"].startswith(
        "Project groups were locked at 2024-11-10 23:59 (Europe/Istanbul)"
    )


def test_it_answers_an_unknown_username_like_a_non_student(personas, neurons):
    client = personas.client(personas.carol)
    unknown = client.post(f"{COURSE}/groups/{neurons.pk}/invitations/", {"username": "nobody"})
    outsider = client.post(f"{COURSE}/groups/{neurons.pk}/invitations/", {"username": "dave"})
    assert (unknown.status_code, outsider.status_code) == (400, 400)
    assert outsider.json() == {"detail": "dave is not a student of COMP541 Fall 2024."}
    assert unknown.json() == {"detail": "nobody is not a student of COMP541 Fall 2024."}


def test_it_refuses_a_group_without_a_name(personas):
    answer = personas.client(personas.carol).post(f"{COURSE}/groups/", {"name": ""})
    assert answer.status_code == 400
    assert "name" in answer.json()


def test_it_refuses_staff_starting_a_group(personas):
    answer = personas.client(personas.bob).post(f"{COURSE}/groups/", {"name": "Staff"})
    assert answer.status_code == 400
    assert answer.json() == {"detail": "bob is not a student of COMP541 Fall 2024."}


def test_it_hides_another_group_from_an_inviter(personas, neurons, erin):
    answer = personas.client(erin).post(
        f"{COURSE}/groups/{neurons.pk}/invitations/", {"username": "erin"}
    )
    assert answer.status_code == 404


def test_it_hides_another_group_from_a_leaver(personas, neurons, erin):
    answer = personas.client(erin).post(f"{COURSE}/groups/{neurons.pk}/leave/")
    assert answer.status_code == 404


def test_it_answers_another_groups_id_like_a_missing_one(personas, neurons, erin):
    client = personas.client(erin)
    other = client.post(f"{COURSE}/groups/{neurons.pk}/leave/")
    missing = client.post(f"{COURSE}/groups/{neurons.pk + 1000}/leave/")
    assert other.json() == missing.json()


@pytest.mark.parametrize("answer", ["accept", "decline", "cancel"])
def test_it_hides_other_students_invitations(personas, invitation, frank, answer):
    reply = personas.client(frank).post(f"{COURSE}/invitations/{invitation.pk}/{answer}/")
    assert reply.status_code == 404
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING


def test_it_leaves_other_students_invitations_out_of_the_list(personas, invitation, frank):
    assert personas.client(frank).get(f"{COURSE}/invitations/").json() == []


def test_it_hides_the_course_from_an_outsider(personas, neurons):
    answer = personas.client(personas.dave).get(f"{COURSE}/groups/")
    assert answer.status_code == 404


def test_it_hides_an_invitation_behind_another_course(personas, invitation, erin):
    # erin's own invitation, asked for under her other course
    make_member(personas.other_course, "erin", Role.STUDENT)
    answer = personas.client(erin).post(
        f"/api/v1/courses/other-fall2024/invitations/{invitation.pk}/accept/"
    )
    assert answer.status_code == 404


def test_it_describes_the_group_api_in_a_valid_schema(personas):
    answer = personas.client(personas.carol).get("/api/schema/")
    schema = yaml.safe_load(answer.content)
    validate(schema)
    assert {
        "/api/v1/courses/{course_slug}/groups/",
        "/api/v1/courses/{course_slug}/groups/{id}/invitations/",
        "/api/v1/courses/{course_slug}/groups/{id}/leave/",
        "/api/v1/courses/{course_slug}/invitations/",
        "/api/v1/courses/{course_slug}/invitations/{id}/accept/",
        "/api/v1/courses/{course_slug}/invitations/{id}/decline/",
        "/api/v1/courses/{course_slug}/invitations/{id}/cancel/",
    } <= set(schema["paths"])

"""Forming project groups: the services students use, the lock, and the lock in the course file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db.models import ProtectedError
from django.utils import timezone

from coursesite.course_file.dump import course_file_dump
from coursesite.course_file.load import course_file_load
from coursesite.course_file.reader import CourseFileError
from coursesite.errors import ApplicationError
from coursesite.groups import (
    group_create,
    group_invite,
    group_leave,
    invitation_accept,
    invitation_cancel,
    invitation_decline,
)
from coursesite.models import (
    Course,
    GroupMembership,
    InvitationState,
    ProjectGroup,
)
from tests.conftest import EXAMPLE_COURSE
from tests.coursesite.test_course_file_load import edited_example

# 23:59 in Istanbul (UTC+3), stored in UTC: messages must give it back in the course's zone.
PAST_LOCK = datetime(2024, 11, 10, 20, 59, tzinfo=UTC)


def lock(course: Course, at: datetime = PAST_LOCK) -> None:
    course.groups_locked_at = at
    course.save(update_fields=["groups_locked_at"])


def members(group: ProjectGroup) -> list[str]:
    return sorted(group.members.values_list("username", flat=True))


def refused(message: str) -> Any:
    return pytest.raises(ApplicationError, match=message)


LOCKED = r"Project groups were locked at 2024-11-10 23:59 \(Europe/Istanbul\)"


def test_it_starts_a_group_with_its_founder_as_the_only_member(neurons):
    assert members(neurons) == ["carol"]


def test_it_forms_a_group_by_invitation(neurons, invitation, erin):
    invitation_accept(invitation=invitation, by=erin)
    assert members(neurons) == ["carol", "erin"]


def test_it_marks_an_accepted_invitation_with_the_time(invitation, erin):
    invitation_accept(invitation=invitation, by=erin)
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.ACCEPTED
    assert invitation.responded_at is not None


def test_it_cancels_a_students_other_invitations_when_they_join_a_group(
    personas, invitation, erin, frank
):
    tensors = group_create(course=personas.course, founder=frank, name="Tensors")
    other = group_invite(group=tensors, invited_by=frank, invited=erin)
    invitation_accept(invitation=invitation, by=erin)
    other.refresh_from_db()
    assert other.state == InvitationState.CANCELLED


def test_it_cancels_a_founders_pending_invitations(personas, invitation, erin):
    group_create(course=personas.course, founder=erin, name="Gradients")
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.CANCELLED


def test_it_lets_students_form_groups_before_the_lock(personas, erin):
    lock(personas.course, timezone.now() + timedelta(days=1))
    group = group_create(course=personas.course, founder=erin, name="Early")
    assert members(group) == ["erin"]


def test_it_refuses_to_start_a_group_after_the_lock(personas):
    lock(personas.course)
    with refused(LOCKED):
        group_create(course=personas.course, founder=personas.carol, name="Late")


def test_it_refuses_an_invitation_after_the_lock(personas, neurons, erin):
    lock(personas.course)
    with refused(LOCKED):
        group_invite(group=neurons, invited_by=personas.carol, invited=erin)


def test_it_refuses_to_accept_after_the_lock(personas, invitation, erin):
    lock(personas.course)
    with refused(LOCKED):
        invitation_accept(invitation=invitation, by=erin)


def test_it_refuses_to_leave_after_the_lock(personas, neurons):
    lock(personas.course)
    with refused(LOCKED):
        group_leave(group=neurons, student=personas.carol)


def test_it_answers_the_lock_with_403(personas):
    lock(personas.course)
    with refused(LOCKED) as error:
        group_create(course=personas.course, founder=personas.carol, name="Late")
    assert error.value.status == 403


def test_it_lets_an_invitation_be_declined_after_the_lock(personas, invitation, erin):
    lock(personas.course)
    assert invitation_decline(invitation=invitation, by=erin).state == InvitationState.DECLINED


def test_it_lets_an_invitation_be_cancelled_after_the_lock(personas, invitation):
    lock(personas.course)
    cancelled = invitation_cancel(invitation=invitation, by=personas.carol)
    assert cancelled.state == InvitationState.CANCELLED


def test_it_refuses_a_founder_who_is_already_in_a_group(personas, neurons):
    with refused("carol is already in the group 'Neurons'"):
        group_create(course=personas.course, founder=personas.carol, name="Second")


def test_it_refuses_to_invite_a_student_who_is_already_in_a_group(personas, neurons, frank):
    group_create(course=personas.course, founder=frank, name="Tensors")
    with refused("frank cannot be invited.") as error:
        group_invite(group=neurons, invited_by=personas.carol, invited=frank)
    assert "Tensors" not in error.value.message


def test_it_refuses_an_inviter_who_is_not_in_the_group(neurons, erin, frank):
    with refused("Only members of the group 'Neurons' invite students into it"):
        group_invite(group=neurons, invited_by=erin, invited=frank)


def test_it_refuses_to_invite_a_student_of_another_course(personas, neurons):
    with refused("dave is not a student of COMP541 Fall 2024"):
        group_invite(group=neurons, invited_by=personas.carol, invited=personas.dave)


def test_it_refuses_to_invite_a_ta(personas, neurons):
    with refused("bob is not a student of COMP541 Fall 2024"):
        group_invite(group=neurons, invited_by=personas.carol, invited=personas.bob)


def test_it_refuses_a_founder_who_is_not_a_student(personas):
    with refused("alice is not a student of COMP541 Fall 2024"):
        group_create(course=personas.course, founder=personas.alice, name="Staff")


def test_it_refuses_a_group_name_that_is_taken(personas, neurons, erin):
    with refused("There is already a group named 'Neurons'"):
        group_create(course=personas.course, founder=erin, name="Neurons")


def test_it_refuses_to_invite_the_same_student_twice(personas, neurons, invitation, erin):
    with refused("erin is already invited to the group"):
        group_invite(group=neurons, invited_by=personas.carol, invited=erin)


def test_it_counts_pending_invitations_against_the_group_size(
    personas, neurons, invitation, frank, gina
):
    group_invite(group=neurons, invited_by=personas.carol, invited=frank)
    with refused(
        r"The group 'Neurons' is full: 1 member\(s\) and 2 pending invitation\(s\), "
        "and a group has at most 3"
    ):
        group_invite(group=neurons, invited_by=personas.carol, invited=gina)


def test_it_frees_a_place_when_an_invitation_is_declined(
    personas, neurons, invitation, erin, frank, gina
):
    group_invite(group=neurons, invited_by=personas.carol, invited=frank)
    invitation_decline(invitation=invitation, by=erin)
    invited = group_invite(group=neurons, invited_by=personas.carol, invited=gina)
    assert invited.state == InvitationState.PENDING


def test_it_refuses_to_accept_into_a_group_that_staff_filled(
    personas, neurons, invitation, erin, frank, gina
):
    for student in (frank, gina):
        GroupMembership.objects.create(course=personas.course, group=neurons, student=student)
    with refused(r"The group 'Neurons' is full: 3 member\(s\), and a group has at most 3"):
        invitation_accept(invitation=invitation, by=erin)


def test_it_lets_only_the_invited_accept(personas, invitation):
    with refused("Only erin may accept this invitation"):
        invitation_accept(invitation=invitation, by=personas.carol)


def test_it_lets_only_the_invited_decline(personas, invitation):
    with refused("Only erin may decline this invitation"):
        invitation_decline(invitation=invitation, by=personas.carol)


def test_it_lets_only_the_inviter_cancel(invitation, erin):
    with refused("Only carol, who sent this invitation, may cancel it"):
        invitation_cancel(invitation=invitation, by=erin)


def test_it_refuses_to_accept_after_joining_another_group_meanwhile(
    personas, invitation, erin, frank
):
    # Staff placed erin in a group in the panel, which leaves her invitations as they were.
    tensors = group_create(course=personas.course, founder=frank, name="Tensors")
    GroupMembership.objects.create(course=personas.course, group=tensors, student=erin)
    with refused("erin is already in the group 'Tensors'"):
        invitation_accept(invitation=invitation, by=erin)


def test_it_refuses_to_accept_a_declined_invitation(invitation, erin):
    invitation_decline(invitation=invitation, by=erin)
    with refused("The invitation was already declined"):
        invitation_accept(invitation=invitation, by=erin)


def test_it_refuses_to_accept_an_invitation_cancelled_by_a_group_change(personas, invitation, erin):
    group_create(course=personas.course, founder=erin, name="Gradients")
    with refused("The invitation was already cancelled"):
        invitation_accept(invitation=invitation, by=erin)


def test_it_deletes_a_group_left_empty(personas, neurons):
    assert group_leave(group=neurons, student=personas.carol) is None
    assert not ProjectGroup.objects.filter(pk=neurons.pk).exists()


def test_it_keeps_a_group_that_still_has_members(personas, neurons, invitation, erin):
    invitation_accept(invitation=invitation, by=erin)
    group_leave(group=neurons, student=personas.carol)
    assert members(neurons) == ["erin"]


def test_it_cancels_the_invitations_a_leaver_sent(personas, neurons, invitation, frank):
    invitation_accept(invitation=invitation, by=invitation.invited)
    sent = group_invite(group=neurons, invited_by=personas.carol, invited=frank)
    group_leave(group=neurons, student=personas.carol)
    sent.refresh_from_db()
    assert sent.state == InvitationState.CANCELLED


def test_it_keeps_an_empty_group_that_holds_work(personas, neurons, monkeypatch):
    def protected(self: ProjectGroup, *args: Any, **kwargs: Any) -> None:
        raise ProtectedError("a submission refers to it", set())

    monkeypatch.setattr(ProjectGroup, "delete", protected)
    assert group_leave(group=neurons, student=personas.carol) == neurons
    assert ProjectGroup.objects.filter(pk=neurons.pk).exists()


def test_it_refuses_to_leave_a_group_one_is_not_in(neurons, erin):
    with refused("erin is not in the group 'Neurons'"):
        group_leave(group=neurons, student=erin)


def test_it_reads_the_lock_from_the_course_file_in_the_course_zone(db):
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    assert course.groups_locked_at == datetime(2024, 11, 10, 20, 59, tzinfo=UTC)


def test_it_writes_the_lock_back_in_the_course_zone(db):
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    facts = yaml.safe_load(course_file_dump(course))["course"]
    assert facts["groups_locked_at"] == "2024-11-10 23:59"


def test_it_reloads_its_dump_of_the_lock_without_a_change(db, tmp_path: Path):
    course, _ = course_file_load(path=EXAMPLE_COURSE)
    path = tmp_path / "dump.yaml"
    path.write_text(course_file_dump(course), encoding="utf-8")
    _, changes = course_file_load(path=path)
    assert changes.changed is False


def test_it_clears_the_lock_when_the_file_no_longer_gives_it(db, tmp_path: Path):
    course_file_load(path=EXAMPLE_COURSE)

    def unlock(document: dict[str, Any]) -> None:
        del document["course"]["groups_locked_at"]

    course, _ = course_file_load(path=edited_example(tmp_path, unlock))
    assert course.groups_locked_at is None


def test_it_refuses_a_lock_outside_the_term(db, tmp_path: Path):
    def late(document: dict[str, Any]) -> None:
        document["course"]["groups_locked_at"] = "2025-02-10 12:00"

    with pytest.raises(CourseFileError, match="2025-02-10 is outside the term"):
        course_file_load(path=edited_example(tmp_path, late))

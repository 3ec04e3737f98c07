"""Project groups that students form by inviting each other, until the course locks the groups.

Staff arrange groups in the instructor panel and the course file at any time; the functions here
are the students' way, and every one that changes a group refuses once ``groups_locked_at`` has
passed. A pending invitation holds a place in its group, so accepting never overfills a group.
A student sees no group but their own, so no refusal names another student's group.

A group's project has a title (at most 300 characters) and an abstract (at most 5000). Its
members describe it until the course's term ends, staff at any time; the lock on groups does not
apply, since describing the project changes nobody's group.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch, ProtectedError, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from coursesite.errors import ApplicationError
from coursesite.models import (
    Course,
    GroupInvitation,
    GroupMembership,
    InvitationState,
    Membership,
    ProjectGroup,
    Role,
)
from coursesite.models.course import STAFF_ROLES
from coursesite.selectors import course_student_find

FORBIDDEN = 403
CONFLICT = 409
PENDING = InvitationState.PENDING
PROJECT_TITLE_LIMIT = 300
PROJECT_ABSTRACT_LIMIT = 5000


def groups_check_open(*, course: Course, now: datetime | None = None) -> None:
    """Refuse a student's change to project groups once the course has locked them."""
    locked_at = course.groups_locked_at
    if locked_at is not None and (now or timezone.now()) >= locked_at:
        local = timezone.localtime(locked_at, course.tz).strftime("%Y-%m-%d %H:%M")
        raise ApplicationError(
            f"Project groups were locked at {local} ({course.time_zone}); "
            "ask the course staff to change them.",
            status=FORBIDDEN,
        )


def course_student(*, course: Course, username: str) -> User:
    """The student of the course with this username; an unknown account gets the same answer as
    a non-student, so that usernames cannot be probed."""
    student = course_student_find(course=course, username=username)
    if student is None:
        raise _not_a_student(course, username)
    return student


def _not_a_student(course: Course, username: str) -> ApplicationError:
    return ApplicationError(f"{username} is not a student of {course}.")


def _check_student(course: Course, user: User) -> None:
    if not Membership.objects.filter(course=course, user=user, role=Role.STUDENT).exists():
        raise _not_a_student(course, user.username)


def _check_not_in_group(course: Course, student: User) -> None:
    """Refuse a student who is in a group already; the message names the group, so it is only
    for that student themselves (see ``_check_invitable``)."""
    current = GroupMembership.objects.filter(course=course, student=student).select_related("group")
    membership = current.first()
    if membership is not None:
        raise ApplicationError(
            f"{student.username} is already in the group {membership.group.name!r}.",
            status=CONFLICT,
        )


def _check_invitable(course: Course, student: User) -> None:
    """Refuse to invite a student who is in a group already, without naming it: a student sees
    no group but their own."""
    if GroupMembership.objects.filter(course=course, student=student).exists():
        raise ApplicationError(f"{student.username} cannot be invited.", status=CONFLICT)


def _check_room(group: ProjectGroup, *, reserved: int) -> None:
    """Refuse one more member in a group with no place left; ``reserved`` places are held by
    pending invitations."""
    members = group.group_memberships.count()
    largest = group.course.group_size_max
    if members + reserved >= largest:
        held = f" and {reserved} pending invitation(s)" if reserved else ""
        raise ApplicationError(
            f"The group {group.name!r} is full: {members} member(s){held}, "
            f"and a group has at most {largest}.",
            status=CONFLICT,
        )


def _check_pending(invitation: GroupInvitation) -> None:
    if invitation.state != PENDING:
        raise ApplicationError(
            f"The invitation was already {invitation.get_state_display().lower()}.",
            status=CONFLICT,
        )


def _locked_group(pk: int) -> ProjectGroup:
    """The group's row, locked to the end of the transaction: changes to one group's members and
    invitations are counted one after the other, never side by side.

    Every service locks the group before reading its invitations, so two never wait on each other.
    """
    group = ProjectGroup.objects.select_for_update().select_related("course").filter(pk=pk).first()
    if group is None:
        raise ApplicationError("The group no longer exists.", status=404)
    return group


def _locked_invitation(invitation: GroupInvitation) -> GroupInvitation:
    group = _locked_group(invitation.group_id)
    fresh = GroupInvitation.objects.select_related("invited", "invited_by").get(pk=invitation.pk)
    fresh.group = group
    return fresh


def _respond(invitation: GroupInvitation, state: InvitationState, now: datetime) -> None:
    invitation.state, invitation.responded_at = state, now
    invitation.full_clean()
    invitation.save(update_fields=["state", "responded_at"])


def _join(*, group: ProjectGroup, student: User, now: datetime) -> GroupMembership:
    """Put a student in a group and withdraw the other invitations they had: a student is in one
    group only."""
    membership = GroupMembership(course=group.course, group=group, student=student)
    membership.full_clean()
    membership.save()
    GroupInvitation.objects.filter(
        group__course=group.course, invited=student, state=PENDING
    ).update(state=InvitationState.CANCELLED, responded_at=now)
    return membership


@transaction.atomic
def group_create(*, course: Course, founder: User, name: str) -> ProjectGroup:
    """Start a project group with its founder as the first member."""
    groups_check_open(course=course)
    _check_student(course, founder)
    _check_not_in_group(course, founder)
    name = name.strip()
    if course.project_groups.filter(name=name).exists():
        raise ApplicationError(
            f"There is already a group named {name!r}; choose another name.", status=CONFLICT
        )
    group = ProjectGroup(course=course, name=name)
    group.full_clean()
    group.save()
    _join(group=group, student=founder, now=timezone.now())
    return group


@transaction.atomic
def group_invite(*, group: ProjectGroup, invited_by: User, invited: User) -> GroupInvitation:
    """Invite a student of the course who is in no group yet into the inviter's group."""
    group = _locked_group(group.pk)
    course = group.course
    groups_check_open(course=course)
    if not group.group_memberships.filter(student=invited_by).exists():
        raise ApplicationError(
            f"Only members of the group {group.name!r} invite students into it.", status=FORBIDDEN
        )
    _check_student(course, invited)
    _check_invitable(course, invited)
    pending = group.invitations.filter(state=PENDING)
    if pending.filter(invited=invited).exists():
        raise ApplicationError(
            f"{invited.username} is already invited to the group {group.name!r}.", status=CONFLICT
        )
    _check_room(group, reserved=pending.count())
    invitation = GroupInvitation(group=group, invited=invited, invited_by=invited_by)
    invitation.full_clean()
    invitation.save()
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: GroupInvitation, by: User) -> GroupInvitation:
    """Join the group the invitation is for; the student's other pending invitations are
    cancelled."""
    invitation = _locked_invitation(invitation)
    if by.pk != invitation.invited_id:
        raise ApplicationError(
            f"Only {invitation.invited.username} may accept this invitation.", status=FORBIDDEN
        )
    _check_pending(invitation)
    group = invitation.group
    groups_check_open(course=group.course)
    # Staff may have placed the student in a group, or filled this one, since the invitation.
    _check_not_in_group(group.course, by)
    _check_room(group, reserved=0)
    now = timezone.now()
    _respond(invitation, InvitationState.ACCEPTED, now)
    _join(group=group, student=by, now=now)
    return invitation


@transaction.atomic
def invitation_decline(*, invitation: GroupInvitation, by: User) -> GroupInvitation:
    """Turn an invitation down. Allowed after the lock too: it changes no group."""
    invitation = _locked_invitation(invitation)
    if by.pk != invitation.invited_id:
        raise ApplicationError(
            f"Only {invitation.invited.username} may decline this invitation.", status=FORBIDDEN
        )
    _check_pending(invitation)
    _respond(invitation, InvitationState.DECLINED, timezone.now())
    return invitation


@transaction.atomic
def invitation_cancel(*, invitation: GroupInvitation, by: User) -> GroupInvitation:
    """Withdraw an invitation one has sent. Allowed after the lock too: it changes no group."""
    invitation = _locked_invitation(invitation)
    if by.pk != invitation.invited_by_id:
        raise ApplicationError(
            f"Only {invitation.invited_by.username}, who sent this invitation, may cancel it.",
            status=FORBIDDEN,
        )
    _check_pending(invitation)
    _respond(invitation, InvitationState.CANCELLED, timezone.now())
    return invitation


@transaction.atomic
def group_leave(*, group: ProjectGroup, student: User) -> ProjectGroup | None:
    """Take a student out of their group, with the invitations they sent from it.

    Returns the group, or ``None`` when the group was left empty and deleted.
    """
    group = _locked_group(group.pk)
    groups_check_open(course=group.course)
    membership = group.group_memberships.filter(student=student).first()
    if membership is None:
        raise ApplicationError(
            f"{student.username} is not in the group {group.name!r}.", status=CONFLICT
        )
    membership.delete()
    group.invitations.filter(invited_by=student, state=PENDING).update(
        state=InvitationState.CANCELLED, responded_at=timezone.now()
    )
    if group.group_memberships.exists():
        return group
    try:
        with transaction.atomic():
            group.delete()
    except ProtectedError:
        # Work the group handed in keeps it, empty, for staff to sort out.
        return group
    return None


def project_describe_refusal(
    *, group: ProjectGroup, by: User, now: datetime | None = None
) -> str | None:
    """Why ``by`` may not describe the group's project now, if so; a page says it before any
    form is sent. Staff of the course may at any time, the group's members until the term ends."""
    course = group.course
    if (
        by.is_superuser
        or Membership.objects.filter(course=course, user=by, role__in=STAFF_ROLES).exists()
    ):
        return None
    if not group.group_memberships.filter(student=by).exists():
        return f"Only members of the group {group.name!r} describe its project."
    ends = course.term_bounds()[1]
    if (now or timezone.now()) > ends:
        return (
            f"The course ended on {course.ends_on:%Y-%m-%d}; ask the course staff to change "
            "the project's title or abstract."
        )
    return None


@transaction.atomic
def group_project_describe(
    *, group: ProjectGroup, by: User, title: str, abstract: str, now: datetime | None = None
) -> ProjectGroup:
    """Set the title and abstract of a group's project (see the module doc for who may)."""
    group = _locked_group(group.pk)
    refusal = project_describe_refusal(group=group, by=by, now=now)
    if refusal:
        raise ApplicationError(refusal, status=FORBIDDEN)
    title, abstract = title.strip(), abstract.strip()
    if len(title) > PROJECT_TITLE_LIMIT:
        raise ApplicationError(
            f"The title is {len(title)} characters long; keep it to {PROJECT_TITLE_LIMIT}."
        )
    if len(abstract) > PROJECT_ABSTRACT_LIMIT:
        raise ApplicationError(
            f"The abstract is {len(abstract)} characters long; keep it to {PROJECT_ABSTRACT_LIMIT}."
        )
    changed = [
        name
        for name, value in (("title", title), ("abstract", abstract))
        if getattr(group, name) != value
    ]
    if changed:
        group.title, group.abstract = title, abstract
        group.full_clean()
        group.save(update_fields=changed)
    return group


def group_list(*, course: Course, user: User, staff: bool) -> QuerySet[ProjectGroup]:
    """Staff see every group of the course; a student sees only their own."""
    groups = course.project_groups.prefetch_related(
        Prefetch(
            "group_memberships",
            queryset=GroupMembership.objects.select_related("student").order_by(
                "student__username"
            ),
        ),
        Prefetch(
            "invitations",
            queryset=GroupInvitation.objects.filter(state=PENDING).select_related(
                "invited", "invited_by"
            ),
            to_attr="pending_invitations",
        ),
    )
    return groups if staff else groups.filter(group_memberships__student=user)


def access_group(*, course: Course, user: User, staff: bool, pk: int) -> ProjectGroup:
    """A group the user may see (see ``group_list``); any other answers 404."""
    group = group_list(course=course, user=user, staff=staff).filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


def invitation_list(*, course: Course, user: User) -> QuerySet[GroupInvitation]:
    """The user's pending invitations in the course, sent and received."""
    return _own_invitations(course, user).filter(state=PENDING)


def access_invitation(*, course: Course, user: User, pk: int) -> GroupInvitation:
    """An invitation of the course that the user sent or received; any other answers 404."""
    invitation = _own_invitations(course, user).filter(pk=pk).first()
    if invitation is None:
        raise Http404
    return invitation


def _own_invitations(course: Course, user: User) -> QuerySet[GroupInvitation]:
    return (
        GroupInvitation.objects.filter(group__course=course)
        .filter(Q(invited=user) | Q(invited_by=user))
        .select_related("group", "invited", "invited_by")
    )

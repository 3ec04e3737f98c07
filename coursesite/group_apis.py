"""The project group API: students start groups, invite each other, answer invitations, leave,
and describe their project (title and abstract).

A student reaches only their own group and the invitations they sent or received; anything else
answers 404. Staff list every group here, describe any group's project, and change groups in the
instructor panel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.groups import (
    PROJECT_ABSTRACT_LIMIT,
    PROJECT_TITLE_LIMIT,
    access_group,
    access_invitation,
    course_student,
    group_create,
    group_invite,
    group_leave,
    group_list,
    group_project_describe,
    invitation_accept,
    invitation_cancel,
    invitation_decline,
    invitation_list,
)
from coursesite.models import Course, GroupInvitation, GroupMembership, ProjectGroup, Role
from coursesite.permissions import CoursePermission, is_course_staff


class GroupMemberSerializer(serializers.ModelSerializer[GroupMembership]):
    username = serializers.CharField(source="student.username")
    name = serializers.CharField(source="student.get_full_name")

    class Meta:
        model = GroupMembership
        fields = ["username", "name"]


class PendingInvitationSerializer(serializers.ModelSerializer[GroupInvitation]):
    invited = serializers.CharField(source="invited.username")
    invited_by = serializers.CharField(source="invited_by.username")

    class Meta:
        model = GroupInvitation
        fields = ["id", "invited", "invited_by", "created_at"]


class GroupSerializer(serializers.ModelSerializer[ProjectGroup]):
    members = GroupMemberSerializer(many=True, source="group_memberships")
    pending_invitations = PendingInvitationSerializer(
        many=True, help_text="Invitations not answered yet; each holds a place in the group."
    )

    class Meta:
        model = ProjectGroup
        fields = ["id", "name", "title", "abstract", "members", "pending_invitations"]


class GroupRefSerializer(serializers.ModelSerializer[ProjectGroup]):
    class Meta:
        model = ProjectGroup
        fields = ["id", "name"]


class InvitationSerializer(serializers.ModelSerializer[GroupInvitation]):
    group = GroupRefSerializer()
    invited = serializers.CharField(source="invited.username")
    invited_by = serializers.CharField(source="invited_by.username")

    class Meta:
        model = GroupInvitation
        fields = ["id", "group", "invited", "invited_by", "state", "created_at", "responded_at"]


class GroupCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)


class GroupProjectSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(
        max_length=PROJECT_TITLE_LIMIT,
        allow_blank=True,
        required=False,
        help_text="The project's title; left out: unchanged.",
    )
    abstract = serializers.CharField(
        max_length=PROJECT_ABSTRACT_LIMIT,
        allow_blank=True,
        required=False,
        help_text="What the project sets out to do; left out: unchanged.",
    )


class InvitationCreateSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150, help_text="The student to invite.")


def caller(request: Request) -> User:
    # IsAuthenticated has already turned anonymous callers away.
    return cast(User, request.user)


def course_of(request: Request) -> Course:
    return cast(Course, request.course)  # type: ignore[attr-defined]


def staff_caller(request: Request) -> bool:
    return is_course_staff(request.membership)  # type: ignore[attr-defined]


def reachable_group(request: Request, pk: int) -> ProjectGroup:
    return access_group(
        course=course_of(request), user=caller(request), staff=staff_caller(request), pk=pk
    )


def parsed(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def in_course_zone(course: Course, serializer: serializers.BaseSerializer[Any]) -> Any:
    with timezone.override(course.tz):
        return serializer.data


class GroupsApi(APIView):
    """GET: the caller's own group (staff: every group of the course). POST: start a group with
    the caller as its first member."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(responses=GroupSerializer(many=True), operation_id="course_groups_list")
    def get(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        groups = group_list(course=course, user=caller(request), staff=staff_caller(request))
        return Response(in_course_zone(course, GroupSerializer(groups, many=True)))

    @extend_schema(
        request=GroupCreateSerializer,
        responses={201: GroupSerializer},
        operation_id="course_groups_create",
    )
    def post(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        data = parsed(GroupCreateSerializer, request)
        group = group_create(course=course, founder=caller(request), name=data["name"])
        # Read back the way the list reads it, with members and pending invitations.
        group = access_group(course=course, user=caller(request), staff=False, pk=group.pk)
        return Response(
            in_course_zone(course, GroupSerializer(group)), status=status.HTTP_201_CREATED
        )


class GroupApi(APIView):
    """GET: one group the caller may see. PATCH: describe its project, as a member until the
    course's term ends, as staff at any time."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(responses=GroupSerializer, operation_id="course_group_detail")
    def get(self, request: Request, course_slug: str, pk: int) -> Response:
        group = reachable_group(request, pk)
        return Response(in_course_zone(course_of(request), GroupSerializer(group)))

    @extend_schema(
        request=GroupProjectSerializer,
        responses=GroupSerializer,
        operation_id="course_group_project_describe",
    )
    def patch(self, request: Request, course_slug: str, pk: int) -> Response:
        group = reachable_group(request, pk)
        data = parsed(GroupProjectSerializer, request)
        group_project_describe(
            group=group,
            by=caller(request),
            title=data.get("title", group.title),
            abstract=data.get("abstract", group.abstract),
        )
        group = reachable_group(request, pk)
        return Response(in_course_zone(course_of(request), GroupSerializer(group)))


class GroupInvitationsApi(APIView):
    """POST: invite a student of the course into the caller's group."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
        operation_id="course_group_invitations_create",
    )
    def post(self, request: Request, course_slug: str, pk: int) -> Response:
        course = course_of(request)
        group = reachable_group(request, pk)
        username = parsed(InvitationCreateSerializer, request)["username"]
        invitation = group_invite(
            group=group,
            invited_by=caller(request),
            invited=course_student(course=course, username=username),
        )
        return Response(
            in_course_zone(course, InvitationSerializer(invitation)),
            status=status.HTTP_201_CREATED,
        )


class GroupLeaveApi(APIView):
    """POST: leave the caller's group; a group left empty is deleted."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(request=None, responses={204: None}, operation_id="course_group_leave")
    def post(self, request: Request, course_slug: str, pk: int) -> Response:
        group = reachable_group(request, pk)
        group_leave(group=group, student=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationsApi(APIView):
    """GET: the caller's pending invitations in the course, those sent and those received."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(
        responses=InvitationSerializer(many=True), operation_id="course_invitations_list"
    )
    def get(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        invitations = invitation_list(course=course, user=caller(request))
        return Response(in_course_zone(course, InvitationSerializer(invitations, many=True)))


class InvitationAnswerApi(APIView):
    """POST: accept, decline or cancel one of the caller's invitations."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT
    answer: Callable[..., GroupInvitation]

    @extend_schema(request=None, responses={200: InvitationSerializer})
    def post(self, request: Request, course_slug: str, pk: int) -> Response:
        course = course_of(request)
        invitation = access_invitation(course=course, user=caller(request), pk=pk)
        invitation = self.answer(invitation=invitation, by=caller(request))
        return Response(in_course_zone(course, InvitationSerializer(invitation)))


@extend_schema_view(post=extend_schema(operation_id="course_invitation_accept"))
class InvitationAcceptApi(InvitationAnswerApi):
    """POST: join the invitation's group; the caller's other pending invitations are cancelled."""

    answer = staticmethod(invitation_accept)


@extend_schema_view(post=extend_schema(operation_id="course_invitation_decline"))
class InvitationDeclineApi(InvitationAnswerApi):
    """POST: turn down an invitation the caller received."""

    answer = staticmethod(invitation_decline)


@extend_schema_view(post=extend_schema(operation_id="course_invitation_cancel"))
class InvitationCancelApi(InvitationAnswerApi):
    """POST: withdraw an invitation the caller sent."""

    answer = staticmethod(invitation_cancel)

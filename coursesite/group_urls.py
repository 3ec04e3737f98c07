from django.urls import path

from coursesite.group_apis import (
    GroupApi,
    GroupInvitationsApi,
    GroupLeaveApi,
    GroupsApi,
    InvitationAcceptApi,
    InvitationCancelApi,
    InvitationDeclineApi,
    InvitationsApi,
)

COURSE = "courses/<slug:course_slug>"

api_urlpatterns = [
    path(f"{COURSE}/groups/", GroupsApi.as_view(), name="api-groups"),
    path(f"{COURSE}/groups/<int:pk>/", GroupApi.as_view(), name="api-group"),
    path(
        f"{COURSE}/groups/<int:pk>/invitations/",
        GroupInvitationsApi.as_view(),
        name="api-group-invitations",
    ),
    path(f"{COURSE}/groups/<int:pk>/leave/", GroupLeaveApi.as_view(), name="api-group-leave"),
    path(f"{COURSE}/invitations/", InvitationsApi.as_view(), name="api-invitations"),
    path(
        f"{COURSE}/invitations/<int:pk>/accept/",
        InvitationAcceptApi.as_view(),
        name="api-invitation-accept",
    ),
    path(
        f"{COURSE}/invitations/<int:pk>/decline/",
        InvitationDeclineApi.as_view(),
        name="api-invitation-decline",
    ),
    path(
        f"{COURSE}/invitations/<int:pk>/cancel/",
        InvitationCancelApi.as_view(),
        name="api-invitation-cancel",
    ),
]

"""API tokens over the API: trade a password for a token, list and revoke one's own tokens, and
make a course's read-only gradebook export token. The key is in the answer that makes a token,
and nowhere else.

Trading a password goes through the site's login lockouts (coursesite/lockout.py) and a throttle
per client address: a wrong password gets 401, a locked-out or throttled caller 429 with
Retry-After."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from coursesite.group_apis import parsed
from coursesite.lockout import client_address
from coursesite.models import ApiToken, Course, Role, TokenScope
from coursesite.permissions import CoursePermission, request_user
from coursesite.tokens import (
    ApiTokenAuthentication,
    access_api_token,
    api_token_create,
    api_token_list,
    api_token_revoke,
)

WRONG_CREDENTIALS = "Unable to log in with the user name and password given."


class LoginThrottle(AnonRateThrottle):
    scope = "login"
    rate = "20/min"

    def get_ident(self, request: Request) -> str:
        # The address the lockouts count, never a client's own X-Forwarded-For.
        return client_address(request) or ""


class CredentialsSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenIssuedSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="The key; it is not shown again.")
    expires_at = serializers.DateTimeField()


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    course: serializers.SlugRelatedField[Course] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = ApiToken
        fields = [
            "id", "prefix", "name", "scope", "course", "created_at", "expires_at", "last_used_at",
        ]  # fmt: skip


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.SerializerMethodField(help_text="The key; it is not shown again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]

    def get_key(self, token: ApiToken) -> str:
        return cast(str, self.context["key"])


class ApiTokenCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True, help_text="What it is for."
    )
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="How many days it lives: at most the site's limit (API_TOKEN_DAYS), the default.",
    )


def created(token: ApiToken, key: str) -> Response:
    body = ApiTokenCreatedSerializer(token, context={"key": key}).data
    return Response(body, status=status.HTTP_201_CREATED)


class TokenObtainApi(APIView):
    """Anyone may ask; a wrong user name or password gets 401 with the same message either way,
    a locked-out account or address 429. Each call makes a new personal token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        request=CredentialsSerializer,
        responses={
            200: TokenIssuedSerializer,
            401: OpenApiResponse(description="Wrong user name or password."),
            429: OpenApiResponse(description="Locked out or throttled; see Retry-After."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = parsed(CredentialsSerializer, request)
        # Django's request, not DRF's wrapper: django-axes marks it when the account or address
        # is locked out, and its middleware then answers 429 in place of this answer.
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            return Response(
                {"detail": WRONG_CREDENTIALS},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": ApiTokenAuthentication.keyword},
            )
        token, key = api_token_create(user=user, name="login")
        return Response(TokenIssuedSerializer({"token": key, "expires_at": token.expires_at}).data)


class ApiTokensApi(APIView):
    """GET: the caller's tokens that still work, never their keys. POST: a new personal token."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ApiTokenSerializer(many=True), operation_id="auth_tokens_list")
    def get(self, request: Request) -> Response:
        tokens = api_token_list(user=request_user(request))
        return Response(ApiTokenSerializer(tokens, many=True).data)

    @extend_schema(
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer},
        operation_id="auth_tokens_create",
    )
    def post(self, request: Request) -> Response:
        data = parsed(ApiTokenCreateSerializer, request)
        token, key = api_token_create(user=request_user(request), **data)
        return created(token, key)


class ApiTokenApi(APIView):
    """DELETE: revoke one of the caller's own tokens."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None}, operation_id="auth_tokens_destroy")
    def delete(self, request: Request, pk: int) -> Response:
        api_token_revoke(token=access_api_token(user=request_user(request), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportTokensApi(APIView):
    """POST: a read-only token for this course's gradebook (JSON and CSV), acting as the staff
    member who makes it; it stops working if they leave the course."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA

    @extend_schema(
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer},
        operation_id="course_export_tokens_create",
    )
    def post(self, request: Request, course_slug: str) -> Response:
        data = parsed(ApiTokenCreateSerializer, request)
        token, key = api_token_create(
            user=request_user(request),
            scope=TokenScope.GRADEBOOK_EXPORT,
            course=request.course,  # type: ignore[attr-defined]
            **data,
        )
        return created(token, key)

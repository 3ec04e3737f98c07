"""The course API: the caller's courses, and one course's facts, schedule and grade structure."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.models import Course, CourseEvent, GracePolicy, GradeCategory, GradeItem, Lecture
from coursesite.permissions import CoursePermission
from coursesite.selectors import course_detail, course_list


class CourseSummarySerializer(serializers.ModelSerializer):
    role = serializers.CharField(allow_null=True, help_text="The caller's role in the course.")

    class Meta:
        model = Course
        fields = ["slug", "code", "title", "term", "time_zone", "starts_on", "ends_on", "role"]


class LectureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lecture
        fields = ["week", "date", "starts_at", "ends_at", "kind", "topic", "room"]


class EventSerializer(serializers.ModelSerializer):
    item: serializers.SlugRelatedField[GradeItem] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = CourseEvent
        fields = ["week", "date", "title", "item"]


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = GradeItem
        fields = [
            "slug", "title", "max_points", "weight", "opens_at", "due_at", "released",
            "required_to_pass", "pass_mark", "uses_grace_days",
        ]  # fmt: skip


class CategorySerializer(serializers.ModelSerializer):
    items = ItemSerializer(many=True)

    class Meta:
        model = GradeCategory
        fields = ["name", "weight", "drop_lowest", "items"]


class GracePolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = GracePolicy
        fields = [
            "pool_days", "per_item_cap", "slack_minutes", "partial_day", "after_pool",
            "penalty_percent_per_day", "late_days_after_pool",
        ]  # fmt: skip


class ScheduleSerializer(serializers.Serializer):
    meetings = LectureSerializer(many=True, source="lectures")
    events = EventSerializer(many=True)


class CourseDetailSerializer(serializers.ModelSerializer):
    role = serializers.CharField(allow_null=True, help_text="The caller's role in the course.")
    schedule = ScheduleSerializer(source="*")
    categories = CategorySerializer(many=True)
    grace_days = GracePolicySerializer(source="grace_policy", allow_null=True)

    class Meta:
        model = Course
        fields = [
            "slug", "code", "title", "term", "time_zone", "starts_on", "ends_on", "textbook",
            "group_size_min", "group_size_max", "role", "grace_days", "categories", "schedule",
        ]  # fmt: skip


class CourseListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CourseSummarySerializer(many=True), operation_id="courses_list")
    def get(self, request: Request) -> Response:
        courses = course_list(user=request.user)  # type: ignore[arg-type]
        return Response(CourseSummarySerializer(courses, many=True).data)


class CourseDetailApi(APIView):
    """Any member reads the course; times are given in the course's own time zone."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=CourseDetailSerializer, operation_id="courses_retrieve")
    def get(self, request: Request, course_slug: str) -> Response:
        course = course_detail(slug=request.course.slug)  # type: ignore[attr-defined]
        course.role = request.membership.role if request.membership else None  # type: ignore[attr-defined]
        with timezone.override(course.tz):
            return Response(CourseDetailSerializer(course).data)

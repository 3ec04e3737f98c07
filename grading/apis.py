"""The grading API: autograder versions of an item, and the course's grading queue."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.errors import ApplicationError
from coursesite.models import Course, GradeItem, Role
from coursesite.permissions import CoursePermission, request_user
from grading.models import AutograderBundle, GradingJob, JobStatus, TestResult
from grading.services import bundle_upload


class BundleSerializer(serializers.ModelSerializer[AutograderBundle]):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = AutograderBundle
        fields = [
            "id", "version", "name", "kind", "sha256", "manifest", "missing_packages",
            "uploaded_by", "uploaded_at",
        ]  # fmt: skip


class TestResultSerializer(serializers.ModelSerializer[TestResult]):
    class Meta:
        model = TestResult
        fields = ["name", "score", "max_score", "status", "visibility", "output"]


class JobSerializer(serializers.ModelSerializer[GradingJob]):
    item = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]
    bundle_version = serializers.IntegerField(source="bundle.version", read_only=True)
    tests = TestResultSerializer(many=True, read_only=True)

    class Meta:
        model = GradingJob
        fields = [
            "id", "item", "subject", "owner", "bundle_version", "queue", "status", "attempt",
            "max_attempts", "worker", "created_at", "started_at", "finished_at", "verdict", "score",
            "max_score", "execution_time", "self_reported", "error", "logs", "tests",
        ]  # fmt: skip


def staff_item(request: Request, slug: str) -> tuple[Course, GradeItem]:
    course: Course = request.course  # type: ignore[attr-defined]
    item = course.items.filter(slug=slug).first()
    if item is None:
        raise Http404
    return course, item


class BundlesApi(APIView):
    """An item's autograder versions (staff); POST a zip to add the next version."""

    permission_classes = [IsAuthenticated, CoursePermission]
    parser_classes = [MultiPartParser]
    # Staff read the versions; only an instructor uploads one, since its grader runs on the
    # workers.
    required_role, write_role = Role.TA, Role.INSTRUCTOR

    @extend_schema(responses=BundleSerializer(many=True))
    def get(self, request: Request, course_slug: str, item_slug: str) -> Response:
        course, item = staff_item(request, item_slug)
        bundles = AutograderBundle.objects.filter(item=item).select_related("uploaded_by")
        with timezone.override(course.tz):
            return Response(BundleSerializer(bundles, many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={201: BundleSerializer},
    )
    def post(self, request: Request, course_slug: str, item_slug: str) -> Response:
        course, item = staff_item(request, item_slug)
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError(
                "Attach the autograder bundle (a .zip) as the form field 'file'."
            )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bundle.zip"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            bundle = bundle_upload(item=item, path=path, uploaded_by=request_user(request))
        with timezone.override(course.tz):
            return Response(BundleSerializer(bundle).data, status=status.HTTP_201_CREATED)


QUEUE_SCHEMA = inline_serializer(
    "GradingQueue",
    {
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "jobs": JobSerializer(many=True),
    },
)


class QueueApi(APIView):
    """The course's grading jobs, newest first, with counts per state (staff)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = Role.TA

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[*JobStatus.values, "failed"], required=False),
            OpenApiParameter("limit", int, required=False),
        ],
        responses=QUEUE_SCHEMA,
    )
    def get(self, request: Request, course_slug: str) -> Response:
        course: Course = request.course  # type: ignore[attr-defined]
        jobs = GradingJob.objects.filter(item__course=course)
        counts = jobs.aggregate(
            **{state: Count("pk", filter=Q(status=state)) for state in JobStatus.values},
            failed=Count("pk", filter=Q(status=JobStatus.DONE) & ~Q(verdict="ok")),
        )
        wanted = request.query_params.get("status")
        if wanted and wanted not in (*JobStatus.values, "failed"):
            raise ApplicationError(f"status must be one of {', '.join(JobStatus.values)}, failed.")
        if wanted == "failed":
            jobs = jobs.filter(status=JobStatus.DONE).exclude(verdict="ok")
        elif wanted:
            jobs = jobs.filter(status=wanted)
        try:
            limit = max(1, min(int(request.query_params.get("limit", 100)), 500))
        except ValueError:
            raise ApplicationError("limit must be a whole number.") from None
        shown = jobs.select_related("item", "bundle").prefetch_related("tests")[:limit]
        with timezone.override(course.tz):
            return Response({"counts": counts, "jobs": JobSerializer(shown, many=True).data})

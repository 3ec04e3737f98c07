"""The gradebook API: the gradebook as JSON and as a Canvas CSV, manual scores (one at a time or
from a file) with their history, releasing an item, and regrade requests.

Staff (instructor or TA) read and write everything of their course. A student reads their own
row, with released items only, the history of their own released scores, and their own regrade
requests; they write only regrade requests. Times are given in the course's time zone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.answers import answer_kept
from coursesite.gradebook.export import csv_filename, gradebook_csv
from coursesite.gradebook.imports import (
    MAX_BYTES,
    LineCheck,
    ScoreImportRejected,
    score_file_check,
    score_file_parse,
)
from coursesite.gradebook.permissions import access_item, access_regrade_request, access_student
from coursesite.gradebook.selectors import (
    Gradebook,
    GradebookRow,
    gradebook_read,
    regrade_requests_list,
    score_history,
)
from coursesite.gradebook.services import (
    item_release,
    regrade_request_answer,
    regrade_request_create,
    score_enter,
    score_import,
)
from coursesite.group_apis import caller, course_of, in_course_zone, parsed, staff_caller
from coursesite.models import GradeItem, RegradeRequest, RegradeState, Role, Score, ScoreChange
from coursesite.permissions import REFUSED, RELEASE, CoursePermission, staff_may


def points_field(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=8, decimal_places=2, **options)


def percent_field(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=6, decimal_places=2, **options)


class StudentSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    name = serializers.CharField()
    sis_user_id = serializers.CharField()
    sis_login_id = serializers.CharField()
    section = serializers.CharField()


class RowItemSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    state = serializers.ChoiceField(choices=["graded", "missing", "pending", "excused"])
    points = points_field(allow_null=True)
    percent = percent_field(allow_null=True)
    dropped = serializers.BooleanField(help_text="Left out by the category's drop-lowest rule.")
    max_points = points_field()
    comment = serializers.CharField(help_text="Empty for an item the viewer may not see yet.")
    late_penalty_percent = percent_field(
        allow_null=True, help_text="The late penalty already inside the points."
    )


class RowCategorySerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    weight = percent_field()
    current = percent_field(allow_null=True)
    final = percent_field(allow_null=True)


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal as the API's decimal fields write it: a string with two decimals."""
    return None if value is None else f"{value:.2f}"


def row_document(book: Gradebook, row: GradebookRow) -> dict[str, Any]:
    """One student's row, ready for JSON; an item the viewer may not see yet shows no score of
    any kind."""
    user, membership, grade = row.student, row.membership, row.grade
    items = []
    for item in book.items:
        shown = item.released or not book.released_only
        score = row.scores.get(item.pk) if shown else None
        item_grade = grade.items[item.pk]
        items.append(
            {
                "slug": item.slug,
                "state": item_grade.state,
                "points": decimal_text(item_grade.points),
                "percent": decimal_text(item_grade.percent),
                "dropped": item_grade.dropped,
                "max_points": decimal_text(item.max_points),
                "comment": score.comment if score else "",
                "late_penalty_percent": decimal_text(score.late_penalty_percent if score else None),
            }
        )
    return {
        "student": {
            "username": user.username,
            "name": user.get_full_name(),
            "sis_user_id": membership.sis_user_id,
            "sis_login_id": membership.sis_login_id,
            "section": membership.section,
        },
        "items": items,
        "categories": [
            {
                "name": category.name,
                "weight": decimal_text(category.weight),
                "current": decimal_text(grade.categories_current[category.pk]),
                "final": decimal_text(grade.categories_final[category.pk]),
            }
            for category in book.categories
        ],
        "current": decimal_text(grade.current),
        "final": decimal_text(grade.final),
        "letter": grade.letter,
        "flags": list(grade.flags),
    }


class RowSerializer(serializers.Serializer[GradebookRow]):
    """One student's row. The fields describe it for the schema; ``row_document`` writes it,
    because a course's gradebook has thousands of cells and DRF's field by field path takes
    seconds over them."""

    student = StudentSerializer()
    items = RowItemSerializer(many=True)
    categories = RowCategorySerializer(many=True)
    current = percent_field(allow_null=True, help_text="Total over graded and missing work.")
    final = percent_field(allow_null=True, help_text="Total with work not graded yet counted as 0.")
    letter = serializers.CharField(allow_null=True)
    flags = serializers.ListField(
        child=serializers.ChoiceField(
            choices=["required_not_passed", "missing_work", "pending_grading"]
        )
    )

    def to_representation(self, instance: GradebookRow) -> dict[str, Any]:
        return row_document(self.context["gradebook"], instance)


class GradebookItemSerializer(serializers.ModelSerializer[GradeItem]):
    category = serializers.CharField(source="category.name")
    due = serializers.DateTimeField(source="due_at", allow_null=True)

    class Meta:
        model = GradeItem
        fields = ["slug", "title", "category", "max_points", "weight", "due", "released"]


class GradebookSerializer(serializers.Serializer[Any]):
    view = serializers.ChoiceField(
        choices=["staff", "student"], help_text="student: released items only."
    )
    items = GradebookItemSerializer(many=True)
    rows = RowSerializer(many=True)


class CanvasCsvRenderer(BaseRenderer):
    """Passes on a CSV document the view has written (``coursesite.gradebook.export``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> Any:
        return data


SECTION = OpenApiParameter("section", str, description="Only the students of this section.")
VIEW = OpenApiParameter(
    "view",
    str,
    enum=["staff", "student"],
    description="Staff: `student` shows what students see (released items only).",
)
CSV_RESPONSE = {
    (200, "text/csv"): OpenApiTypes.STR,
    (403, "application/json"): OpenApiTypes.OBJECT,
}


class GradebookApi(APIView):
    """GET: staff get every student's row (``view=student``: released items only); a student
    gets only their own row, released items only. ``format=csv`` gives the Canvas CSV (staff)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CanvasCsvRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # An error is answered in JSON, even to a caller that asked for the CSV.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        parameters=[SECTION, VIEW],
        responses={
            (200, "application/json"): GradebookSerializer,
            **CSV_RESPONSE,
        },
        operation_id="course_gradebook",
    )
    def get(self, request: Request, course_slug: str) -> Response:
        course, staff = course_of(request), staff_caller(request)
        csv = request.accepted_renderer.format == "csv"
        if csv and not staff:
            raise PermissionDenied("The gradebook export is for the course's staff.")
        released_only = not staff or request.query_params.get("view") == "student"
        section = request.query_params.get("section") or None
        student = None if staff else caller(request)

        def read() -> Gradebook:
            return gradebook_read(
                course=course, released_only=released_only, section=section, student=student
            )

        if csv:
            name = csv_filename(course, timezone.localdate(timezone=course.tz))
            return Response(
                gradebook_csv(read()),
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )

        def document() -> tuple[Any, datetime | None]:
            book = read()
            content = {
                "view": "student" if book.released_only else "staff",
                "items": book.items,
                "rows": book.rows,
            }
            serializer = GradebookSerializer(content, context={"gradebook": book})
            return in_course_zone(course, serializer), book.changes_at

        # Polled by students and staff alike: kept until a score or the course changes.
        return Response(
            answer_kept(
                name="gradebook",
                asked=[caller(request).pk, released_only, section],
                course_id=course.pk,
                owner_id=None if student is None else student.pk,
                compute=document,
            )
        )


@extend_schema_view(
    get=extend_schema(
        parameters=[SECTION, VIEW], responses=CSV_RESPONSE, operation_id="course_gradebook_csv"
    )
)
class GradebookCsvApi(GradebookApi):
    """GET: the gradebook in the Canvas gradebook import layout, for the course's staff."""

    renderer_classes = [CanvasCsvRenderer]


class ScoreSerializer(serializers.ModelSerializer[Score]):
    item = serializers.CharField(source="item.slug")
    student = serializers.CharField(source="student.username")

    class Meta:
        model = Score
        fields = [
            "item", "student", "points", "excused", "source", "comment", "late_penalty_percent",
            "updated_at",
        ]  # fmt: skip


class ScoreWriteSerializer(serializers.Serializer[Any]):
    points = points_field(allow_null=True, required=False, help_text="Empty for an excused score.")
    excused = serializers.BooleanField(default=False)
    comment = serializers.CharField(
        required=False, allow_blank=True, help_text="Left as it is when not given."
    )
    reason = serializers.CharField(max_length=300, help_text="Why the score changes; kept.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("points") is None) != attrs["excused"]:
            raise serializers.ValidationError("Give points, or excused true: one of them.")
        return attrs


class ScoreApi(APIView):
    """PUT: set a student's score on an item by hand (staff)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA

    @extend_schema(
        request=ScoreWriteSerializer, responses=ScoreSerializer, operation_id="course_score_set"
    )
    def put(self, request: Request, course_slug: str, item_slug: str, username: str) -> Response:
        course = course_of(request)
        item = access_item(course=course, slug=item_slug)
        student = access_student(
            course=course, username=username, caller=caller(request), staff=True
        )
        data = parsed(ScoreWriteSerializer, request)
        score = score_enter(
            item=item,
            student=student,
            points=data.get("points"),
            excused=data["excused"],
            comment=data.get("comment"),
            changed_by=caller(request),
            reason=data["reason"],
        )
        return Response(in_course_zone(course, ScoreSerializer(score)))


class ScoreChangeSerializer(serializers.ModelSerializer[ScoreChange]):
    changed_by = serializers.CharField(
        source="changed_by.username", allow_null=True, help_text="Empty for the autograder."
    )

    class Meta:
        model = ScoreChange
        fields = [
            "changed_by", "changed_at", "old_points", "new_points", "old_excused", "new_excused",
            "source", "reason",
        ]  # fmt: skip


class ScoreHistoryApi(APIView):
    """GET: every change to a student's score on an item, oldest first. Staff, or the student
    themself once the item is released."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=ScoreChangeSerializer(many=True), operation_id="course_score_history")
    def get(self, request: Request, course_slug: str, item_slug: str, username: str) -> Response:
        course, staff = course_of(request), staff_caller(request)
        item = access_item(course=course, slug=item_slug)
        student = access_student(
            course=course, username=username, caller=caller(request), staff=staff
        )
        if not staff and not item.released:
            raise PermissionDenied(f"The scores of {item} are not released yet.")
        score = Score.objects.filter(item=item, student=student).first()
        changes = score_history(score=score) if score else []
        return Response(in_course_zone(course, ScoreChangeSerializer(changes, many=True)))


class ImportUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text=f"CSV, UTF-8, at most {MAX_BYTES // 1024} KiB: a header naming username or "
        "sis_user_id, points (a number or EX) and optionally comment, then one line per student."
    )
    reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="Why the scores change; needed to apply the file.",
    )


class ImportLineSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(help_text="The line of the file; 0 for the file as a whole.")
    student = serializers.CharField(source="student_key")
    username = serializers.CharField(source="student.username", allow_null=True)
    points = points_field(allow_null=True)
    excused = serializers.BooleanField()
    comment = serializers.CharField(
        allow_null=True, help_text="Empty when the file has no comment column."
    )
    previous_points = points_field(source="previous.points", allow_null=True)
    previous_excused = serializers.BooleanField(source="previous.excused", allow_null=True)
    action = serializers.ChoiceField(
        choices=["create", "update", "unchanged", ""], help_text="Empty for a line with a problem."
    )
    problem = serializers.CharField(help_text="Why the line cannot be applied; empty if it can.")


class ImportReportSerializer(serializers.Serializer[Any]):
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="Whether the scores were written (all of them).")
    detail = serializers.CharField()
    lines = ImportLineSerializer(many=True)


def import_report(lines: list[LineCheck], *, dry_run: bool, applied: bool) -> dict[str, Any]:
    problems = sum(1 for line in lines if line.problem)
    if problems:
        detail = f"{problems} line(s) have a problem; nothing was written."
    else:
        detail = f"{len(lines)} line(s) {'were' if applied else 'can be'} applied."
    report = {"dry_run": dry_run, "applied": applied, "detail": detail, "lines": lines}
    return ImportReportSerializer(report).data


class ScoreImportApi(APIView):
    """POST: scores of one item for many students from a CSV file (staff). ``dry_run=1`` reports
    what each line would do, or its problem, and writes nothing. Applying is all or nothing: one
    line with a problem and nothing is written (400, with the report)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    parser_classes = [MultiPartParser]
    write_role = Role.TA

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[
            OpenApiParameter(
                "dry_run", OpenApiTypes.BOOL, description="1: report only, write nothing."
            )
        ],
        responses={200: ImportReportSerializer, 400: ImportReportSerializer},
        operation_id="course_scores_import",
    )
    def post(self, request: Request, course_slug: str, item_slug: str) -> Response:
        item = access_item(course=course_of(request), slug=item_slug)
        data = parsed(ImportUploadSerializer, request)
        dry_run = request.query_params.get("dry_run", "") in ("1", "true", "yes")
        try:
            lines = score_file_parse(data["file"].read(MAX_BYTES + 1))
            if dry_run:
                checked = score_file_check(item=item, lines=lines)
            else:
                checked = score_import(
                    item=item, rows=lines, changed_by=caller(request), reason=data.get("reason", "")
                )
        except ScoreImportRejected as rejected:
            answer = status.HTTP_200_OK if dry_run else status.HTTP_400_BAD_REQUEST
            report = import_report(rejected.lines, dry_run=dry_run, applied=False)
            return Response(report, status=answer)
        return Response(import_report(checked, dry_run=dry_run, applied=not dry_run))


class ItemReleaseSerializer(serializers.ModelSerializer[GradeItem]):
    class Meta:
        model = GradeItem
        fields = ["slug", "title", "released", "released_at"]


class ItemReleaseApi(APIView):
    """POST: show the item's scores to its students (staff)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA
    released = True

    @extend_schema(
        request=None, responses=ItemReleaseSerializer, operation_id="course_item_release"
    )
    def post(self, request: Request, course_slug: str, item_slug: str) -> Response:
        course = course_of(request)
        if not staff_may(course=course, user=request.user, power=RELEASE):
            raise PermissionDenied(REFUSED[RELEASE])
        item = item_release(item=access_item(course=course, slug=item_slug), released=self.released)
        return Response(in_course_zone(course, ItemReleaseSerializer(item)))


@extend_schema_view(post=extend_schema(operation_id="course_item_unrelease"))
class ItemUnreleaseApi(ItemReleaseApi):
    """POST: hide the item's scores from its students again (staff)."""

    released = False


class RegradeRequestSerializer(serializers.ModelSerializer[RegradeRequest]):
    item = serializers.CharField(source="item.slug")
    student = serializers.CharField(source="student.username")
    answered_by = serializers.CharField(source="answered_by.username", allow_null=True)

    class Meta:
        model = RegradeRequest
        fields = [
            "id", "item", "student", "part", "message", "created_at", "state", "answer",
            "answered_by", "answered_at", "score_changed",
        ]  # fmt: skip


class RegradeCreateSerializer(serializers.Serializer[Any]):
    item = serializers.SlugField(help_text="The released item asked about.")
    part = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="One test or criterion."
    )
    message = serializers.CharField(max_length=5000)


class RegradeAnswerSerializer(serializers.Serializer[Any]):
    answer = serializers.CharField(max_length=5000)
    points = points_field(
        required=False,
        allow_null=True,
        help_text="New points for the student; leave out to keep the score.",
    )


class RegradeRequestsApi(APIView):
    """GET: staff list every regrade request of the course (``state=open`` for those waiting);
    a student lists their own, with the answers. POST: a student asks about one released item,
    until the course's regrade window after its release closes."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=[s.value for s in RegradeState])],
        responses=RegradeRequestSerializer(many=True),
        operation_id="course_regrade_requests_list",
    )
    def get(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        requests = regrade_requests_list(
            course=course,
            student=None if staff_caller(request) else caller(request),
            state=request.query_params.get("state") or None,
        )
        return Response(in_course_zone(course, RegradeRequestSerializer(requests, many=True)))

    @extend_schema(
        request=RegradeCreateSerializer,
        responses={201: RegradeRequestSerializer},
        operation_id="course_regrade_requests_create",
    )
    def post(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        data = parsed(RegradeCreateSerializer, request)
        item = GradeItem.objects.filter(course=course, slug=data["item"]).first()
        if item is None:
            raise ValidationError({"item": f"This course has no item {data['item']!r}."})
        created = regrade_request_create(
            item=item, student=caller(request), message=data["message"], part=data.get("part", "")
        )
        return Response(
            in_course_zone(course, RegradeRequestSerializer(created)),
            status=status.HTTP_201_CREATED,
        )


class RegradeAnswerApi(APIView):
    """POST: answer an open regrade request, optionally with new points (staff)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA

    @extend_schema(
        request=RegradeAnswerSerializer,
        responses=RegradeRequestSerializer,
        operation_id="course_regrade_request_answer",
    )
    def post(self, request: Request, course_slug: str, pk: int) -> Response:
        course = course_of(request)
        data = parsed(RegradeAnswerSerializer, request)
        answered = regrade_request_answer(
            request=access_regrade_request(course=course, pk=pk),
            answered_by=caller(request),
            answer=data["answer"],
            points=data.get("points"),
        )
        return Response(in_course_zone(course, RegradeRequestSerializer(answered)))

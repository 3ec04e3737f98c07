"""The rubric API: a course's rubrics, the evaluations of an item's work, member adjustments, and
the work on which graders disagree.

Every member reads the course's rubrics; staff (instructor or TA) write them, with the rules the
course file checks (``grading.course_file``). Staff read every evaluation of an item and save or
delete their own; a student reads the evaluations that count for their own work, once the item is
released, with the grader's name only when the course's policy shows it. Outsiders get 404,
students 403 on what is for staff. Times are given in the course's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.errors import ApplicationError
from coursesite.gradebook.apis import points_field
from coursesite.gradebook.permissions import access_item, access_student
from coursesite.group_apis import caller, course_of, in_course_zone, parsed, staff_caller
from coursesite.models import Course, GradeItem, Role
from coursesite.permissions import CoursePermission
from grading.course_file import (
    CRITERION_TITLE_LENGTH,
    DESCRIPTION_LENGTH,
    LEVEL_TITLE_LENGTH,
    RUBRIC_TITLE_LENGTH,
    CriterionSpec,
    LevelSpec,
    RubricRuleBroken,
    RubricSpec,
    course_rubrics,
    items_scored_by,
    rubric_items_check,
    rubric_save,
    rubric_spec_check,
)
from grading.models import CriterionMark, MemberAdjustment, Rubric, RubricEvaluation
from grading.rubrics import (
    MarkInput,
    Outcome,
    comparison,
    disagreements,
    evaluation_delete,
    evaluation_save,
    item_outcomes,
    member_adjust,
    source_of_item,
    student_evaluations,
    work_of,
)

# Rubrics.


class LevelSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Names the level in an evaluation's marks.")
    title = serializers.CharField()
    points = points_field()
    description = serializers.CharField()


class CriterionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Names the criterion in an evaluation's marks.")
    title = serializers.CharField()
    description = serializers.CharField()
    max_points = points_field(help_text="With levels: the best level's points.")
    levels = LevelSerializer(many=True, help_text="Empty: free points from 0 to max_points.")
    points = points_field(
        source="max_points",
        allow_null=True,
        help_text="Free points up to this, for no levels; empty with levels (as PUT takes it).",
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        document = super().to_representation(instance)
        if document["levels"]:
            document["points"] = None
        return document


class RubricSerializer(serializers.ModelSerializer[Rubric]):
    items = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        slug_field="slug", many=True, read_only=True, help_text="The items it scores."
    )
    max_points = points_field(read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)

    class Meta:
        model = Rubric
        fields = ["slug", "title", "description", "items", "max_points", "criteria"]


class LevelWriteSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=LEVEL_TITLE_LENGTH)
    points = points_field()
    description = serializers.CharField(
        max_length=DESCRIPTION_LENGTH, required=False, allow_blank=True, default=""
    )


class CriterionWriteSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=CRITERION_TITLE_LENGTH)
    description = serializers.CharField(
        max_length=DESCRIPTION_LENGTH, required=False, allow_blank=True, default=""
    )
    levels = LevelWriteSerializer(
        many=True, required=False, help_text="At least two; or none, with points."
    )
    points = points_field(
        required=False, allow_null=True, help_text="Free points up to this, for no levels."
    )


class RubricUpdateSerializer(serializers.Serializer[Any]):
    """A rubric as a whole: criteria are found again by title, levels by title within their
    criterion, in the order given; what is left out is deleted."""

    title = serializers.CharField(max_length=RUBRIC_TITLE_LENGTH)
    description = serializers.CharField(
        max_length=DESCRIPTION_LENGTH, required=False, allow_blank=True, default=""
    )
    items = serializers.ListField(
        child=serializers.SlugField(max_length=64),
        required=False,
        default=list,
        help_text="Slugs of the items it scores; an item has one rubric.",
    )
    criteria = CriterionWriteSerializer(many=True)


class RubricCreateSerializer(RubricUpdateSerializer):
    slug = serializers.SlugField(max_length=64)


def rubric_spec(course: Course, slug: str, data: dict[str, Any]) -> RubricSpec:
    """The rubric a request describes, checked by the course file's rules (400 naming the
    fault, e.g. ``criteria[1].levels``)."""
    spec = RubricSpec(
        slug=slug,
        title=data["title"],
        description=data["description"],
        items=tuple(data["items"]),
        criteria=tuple(
            CriterionSpec(
                title=criterion["title"],
                description=criterion["description"],
                levels=tuple(
                    LevelSpec(level["title"], level["points"], level["description"])
                    for level in criterion.get("levels", [])
                ),
                points=criterion.get("points"),
            )
            for criterion in data["criteria"]
        ),
    )
    try:
        rubric_spec_check(spec)
        rubric_items_check(
            spec,
            known=set(course.items.values_list("slug", flat=True)),
            scored_by=items_scored_by(course),
        )
    except RubricRuleBroken as broken:
        raise ValidationError({broken.key: [broken.problem]}) from None
    return spec


def saved(course: Course, spec: RubricSpec) -> Rubric:
    try:
        rubric = rubric_save(course=course, spec=spec)
    except RubricRuleBroken as broken:
        raise ValidationError({broken.key: [broken.problem]}) from None
    return next(r for r in course_rubrics(course) if r.pk == rubric.pk)


def access_rubric(course: Course, slug: str) -> Rubric:
    rubric = next((r for r in course_rubrics(course) if r.slug == slug), None)
    if rubric is None:
        raise Http404
    return rubric


class RubricsApi(APIView):
    """GET: the course's rubrics with their criteria, levels and items (every member).
    POST: a new rubric with its criteria and levels (staff)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA

    @extend_schema(responses=RubricSerializer(many=True), operation_id="course_rubrics_list")
    def get(self, request: Request, course_slug: str) -> Response:
        return Response(RubricSerializer(course_rubrics(course_of(request)), many=True).data)

    @extend_schema(
        request=RubricCreateSerializer,
        responses={201: RubricSerializer},
        operation_id="course_rubric_create",
    )
    def post(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        data = parsed(RubricCreateSerializer, request)
        if course.rubrics.filter(slug=data["slug"]).exists():
            raise ValidationError({"slug": [f"The course already has a rubric {data['slug']!r}."]})
        rubric = saved(course, rubric_spec(course, data["slug"], data))
        return Response(RubricSerializer(rubric).data, status=status.HTTP_201_CREATED)


class RubricApi(APIView):
    """GET: one rubric (every member). PUT: replace it as a whole (staff); once evaluations use
    it, what they count stays (see ``grading.course_file``). DELETE: remove it (staff), refused
    while evaluations use it."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA

    @extend_schema(responses=RubricSerializer, operation_id="course_rubric_read")
    def get(self, request: Request, course_slug: str, rubric_slug: str) -> Response:
        return Response(RubricSerializer(access_rubric(course_of(request), rubric_slug)).data)

    @extend_schema(
        request=RubricUpdateSerializer,
        responses=RubricSerializer,
        operation_id="course_rubric_update",
    )
    def put(self, request: Request, course_slug: str, rubric_slug: str) -> Response:
        course = course_of(request)
        rubric = access_rubric(course, rubric_slug)
        data = parsed(RubricUpdateSerializer, request)
        return Response(
            RubricSerializer(saved(course, rubric_spec(course, rubric.slug, data))).data
        )

    @extend_schema(request=None, responses={204: None}, operation_id="course_rubric_delete")
    def delete(self, request: Request, course_slug: str, rubric_slug: str) -> Response:
        rubric = access_rubric(course_of(request), rubric_slug)
        used = rubric.evaluations.count()
        if used:
            raise ApplicationError(
                f"{used} evaluation(s) use the rubric {rubric.slug!r}; it cannot be deleted."
            )
        rubric.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# Evaluations.


class MarkSerializer(serializers.Serializer[Any]):
    criterion = serializers.IntegerField()
    criterion_title = serializers.CharField()
    level = serializers.IntegerField(allow_null=True)
    level_title = serializers.CharField(allow_null=True)
    points = points_field()
    comment = serializers.CharField()


class EvaluationSerializer(serializers.Serializer[Any]):
    subject = serializers.CharField(help_text="The work, e.g. student:7, group:3, role:5.")
    label = serializers.CharField(help_text="The work as staff know it.")  # type: ignore[assignment]
    rubric = serializers.SlugField()
    grader = serializers.CharField(
        allow_null=True, help_text="Empty for a student when the course hides graders."
    )
    grader_name = serializers.CharField(allow_null=True)
    comment = serializers.CharField()
    points = points_field(help_text="The sum of the marks, in the rubric's points.")
    rubric_points = points_field()
    counted = serializers.BooleanField(help_text="Whether it counts under the course's policy.")
    updated_at = serializers.DateTimeField()
    marks = MarkSerializer(many=True)


def mark_document(mark: CriterionMark) -> dict[str, Any]:
    return {
        "criterion": mark.criterion_id,
        "criterion_title": mark.criterion.title,
        "level": mark.level_id,
        "level_title": mark.level.title if mark.level else None,
        "points": mark.points,
        "comment": mark.comment,
    }


def evaluation_document(
    evaluation: RubricEvaluation,
    *,
    label: str,
    outcome: Outcome | None,
    marks: list[CriterionMark],
    grader_shown: bool = True,
) -> dict[str, Any]:
    """An evaluation for the API; ``outcome`` is its work's, None for a student, who sees only
    the evaluations that count."""
    grader = evaluation.grader
    return {
        "subject": evaluation.subject,
        "label": label,
        "rubric": evaluation.rubric.slug,
        "grader": grader.username if grader_shown else None,
        "grader_name": (grader.get_full_name() or grader.username) if grader_shown else None,
        "comment": evaluation.comment,
        "points": evaluation.points,
        "rubric_points": outcome.rubric_points if outcome else evaluation.rubric.max_points,
        "counted": outcome is None or evaluation in outcome.counted,
        "updated_at": evaluation.updated_at,
        "marks": [mark_document(mark) for mark in marks],
    }


def marks_of(evaluations: QuerySet[RubricEvaluation]) -> dict[int, list[CriterionMark]]:
    marks: dict[int, list[CriterionMark]] = defaultdict(list)
    for mark in (
        CriterionMark.objects.filter(evaluation__in=evaluations)
        .select_related("criterion", "level")
        .order_by("criterion__position", "criterion__pk")
    ):
        marks[mark.evaluation_id].append(mark)
    return marks


def staff_evaluations(item: GradeItem) -> list[dict[str, Any]]:
    outcomes = item_outcomes(item)
    labels = {work.subject: work.label for work in source_of_item(item).works(item)}
    marks = marks_of(RubricEvaluation.objects.filter(item=item))
    return [
        evaluation_document(
            evaluation,
            label=labels.get(subject, subject),
            outcome=outcome,
            marks=marks[evaluation.pk],
        )
        for subject, outcome in sorted(outcomes.items())
        for evaluation in outcome.evaluations
    ]


def own_evaluations(item: GradeItem, request: Request) -> list[dict[str, Any]]:
    return [
        evaluation_document(
            shown.evaluation,
            label=shown.work.label,
            outcome=None,
            marks=list(shown.marks),
            grader_shown=shown.grader_name is not None,
        )
        for shown in student_evaluations(item=item, student=caller(request))
    ]


class EvaluationsApi(APIView):
    """GET: staff get every evaluation of the item's work; a student gets the evaluations that
    count for their own work, once the item is released (none before)."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(
        responses=EvaluationSerializer(many=True), operation_id="course_item_evaluations_list"
    )
    def get(self, request: Request, course_slug: str, item_slug: str) -> Response:
        course = course_of(request)
        item = access_item(course=course, slug=item_slug)
        documents = (
            staff_evaluations(item) if staff_caller(request) else own_evaluations(item, request)
        )
        return Response(in_course_zone(course, EvaluationSerializer(documents, many=True)))


class MarkWriteSerializer(serializers.Serializer[Any]):
    criterion = serializers.IntegerField(help_text="The criterion's id (see the rubric).")
    level = serializers.IntegerField(
        required=False, allow_null=True, help_text="The chosen level's id, for levels."
    )
    points = points_field(
        required=False, allow_null=True, help_text="Free points, for a criterion without levels."
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class EvaluationWriteSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    marks = MarkWriteSerializer(many=True, help_text="One mark for every criterion.")


class EvaluationApi(APIView):
    """PUT: save the caller's evaluation of one piece of the item's work (staff), replacing
    their earlier one; the Scores it changes follow. DELETE: delete the caller's own."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA

    @extend_schema(
        request=EvaluationWriteSerializer,
        responses=EvaluationSerializer,
        operation_id="course_item_evaluation_save",
    )
    def put(self, request: Request, course_slug: str, item_slug: str, subject: str) -> Response:
        course = course_of(request)
        item = access_item(course=course, slug=item_slug)
        data = parsed(EvaluationWriteSerializer, request)
        evaluation = evaluation_save(
            item=item,
            subject=subject,
            grader=caller(request),
            marks=[
                MarkInput(
                    criterion_id=mark["criterion"],
                    level_id=mark.get("level"),
                    points=mark.get("points"),
                    comment=mark["comment"],
                )
                for mark in data["marks"]
            ],
            comment=data["comment"],
        )
        _, work = work_of(item, subject)
        document = evaluation_document(
            evaluation,
            label=work.label,
            outcome=item_outcomes(item).get(subject),
            marks=marks_of(RubricEvaluation.objects.filter(pk=evaluation.pk))[evaluation.pk],
        )
        return Response(in_course_zone(course, EvaluationSerializer(document)))

    @extend_schema(
        request=None, responses={204: None}, operation_id="course_item_evaluation_delete"
    )
    def delete(self, request: Request, course_slug: str, item_slug: str, subject: str) -> Response:
        item = access_item(course=course_of(request), slug=item_slug)
        evaluation = RubricEvaluation.objects.filter(
            item=item, subject=subject, grader=caller(request)
        ).first()
        if evaluation is None:
            raise Http404
        evaluation_delete(evaluation=evaluation, by=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Member adjustments and disagreements.


class AdjustmentWriteSerializer(serializers.Serializer[Any]):
    points = points_field(help_text="Added to the member's share; negative takes off; 0 removes.")
    reason = serializers.CharField(max_length=300)


class AdjustmentSerializer(serializers.ModelSerializer[MemberAdjustment]):
    item = serializers.CharField(source="item.slug")
    student = serializers.CharField(source="student.username")
    adjusted_by = serializers.CharField(source="adjusted_by.username")

    class Meta:
        model = MemberAdjustment
        fields = ["item", "subject", "student", "points", "reason", "adjusted_by", "adjusted_at"]


class MemberAdjustmentApi(APIView):
    """PUT: add points to (or take them from) one member's share of a group's work, with the
    reason (staff); 0 points removes the adjustment (204)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.TA

    @extend_schema(
        request=AdjustmentWriteSerializer,
        responses={200: AdjustmentSerializer, 204: None},
        operation_id="course_item_member_adjust",
    )
    def put(
        self, request: Request, course_slug: str, item_slug: str, subject: str, username: str
    ) -> Response:
        course = course_of(request)
        item = access_item(course=course, slug=item_slug)
        student = access_student(
            course=course, username=username, caller=caller(request), staff=True
        )
        data = parsed(AdjustmentWriteSerializer, request)
        adjustment = member_adjust(
            item=item,
            subject=subject,
            student=student,
            points=data["points"],
            reason=data["reason"],
            by=caller(request),
        )
        if adjustment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(in_course_zone(course, AdjustmentSerializer(adjustment)))


class GraderMarkSerializer(serializers.Serializer[Any]):
    grader = serializers.CharField()
    points = points_field(allow_null=True)
    level = serializers.CharField(allow_null=True, help_text="The chosen level's title.")


class CriterionRowSerializer(serializers.Serializer[Any]):
    criterion = serializers.IntegerField()
    title = serializers.CharField()
    max_points = points_field()
    spread = points_field(help_text="The largest difference between the graders' marks.")
    marks = GraderMarkSerializer(many=True)


class GraderTotalSerializer(serializers.Serializer[Any]):
    grader = serializers.CharField()
    points = points_field()


class DisagreementSerializer(serializers.Serializer[Any]):
    item = serializers.SlugField()
    subject = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    rubric_points = points_field()
    graders = GraderTotalSerializer(many=True)
    criteria = CriterionRowSerializer(many=True)


def disagreement_documents(course: Course) -> list[dict[str, Any]]:
    documents = []
    for found in disagreements(course):
        evaluations = found.outcome.evaluations
        graders = [evaluation.grader.username for evaluation in evaluations]
        documents.append(
            {
                "item": found.item.slug,
                "subject": found.work.subject,
                "label": found.work.label,
                "rubric_points": found.outcome.rubric_points,
                "graders": [
                    {"grader": grader, "points": evaluation.points}
                    for grader, evaluation in zip(graders, evaluations, strict=True)
                ],
                "criteria": [
                    {
                        "criterion": row.criterion.pk,
                        "title": row.criterion.title,
                        "max_points": row.criterion.max_points,
                        "spread": row.spread,
                        "marks": [
                            {
                                "grader": grader,
                                "points": mark.points if mark else None,
                                "level": mark.level.title if mark and mark.level else None,
                            }
                            for grader, mark in zip(graders, row.marks, strict=True)
                        ],
                    }
                    for row in comparison(found.outcome)
                ],
            }
        )
    return documents


class DisagreementsApi(APIView):
    """GET: the work on which graders' totals differ by more than the course's margin, with
    each grader's marks criterion by criterion (staff)."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = Role.TA

    @extend_schema(
        responses=DisagreementSerializer(many=True), operation_id="course_rubric_disagreements"
    )
    def get(self, request: Request, course_slug: str) -> Response:
        documents = disagreement_documents(course_of(request))
        return Response(DisagreementSerializer(documents, many=True).data)

"""The hand-in API: uploads, a student's submissions, activating one, grace days, extensions, and
a deliverable's peer contribution survey (a student's answer; staff read the results)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.answers import answer_kept
from coursesite.errors import ApplicationError
from coursesite.models import Course, Membership, ProjectGroup, Role
from coursesite.permissions import (
    EXTENSIONS,
    REFUSED,
    CoursePermission,
    is_course_staff,
    request_user,
    staff_may,
)
from submissions.models import Assignment, Deliverable, Extension, Submission
from submissions.permissions import (
    HandInItem,
    access_handin_item,
    access_submission,
    reach_handin_item,
    reach_submission,
)
from submissions.selectors import (
    grace_ledger,
    group_of,
    lateness_row,
    results_change_at,
    submissions_of,
    with_fresh_result,
    with_lateness,
    with_results,
)
from submissions.services import (
    assignment_regrade,
    extension_grant,
    extension_revoke,
    submission_activate,
    submission_create,
    submission_regrade,
)
from submissions.survey import (
    COMMENT_LIMIT,
    RATINGS,
    SurveyState,
    ratings_submit,
    survey_results,
    survey_state,
    survey_window,
)


class LatenessSerializer(serializers.Serializer[Any]):
    student = serializers.CharField()
    due_at = serializers.DateTimeField(help_text="The due date that applies, extension included.")
    late_by_seconds = serializers.IntegerField()
    days_late = serializers.IntegerField()
    grace_days_used = serializers.IntegerField()
    penalty_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    pool_left = serializers.IntegerField(help_text="Grace days left after this item.")


class VisibleTestSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    score = serializers.DecimalField(max_digits=10, decimal_places=4)
    max_score = serializers.DecimalField(max_digits=10, decimal_places=4)
    status = serializers.CharField()
    visibility = serializers.CharField()
    output = serializers.CharField()


class ResultSerializer(serializers.Serializer[Any]):
    """The latest grading of a hand-in. A superseded hand-in was set aside before it was
    graded: its verdict is empty, its scores null, its tests empty, and `superseded_by` names
    the hand-in that took its place."""

    # A plain string, as before: an enum here would share the grading API's JobStatusEnum and
    # make drf-spectacular rename it, which breaks clients generated from the schema.
    status = serializers.CharField(
        help_text="queued or running while it waits; done once graded (read the verdict); "
        "error when grading itself failed and staff must look; superseded when a newer hand-in "
        "of the same student or group arrived before this one was graded: it is graded only "
        "if it is made the active hand-in again.",
    )
    superseded_by = serializers.IntegerField(
        allow_null=True,
        help_text="For a superseded hand-in, the id of the hand-in of the same student or group "
        "that took its place (it may have been superseded in turn); null otherwise.",
    )
    verdict = serializers.CharField(help_text="Empty until the hand-in is graded.")
    bundle_version = serializers.IntegerField(
        help_text="The autograder version that graded it, or would have."
    )
    score = serializers.DecimalField(
        max_digits=10, decimal_places=4, allow_null=True,
        help_text="Empty for a student while a test is hidden, until the item is released.",
    )  # fmt: skip
    max_score = serializers.DecimalField(max_digits=10, decimal_places=4, allow_null=True)
    self_reported = serializers.BooleanField()
    finished_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When grading ended, or when a superseded hand-in was set aside.",
    )
    tests = VisibleTestSerializer(many=True)
    logs = serializers.CharField(help_text="Staff only.")
    images = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="PNGs the autograder shows with the results: name and png_base64.",
    )


class SubmissionSerializer(serializers.ModelSerializer[Submission]):
    item = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]
    student = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)  # type: ignore[var-annotated]
    group = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)  # type: ignore[var-annotated]
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    lateness = LatenessSerializer(
        many=True,
        source="lateness_rows",
        read_only=True,
        help_text="For the active hand-in: how late it is for each student it counts for.",
    )
    result = ResultSerializer(
        read_only=True,
        allow_null=True,
        help_text="The latest grading of this hand-in, superseded included; null when no "
        "autograder grades it.",
    )

    class Meta:
        model = Submission
        fields = [
            "id", "item", "student", "group", "submitted_by", "submitted_at", "filename", "sha256",
            "size", "kind", "entries", "active", "lateness", "result",
        ]  # fmt: skip


def serialize(submissions: list[Submission], course: Course, viewer: User, staff: bool) -> Any:
    with timezone.override(course.tz):
        rows = with_results(with_lateness(submissions, course, viewer, staff), staff=staff)
        return SubmissionSerializer(rows, many=True).data


def serialize_new(submission: Submission, course: Course, viewer: User, staff: bool) -> Any:
    """A hand-in ``submission_create`` has just stored, with the job it queued."""
    with timezone.override(course.tz):
        with_lateness([submission], course, viewer, staff)
        return SubmissionSerializer(with_fresh_result(submission, staff=staff)).data


class HandInSubmissionsApi(APIView):
    """GET: the caller's own hand-ins for the item (staff: everyone's). POST: hand in a file."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    kind: type[HandInItem] = Assignment

    @extend_schema(responses=SubmissionSerializer(many=True))
    def get(self, request: Request, course_slug: str, pk: int) -> Response:
        user = request_user(request)
        reach = reach_handin_item(user, course_slug, self.kind, pk)
        if reach.staff:
            course, _, handin = access_handin_item(user, course_slug, self.kind, pk)
            rows = list(handin.item.submissions.select_related("student", "group", "submitted_by"))
            return Response(serialize(rows, course, user, True))

        def own() -> tuple[Any, datetime | None]:
            course, _, handin = access_handin_item(user, course_slug, self.kind, pk)
            owner = self._own(course, user, handin)
            rows = list(submissions_of(item=handin.item, **owner)) if owner else []
            return serialize(rows, course, user, False), results_change_at(rows)

        # Polled while a hand-in waits: kept until the student's work or the course changes.
        return Response(
            answer_kept(
                name="handins",
                asked=[user.pk, self.kind.__name__, pk],
                course_id=reach.course_id,
                owner_id=user.pk,
                compute=own,
            )
        )

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "student": {
                        "type": "string",
                        "description": "staff only: hand in for this student",
                    },
                },
                "required": ["file"],
            }
        },
        responses={201: SubmissionSerializer},
    )
    def post(self, request: Request, course_slug: str, pk: int) -> Response:
        user = request_user(request)
        course, membership, handin = access_handin_item(user, course_slug, self.kind, pk)
        staff = is_course_staff(membership)
        owner = self._owner_for_upload(course, request, handin, staff)
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError("Attach the hand-in as the form field 'file'.")
        submission = submission_create(
            handin=handin, submitted_by=user, upload=upload, by_staff=staff, **owner
        )
        return Response(
            serialize_new(submission, course, user, staff), status=status.HTTP_201_CREATED
        )

    def _own(self, course: Course, user: User, handin: HandInItem) -> dict[str, Any] | None:
        if isinstance(handin, Assignment):
            return {"student": user}
        group = group_of(course=course, student=user)
        return {"group": group} if group else None

    def _owner_for_upload(
        self, course: Course, request: Request, handin: HandInItem, staff: bool
    ) -> dict[str, Any]:
        username = request.POST.get("student", "")
        if not staff:
            if username and username != request_user(request).username:
                raise Http404  # a student hands in only for themselves
            # A student in no group hands in for no group, which submission_create refuses.
            return self._own(course, request_user(request), handin) or {"group": None}
        student = (
            Membership.objects.filter(course=course, role=Role.STUDENT, user__username=username)
            .select_related("user")
            .first()
        )
        if student is None:
            raise ApplicationError("Name the student to hand in for in the form field 'student'.")
        owner = self._own(course, student.user, handin)
        if owner is None:
            raise ApplicationError(f"{username} is in no project group.")
        return owner


class DeliverableSubmissionsApi(HandInSubmissionsApi):
    kind = Deliverable


class SubmissionApi(APIView):
    """One submission with its lateness."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SubmissionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        reach = reach_submission(user, pk)

        def status() -> tuple[Any, datetime | None]:
            submission, staff = access_submission(user, pk)
            rows = [submission]
            return serialize(rows, submission.item.course, user, staff)[0], results_change_at(rows)

        if reach.staff:
            return Response(status()[0])
        # Polled while it waits: kept until the student's work or the course changes.
        return Response(
            answer_kept(
                name="handin",
                asked=[user.pk, pk],
                course_id=reach.course_id,
                owner_id=user.pk,
                compute=status,
            )
        )


class SubmissionActivateApi(APIView):
    """Make an earlier hand-in the one that is graded and judged for lateness."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=SubmissionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        submission, staff = access_submission(request_user(request), pk)
        submission_activate(submission=submission)
        return Response(
            serialize([submission], submission.item.course, request_user(request), staff)[0]
        )


class ItemLatenessSerializer(LatenessSerializer):
    item = serializers.CharField()


class StudentGraceSerializer(serializers.Serializer[Any]):
    student = serializers.CharField()
    pool_left = serializers.IntegerField()
    items = ItemLatenessSerializer(many=True)


class GraceDaysApi(APIView):
    """Every student's grace days left and lateness per item (staff), or the caller's own."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=StudentGraceSerializer(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        course: Course = request.course  # type: ignore[attr-defined]
        ledger = grace_ledger(course=course)
        students = Membership.objects.filter(course=course, role=Role.STUDENT).order_by(
            "user__username"
        )
        if not is_course_staff(request.membership):  # type: ignore[attr-defined]
            students = students.filter(user=request_user(request))
        slugs = dict(course.items.values_list("pk", "slug"))
        rows = []
        for student_id, username in students.values_list("user_id", "user__username"):
            items = [
                {"item": slugs[int(item)], **lateness_row(username, lateness)}  # type: ignore[call-overload]
                for (student, item), lateness in ledger.lateness.items()
                if student == student_id
            ]
            rows.append(
                {"student": username, "pool_left": ledger.pool_left[student_id], "items": items}
            )
        with timezone.override(course.tz):
            return Response(StudentGraceSerializer(rows, many=True).data)


class ExtensionSerializer(serializers.ModelSerializer[Extension]):
    item = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]
    student = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)  # type: ignore[var-annotated]
    group = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)  # type: ignore[var-annotated]
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)  # type: ignore[var-annotated]
    revoked_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )  # type: ignore[var-annotated]

    class Meta:
        model = Extension
        fields = [
            "id", "item", "student", "group", "due_at", "reason", "granted_by", "granted_at",
            "revoked_by", "revoked_at",
        ]  # fmt: skip


class ExtensionGrantSerializer(serializers.Serializer[Any]):
    item = serializers.SlugField(help_text="The item's slug.")
    student = serializers.CharField(required=False, help_text="A student's user name ...")
    group = serializers.CharField(required=False, help_text="... or a project group's name.")
    due_at = serializers.DateTimeField(
        help_text="The new due date; without an offset, in the course's time."
    )
    reason = serializers.CharField(max_length=300)


class ExtensionsApi(APIView):
    """Staff list the course's extensions (revoked ones too) and grant new ones."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = write_role = Role.TA

    @extend_schema(responses=ExtensionSerializer(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        course: Course = request.course  # type: ignore[attr-defined]
        extensions = Extension.objects.filter(item__course=course).select_related(
            "item", "student", "group", "granted_by", "revoked_by"
        )
        with timezone.override(course.tz):
            return Response(ExtensionSerializer(extensions, many=True).data)

    @extend_schema(request=ExtensionGrantSerializer, responses={201: ExtensionSerializer})
    def post(self, request: Request, course_slug: str) -> Response:
        course: Course = request.course  # type: ignore[attr-defined]
        if not staff_may(course=course, user=request.user, power=EXTENSIONS):
            raise PermissionDenied(REFUSED[EXTENSIONS])
        with timezone.override(course.tz):
            given = ExtensionGrantSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            data = given.validated_data
            item = course.items.filter(slug=data["item"]).first()
            if item is None:
                raise ApplicationError(f"The course has no item {data['item']!r}.")
            owner = self._owner(course, data)
            extension = extension_grant(
                item=item,
                due_at=data["due_at"],
                reason=data["reason"],
                granted_by=request_user(request),
                **owner,
            )
            return Response(ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    def _owner(self, course: Course, data: dict[str, Any]) -> dict[str, Any]:
        if bool(data.get("student")) == bool(data.get("group")):
            raise ApplicationError("Name either a student or a project group.")
        if data.get("student"):
            membership = (
                Membership.objects.filter(
                    course=course, role=Role.STUDENT, user__username=data["student"]
                )
                .select_related("user")
                .first()
            )
            if membership is None:
                raise ApplicationError(f"{data['student']!r} is not a student of the course.")
            return {"student": membership.user}
        group = ProjectGroup.objects.filter(course=course, name=data["group"]).first()
        if group is None:
            raise ApplicationError(f"The course has no project group {data['group']!r}.")
        return {"group": group}


class ExtensionApi(APIView):
    """DELETE revokes an extension: lateness is judged against the item's own due date again."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = write_role = Role.TA

    @extend_schema(responses=ExtensionSerializer)
    def delete(self, request: Request, course_slug: str, pk: int) -> Response:
        course: Course = request.course  # type: ignore[attr-defined]
        extension = Extension.objects.filter(pk=pk, item__course=course).first()
        if extension is None:
            raise Http404
        if not staff_may(course=course, user=request.user, power=EXTENSIONS):
            raise PermissionDenied(REFUSED[EXTENSIONS])
        extension_revoke(extension=extension, revoked_by=request_user(request))
        with timezone.override(course.tz):
            return Response(ExtensionSerializer(extension).data)


class RegradeAnswerSerializer(serializers.Serializer[Any]):
    queued = serializers.ListField(child=serializers.IntegerField(), help_text="The new jobs' ids.")


class SubmissionRegradeApi(APIView):
    """Staff: grade one hand-in again with the item's current autograder (regrade queue)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: RegradeAnswerSerializer})
    def post(self, request: Request, pk: int) -> Response:
        submission, staff = access_submission(request_user(request), pk)
        if not staff:
            raise Http404
        job = submission_regrade(submission=submission)
        if job is None:
            raise ApplicationError(f"{submission.item} has no autograder.")
        return Response({"queued": [job.pk]}, status=status.HTTP_202_ACCEPTED)


class AssignmentRegradeApi(APIView):
    """Staff: grade every active hand-in of an assignment again, on the regrade queue, which
    workers serve only when no fresh hand-in waits."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = write_role = Role.TA

    @extend_schema(request=None, responses={202: RegradeAnswerSerializer})
    def post(self, request: Request, course_slug: str, pk: int) -> Response:
        course: Course = request.course  # type: ignore[attr-defined]
        assignment = (
            Assignment.objects.filter(pk=pk, item__course=course).select_related("item").first()
        )
        if assignment is None:
            raise Http404
        jobs = assignment_regrade(item=assignment.item)
        return Response({"queued": [job.pk for job in jobs]}, status=status.HTTP_202_ACCEPTED)


class HandInItemSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="The id to hand in to.")
    item = serializers.CharField(source="item.slug")
    title = serializers.CharField(source="item.title")
    opens_at = serializers.DateTimeField(source="item.opens_at", allow_null=True)
    due_at = serializers.DateTimeField(source="item.due_at", allow_null=True)
    handin_files = serializers.ListField(child=serializers.CharField())
    max_archive_bytes = serializers.IntegerField()


class HandInItemsApi(APIView):
    """The course's assignments (or deliverables): what to hand in, where and by when."""

    permission_classes = [IsAuthenticated, CoursePermission]
    kind: type[HandInItem] = Assignment

    @extend_schema(responses=HandInItemSerializer(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        course: Course = request.course  # type: ignore[attr-defined]
        rows = self.kind.objects.filter(item__course=course).select_related("item")
        with timezone.override(course.tz):
            return Response(HandInItemSerializer(rows.order_by("item__due_at"), many=True).data)


class DeliverableItemsApi(HandInItemsApi):
    kind = Deliverable


class SurveyMateSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class SurveyRatingSerializer(serializers.Serializer[Any]):
    ratee = serializers.CharField(
        max_length=150, help_text="The user name of the member of the group rated."
    )
    rating = serializers.IntegerField(
        min_value=RATINGS[0],
        max_value=RATINGS[-1],
        help_text="1: far less than a fair share, 3: a fair share, 5: far more.",
    )
    comment = serializers.CharField(
        max_length=COMMENT_LIMIT, allow_blank=True, required=False, default=""
    )


class GivenRatingSerializer(SurveyRatingSerializer):
    ratee = serializers.CharField(source="ratee.username")
    submitted_at = serializers.DateTimeField()


class SurveySerializer(serializers.Serializer[Any]):
    deliverable = serializers.CharField(source="deliverable.item.slug")
    peer_survey = serializers.BooleanField(source="deliverable.peer_survey")
    opens_at = serializers.DateTimeField(source="window.opens_at", allow_null=True)
    closes_at = serializers.DateTimeField(source="window.closes_at")
    refusal = serializers.CharField(
        allow_null=True, help_text="Why no answer is taken now; empty while the survey is open."
    )
    group = serializers.CharField(source="group.name", allow_null=True)
    members = SurveyMateSerializer(
        many=True, source="mates", help_text="The other members of the caller's group."
    )
    ratings = GivenRatingSerializer(
        many=True, source="given", help_text="The caller's answer so far."
    )


class SurveyAnswerSerializer(serializers.Serializer[Any]):
    ratings = SurveyRatingSerializer(
        many=True, help_text="Every other member of the caller's group, once each."
    )


def access_deliverable(
    request: Request, course_slug: str, pk: int
) -> tuple[Course, Membership | None, Deliverable]:
    course, membership, handin = access_handin_item(
        request_user(request), course_slug, Deliverable, pk
    )
    if not isinstance(handin, Deliverable):
        raise Http404
    return course, membership, handin


def survey_data(course: Course, state: SurveyState) -> Any:
    given = [state.ratings[mate.pk] for mate in state.mates if mate.pk in state.ratings]
    with timezone.override(course.tz):
        return SurveySerializer({**vars(state), "given": given}).data


class SurveyApi(APIView):
    """A student's side of a deliverable's peer contribution survey. GET: the other members of
    their group and the caller's answer so far. PUT: answer (replacing an earlier answer) while
    the survey is open, from the deliverable's due date to the end of the term."""

    permission_classes = [IsAuthenticated]

    def _student(self, request: Request, course_slug: str, pk: int) -> tuple[Course, Deliverable]:
        course, membership, deliverable = access_deliverable(request, course_slug, pk)
        if is_course_staff(membership):
            raise PermissionDenied("Students answer the survey; staff read its results.")
        return course, deliverable

    @extend_schema(responses=SurveySerializer)
    def get(self, request: Request, course_slug: str, pk: int) -> Response:
        course, deliverable = self._student(request, course_slug, pk)
        state = survey_state(deliverable=deliverable, student=request_user(request))
        return Response(survey_data(course, state))

    @extend_schema(request=SurveyAnswerSerializer, responses=SurveySerializer)
    def put(self, request: Request, course_slug: str, pk: int) -> Response:
        course, deliverable = self._student(request, course_slug, pk)
        given = SurveyAnswerSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        rows = given.validated_data["ratings"]
        names = [row["ratee"] for row in rows]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValidationError({"ratings": f"Rate each member once: {', '.join(twice)}."})
        ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
        unknown = ", ".join(sorted(set(names) - set(ids)))
        if unknown:
            raise ValidationError(
                {"ratings": f"Rate only the members of your group; not in it: {unknown}."}
            )
        user = request_user(request)
        ratings_submit(
            deliverable=deliverable,
            rater=user,
            ratings={ids[row["ratee"]]: (row["rating"], row["comment"]) for row in rows},
        )
        return Response(survey_data(course, survey_state(deliverable=deliverable, student=user)))


class ReceivedRatingSerializer(serializers.Serializer[Any]):
    rater = serializers.CharField(source="rater.username")
    rating = serializers.IntegerField()
    comment = serializers.CharField()
    submitted_at = serializers.DateTimeField()


class MemberResultSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(source="student.username")
    name = serializers.CharField(source="student.get_full_name")
    mean = serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True, help_text="Empty until rated."
    )
    count = serializers.IntegerField()
    answered = serializers.BooleanField(help_text="Whether the member has answered the survey.")
    ratings = ReceivedRatingSerializer(many=True, source="received")


class GroupResultSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="group.pk")
    name = serializers.CharField(source="group.name")
    title = serializers.CharField(source="group.title")
    members = MemberResultSerializer(many=True)
    not_answered = serializers.ListField(
        child=serializers.CharField(), help_text="Members who have not answered yet."
    )


class SurveyResultsSerializer(serializers.Serializer[Any]):
    deliverable = serializers.CharField()
    peer_survey = serializers.BooleanField()
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField()
    groups = GroupResultSerializer(many=True)


class SurveyResultsApi(APIView):
    """Staff: the survey's results, per group and per member: the ratings received (mean,
    count, each with its rater and comment) and who has not answered yet."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SurveyResultsSerializer)
    def get(self, request: Request, course_slug: str, pk: int) -> Response:
        course, membership, deliverable = access_deliverable(request, course_slug, pk)
        if not is_course_staff(membership):
            raise PermissionDenied("Only the course's staff read the survey's results.")
        window = survey_window(deliverable)
        groups = [
            {
                "group": result.group,
                "members": result.members,
                "not_answered": [student.username for student in result.not_answered],
            }
            for result in survey_results(deliverable)
        ]
        data = {
            "deliverable": deliverable.item.slug,
            "peer_survey": deliverable.peer_survey,
            "opens_at": window.opens_at,
            "closes_at": window.closes_at,
            "groups": groups,
        }
        with timezone.override(course.tz):
            return Response(SurveyResultsSerializer(data).data)

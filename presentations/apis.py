"""The paper API: the course's papers with their presentation slots, the caller's presentation
roles, a student's own review of a paper (read, save a draft, submit), the reviews of a paper
the caller may read, and the staff's presenters: assign them, place (pin) a student in a role,
remove one, swap two.

Every member reads the papers and the schedule. Only students write reviews; staff read every
submitted review with its author, and a student reads the other students' submitted reviews,
without their authors, only where ``presentations.reviews`` allows it. Only staff (instructors
and TAs) reach the presenters: a student gets 403. A change the rules of
``presentations.slots`` refuse gets 400 with the rule it would break, and changes nothing.
Times are given in the course's time zone; an outsider gets 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.group_apis import caller, course_of, in_course_zone, parsed
from coursesite.models import Course, Role
from coursesite.permissions import CoursePermission, is_course_staff
from coursesite.selectors import course_student_find
from presentations.assignment import Rule
from presentations.models import Paper, PaperReview, PresentationRole, Presenter
from presentations.permissions import access_paper
from presentations.reviews import (
    PART_NAMES,
    PARTS,
    ReviewState,
    review_deadline,
    review_penalty_percent,
    review_save,
    review_save_and_submit,
    review_state,
    review_submit,
    reviews_readable,
)
from presentations.selectors import (
    fellow_presenters,
    paper_schedule,
    presentations_of,
    presenter_find,
    review_of,
    slot_of,
    slot_role_find,
    slots_of_course,
)
from presentations.slots import (
    presenter_pin,
    presenter_remove,
    presenters_assign,
    presenters_swap,
)


class PersonSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class SlotRoleSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="overview, strengths, weaknesses or qa")
    role_label = serializers.CharField(source="get_role_display")
    minutes = serializers.IntegerField()
    presenters = serializers.SerializerMethodField()

    @extend_schema_field(PersonSerializer(many=True))
    def get_presenters(self, role: Any) -> Any:
        return PersonSerializer([p.student for p in role.presenters.all()], many=True).data


class PaperSerializer(serializers.Serializer[Any]):
    key = serializers.SlugField()
    title = serializers.CharField()
    authors = serializers.CharField()
    year = serializers.IntegerField()
    venue = serializers.CharField()
    url = serializers.CharField()
    week = serializers.IntegerField(allow_null=True)
    review_item = serializers.CharField(
        allow_null=True, help_text="The slug of the graded item of its reviews."
    )
    review_due_at = serializers.DateTimeField(
        allow_null=True, help_text="The reviews' deadline; empty when the paper has no reviews."
    )
    date = serializers.DateField(allow_null=True, help_text="The day it is presented in class.")
    roles = SlotRoleSerializer(many=True, help_text="The roles of its slot, with presenters.")


def paper_document(paper: Paper) -> dict[str, Any]:
    slot = slot_of(paper)
    return {
        "key": paper.key, "title": paper.title, "authors": paper.authors, "year": paper.year,
        "venue": paper.venue, "url": paper.url, "week": paper.week,
        "review_item": paper.review_item.slug if paper.review_item else None,
        "review_due_at": review_deadline(paper),
        "date": slot.date if slot else None, "roles": list(slot.roles.all()) if slot else [],
    }  # fmt: skip


class PapersApi(APIView):
    """The course's papers in week order, with the reviews' deadline and the presentation slot:
    its date, and its roles with their minutes and presenters."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=PaperSerializer(many=True), operation_id="course_papers_list")
    def get(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        rows = [paper_document(paper) for paper in paper_schedule(course=course)]
        return Response(in_course_zone(course, PaperSerializer(rows, many=True)))


class MyPresentationSerializer(serializers.Serializer[Any]):
    paper = serializers.SlugField(source="slot.paper.key")
    title = serializers.CharField(source="slot.paper.title")
    date = serializers.DateField(source="slot.date", allow_null=True)
    role = serializers.CharField(source="slot_role.role")
    role_label = serializers.CharField(source="slot_role.get_role_display")
    minutes = serializers.IntegerField(source="slot_role.minutes")
    fellow_presenters = serializers.SerializerMethodField(
        help_text="The other students who hold the role with the caller."
    )

    @extend_schema_field(PersonSerializer(many=True))
    def get_fellow_presenters(self, presenter: Any) -> Any:
        return PersonSerializer(fellow_presenters(presenter), many=True).data


class MyPresentationsApi(APIView):
    """The roles the caller presents, by date (staff present none: an empty list)."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(
        responses=MyPresentationSerializer(many=True), operation_id="course_my_presentations"
    )
    def get(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        roles = presentations_of(course=course, student=caller(request))
        return Response(in_course_zone(course, MyPresentationSerializer(roles, many=True)))


class ReviewPartsSerializer(serializers.Serializer[Any]):
    """The parts to save; a part left out keeps its text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for part in PARTS:
            self.fields[part.name] = serializers.CharField(
                required=False,
                allow_blank=True,
                max_length=part.max_length,
                help_text=f"{part.label}: {part.hint}",
            )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A misspelt part would otherwise be dropped without a word.
        unknown = sorted(set(self.initial_data) - set(PART_NAMES))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: f"A review has no part {name!r}; its parts are {', '.join(PART_NAMES)}."
                    for name in unknown
                }
            )
        return attrs


class OwnReviewSerializer(serializers.Serializer[Any]):
    paper = serializers.SlugField()
    state = serializers.ChoiceField(
        choices=[state.value for state in ReviewState],
        help_text="closed: the deadline passed and the course accepts no late reviews.",
    )
    due_at = serializers.DateTimeField(allow_null=True, help_text="The review's deadline.")
    summary = serializers.CharField()
    strengths = serializers.CharField()
    weaknesses = serializers.CharField()
    suggestions = serializers.CharField()
    questions = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True, help_text="Empty for a draft.")
    late = serializers.BooleanField()
    penalty_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text="What lateness takes off the review's score."
    )


def own_review_document(paper: Paper, review: PaperReview | None) -> dict[str, Any]:
    """The student's review of the paper; one not started has empty parts."""
    shown = review or PaperReview(paper=paper)
    return {
        "paper": paper.key,
        "state": review_state(review, paper),
        "due_at": review_deadline(paper),
        **{name: getattr(shown, name) for name in PART_NAMES},
        "created_at": review.created_at if review else None,
        "updated_at": review.updated_at if review else None,
        "submitted_at": shown.submitted_at,
        "late": shown.late,
        "penalty_percent": review_penalty_percent(shown),
    }


def student_paper(request: Request, course_slug: str, paper_key: str) -> tuple[Course, Paper]:
    """The paper, for a student of its course: only students write reviews."""
    course, membership, paper = access_paper(caller(request), course_slug, paper_key)
    if is_course_staff(membership):
        raise PermissionDenied("Only the course's students write paper reviews.")
    return course, paper


def own_review_response(course: Course, paper: Paper, review: PaperReview | None) -> Response:
    return Response(in_course_zone(course, OwnReviewSerializer(own_review_document(paper, review))))


class OwnReviewApi(APIView):
    """GET: the caller's review of the paper. PUT: save parts of it as a draft; a review submitted
    before the deadline becomes a draft again."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(responses=OwnReviewSerializer, operation_id="course_paper_review_read")
    def get(self, request: Request, course_slug: str, paper_key: str) -> Response:
        course, paper = student_paper(request, course_slug, paper_key)
        return own_review_response(course, paper, review_of(paper=paper, student=caller(request)))

    @extend_schema(
        request=ReviewPartsSerializer,
        responses=OwnReviewSerializer,
        operation_id="course_paper_review_save",
    )
    def put(self, request: Request, course_slug: str, paper_key: str) -> Response:
        course, paper = student_paper(request, course_slug, paper_key)
        parts = parsed(ReviewPartsSerializer, request)
        review = review_save(paper=paper, student=caller(request), parts=parts)
        return own_review_response(course, paper, review)


class OwnReviewSubmitApi(APIView):
    """Submit the caller's saved review: every part must be written. After the deadline it is
    refused, or accepted as late where the course accepts late reviews."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(
        request=None, responses=OwnReviewSerializer, operation_id="course_paper_review_submit"
    )
    def post(self, request: Request, course_slug: str, paper_key: str) -> Response:
        course, paper = student_paper(request, course_slug, paper_key)
        review = review_of(paper=paper, student=caller(request))
        if review is None:
            # Nothing saved yet: refused as a review whose parts are all empty, storing nothing.
            review = review_save_and_submit(paper=paper, student=caller(request), parts={})
        else:
            review = review_submit(review=review)
        return own_review_response(course, paper, review)


class ReviewSerializer(serializers.Serializer[Any]):
    author = PersonSerializer(
        allow_null=True, help_text="Shown to staff, and to a student for their own review only."
    )
    mine = serializers.BooleanField(help_text="The caller's own review.")
    summary = serializers.CharField()
    strengths = serializers.CharField()
    weaknesses = serializers.CharField()
    suggestions = serializers.CharField()
    questions = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True, help_text="Empty for a draft.")
    late = serializers.BooleanField()


def review_document(review: PaperReview, viewer: User, staff: bool) -> dict[str, Any]:
    mine = review.student_id == viewer.pk
    return {
        "author": review.student if staff or mine else None,
        "mine": mine,
        **{name: getattr(review, name) for name in PART_NAMES},
        "submitted_at": review.submitted_at,
        "late": review.late,
    }


class PaperReviewsApi(APIView):
    """The reviews of the paper the caller may read: staff every submitted one with its author;
    a student their own, and the others' submitted ones once the course shows them."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=ReviewSerializer(many=True), operation_id="course_paper_reviews_list")
    def get(self, request: Request, course_slug: str, paper_key: str) -> Response:
        user = caller(request)
        course, membership, paper = access_paper(user, course_slug, paper_key)
        staff = is_course_staff(membership)
        rows = [
            review_document(review, user, staff)
            for review in reviews_readable(paper=paper, user=user)
        ]
        return Response(in_course_zone(course, ReviewSerializer(rows, many=True)))


# The staff's presenters.


class PresenterSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="The presenter's id, to remove or swap them.")
    username = serializers.CharField(source="student.username")
    name = serializers.CharField(source="student.get_full_name")
    pinned = serializers.BooleanField(help_text="Placed by staff: a new assignment keeps it.")


class StaffSlotRoleSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="overview, strengths, weaknesses or qa")
    role_label = serializers.CharField(source="get_role_display")
    minutes = serializers.IntegerField()
    presenters = PresenterSerializer(many=True, source="presenters.all")


class StaffSlotSerializer(serializers.Serializer[Any]):
    paper = serializers.SlugField(source="paper.key")
    title = serializers.CharField(source="paper.title")
    week = serializers.IntegerField(source="paper.week", allow_null=True)
    date = serializers.DateField(allow_null=True)
    roles = StaffSlotRoleSerializer(many=True, source="roles.all")


class PlacedPresenterSerializer(PresenterSerializer):
    slot = serializers.SlugField(source="slot_role.slot.paper.key", help_text="The paper's key.")
    role = serializers.CharField(source="slot_role.role")


class AssignSerializer(serializers.Serializer[Any]):
    seed = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Left out: the course's seed. The same seed and roster give the same assignment.",
    )


class PinSerializer(serializers.Serializer[Any]):
    slot = serializers.SlugField(help_text="The key of the slot's paper.")
    role = serializers.ChoiceField(choices=[role.value for role in PresentationRole])
    student = serializers.CharField(max_length=150, help_text="The student's username.")


class SwapSerializer(serializers.Serializer[Any]):
    first = serializers.IntegerField(help_text="A presenter's id.")
    second = serializers.IntegerField(help_text="Another presenter's id.")


def slots_response(course: Course) -> Response:
    return Response(StaffSlotSerializer(slots_of_course(course), many=True).data)


def body_presenter(course: Course, field: str, pk: int) -> Presenter:
    presenter = presenter_find(course=course, pk=pk)
    if presenter is None:
        raise ValidationError({field: f"The course's slots have no presenter {pk}."})
    return presenter


class PresentersAssignApi(APIView):
    """POST: replace every presenter who is not pinned with a fresh, fair assignment that keeps
    the pinned ones, and answer the slots with their presenters. Refused with 400, changing
    nothing, when no assignment keeps every rule."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = write_role = Role.TA

    @extend_schema(
        request=AssignSerializer,
        responses=StaffSlotSerializer(many=True),
        operation_id="course_presenters_assign",
    )
    def post(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        seed = parsed(AssignSerializer, request).get("seed")
        presenters_assign(course=course, seed=seed)
        return slots_response(course)


class PresentersApi(APIView):
    """GET: the slots in date order with every role's presenters, their ids and pins. POST:
    place a student in a role of a slot, pinned (201; 200 when the student held it already and
    is pinned now); refused with 400 and the rule it would break."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = write_role = Role.TA

    @extend_schema(responses=StaffSlotSerializer(many=True), operation_id="course_presenters_list")
    def get(self, request: Request, course_slug: str) -> Response:
        return slots_response(course_of(request))

    @extend_schema(
        request=PinSerializer,
        responses={201: PlacedPresenterSerializer, 200: PlacedPresenterSerializer},
        operation_id="course_presenters_pin",
    )
    def post(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        data = parsed(PinSerializer, request)
        slot_role = slot_role_find(course=course, paper_key=data["slot"], role=data["role"])
        if slot_role is None:
            raise ValidationError(
                {"slot": f"The course has no slot of {data['slot']} with the role {data['role']}."}
            )
        student = course_student_find(course=course, username=data["student"])
        if student is None:
            raise ValidationError(
                {"student": f"{data['student']} is not a student of the course: {Rule.STUDENT}."}
            )
        held = Presenter.objects.filter(slot_role=slot_role, student=student).exists()
        presenter = presenter_pin(slot_role=slot_role, student=student)
        answer = status.HTTP_200_OK if held else status.HTTP_201_CREATED
        return Response(PlacedPresenterSerializer(presenter).data, status=answer)


class PresenterApi(APIView):
    """DELETE: take the presenter out of their role; never refused, the place is left for a new
    assignment to fill."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = write_role = Role.TA

    @extend_schema(request=None, responses={204: None}, operation_id="course_presenter_remove")
    def delete(self, request: Request, course_slug: str, pk: int) -> Response:
        presenter = presenter_find(course=course_of(request), pk=pk)
        if presenter is None:
            raise Http404
        presenter_remove(presenter=presenter)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PresentersSwapApi(APIView):
    """POST: exchange two presenters' places, both then pinned; refused with 400 and the rule it
    would break."""

    permission_classes = [IsAuthenticated, CoursePermission]
    required_role = write_role = Role.TA

    @extend_schema(
        request=SwapSerializer,
        responses=PlacedPresenterSerializer(many=True),
        operation_id="course_presenters_swap",
    )
    def post(self, request: Request, course_slug: str) -> Response:
        course = course_of(request)
        data = parsed(SwapSerializer, request)
        first = body_presenter(course, "first", data["first"])
        second = body_presenter(course, "second", data["second"])
        swapped = presenters_swap(first=first, second=second)
        return Response(PlacedPresenterSerializer(swapped, many=True).data)

"""The paper API: the course's papers with their presentation slots, the caller's presentation
roles, a student's own review of a paper (read, save a draft, submit) and the reviews of a paper
the caller may read.

Every member reads the papers and the schedule. Only students write reviews; staff read every
submitted review with its author, and a student reads the other students' submitted reviews,
without their authors, only where ``presentations.reviews`` allows it. Times are given in the
course's time zone; an outsider gets 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.group_apis import caller, course_of, in_course_zone, parsed
from coursesite.models import Course, Role
from coursesite.permissions import CoursePermission, is_course_staff
from presentations.models import Paper, PaperReview
from presentations.reviews import (
    PART_NAMES,
    PARTS,
    ReviewState,
    access_paper,
    fellow_presenters,
    paper_schedule,
    presentations_of,
    review_deadline,
    review_of,
    review_penalty_percent,
    review_save,
    review_save_and_submit,
    review_state,
    review_submit,
    reviews_readable,
    slot_of,
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

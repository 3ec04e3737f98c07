"""The quiz API: what a page offers, for scripts.

A student lists the course's quizzes, reads a quiz (their own variant of each question, their
attempts and, when the course shows them, the right answers), starts an attempt, saves answers
one at a time (PUT, as often as they like while the attempt runs), hands in a derivation as a
file, and submits. Staff read a quiz with its answers' specs and every attempt. A write the
rules of ``quizzes.services`` refuse gets 400 with the reason and changes nothing; an outsider
gets 404.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coursesite.group_apis import caller, course_of, parsed, staff_caller
from coursesite.models import Role
from coursesite.permissions import CoursePermission
from quizzes.models import Attempt, Question, Quiz
from quizzes.selectors import QuizView, attempts_table, quiz_find, quiz_view, quizzes_of
from quizzes.services import (
    ANSWER_MAX_CHARS,
    answer_save,
    answer_upload,
    attempt_start,
    attempt_submit,
)


class QuizSummarySerializer(serializers.Serializer[Any]):
    item = serializers.CharField(source="item.slug")
    title = serializers.CharField(source="item.title")
    points = serializers.DecimalField(source="item.max_points", max_digits=8, decimal_places=2)
    opens_at = serializers.DateTimeField(source="item.opens_at", allow_null=True)
    closes_at = serializers.DateTimeField(source="item.due_at", allow_null=True)
    time_limit_minutes = serializers.IntegerField(allow_null=True)
    attempts_allowed = serializers.IntegerField()


class AttemptSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    points = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    pending_review = serializers.BooleanField()


class ShownQuestionSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    kind = serializers.CharField()
    text = serializers.CharField(help_text="With the caller's own numbers.")
    points = serializers.DecimalField(max_digits=8, decimal_places=2)
    options = serializers.ListField(child=serializers.CharField())
    multiple = serializers.BooleanField()
    symbols = serializers.ListField(child=serializers.CharField())
    answer = serializers.CharField(help_text="The caller's saved answer in the attempt shown.")
    uploaded = serializers.BooleanField()
    points_awarded = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    feedback = serializers.CharField()
    problem = serializers.CharField(help_text="Why the answer could not be read, if it could not.")
    expected = serializers.CharField(help_text="The right answer, once the course shows them.")


class QuizViewSerializer(serializers.Serializer[Any]):
    quiz = QuizSummarySerializer()
    state = serializers.CharField(help_text="not_open, open or closed")
    attempts = AttemptSerializer(many=True)
    attempts_left = serializers.IntegerField()
    running = serializers.IntegerField(allow_null=True, help_text="The running attempt's number.")
    shown_attempt = serializers.IntegerField(allow_null=True)
    answers_shown = serializers.BooleanField()
    questions = ShownQuestionSerializer(many=True)


class AnswerTextSerializer(serializers.Serializer[Any]):
    text = serializers.CharField(
        allow_blank=True, max_length=ANSWER_MAX_CHARS, trim_whitespace=False
    )


class UploadSerializer(serializers.Serializer[Any]):
    upload = serializers.FileField()


def view_document(view: QuizView) -> dict[str, Any]:
    return {
        "quiz": QuizSummarySerializer(view.quiz).data,
        "state": view.state,
        "attempts": AttemptSerializer(view.attempts, many=True).data,
        "attempts_left": view.attempts_left,
        "running": view.running.number if view.running else None,
        "shown_attempt": view.shown_attempt.number if view.shown_attempt else None,
        "answers_shown": view.answers_shown,
        "questions": ShownQuestionSerializer(
            [asdict(question) for question in view.questions], many=True
        ).data,
    }


def own_attempt(request: Request, quiz: Quiz, number: int) -> Attempt:
    attempt = Attempt.objects.filter(quiz=quiz, student=caller(request), number=number).first()
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def question_of(quiz: Quiz, key: str) -> Question:
    question = quiz.questions.filter(key=key).first()
    if question is None:
        raise Http404("No such question.")
    return question


class QuizzesApi(APIView):
    """The course's quizzes."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=QuizSummarySerializer(many=True), operation_id="course_quizzes_list")
    def get(self, request: Request, course_slug: str) -> Response:
        return Response(QuizSummarySerializer(quizzes_of(course_of(request)), many=True).data)


class QuizApi(APIView):
    """A student's view of a quiz; staff get every attempt and each question's spec."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=QuizViewSerializer, operation_id="course_quiz_read")
    def get(self, request: Request, course_slug: str, item_slug: str) -> Response:
        quiz = quiz_find(course_of(request), item_slug)
        if staff_caller(request):
            return Response(
                {
                    "quiz": QuizSummarySerializer(quiz).data,
                    "questions": [
                        {
                            "key": q.key,
                            "kind": q.kind,
                            "points": str(q.points),
                            "text": q.text,
                            "spec": q.spec,
                        }
                        for q in quiz.questions.all()
                    ],
                    "attempts": attempts_table(quiz),
                }
            )
        return Response(view_document(quiz_view(quiz, caller(request))))


class AttemptsApi(APIView):
    """POST: start an attempt, or continue the one running."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(request=None, responses=QuizViewSerializer, operation_id="course_quiz_start")
    def post(self, request: Request, course_slug: str, item_slug: str) -> Response:
        quiz = quiz_find(course_of(request), item_slug)
        if staff_caller(request):
            raise PermissionDenied("Staff do not take quizzes.")
        attempt = attempt_start(quiz=quiz, student=caller(request))
        view = quiz_view(quiz, caller(request), attempt_number=attempt.number)
        return Response(view_document(view), status=status.HTTP_201_CREATED)


class AttemptApi(APIView):
    """GET: one of the caller's attempts, with their answers (and the right ones when shown)."""

    permission_classes = [IsAuthenticated, CoursePermission]

    @extend_schema(responses=QuizViewSerializer, operation_id="course_quiz_attempt_read")
    def get(self, request: Request, course_slug: str, item_slug: str, number: int) -> Response:
        quiz = quiz_find(course_of(request), item_slug)
        own_attempt(request, quiz, number)
        return Response(view_document(quiz_view(quiz, caller(request), attempt_number=number)))


class AnswerApi(APIView):
    """PUT: save the answer to one question of a running attempt."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(
        request=AnswerTextSerializer, responses=None, operation_id="course_quiz_answer_save"
    )
    def put(
        self, request: Request, course_slug: str, item_slug: str, number: int, key: str
    ) -> Response:
        quiz = quiz_find(course_of(request), item_slug)
        attempt = own_attempt(request, quiz, number)
        text = parsed(AnswerTextSerializer, request)["text"]
        answer = answer_save(attempt=attempt, question=question_of(quiz, key), text=text)
        return Response({"question": key, "saved_at": answer.saved_at})


class AnswerUploadApi(APIView):
    """POST (multipart, ``upload``): hand in a derivation, a PDF, PNG or JPEG of at most 10 MB."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses=None,
        operation_id="course_quiz_answer_upload",
    )
    def post(
        self, request: Request, course_slug: str, item_slug: str, number: int, key: str
    ) -> Response:
        quiz = quiz_find(course_of(request), item_slug)
        attempt = own_attempt(request, quiz, number)
        upload = parsed(UploadSerializer, request)["upload"]
        answer = answer_upload(attempt=attempt, question=question_of(quiz, key), upload=upload)
        return Response({"question": key, "saved_at": answer.saved_at})


class SubmitApi(APIView):
    """POST: submit a running attempt; answers are checked and the quiz's score updated."""

    permission_classes = [IsAuthenticated, CoursePermission]
    write_role = Role.STUDENT

    @extend_schema(request=None, responses=QuizViewSerializer, operation_id="course_quiz_submit")
    def post(self, request: Request, course_slug: str, item_slug: str, number: int) -> Response:
        quiz = quiz_find(course_of(request), item_slug)
        attempt_submit(attempt=own_attempt(request, quiz, number))
        return Response(view_document(quiz_view(quiz, caller(request), attempt_number=number)))

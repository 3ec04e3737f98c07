"""Quizzes in the instructor panel, scoped to the staff member's courses.

Quizzes and their questions come from the course file (``quizzes``), where they are checked:
the panel shows them, and the attempts and answers, which students write, and changes nothing.
A derivation's points are given on its rubric's scoring page.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from coursesite.admin import ReadOnlyCourseAdmin
from quizzes.models import Answer, Attempt, Question, Quiz


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ["position", "key", "kind", "points", "text"]
    readonly_fields = ["position", "key", "kind", "points", "text"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Quiz)
class QuizAdmin(ReadOnlyCourseAdmin):
    course_path = "item__course"
    list_display = ["item", "time_limit_minutes", "attempts_allowed", "counts", "show_answers"]
    inlines = [QuestionInline]


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ["question", "text", "upload", "saved_at", "points", "feedback", "problem"]
    readonly_fields = ["question", "text", "upload", "saved_at", "points", "feedback", "problem"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyCourseAdmin):
    course_path = "quiz__item__course"
    list_display = ["quiz", "student", "number", "started_at", "submitted_at", "points"]
    list_filter = ["quiz"]
    search_fields = ["student__username"]
    inlines = [AnswerInline]

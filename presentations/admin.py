"""Papers, presentations and reviews in the instructor panel, scoped to the staff member's courses.

The course file plans the roles and the slots; here staff read them, adjust minutes and dates,
and edit who presents on a slot role's page. Each presenter placed there is checked like a pin
(``presentations.slots``), so the panel cannot put a student twice in a slot, in a blocked week
or in the same role twice in a row; a new presenter is pinned unless staff untick it. Reviews
are the students' own words: the panel shows them and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from coursesite.admin import (
    CourseScopedAdmin,
    CourseScopedInline,
    ReadOnlyCourseAdmin,
    StudentChoiceField,
    staff_students,
)
from presentations.models import (
    BlockedWeek,
    Paper,
    PaperReview,
    PresentationPolicy,
    PresentationSlot,
    Presenter,
    RolePlan,
    SlotRole,
)
from presentations.slots import presenter_place_problems


class StudentChoices:
    """Offers as students only those of the staff member's courses, by name."""

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "student":
            kwargs["queryset"] = staff_students(request)
            kwargs["form_class"] = StudentChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


def presenter_names(role: SlotRole) -> str:
    return ", ".join(
        presenter.student.username + (" (pinned)" if presenter.pinned else "")
        for presenter in role.presenters.all()
    )


@admin.register(Paper)
class PaperAdmin(CourseScopedAdmin):
    list_display = ["title", "authors", "year", "venue", "week", "review_item", "course"]
    list_filter = ["course", "year", "week"]
    search_fields = ["title", "authors", "key"]
    list_select_related = ["course", "review_item"]


@admin.register(PresentationPolicy)
class PresentationPolicyAdmin(CourseScopedAdmin):
    list_display = [
        "course", "item", "presenters_per_role", "seed", "late_reviews",
        "late_review_penalty_percent", "reviews_shown_after_deadline",
    ]  # fmt: skip
    list_select_related = ["course", "item"]


@admin.register(RolePlan)
class RolePlanAdmin(CourseScopedAdmin):
    list_display = ["role", "minutes", "rubric", "position", "course"]
    list_filter = ["course", "role"]
    list_select_related = ["course", "rubric"]


class SlotRoleInline(CourseScopedInline):
    model = SlotRole
    fields = ["role", "minutes", "position", "presenters"]
    readonly_fields = ["presenters"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlotRole]:
        return super().get_queryset(request).prefetch_related("presenters__student")

    @admin.display(description="presenters")
    def presenters(self, role: SlotRole) -> str:
        return presenter_names(role)


@admin.register(PresentationSlot)
class PresentationSlotAdmin(CourseScopedAdmin):
    """A slot for each paper with a week comes from the course file."""

    course_path = "paper__course"
    list_display = ["paper", "date", "week", "course"]
    list_filter = ["paper__course"]
    search_fields = ["paper__key", "paper__title"]
    list_select_related = ["paper__course"]
    readonly_fields = ["paper"]
    inlines = [SlotRoleInline]

    @admin.display(description="week", ordering="paper__week")
    def week(self, slot: PresentationSlot) -> int | None:
        return slot.paper.week

    @admin.display(description="course")
    def course(self, slot: PresentationSlot) -> str:
        return str(slot.paper.course)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class PresenterForm(forms.ModelForm):
    class Meta:
        model = Presenter
        fields = ["student", "pinned"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["pinned"].initial = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        student = data.get("student")
        role = self.instance.slot_role
        self.instance.slot = role.slot
        if student is None or "student" not in self.changed_data:
            return data
        problems = presenter_place_problems(
            slot_role=role, student=student, replacing=self.instance
        )
        if problems:
            raise forms.ValidationError(problems)
        return data


class PresenterFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        seen: set[int] = set()
        for form in self.forms:
            student = form.cleaned_data.get("student") if form.cleaned_data else None
            if student is None or form.cleaned_data.get("DELETE"):
                continue
            if student.pk in seen:
                raise forms.ValidationError(f"{student.username} is listed twice.")
            seen.add(student.pk)


class PresenterInline(StudentChoices, CourseScopedInline):
    model = Presenter
    form = PresenterForm
    formset = PresenterFormSet
    fields = ["student", "pinned"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Presenter]:
        return super().get_queryset(request).select_related("student")


@admin.register(SlotRole)
class SlotRoleAdmin(CourseScopedAdmin):
    """A role of a slot and its presenters; roles come from the course file's plan."""

    course_path = "slot__paper__course"
    list_display = ["__str__", "date", "minutes", "presenters"]
    list_filter = ["slot__paper__course", "role"]
    search_fields = ["slot__paper__key", "presenters__student__username"]
    list_select_related = ["slot__paper"]
    fields = ["slot", "role", "minutes", "position"]
    readonly_fields = ["slot", "role"]
    inlines = [PresenterInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SlotRole]:
        return super().get_queryset(request).prefetch_related("presenters__student")

    @admin.display(description="date", ordering="slot__date")
    def date(self, role: SlotRole) -> Any:
        return role.slot.date

    @admin.display(description="presenters")
    def presenters(self, role: SlotRole) -> str:
        return presenter_names(role)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BlockedWeek)
class BlockedWeekAdmin(StudentChoices, CourseScopedAdmin):
    list_display = ["student", "week", "reason", "course"]
    list_filter = ["course", "week"]
    search_fields = ["student__username", "student__last_name", "reason"]
    list_select_related = ["student", "course"]


@admin.register(PaperReview)
class PaperReviewAdmin(ReadOnlyCourseAdmin):
    """The students' reviews, to read: they write and submit them themselves."""

    course_path = "paper__course"
    list_display = ["student", "paper", "submitted_at", "late"]
    list_filter = ["paper", "late"]
    search_fields = ["student__username", "student__last_name", "paper__key", "paper__title"]
    list_select_related = ["student", "paper"]
    fields = (
        "paper", "student", "summary", "strengths", "weaknesses", "suggestions", "questions",
        "created_at", "updated_at", "submitted_at", "late",
    )  # fmt: skip
    readonly_fields = fields

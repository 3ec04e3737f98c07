from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from coursesite.admin import CourseScopedAdmin, ReadOnlyCourseAdmin
from coursesite.permissions import EXTENSIONS, REFUSED, staff_may
from submissions.models import Assignment, Deliverable, Extension, Submission
from submissions.services import (
    extension_grant,
    extension_revoke,
    submission_activate,
    submission_regrade,
)
from submissions.starters import starter_sha256


class HandInAdmin(CourseScopedAdmin):
    course_path = "item__course"
    list_display = ["item", "handin_files", "max_archive_bytes"]
    list_filter = ["item__course"]
    search_fields = ["item__title", "item__slug"]
    list_select_related = ["item"]

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        # A starter zip uploaded here is what a course file's starter folder is compared with.
        if isinstance(obj, Assignment) and "starter" in form.changed_data:
            obj.starter_sha256 = starter_sha256(obj)
        super().save_model(request, obj, form, change)


admin.site.register(Assignment, HandInAdmin)
admin.site.register(Deliverable, HandInAdmin)


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyCourseAdmin):
    """Hand-ins are read here, never edited: an upload is what the student sent."""

    course_path = "item__course"
    list_display = ["item", "student", "group", "submitted_at", "filename", "size", "active"]
    list_filter = ["item__course", "item", "active", "kind"]
    search_fields = ["student__username", "student__last_name", "group__name", "sha256", "filename"]
    list_select_related = ["item", "student", "group"]
    date_hierarchy = "submitted_at"
    actions = ["activate", "regrade"]

    @admin.action(description="Make the selected hand-ins the active ones")
    def activate(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        for submission in queryset:
            submission_activate(submission=submission)
        self.message_user(
            request, f"{queryset.count()} hand-in(s) are now active.", messages.SUCCESS
        )

    @admin.action(description="Grade the selected hand-ins again (regrade queue)")
    def regrade(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        jobs = [submission_regrade(submission=submission) for submission in queryset]
        queued = sum(job is not None for job in jobs)
        self.message_user(request, f"{queued} hand-in(s) queued for regrading.", messages.SUCCESS)


class ExtensionForm(forms.ModelForm):
    class Meta:
        model = Extension
        fields = ["item", "student", "group", "due_at", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("student")) == bool(data.get("group")):
            raise forms.ValidationError("Name either a student or a project group.")
        return data


@admin.register(Extension)
class ExtensionAdmin(CourseScopedAdmin):
    """Granting goes through ``extension_grant``, which revokes any earlier extension for the
    same student and item; revoking keeps the row, so the history stays."""

    course_path = "item__course"
    form = ExtensionForm
    list_display = ["item", "student", "group", "due_at", "reason", "granted_by", "revoked_at"]
    list_filter = ["item__course", "item", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["student__username", "student__last_name", "group__name", "reason"]
    list_select_related = ["item", "student", "group", "granted_by"]
    raw_id_fields = ["student"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Extension, form: forms.ModelForm, change: bool
    ) -> None:
        item = form.cleaned_data["item"]
        if not staff_may(course=item.course, user=request.user, power=EXTENSIONS):
            raise PermissionDenied(REFUSED[EXTENSIONS])
        saved = extension_grant(
            item=item,
            student=form.cleaned_data.get("student"),
            group=form.cleaned_data.get("group"),
            due_at=form.cleaned_data["due_at"],
            reason=form.cleaned_data["reason"],
            granted_by=request.user,  # type: ignore[arg-type]
        )
        obj.pk = saved.pk

    @admin.action(description="Revoke the selected extensions")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Extension]) -> None:
        for extension in queryset.filter(revoked_at__isnull=True).select_related("item__course"):
            if not staff_may(course=extension.item.course, user=request.user, power=EXTENSIONS):
                self.message_user(request, REFUSED[EXTENSIONS], messages.ERROR)
                return
            extension_revoke(extension=extension, revoked_by=request.user)  # type: ignore[arg-type]
        self.message_user(request, "Revoked; lateness is judged against the due dates again.")

"""Grading in the instructor panel: upload autograder versions, watch the queue, read the logs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from coursesite.admin import CourseScopedAdmin
from coursesite.errors import ApplicationError
from grading.models import AutograderBundle, GradingJob, TestResult
from grading.services import bundle_upload, grading_job_requeue


class BundleForm(forms.ModelForm):
    upload = forms.FileField(help_text="The autograder as a .zip (see docs/autograders.md).")
    uploaded_by: Any  # set by the admin for the request's user
    bundle: AutograderBundle

    class Meta:
        model = AutograderBundle
        fields = ["item"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, item = data.get("upload"), data.get("item")
        if upload is None or item is None:
            return data
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bundle.zip"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                self.bundle = bundle_upload(item=item, path=path, uploaded_by=self.uploaded_by)
            except ApplicationError as error:
                raise forms.ValidationError(error.message) from None
        return data


@admin.register(AutograderBundle)
class AutograderBundleAdmin(CourseScopedAdmin):
    """Each upload is a new version; versions are never edited, so a job always says which
    version graded it."""

    course_path = "item__course"
    form = BundleForm
    list_display = [
        "item",
        "version",
        "name",
        "kind",
        "uploaded_by",
        "uploaded_at",
        "missing_packages",
    ]
    list_filter = ["item__course", "kind"]
    search_fields = ["item__title", "name", "sha256"]
    list_select_related = ["item", "uploaded_by"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.uploaded_by = request.user  # type: ignore[attr-defined]
        return form

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.pk = form.bundle.pk  # stored by the form's check, in the same request
        missing = form.bundle.missing_packages
        if missing:
            self.message_user(
                request,
                "The workers lack packages this bundle's requirements.txt names: "
                f"{', '.join(missing)}.",
                messages.WARNING,
            )


class TestResultInline(admin.TabularInline):
    model = TestResult
    extra = 0
    can_delete = False
    readonly_fields = ("name", "score", "max_score", "status", "visibility", "output")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(GradingJob)
class GradingJobAdmin(CourseScopedAdmin):
    """The grading queue: what waits, what runs, what failed and why."""

    course_path = "item__course"
    list_display = [
        "pk", "item", "owner", "queue", "status", "verdict", "score", "max_score", "attempt",
        "worker", "created_at", "finished_at",
    ]  # fmt: skip
    list_filter = ["item__course", "status", "verdict", "queue", "item"]
    search_fields = ["subject", "owner", "worker", "sha256"]
    list_select_related = ["item"]
    date_hierarchy = "created_at"
    inlines = [TestResultInline]
    actions = ["requeue"]
    readonly_fields = [field.name for field in GradingJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description="Grade the selected jobs again (those in error)")
    def requeue(self, request: HttpRequest, queryset: QuerySet[GradingJob]) -> None:
        count = sum(grading_job_requeue(job=job) for job in queryset)
        self.message_user(request, f"{count} job(s) queued again.")

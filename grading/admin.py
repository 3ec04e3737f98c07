"""Grading in the instructor panel: upload autograder versions, watch the queue, read the logs;
write rubrics, copy them to another course, set the rubric grading policy, and read the
evaluations and member adjustments that staff recorded on the scoring pages.

A rubric that evaluations use shows its criteria and levels read-only here: the course file and
the API say which of its changes are still allowed (``grading.course_file``), and a change here
that moved points would leave Scores that no longer match their evaluations.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import ForeignKey, ManyToManyField, Model, QuerySet
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse
from django.template import engines

from coursesite.admin import (
    CourseScopedAdmin,
    CourseScopedInline,
    InstructorFields,
    ReadOnlyCourseAdmin,
    instructor_courses,
    staff_courses,
)
from coursesite.errors import ApplicationError
from coursesite.models import Course, GradeItem, Membership
from coursesite.models.course import STAFF_ROLES
from grading.course_file import (
    CriterionSpec,
    LevelSpec,
    RubricRuleBroken,
    RubricSpec,
    course_rubric_scores_refresh,
    criterion_spec_check,
    items_scored_by,
    rubric_items_check,
)
from grading.job_names import owner_names
from grading.models import (
    AutograderBundle,
    Criterion,
    CriterionMark,
    GradingJob,
    Level,
    MemberAdjustment,
    Rubric,
    RubricEvaluation,
    RubricPolicy,
    TestResult,
)
from grading.rubrics import criterion_max_sync, rubric_copy
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
class AutograderBundleAdmin(InstructorFields, CourseScopedAdmin):
    """Each upload is a new version; versions are never edited, so a job always says which
    version graded it. Only an instructor uploads one: a bundle's grader runs on the workers."""

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
        items = form.base_fields.get("item")
        if isinstance(items, ModelChoiceField):
            items.queryset = GradeItem.objects.filter(course__in=instructor_courses(request))
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


class OwnerNamedChangeList(ChangeList):
    """The list of jobs with each owner's name, found for the whole page at once."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        names = owner_names(job.owner for job in self.result_list)
        for job in self.result_list:
            job.owner_name = names.get(job.owner, job.owner)


@admin.register(GradingJob)
class GradingJobAdmin(CourseScopedAdmin):
    """The grading queue: what waits, what runs, what failed and why."""

    course_path = "item__course"
    list_display = [
        "pk", "item", "owner_shown", "queue", "status", "verdict", "score", "max_score",
        "attempt", "worker", "created_at", "finished_at",
    ]  # fmt: skip
    list_filter = ["item__course", "status", "verdict", "queue", "item"]
    search_fields = ["subject", "owner", "worker", "sha256"]
    list_select_related = ["item"]
    date_hierarchy = "created_at"
    inlines = [TestResultInline]
    actions = ["requeue"]
    readonly_fields = ["owner_shown", *(field.name for field in GradingJob._meta.fields)]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OwnerNamedChangeList

    @admin.display(description="owner", ordering="owner")
    def owner_shown(self, job: GradingJob) -> str:
        """The owner's name: the list finds them for its page; one job's form asks alone."""
        if not hasattr(job, "owner_name"):
            job.owner_name = owner_names([job.owner]).get(job.owner, job.owner)  # type: ignore[attr-defined]
        return f"{job.owner_name}, {job.owner}"  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description="Grade the selected jobs again (those in error)")
    def requeue(self, request: HttpRequest, queryset: QuerySet[GradingJob]) -> None:
        count = sum(grading_job_requeue(job=job) for job in queryset)
        self.message_user(request, f"{count} job(s) queued again.")


# Rubrics.


def rubric_in_use(rubric: Rubric | None) -> bool:
    return rubric is not None and rubric.pk is not None and rubric.evaluations.exists()


class RubricForm(forms.ModelForm):
    class Meta:
        model = Rubric
        fields = ["course", "slug", "title", "description", "items"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        items = self.fields.get("items")
        # A saved rubric offers the items of its own course only.
        if isinstance(items, ModelMultipleChoiceField) and self.instance.pk is not None:
            items.queryset = GradeItem.objects.filter(course_id=self.instance.course_id)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        course = data.get("course") or getattr(self.instance, "course", None)
        items = data.get("items")
        if course is None or items is None:
            return data
        if any(item.course_id != course.pk for item in items):
            self.add_error("items", f"Choose items of {course} only.")
            return data
        spec = RubricSpec(
            slug=data.get("slug") or self.instance.slug,
            title="",
            description="",
            items=tuple(item.slug for item in items),
            criteria=(),
        )
        try:
            rubric_items_check(
                spec,
                known={item.slug for item in items},
                scored_by=items_scored_by(course),
            )
        except RubricRuleBroken as broken:
            self.add_error("items", broken.problem)
        return data


class CriterionInline(CourseScopedInline):
    model = Criterion
    fields = ["position", "title", "description", "max_points"]
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not rubric_in_use(cast(Rubric | None, obj)) and super().has_add_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not rubric_in_use(cast(Rubric | None, obj)) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not rubric_in_use(cast(Rubric | None, obj)) and super().has_delete_permission(
            request, obj
        )


class RubricCopyForm(forms.Form):
    course = forms.ModelChoiceField(queryset=Course.objects.none(), help_text="A course you teach.")
    slug = forms.SlugField(max_length=64, help_text="The copy's slug in that course.")

    def __init__(self, *args: Any, courses: QuerySet[Course], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(ModelChoiceField, self.fields["course"]).queryset = courses.order_by("slug")


# The page is a form and a sentence; it lives beside its action.
COPY_PAGE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url 'admin:grading_rubric_changelist' %}">Rubrics</a>
&rsaquo; Copy {{ rubric.slug }}</div>{% endblock %}
{% block content %}
<p>Copy <strong>{{ rubric.title }}</strong> ({{ rubric.course.slug }}), with its criteria and
levels, to a course you teach. The copy scores no item until you choose its items.</p>
<form method="post">{% csrf_token %}
<input type="hidden" name="action" value="copy_to_course">
<input type="hidden" name="{{ checkbox }}" value="{{ rubric.pk }}">
{{ form.as_div }}
<div class="submit-row"><input type="submit" name="copy" value="Copy the rubric"></div>
</form>
{% endblock %}"""
)


@admin.register(Rubric)
class RubricAdmin(CourseScopedAdmin):
    form = RubricForm
    list_display = ["title", "slug", "course", "item_slugs", "points"]
    list_filter = ["course"]
    search_fields = ["slug", "title"]
    list_select_related = ["course"]
    inlines = [CriterionInline]
    actions = ["copy_to_course"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rubric]:
        return super().get_queryset(request).prefetch_related("items", "criteria")

    def get_readonly_fields(self, request: HttpRequest, obj: Rubric | None = None) -> list[str]:
        # A rubric stays in its course: its evaluations and items are that course's.
        return ["course"] if obj else []

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        if db_field.name == "items":
            kwargs["queryset"] = GradeItem.objects.filter(
                course__in=staff_courses(request)
            ).select_related("course")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="items")
    def item_slugs(self, rubric: Rubric) -> str:
        return ", ".join(item.slug for item in rubric.items.all())

    @admin.display(description="points")
    def points(self, rubric: Rubric) -> Decimal:
        return sum((criterion.max_points for criterion in rubric.criteria.all()), Decimal(0))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        for criterion in form.instance.criteria.prefetch_related("levels"):
            criterion_max_sync(criterion)

    @admin.action(description="Copy to another course", permissions=["add"])
    def copy_to_course(
        self, request: HttpRequest, queryset: QuerySet[Rubric]
    ) -> HttpResponse | None:
        rubrics = list(queryset.select_related("course")[:2])
        if len(rubrics) != 1:
            self.message_user(request, "Choose one rubric to copy.", messages.ERROR)
            return None
        rubric = rubrics[0]
        form = RubricCopyForm(
            request.POST if "copy" in request.POST else None,
            courses=staff_courses(request),
            initial={"slug": rubric.slug},
        )
        if form.is_valid():
            course = form.cleaned_data["course"]
            try:
                copy = rubric_copy(rubric=rubric, course=course, slug=form.cleaned_data["slug"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    f"Copied {rubric.title} to {course.slug} as {copy.slug!r}; "
                    "choose the items it scores there.",
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Copy the rubric {rubric.slug} to another course",
            "opts": self.model._meta,
            "rubric": rubric,
            "form": form,
            "checkbox": ACTION_CHECKBOX_NAME,
        }
        return HttpResponse(COPY_PAGE.render(context, request))


class LevelFormSet(forms.BaseInlineFormSet):
    """The criterion's levels after the edit follow the rules of a criterion (none, or two or
    more with distinct titles and a best level above 0)."""

    def clean(self) -> None:
        super().clean()
        levels = tuple(
            LevelSpec(form.cleaned_data["title"], form.cleaned_data["points"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("points") is not None
        )
        criterion = cast(Criterion, self.instance)
        spec = CriterionSpec(
            title=criterion.title,
            levels=levels,
            points=None if levels else criterion.max_points,
        )
        try:
            criterion_spec_check(spec)
        except RubricRuleBroken as broken:
            raise forms.ValidationError(broken.problem) from None


class LevelInline(admin.TabularInline):
    model = Level
    formset = LevelFormSet
    fields = ["position", "title", "points", "description"]
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not criterion_in_use(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not criterion_in_use(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not criterion_in_use(obj) and super().has_delete_permission(request, obj)


def criterion_in_use(criterion: Model | None) -> bool:
    return isinstance(criterion, Criterion) and rubric_in_use(criterion.rubric)


@admin.register(Criterion)
class CriterionAdmin(CourseScopedAdmin):
    """A criterion with its levels; with levels, it is worth its best level's points."""

    course_path = "rubric__course"
    list_display = ["title", "rubric", "position", "max_points"]
    list_filter = ["rubric__course", "rubric"]
    search_fields = ["title", "rubric__title", "rubric__slug"]
    list_select_related = ["rubric"]
    inlines = [LevelInline]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not criterion_in_use(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not criterion_in_use(obj) and super().has_delete_permission(request, obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        criterion_max_sync(form.instance)


class RubricPolicyForm(forms.ModelForm):
    class Meta:
        model = RubricPolicy
        fields = [
            "course",
            "consensus",
            "final_grader",
            "disagreement_percent",
            "show_grader_names",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        course, grader = data.get("course"), data.get("final_grader")
        if course is None or grader is None:
            return data
        staff = Membership.objects.filter(course=course, user=grader, role__in=STAFF_ROLES)
        if not staff.exists():
            self.add_error("final_grader", f"{grader} is not an instructor or TA of {course}.")
        return data


@admin.register(RubricPolicy)
class RubricPolicyAdmin(CourseScopedAdmin):
    form = RubricPolicyForm
    list_display = [
        "course", "consensus", "final_grader", "disagreement_percent", "show_grader_names",
    ]  # fmt: skip
    list_select_related = ["course", "final_grader"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        course_rubric_scores_refresh(
            course=obj.course,
            changed_by=request.user,  # type: ignore[arg-type]
            reason="the course's rubric grading policy changed",
        )

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "final_grader":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(
                    memberships__course__in=staff_courses(request),
                    memberships__role__in=STAFF_ROLES,
                )
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CriterionMarkInline(admin.TabularInline):
    model = CriterionMark
    extra = 0
    can_delete = False
    fields = ("criterion", "level", "points", "comment")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[CriterionMark]:
        return super().get_queryset(request).select_related("criterion", "level")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(RubricEvaluation)
class RubricEvaluationAdmin(ReadOnlyCourseAdmin):
    course_path = "item__course"
    list_display = ["subject", "item", "grader", "points", "rubric", "updated_at"]
    list_filter = ["item__course", "item", "grader"]
    search_fields = ["subject", "comment", "grader__username"]
    list_select_related = ["item", "grader", "rubric"]
    inlines = [CriterionMarkInline]
    date_hierarchy = "updated_at"


@admin.register(MemberAdjustment)
class MemberAdjustmentAdmin(ReadOnlyCourseAdmin):
    course_path = "item__course"
    list_display = ["student", "item", "subject", "points", "reason", "adjusted_by", "adjusted_at"]
    list_filter = ["item__course", "item"]
    search_fields = ["student__username", "subject", "reason"]
    list_select_related = ["student", "item", "adjusted_by"]

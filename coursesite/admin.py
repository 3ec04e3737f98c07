"""The instructor panel: every model of a course, scoped to the courses the staff member runs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from coursesite.gradebook.services import item_release
from coursesite.models import (
    ApiToken,
    Course,
    CourseEvent,
    GracePolicy,
    GradeCategory,
    GradeItem,
    GroupInvitation,
    GroupMembership,
    Lecture,
    Membership,
    ProjectGroup,
    Role,
    Score,
    ScoreChange,
    ScoreSource,
)
from coursesite.permissions import REFUSED, RELEASE, staff_may
from coursesite.services import score_check, score_record

STAFF_ROLES = [Role.INSTRUCTOR, Role.TA]


def staff_courses(request: HttpRequest) -> QuerySet[Course]:
    """The courses the user may run from the panel."""
    if request.user.is_superuser:
        return Course.objects.all()
    return Course.objects.filter(
        memberships__user_id=request.user.pk or 0, memberships__role__in=STAFF_ROLES
    )


def instructor_courses(request: HttpRequest) -> QuerySet[Course]:
    """The courses whose structure and staff the user may change: those they instruct."""
    if request.user.is_superuser:
        return Course.objects.all()
    return Course.objects.filter(
        memberships__user_id=request.user.pk or 0, memberships__role=Role.INSTRUCTOR
    )


def instructs(request: HttpRequest, course_id: int | None) -> bool:
    """Whether the user instructs this course (a superuser instructs every course); with no
    course, whether they instruct any. Read once per request: every inline row asks."""
    if request.user.is_superuser:
        return True
    instructed: set[int] | None = getattr(request, "_instructed_courses", None)
    if instructed is None:
        instructed = set(instructor_courses(request).values_list("pk", flat=True))
        request._instructed_courses = instructed  # type: ignore[attr-defined]
    return bool(instructed) if course_id is None else course_id in instructed


class InstructorFields:
    """Fields that only an instructor of the row's course changes (roles, weights); a TA sees
    them read-only, and may not add or delete such rows unless ``ta_adds`` says so."""

    instructor_fields: tuple[str, ...] = ()
    ta_adds: bool = False

    def _course_id(self, obj: Model | None) -> int | None:
        if obj is None:
            return None
        if isinstance(obj, Course):
            return obj.pk
        if hasattr(obj, "course_id"):
            return obj.course_id
        return getattr(getattr(obj, "item", None), "course_id", None)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if not instructs(request, self._course_id(obj)):
            fields += [name for name in self.instructor_fields if name not in fields]
        return fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        add = super().has_add_permission  # type: ignore[misc]
        # An inline is asked about its parent object; a model admin about the model alone.
        allowed = add(request, obj) if isinstance(self, InlineModelAdmin) else add(request)
        return bool(allowed) and (self.ta_adds or instructs(request, self._course_id(obj)))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)  # type: ignore[misc]
        return bool(allowed) and instructs(request, self._course_id(obj))


class ScopedChoices:
    """Offers in a form's choices only the rows of the user's own courses.

    The choices are read once per request: an inline's every row would otherwise run its own
    query for the same list.
    """

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if field is None or field.queryset is None:
            return field
        if not request.user.is_superuser:
            field.queryset = scope_choices(field.queryset, request)
        if not isinstance(field.widget, ForeignKeyRawIdWidget):
            cache = request.__dict__.setdefault("_panel_choices", {})
            key = (type(self).__name__, db_field.name)
            if key not in cache:
                cache[key] = list(field.choices)
            field.choices = cache[key]
        return field


class CourseScopedAdmin(ScopedChoices, admin.ModelAdmin):
    """Shows only rows of the user's courses, and offers only those courses' rows in choices.

    ``course_path`` is the lookup from the model to its course.
    """

    course_path = "course"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.course_path}__in": staff_courses(request)})

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        # The stock filter on a relation offers every row of the related table, which would show
        # staff the names of other courses and their categories.
        return [scoped_list_filter(self.model, spec) for spec in super().get_list_filter(request)]


def scoped_list_filter(model: type[Model], spec: Any) -> Any:
    if isinstance(spec, str) and get_fields_from_path(model, spec)[-1].is_relation:
        return (spec, admin.RelatedOnlyFieldListFilter)
    return spec


def scope_choices(queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
    model = queryset.model
    courses = staff_courses(request)
    if model is Course:
        return queryset.filter(pk__in=courses)
    if hasattr(model, "course"):
        return queryset.filter(course__in=courses)
    if model._meta.label == "auth.User":
        return queryset.filter(memberships__course__in=courses).distinct()
    return queryset


class CourseScopedInline(ScopedChoices, admin.TabularInline):
    extra = 0


class GracePolicyInline(admin.StackedInline):
    model = GracePolicy
    can_delete = False


class CategoryInline(InstructorFields, CourseScopedInline):
    model = GradeCategory
    instructor_fields = ("name", "weight", "drop_lowest")
    fields = ["name", "weight", "drop_lowest", "position"]


class ItemInline(InstructorFields, CourseScopedInline):
    model = GradeItem
    instructor_fields = ("slug", "category", "max_points", "weight")
    fields = [
        "slug",
        "title",
        "category",
        "max_points",
        "weight",
        "due_at",
        "released",
        "required_to_pass",
        "pass_mark",
        "uses_grace_days",
    ]
    show_change_link = True


class LectureInline(CourseScopedInline):
    model = Lecture
    fields = ["week", "date", "starts_at", "ends_at", "kind", "topic", "room"]


class MembershipInline(InstructorFields, CourseScopedInline):
    """People are added from the course file or the membership list; here their course facts
    are edited, with the user shown rather than looked up row by row. Only an instructor changes
    roles or removes someone."""

    model = Membership
    instructor_fields = ("role",)
    fields = ["user", "role", "section", "sis_user_id", "sis_login_id"]
    readonly_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyCourseAdmin(CourseScopedAdmin):
    """Records that services write (and keep other rows in step with): the panel only shows
    them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Course)
class CourseAdmin(CourseScopedAdmin):
    course_path = "pk"
    list_display = ["slug", "code", "title", "term", "time_zone", "starts_on", "ends_on"]
    list_filter = ["term"]
    search_fields = ["slug", "code", "title"]
    prepopulated_fields = {"slug": ["code", "term"]}
    inlines = [GracePolicyInline, CategoryInline, ItemInline, MembershipInline, LectureInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return staff_courses(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # New courses come from a course file or from a site administrator.
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Membership)
class MembershipAdmin(InstructorFields, CourseScopedAdmin):
    """Only an instructor of the course (or a superuser) adds people, changes roles or removes
    anyone: a TA who could would make themselves instructor, or a student TA."""

    instructor_fields = ("user", "course", "role")
    list_display = ["user", "course", "role", "section", "sis_user_id", "sis_login_id"]
    list_filter = ["course", "role", "section"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "sis_user_id",
        "sis_login_id",
    ]
    list_select_related = ["user", "course"]
    raw_id_fields = ["user"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "course" and isinstance(field, ModelChoiceField):
            field.queryset = instructor_courses(request)
        return field

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        # The form offers only the user's own courses; this holds even for a forged request.
        if not instructs(request, getattr(obj, "course_id", None)):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


class GroupMemberInline(CourseScopedInline):
    model = GroupMembership
    fields = ["student", "course"]
    raw_id_fields = ["student"]


@admin.register(ProjectGroup)
class ProjectGroupAdmin(CourseScopedAdmin):
    list_display = ["name", "course", "member_names"]
    list_filter = ["course"]
    search_fields = ["name", "members__username", "members__last_name"]
    inlines = [GroupMemberInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProjectGroup]:
        return super().get_queryset(request).prefetch_related("members")

    @admin.display(description="members")
    def member_names(self, group: ProjectGroup) -> str:
        return ", ".join(sorted(member.username for member in group.members.all()))


@admin.register(Lecture)
class LectureAdmin(CourseScopedAdmin):
    list_display = ["date", "week", "kind", "topic", "starts_at", "ends_at", "room", "course"]
    list_filter = ["course", "kind", "week"]
    search_fields = ["topic", "room"]
    date_hierarchy = "date"


@admin.register(CourseEvent)
class CourseEventAdmin(CourseScopedAdmin):
    list_display = ["title", "week", "date", "item", "course"]
    list_filter = ["course", "week"]
    search_fields = ["title"]
    # The item may be empty, and the default select_related() follows only required relations.
    list_select_related = ["item", "course"]


class CategoryItemInline(InstructorFields, CourseScopedInline):
    model = GradeItem
    fields = ItemInline.fields
    instructor_fields = ItemInline.instructor_fields
    show_change_link = True


@admin.register(GradeCategory)
class GradeCategoryAdmin(InstructorFields, CourseScopedAdmin):
    instructor_fields = ("course", "name", "weight", "drop_lowest")
    list_display = ["name", "weight", "drop_lowest", "course"]
    list_filter = ["course"]
    search_fields = ["name"]
    inlines = [CategoryItemInline]


@admin.register(GradeItem)
class GradeItemAdmin(InstructorFields, CourseScopedAdmin):
    instructor_fields = ("course", "slug", "category", "max_points", "weight")
    list_display = [
        "title",
        "slug",
        "category",
        "max_points",
        "weight",
        "due_at",
        "released",
        "required_to_pass",
    ]
    list_filter = ["course", "category", "released", "required_to_pass", "uses_grace_days"]
    search_fields = ["title", "slug"]
    list_select_related = ["category"]
    actions = ["release_scores", "unrelease_scores"]

    @admin.action(description="Release scores: students see them", permissions=["change"])
    def release_scores(self, request: HttpRequest, queryset: QuerySet[GradeItem]) -> None:
        self.release(request, queryset, released=True)

    @admin.action(description="Unrelease scores: hide them from students", permissions=["change"])
    def unrelease_scores(self, request: HttpRequest, queryset: QuerySet[GradeItem]) -> None:
        self.release(request, queryset, released=False)

    def release(
        self, request: HttpRequest, queryset: QuerySet[GradeItem], *, released: bool
    ) -> None:
        items = [
            item
            for item in queryset.select_related("course")
            if staff_may(course=item.course, user=request.user, power=RELEASE)
        ]
        if not items:
            self.message_user(request, REFUSED[RELEASE], messages.ERROR)
            return
        for item in items:
            item_release(item=item, released=released)
        done = "released to their students" if released else "hidden from their students"
        titles = ", ".join(item.title for item in items)
        self.message_user(request, f"Scores {done}: {titles}.", messages.SUCCESS)


@admin.register(GracePolicy)
class GracePolicyAdmin(CourseScopedAdmin):
    list_display = ["course", "pool_days", "per_item_cap", "slack_minutes", "after_pool"]


class StudentChoiceField(ModelChoiceField):
    """A student as a roster lists them: "Last, First (username)"."""

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, User)
        name = ", ".join(part for part in (obj.last_name, obj.first_name) if part)
        return f"{name} ({obj.username})" if name else obj.username


def staff_students(request: HttpRequest) -> QuerySet[User]:
    """The students of the courses the user runs, in roster order."""
    # One filter(), so that the course and the role are those of the same membership.
    return (
        User.objects.filter(
            memberships__course__in=staff_courses(request), memberships__role=Role.STUDENT
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class ScoreForm(forms.ModelForm):
    reason = forms.CharField(
        max_length=300, help_text="Why the score changes; kept in its history."
    )

    class Meta:
        model = Score
        fields = ["item", "student", "points", "excused", "comment"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # An item or student that failed its own field's check is missing here, and on a new
        # score the instance has none either; the field's error already says what is wrong.
        item = data.get("item") or getattr(self.instance, "item", None)
        student = data.get("student") or getattr(self.instance, "student", None)
        if item is None or student is None:
            return data
        score_check(
            item=item, student=student, points=data.get("points"), excused=bool(data.get("excused"))
        )
        return data


class ScoreChangeInline(admin.TabularInline):
    model = ScoreChange
    extra = 0
    can_delete = False
    readonly_fields = (
        "changed_at",
        "changed_by",
        "old_points",
        "new_points",
        "old_excused",
        "new_excused",
        "source",
        "reason",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Score)
class ScoreAdmin(CourseScopedAdmin):
    """Scores are written through ``score_record``, so that every change keeps its history."""

    course_path = "item__course"
    form = ScoreForm
    list_display = ["student", "item", "points", "excused", "source", "updated_at"]
    list_filter = ["item__course", "item__category", "source", "excused"]
    search_fields = ["student__username", "student__last_name", "item__title"]
    list_select_related = ["student", "item"]
    inlines = [ScoreChangeInline]

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        # A student is picked by name from the students of the staff member's courses.
        if db_field.name == "student":
            kwargs["queryset"] = staff_students(request)
            kwargs["form_class"] = StudentChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Score | None = None) -> list[str]:
        return ["item", "student"] if obj else []

    def save_model(
        self, request: HttpRequest, obj: Score, form: forms.ModelForm, change: bool
    ) -> None:
        saved = score_record(
            item=obj.item,
            student=obj.student,
            points=form.cleaned_data["points"],
            excused=form.cleaned_data["excused"],
            source=ScoreSource.MANUAL,
            comment=form.cleaned_data["comment"],
            changed_by=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(ScoreChange)
class ScoreChangeAdmin(ReadOnlyCourseAdmin):
    course_path = "score__item__course"
    list_display = [
        "changed_at",
        "score",
        "old_points",
        "new_points",
        "changed_by",
        "source",
        "reason",
    ]
    list_filter = ["score__item__course", "source"]
    search_fields = ["score__student__username", "reason"]
    list_select_related = ["score__item", "score__student", "changed_by"]


@admin.register(GroupInvitation)
class GroupInvitationAdmin(CourseScopedAdmin):
    """Students' invitations, kept as a record: staff change groups in the project groups
    themselves, since accepting here would skip the checks and the membership it creates."""

    course_path = "group__course"
    list_display = ["invited", "group", "invited_by", "state", "created_at", "responded_at"]
    list_filter = ["group__course", "state"]
    search_fields = ["invited__username", "invited_by__username", "group__name"]
    list_select_related = ["invited", "group", "invited_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens, to see and revoke: deleting a token revokes it. Tokens are made through the
    API, which shows the key once; only its hash is stored, so no page can show it."""

    # The panel's checks of course scoping look rows up by it: an export token's course.
    course_path = "course"
    fields = (
        "prefix", "name", "user", "scope", "course", "created_at", "expires_at", "last_used_at",
    )  # fmt: skip
    list_display = fields
    list_filter = ["scope"]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user", "course"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user_id=request.user.pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

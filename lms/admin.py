"""The LMS in the instructor panel: the platforms registered (django-lti's registrations with their
deployments, shown with the URLs the LMS needs from this tool), the tool's keys, and the links of
LMS courses to coursesite courses with what was synced and sent over them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from lti_tool.admin import LtiRegistrationAdmin
from lti_tool.models import Key, LtiRegistration

from coursesite.admin import CourseScopedAdmin, ReadOnlyCourseAdmin
from lms.models import CourseLink, LineItemLink, RosterSync
from lms.services import course_link_move, may_link

TOOL_URLS = [
    ("OpenID Connect login initiation URL", "lti-login"),
    ("Redirect URI and target link URI (the launch)", "lti-launch"),
    ("Public JWK set URL (the tool's keys)", "lti-jwks"),
]


def tool_urls(request: HttpRequest) -> str:
    """The tool's URLs as this request reaches the site, to copy into the LMS."""
    return format_html_join(
        "",
        "<p>{}: <code>{}</code></p>",
        ((label, request.build_absolute_uri(reverse(name))) for label, name in TOOL_URLS),
    )


admin.site.unregister(LtiRegistration)


@admin.register(LtiRegistration)
class RegistrationAdmin(LtiRegistrationAdmin):
    """django-lti's registration, with the tool's URLs above it: the LMS asks for them when the
    tool is added there, and answers with the issuer, client id and URLs entered here. A
    deployment the LMS launches from for the first time appears below, inactive: switch it on."""

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        urls = (
            "coursesite's URLs, for the LMS",
            {"fields": [], "description": tool_urls(request)},
        )
        return [urls, *super().get_fieldsets(request, obj)]


@admin.register(Key)
class ToolKeyAdmin(admin.ModelAdmin):
    """The tool's signing keys, public halves only. ``manage.py rotate_keys`` makes a new key and
    switches off the old ones; a key switched off here leaves the tool's key set at once."""

    list_display = ["kid", "is_active", "datetime_created"]
    fields = ["kid", "public_key", "is_active", "datetime_created"]
    readonly_fields = ["kid", "public_key", "datetime_created"]

    @admin.display(description="key id")
    def kid(self, key: Key) -> str:
        return str(key.as_jwk()["kid"])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CourseLink)
class CourseLinkAdmin(CourseScopedAdmin):
    """A link is made at the first launch from an LMS course; here staff point it at another of
    their courses (a launch never does)."""

    list_display = ["context", "course", "linked_by", "linked_at"]
    list_select_related = ["context", "course", "linked_by"]
    fields = ["context", "course", "post_final_grade", "linked_by", "linked_at"]
    readonly_fields = ["context", "linked_by", "linked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        base = super().get_form(request, obj, change, **kwargs)

        class LinkForm(base):  # type: ignore[misc,valid-type]
            def clean_course(self) -> Any:
                course = self.cleaned_data["course"]
                if not may_link(course=course, user=request.user):  # type: ignore[arg-type]
                    raise ValidationError("Link it to a course you teach.")
                return course

        return LinkForm

    def save_model(
        self, request: HttpRequest, obj: CourseLink, form: forms.Form, change: bool
    ) -> None:
        stored = CourseLink.objects.get(pk=obj.pk)
        course_link_move(link=stored, course=obj.course, moved_by=request.user)  # type: ignore[arg-type]


@admin.register(LineItemLink)
class LineItemLinkAdmin(ReadOnlyCourseAdmin):
    course_path = "link__course"
    list_display = ["resource_id", "item", "link", "last_sent_at", "last_error"]
    list_select_related = ["item", "link__course", "link__context"]


@admin.register(RosterSync)
class RosterSyncAdmin(ReadOnlyCourseAdmin):
    course_path = "link__course"
    list_display = ["link", "run_at", "dry_run", "run_by", "changes_count", "error"]
    list_select_related = ["link__course", "link__context", "run_by"]

    @admin.display(description="changes")
    def changes_count(self, sync: RosterSync) -> str:
        return format_html("{}", len(sync.changes or []))

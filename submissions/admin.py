from django.contrib import admin

from coursesite.admin import CourseScopedAdmin
from submissions.models import Assignment, Deliverable


@admin.register(Assignment)
class AssignmentAdmin(CourseScopedAdmin):
    course_path = "item__course"
    list_display = ["item", "handin_files", "max_archive_bytes"]
    list_filter = ["item__course"]
    search_fields = ["item__title", "item__slug"]
    list_select_related = ["item"]


@admin.register(Deliverable)
class DeliverableAdmin(CourseScopedAdmin):
    course_path = "item__course"
    list_display = ["item", "handin_files", "max_archive_bytes"]
    list_filter = ["item__course"]
    search_fields = ["item__title", "item__slug"]
    list_select_related = ["item"]

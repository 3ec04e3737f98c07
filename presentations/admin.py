from django.contrib import admin

from coursesite.admin import CourseScopedAdmin
from presentations.models import Paper


@admin.register(Paper)
class PaperAdmin(CourseScopedAdmin):
    list_display = ["title", "authors", "year", "venue", "week", "course"]
    list_filter = ["course", "year", "week"]
    search_fields = ["title", "authors", "key"]

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coursesite.apis import CourseDetailApi, CourseListApi
from coursesite.auth_apis import ApiTokenApi, ApiTokensApi, ExportTokensApi, TokenObtainApi
from coursesite.gradebook.urls import api_urlpatterns as gradebook_api
from coursesite.group_urls import api_urlpatterns as group_api
from coursesite.health import healthz
from grading.urls import api_urlpatterns as grading_api
from presentations.urls import api_urlpatterns as presentations_api
from quizzes.urls import api_urlpatterns as quizzes_api
from submissions.urls import api_urlpatterns as submissions_api

admin.site.site_header = "coursesite instructor panel"
admin.site.site_title = "coursesite"
admin.site.index_title = "Run your course"

api_v1 = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-token"),
    path("auth/tokens/", ApiTokensApi.as_view(), name="api-tokens"),
    path("auth/tokens/<int:pk>/", ApiTokenApi.as_view(), name="api-token-detail"),
    path(
        "courses/<slug:course_slug>/export-tokens/",
        ExportTokensApi.as_view(),
        name="api-export-tokens",
    ),
    path("courses/", CourseListApi.as_view(), name="api-courses"),
    path("courses/<slug:course_slug>/", CourseDetailApi.as_view(), name="api-course"),
    *group_api,
    *gradebook_api,
    *grading_api,
    *submissions_api,
    *presentations_api,
    *quizzes_api,
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start script as a file of its own (?script), not inline.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="coursesite/api_docs.html"
        ),
        name="api-docs",
    ),
    path("", include("coursesite.page_urls")),
    path("", include("coursesite.gradebook.page_urls")),
    path("", include("submissions.page_urls")),
    path("", include("grading.page_urls")),
    path("", include("presentations.page_urls")),
    path("", include("quizzes.page_urls")),
    path("", include("lms.urls")),
]

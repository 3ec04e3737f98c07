from django.urls import path

from coursesite.gradebook.apis import (
    GradebookApi,
    GradebookCsvApi,
    ItemReleaseApi,
    ItemUnreleaseApi,
    RegradeAnswerApi,
    RegradeRequestsApi,
    ScoreApi,
    ScoreHistoryApi,
    ScoreImportApi,
)

COURSE = "courses/<slug:course_slug>"
ITEM = f"{COURSE}/items/<slug:item_slug>"

api_urlpatterns = [
    path(f"{COURSE}/gradebook/", GradebookApi.as_view(), name="api-gradebook"),
    path(f"{COURSE}/gradebook.csv", GradebookCsvApi.as_view(), name="api-gradebook-csv"),
    # Before the student's score, so that "import" is never read as a username.
    path(f"{ITEM}/scores/import/", ScoreImportApi.as_view(), name="api-scores-import"),
    path(f"{ITEM}/scores/<str:username>/", ScoreApi.as_view(), name="api-score"),
    path(
        f"{ITEM}/scores/<str:username>/history/",
        ScoreHistoryApi.as_view(),
        name="api-score-history",
    ),
    path(f"{ITEM}/release/", ItemReleaseApi.as_view(), name="api-item-release"),
    path(f"{ITEM}/unrelease/", ItemUnreleaseApi.as_view(), name="api-item-unrelease"),
    path(f"{COURSE}/regrade-requests/", RegradeRequestsApi.as_view(), name="api-regrade-requests"),
    path(
        f"{COURSE}/regrade-requests/<int:pk>/answer/",
        RegradeAnswerApi.as_view(),
        name="api-regrade-request-answer",
    ),
]

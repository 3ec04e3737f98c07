from django.urls import path

from grading.apis import BundlesApi, QueueApi
from grading.rubric_apis import (
    DisagreementsApi,
    EvaluationApi,
    EvaluationsApi,
    MemberAdjustmentApi,
    RubricApi,
    RubricsApi,
)

COURSE = "courses/<slug:course_slug>"
ITEM = f"{COURSE}/items/<slug:item_slug>"

api_urlpatterns = [
    path(f"{ITEM}/autograder/", BundlesApi.as_view(), name="api-item-autograder"),
    path(f"{COURSE}/grading-jobs/", QueueApi.as_view(), name="api-grading-jobs"),
    path(f"{COURSE}/rubrics/", RubricsApi.as_view(), name="api-rubrics"),
    path(f"{COURSE}/rubrics/<slug:rubric_slug>/", RubricApi.as_view(), name="api-rubric"),
    path(f"{ITEM}/evaluations/", EvaluationsApi.as_view(), name="api-evaluations"),
    # A subject is written kind:N (student:7, group:3).
    path(f"{ITEM}/evaluations/<str:subject>/", EvaluationApi.as_view(), name="api-evaluation"),
    path(
        f"{ITEM}/adjustments/<str:subject>/<str:username>/",
        MemberAdjustmentApi.as_view(),
        name="api-member-adjustment",
    ),
    path(
        f"{COURSE}/rubric-disagreements/",
        DisagreementsApi.as_view(),
        name="api-rubric-disagreements",
    ),
]

from django.urls import path

from submissions.apis import (
    AssignmentRegradeApi,
    DeliverableItemsApi,
    DeliverableSubmissionsApi,
    ExtensionApi,
    ExtensionsApi,
    GraceDaysApi,
    HandInItemsApi,
    HandInSubmissionsApi,
    SubmissionActivateApi,
    SubmissionApi,
    SubmissionRegradeApi,
    SurveyApi,
    SurveyResultsApi,
)

api_urlpatterns = [
    path(
        "courses/<slug:course_slug>/assignments/", HandInItemsApi.as_view(), name="api-assignments"
    ),
    path(
        "courses/<slug:course_slug>/deliverables/",
        DeliverableItemsApi.as_view(),
        name="api-deliverables",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<int:pk>/submissions/",
        HandInSubmissionsApi.as_view(),
        name="api-assignment-submissions",
    ),
    path(
        "courses/<slug:course_slug>/deliverables/<int:pk>/submissions/",
        DeliverableSubmissionsApi.as_view(),
        name="api-deliverable-submissions",
    ),
    path(
        "courses/<slug:course_slug>/deliverables/<int:pk>/survey/",
        SurveyApi.as_view(),
        name="api-survey",
    ),
    path(
        "courses/<slug:course_slug>/deliverables/<int:pk>/survey/results/",
        SurveyResultsApi.as_view(),
        name="api-survey-results",
    ),
    path("courses/<slug:course_slug>/grace-days/", GraceDaysApi.as_view(), name="api-grace-days"),
    path("courses/<slug:course_slug>/extensions/", ExtensionsApi.as_view(), name="api-extensions"),
    path(
        "courses/<slug:course_slug>/extensions/<int:pk>/",
        ExtensionApi.as_view(),
        name="api-extension",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<int:pk>/regrade/",
        AssignmentRegradeApi.as_view(),
        name="api-assignment-regrade",
    ),
    path("submissions/<int:pk>/", SubmissionApi.as_view(), name="api-submission"),
    path(
        "submissions/<int:pk>/regrade/",
        SubmissionRegradeApi.as_view(),
        name="api-submission-regrade",
    ),
    path(
        "submissions/<int:pk>/activate/",
        SubmissionActivateApi.as_view(),
        name="api-submission-activate",
    ),
]

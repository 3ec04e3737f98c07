from django.urls import path

from grading.apis import BundlesApi, QueueApi

api_urlpatterns = [
    path(
        "courses/<slug:course_slug>/items/<slug:item_slug>/autograder/",
        BundlesApi.as_view(),
        name="api-item-autograder",
    ),
    path("courses/<slug:course_slug>/grading-jobs/", QueueApi.as_view(), name="api-grading-jobs"),
]

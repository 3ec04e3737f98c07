from django.urls import path

from presentations.apis import (
    MyPresentationsApi,
    OwnReviewApi,
    OwnReviewSubmitApi,
    PaperReviewsApi,
    PapersApi,
)

PAPER = "courses/<slug:course_slug>/papers/<slug:paper_key>"

api_urlpatterns = [
    path("courses/<slug:course_slug>/papers/", PapersApi.as_view(), name="api-papers"),
    path(
        "courses/<slug:course_slug>/my-presentations/",
        MyPresentationsApi.as_view(),
        name="api-my-presentations",
    ),
    path(f"{PAPER}/review/", OwnReviewApi.as_view(), name="api-paper-review"),
    path(f"{PAPER}/review/submit/", OwnReviewSubmitApi.as_view(), name="api-paper-review-submit"),
    path(f"{PAPER}/reviews/", PaperReviewsApi.as_view(), name="api-paper-reviews"),
]

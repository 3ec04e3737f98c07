from django.urls import path

from presentations.apis import (
    MyPresentationsApi,
    OwnReviewApi,
    OwnReviewSubmitApi,
    PaperReviewsApi,
    PapersApi,
    PresenterApi,
    PresentersApi,
    PresentersAssignApi,
    PresentersSwapApi,
)

PAPER = "courses/<slug:course_slug>/papers/<slug:paper_key>"
PRESENTERS = "courses/<slug:course_slug>/presenters"

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
    path(f"{PRESENTERS}/", PresentersApi.as_view(), name="api-presenters"),
    path(f"{PRESENTERS}/assign/", PresentersAssignApi.as_view(), name="api-presenters-assign"),
    path(f"{PRESENTERS}/swap/", PresentersSwapApi.as_view(), name="api-presenters-swap"),
    path(f"{PRESENTERS}/<int:pk>/", PresenterApi.as_view(), name="api-presenter"),
]

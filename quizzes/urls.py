from django.urls import path

from quizzes.apis import (
    AnswerApi,
    AnswerUploadApi,
    AttemptApi,
    AttemptsApi,
    QuizApi,
    QuizzesApi,
    SubmitApi,
)

QUIZ = "courses/<slug:course_slug>/quizzes/<slug:item_slug>"
ATTEMPT = f"{QUIZ}/attempts/<int:number>"

api_urlpatterns = [
    path("courses/<slug:course_slug>/quizzes/", QuizzesApi.as_view(), name="api-quizzes"),
    path(f"{QUIZ}/", QuizApi.as_view(), name="api-quiz"),
    path(f"{QUIZ}/attempts/", AttemptsApi.as_view(), name="api-quiz-attempts"),
    path(f"{ATTEMPT}/", AttemptApi.as_view(), name="api-quiz-attempt"),
    path(f"{ATTEMPT}/answers/<slug:key>/", AnswerApi.as_view(), name="api-quiz-answer"),
    path(
        f"{ATTEMPT}/answers/<slug:key>/upload/",
        AnswerUploadApi.as_view(),
        name="api-quiz-answer-upload",
    ),
    path(f"{ATTEMPT}/submit/", SubmitApi.as_view(), name="api-quiz-submit"),
]

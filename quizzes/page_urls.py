from django.urls import path

from quizzes import views

QUIZZES = "courses/<slug:slug>/quizzes"
QUIZ = f"{QUIZZES}/<slug:item_slug>"
ATTEMPT = f"{QUIZ}/attempts/<int:number>"

urlpatterns = [
    path(f"{QUIZZES}/", views.quizzes_page, name="quizzes"),
    path(f"{QUIZ}/", views.quiz_page, name="quiz"),
    path(f"{QUIZ}/start/", views.quiz_start_page, name="quiz-start"),
    path(f"{ATTEMPT}/", views.attempt_page, name="quiz-attempt"),
    path(f"{ATTEMPT}/submit/", views.attempt_submit_page, name="quiz-submit"),
    path(f"{QUIZ}/derivations/<int:pk>/", views.derivation_file, name="quiz-derivation"),
]

from django.urls import path

from grading import queue_views, views

COURSE = "courses/<slug:slug>"
SCORING = f"{COURSE}/scoring"
GRADING = f"{COURSE}/grading"

urlpatterns = [
    path(f"{SCORING}/", views.scoring_page, name="scoring"),
    path(f"{SCORING}/<slug:item_slug>/", views.scoring_item_page, name="scoring-item"),
    # A subject always holds a colon (role:5), so it never meets "together".
    path(
        f"{SCORING}/<slug:item_slug>/together/",
        views.evaluate_together_page,
        name="evaluate-together",
    ),
    path(f"{SCORING}/<slug:item_slug>/<str:subject>/", views.evaluate_page, name="evaluate"),
    path(
        f"{COURSE}/rubric-disagreements/",
        views.rubric_disagreements_page,
        name="rubric-disagreements",
    ),
    path(f"{COURSE}/evaluations/", views.my_evaluations_page, name="my-evaluations"),
    path(f"{COURSE}/evaluations/<slug:item_slug>/", views.my_evaluation_page, name="my-evaluation"),
    path(f"{GRADING}/queue/", queue_views.queue_page, name="grading-queue"),
    path(f"{GRADING}/jobs/<int:pk>/", queue_views.job_page, name="grading-job"),
    path(
        f"{GRADING}/jobs/<int:pk>/requeue/",
        queue_views.job_requeue_page,
        name="grading-job-requeue",
    ),
    path(
        f"{GRADING}/jobs/<int:pk>/regrade/",
        queue_views.job_regrade_page,
        name="grading-job-regrade",
    ),
]

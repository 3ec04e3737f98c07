from django.urls import path

from grading import views

COURSE = "courses/<slug:slug>"
SCORING = f"{COURSE}/scoring"

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
]

from django.urls import path

from coursesite.gradebook import views

COURSE = "courses/<slug:slug>"

urlpatterns = [
    path(f"{COURSE}/gradebook/", views.gradebook_page, name="gradebook"),
    # One segment, so that it never meets a cell's page (an item and a username: two segments).
    path(f"{COURSE}/gradebook/release/", views.release_page, name="gradebook-release"),
    path(
        f"{COURSE}/gradebook/<slug:item_slug>/<str:username>/",
        views.score_page,
        name="gradebook-score",
    ),
    path(f"{COURSE}/grades/", views.grades_page, name="grades"),
    path(f"{COURSE}/grades/<slug:item_slug>/regrade/", views.regrade_page, name="regrade"),
]

from django.urls import path

from submissions import views
from submissions.models import Assignment, Deliverable

COURSE = "courses/<slug:slug>"

urlpatterns = [
    path(f"{COURSE}/work/", views.work_page, name="work"),
    path(f"{COURSE}/students/<str:username>/work/", views.student_work_page, name="student-work"),
    path(f"{COURSE}/grace-days/", views.grace_days_page, name="grace-days"),
    path(
        f"{COURSE}/assignments/<int:pk>/",
        views.handin_page,
        {"kind": Assignment},
        name="assignment",
    ),
    path(
        f"{COURSE}/assignments/<int:pk>/starter/",
        views.starter_file_page,
        name="assignment-starter",
    ),
    path(
        f"{COURSE}/deliverables/<int:pk>/",
        views.handin_page,
        {"kind": Deliverable},
        name="deliverable",
    ),
    path(
        f"{COURSE}/assignments/<int:pk>/state/",
        views.handin_state_page,
        {"kind": Assignment},
        name="assignment-state",
    ),
    path(
        f"{COURSE}/deliverables/<int:pk>/state/",
        views.handin_state_page,
        {"kind": Deliverable},
        name="deliverable-state",
    ),
    path(
        f"{COURSE}/deliverables/<int:pk>/survey/",
        views.survey_page,
        name="survey",
    ),
    path(
        f"{COURSE}/submissions/<int:pk>/file/",
        views.submission_file_page,
        name="submission-file",
    ),
    path(
        f"{COURSE}/groups/<int:pk>/project/",
        views.group_project_page,
        name="group-project",
    ),
    path(
        f"{COURSE}/assignments/<int:pk>/submissions/<int:submission_pk>/activate/",
        views.activate_page,
        {"kind": Assignment},
        name="assignment-activate",
    ),
    path(
        f"{COURSE}/deliverables/<int:pk>/submissions/<int:submission_pk>/activate/",
        views.activate_page,
        {"kind": Deliverable},
        name="deliverable-activate",
    ),
]

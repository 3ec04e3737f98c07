"""Staff pages of the LMS link: roster sync and grade passback."""

from django.urls import path

from lms import staff_views

LMS = "courses/<slug:slug>/lms"

urlpatterns = [
    path(f"{LMS}/", staff_views.lms_page, name="lms-staff"),
    path(
        f"{LMS}/links/<int:link_id>/roster/dry-run/",
        staff_views.roster_dry_run_page,
        name="lms-roster-dry-run",
    ),
    path(f"{LMS}/syncs/<int:pk>/", staff_views.roster_sync_page, name="lms-roster-sync"),
    path(
        f"{LMS}/syncs/<int:pk>/apply/",
        staff_views.roster_apply_page,
        name="lms-roster-apply",
    ),
    path(
        f"{LMS}/links/<int:link_id>/grades/send/",
        staff_views.grades_send_page,
        name="lms-grades-send",
    ),
]

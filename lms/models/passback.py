from __future__ import annotations

from django.conf import settings
from django.db import models

from coursesite.models import GradeItem
from lms.models.links import CourseLink


class LineItemLink(models.Model):
    """The LMS gradebook column (an AGS line item) a released GradeItem posts to, or the course's
    final grade where ``item`` is empty. Found on the LMS by ``resource_id`` or created there."""

    link = models.ForeignKey(CourseLink, on_delete=models.CASCADE, related_name="line_items")
    item = models.ForeignKey(
        GradeItem, on_delete=models.CASCADE, null=True, blank=True, related_name="lms_line_items"
    )
    resource_id = models.CharField(max_length=255)
    url = models.URLField(max_length=500, blank=True, help_text="The line item's URL on the LMS.")
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["link", "resource_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["link", "resource_id"], name="one_line_item_per_resource"
            )
        ]

    def __str__(self) -> str:
        return f"{self.link.course.slug}: {self.resource_id}"


class ScoreSent(models.Model):
    """The last score of a student the LMS accepted on a line item: what was sent, when, and the
    LMS's answer. A score is sent again only when it differs from this."""

    line_item = models.ForeignKey(LineItemLink, on_delete=models.CASCADE, related_name="scores")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    score_given = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    score_maximum = models.DecimalField(max_digits=8, decimal_places=2)
    comment = models.TextField(blank=True)
    sent_at = models.DateTimeField()
    answer_status = models.PositiveSmallIntegerField(help_text="The LMS's HTTP status.")

    class Meta:
        ordering = ["line_item", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["line_item", "student"], name="one_score_sent_per_student"
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_item}: {self.student} {self.score_given}/{self.score_maximum}"


class RosterSync(models.Model):
    """One roster sync from the LMS (Names and Role Provisioning Services): a dry run lists the
    changes, a real one makes them; both are kept for staff to read."""

    link = models.ForeignKey(CourseLink, on_delete=models.CASCADE, related_name="roster_syncs")
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run_at = models.DateTimeField()
    dry_run = models.BooleanField()
    changes = models.JSONField(
        default=list, help_text='[{"change": "add"|"deactivate"|..., "username": ..., ...}]'
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-run_at"]

    def __str__(self) -> str:
        kind = "dry run" if self.dry_run else "sync"
        return f"{self.link.course.slug}: {kind} at {self.run_at:%Y-%m-%d %H:%M}"

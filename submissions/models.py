"""What students hand in: assignments (individual work) and project deliverables (group work)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from coursesite.models import GradeItem, ProjectGroup

if TYPE_CHECKING:
    from grading.models import GradingJob

MEGABYTE = 1024 * 1024


def validate_handin_files(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise ValidationError("List the file names the student hands in.")
    for name in value:
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise ValidationError(f"{name!r} must be a relative path inside the hand-in.")
    if len(set(value)) != len(value):
        raise ValidationError("A file is listed twice.")


def validate_starter_upload(upload: object) -> None:
    # Imported here: the starters module works on this model.
    from submissions.starters import starter_names

    starter_names(upload)  # type: ignore[arg-type]


class Assignment(models.Model):
    """A programming assignment: a graded item that each student hands in as code."""

    item = models.OneToOneField(GradeItem, on_delete=models.CASCADE, related_name="assignment")
    handin_files = models.JSONField(default=list, validators=[validate_handin_files])
    max_archive_bytes = models.PositiveIntegerField(
        default=20 * MEGABYTE, validators=[MinValueValidator(1024)]
    )
    starter = models.FileField(
        upload_to="starters/",
        max_length=200,
        blank=True,
        validators=[validate_starter_upload],
        help_text="A .zip of the files students start from, downloaded from the hand-in page.",
    )
    starter_sha256 = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["item__course", "item__due_at"]

    def __str__(self) -> str:
        return str(self.item)


class Deliverable(models.Model):
    """A project deliverable: a graded item that a project group hands in, or presents."""

    item = models.OneToOneField(GradeItem, on_delete=models.CASCADE, related_name="deliverable")
    handin_files = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_handin_files],
        help_text="Empty for a deliverable that is presented or judged rather than uploaded.",
    )
    max_archive_bytes = models.PositiveIntegerField(
        default=50 * MEGABYTE, validators=[MinValueValidator(1024)]
    )
    peer_survey = models.BooleanField(
        default=False,
        help_text="Once it is due, each member rates each other member's contribution.",
    )

    class Meta:
        ordering = ["item__course", "item__due_at"]

    def __str__(self) -> str:
        return str(self.item)


class HandInKind(models.TextChoices):
    ZIP = "zip", "zip archive"
    TAR_GZ = "tar.gz", "tar.gz archive"
    FILE = "file", "single file"


class Submission(models.Model):
    """One upload of an assignment by a student, or of a deliverable by a project group.

    The latest upload is active unless an earlier one is activated; lateness is judged on the
    active one. The file is stored once per content, under its sha256.
    """

    item = models.ForeignKey(GradeItem, on_delete=models.PROTECT, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
    )
    group = models.ForeignKey(
        ProjectGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="submissions"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(db_index=True)
    file = models.FileField(max_length=200)
    filename = models.CharField(max_length=255, help_text="The name the file was uploaded with.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=8, choices=HandInKind.choices)
    entries = models.JSONField(default=list, help_text="The files in the hand-in: name and size.")
    active = models.BooleanField(default=True)

    # Not a column: on the hand-in ``submission_create`` returns, the grading job it queued
    # (with its bundle), or None where no autograder grades the item.
    queued_job: GradingJob | None

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(student__isnull=False, group__isnull=True)
                | models.Q(student__isnull=True, group__isnull=False),
                name="submission_by_student_or_group",
            ),
            models.UniqueConstraint(
                fields=["item", "student"],
                condition=models.Q(active=True),
                name="one_active_per_student",
            ),
            models.UniqueConstraint(
                fields=["item", "group"],
                condition=models.Q(active=True),
                name="one_active_per_group",
            ),
        ]
        indexes = [
            models.Index(fields=["item", "student", "active"]),
            models.Index(fields=["sha256"]),
        ]

    def __str__(self) -> str:
        return f"{self.item} by {self.student or self.group} at {self.submitted_at:%Y-%m-%d %H:%M}"

    @property
    def grading_subject(self) -> str:
        """How grading jobs name this hand-in (grading knows nothing of submissions)."""
        return f"submission:{self.pk}"

    @property
    def grading_owner(self) -> str:
        """Whose work it is, so that a newer hand-in of the same owner supersedes this one."""
        return f"student:{self.student_id}" if self.student_id else f"group:{self.group_id}"


class Extension(models.Model):
    """A new due date for one student (or one project group) on one item."""

    item = models.ForeignKey(GradeItem, on_delete=models.CASCADE, related_name="extensions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="extensions",
    )
    group = models.ForeignKey(
        ProjectGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="extensions"
    )
    due_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField()
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(student__isnull=False, group__isnull=True)
                | models.Q(student__isnull=True, group__isnull=False),
                name="extension_for_student_or_group",
            ),
            models.UniqueConstraint(
                fields=["item", "student"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_extension_per_student",
            ),
            models.UniqueConstraint(
                fields=["item", "group"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_extension_per_group",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} for {self.student or self.group} until {self.due_at:%Y-%m-%d %H:%M}"


class ContributionRating(models.Model):
    """One member's rating of another member's contribution to their group's project, in the
    survey that opens when a deliverable with ``peer_survey`` is due. Only staff read it."""

    deliverable = models.ForeignKey(
        Deliverable, on_delete=models.CASCADE, related_name="contribution_ratings"
    )
    group = models.ForeignKey(ProjectGroup, on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ratee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1: far less than a fair share, 3: a fair share, 5: far more.",
    )
    comment = models.TextField(blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["deliverable", "group", "rater", "ratee"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "rater", "ratee"], name="one_rating_per_pair"
            ),
            models.CheckConstraint(
                condition=~models.Q(rater=models.F("ratee")), name="no_rating_of_oneself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rater} rates {self.ratee}: {self.rating}"

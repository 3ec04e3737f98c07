"""What students hand in: assignments (individual work) and project deliverables (group work)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from coursesite.models import GradeItem

MEGABYTE = 1024 * 1024


def validate_handin_files(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise ValidationError("List the file names the student hands in.")
    for name in value:
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise ValidationError(f"{name!r} must be a relative path inside the hand-in.")
    if len(set(value)) != len(value):
        raise ValidationError("A file is listed twice.")


class Assignment(models.Model):
    """A programming assignment: a graded item that each student hands in as code."""

    item = models.OneToOneField(GradeItem, on_delete=models.CASCADE, related_name="assignment")
    handin_files = models.JSONField(default=list, validators=[validate_handin_files])
    max_archive_bytes = models.PositiveIntegerField(
        default=20 * MEGABYTE, validators=[MinValueValidator(1024)]
    )

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

    class Meta:
        ordering = ["item__course", "item__due_at"]

    def __str__(self) -> str:
        return str(self.item)

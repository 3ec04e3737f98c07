"""Papers discussed in class; presentation slots and reviews build on them."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from coursesite.models import Course


class Paper(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="papers")
    key = models.SlugField(max_length=64, help_text="A short name, e.g. resnet.")
    title = models.CharField(max_length=300)
    authors = models.CharField(max_length=500)
    year = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    venue = models.CharField(max_length=200, blank=True)
    url = models.URLField(blank=True)
    week = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The week of the course in which it is presented."
    )

    class Meta:
        ordering = ["course", "week", "key"]
        constraints = [
            models.UniqueConstraint(fields=["course", "key"], name="paper_key_unique_in_course"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"

"""The syllabus: class meetings week by week and the events pinned to the weeks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from coursesite.models.course import Course


class LectureKind(models.TextChoices):
    LECTURE = "lecture", "Lecture"
    PROBLEM_SESSION = "problem_session", "Problem session"
    PRESENTATIONS = "presentations", "Presentations"
    EXAM = "exam", "Exam"


class Lecture(models.Model):
    """One class meeting: a lecture, a problem session, a presentation day or an exam."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lectures")
    week = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    date = models.DateField()
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    room = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=20, choices=LectureKind.choices, default=LectureKind.LECTURE)
    topic = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["course", "date", "starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "date", "starts_at"], name="one_meeting_per_slot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}: {self.topic}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A meeting must end after it starts."})


class CourseEvent(models.Model):
    """Something that happens in a week of the course: a quiz, an exam, an assignment out or in."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="events")
    week = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200)
    date = models.DateField(null=True, blank=True)
    item = models.ForeignKey(
        "coursesite.GradeItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        help_text="The graded item this event is about, if any.",
    )

    class Meta:
        ordering = ["course", "week", "date", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "week", "title"], name="event_unique_in_week"
            ),
        ]

    def __str__(self) -> str:
        return f"Week {self.week}: {self.title}"

"""Papers discussed in class, their presentation slots with the roles students hold, and the
weekly paper reviews. Both are scored with ``grading``'s rubrics."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from coursesite.models import Course, GradeItem
from grading.models import Rubric

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


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
    review_item = models.ForeignKey(
        GradeItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviewed_papers",
        help_text="The graded item of the students' reviews of this paper; its due date is the "
        "reviews' deadline.",
    )

    class Meta:
        ordering = ["course", "week", "key"]
        constraints = [
            models.UniqueConstraint(fields=["course", "key"], name="paper_key_unique_in_course"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})"


class LateReviews(models.TextChoices):
    ACCEPTED = "accepted", "Accepted, marked late"
    REFUSED = "refused", "Refused after the deadline"


class PresentationPolicy(models.Model):
    """A course's rules for paper presentations and reviews."""

    course = models.OneToOneField(
        Course, on_delete=models.CASCADE, related_name="presentation_policy"
    )
    item = models.ForeignKey(
        GradeItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The graded item the presentations' scores go to.",
    )
    presenters_per_role = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="The fewest students in a presenting role's group.",
    )
    seed = models.PositiveIntegerField(
        default=0, help_text="The same seed and roster give the same assignment."
    )
    late_reviews = models.CharField(
        max_length=16, choices=LateReviews.choices, default=LateReviews.ACCEPTED
    )
    late_review_penalty_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT
    )
    reviews_shown_after_deadline = models.BooleanField(
        default=False, help_text="After a review's deadline the class may read each other's."
    )

    class Meta:
        verbose_name_plural = "presentation policies"

    def __str__(self) -> str:
        return f"presentation policy of {self.course.slug}"


class PresentationRole(models.TextChoices):
    OVERVIEW = "overview", "Overview"
    STRENGTHS = "strengths", "Strengths"
    WEAKNESSES = "weaknesses", "Weaknesses"
    QA = "qa", "Questions and answers"


# Roles held by a group of students; questions and answers belong to the whole class.
PRESENTING_ROLES = (
    PresentationRole.OVERVIEW,
    PresentationRole.STRENGTHS,
    PresentationRole.WEAKNESSES,
)


class RolePlan(models.Model):
    """A role of every slot of a course: its minutes and the rubric that scores it."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="role_plans")
    role = models.CharField(max_length=16, choices=PresentationRole.choices)
    minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    rubric = models.ForeignKey(
        Rubric, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(fields=["course", "role"], name="role_plan_unique_in_course"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.minutes} min)"


class PresentationSlot(models.Model):
    """The class meeting in which a paper is presented and discussed."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="slot")
    date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["date", "paper__week", "paper__key"]

    def __str__(self) -> str:
        return f"{self.paper.key} on {self.date}"


class SlotRole(models.Model):
    """One role of one slot; its presenters' work is the rubric subject ``role:<pk>``."""

    slot = models.ForeignKey(PresentationSlot, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=16, choices=PresentationRole.choices)
    minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["slot", "position"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "role"], name="role_unique_in_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.slot.paper.key}: {self.get_role_display()}"

    @property
    def subject(self) -> str:
        return f"role:{self.pk}"


class Presenter(models.Model):
    # The slot is repeated so that the database itself keeps a student to one role per slot.
    slot = models.ForeignKey(PresentationSlot, on_delete=models.CASCADE, related_name="+")
    slot_role = models.ForeignKey(SlotRole, on_delete=models.CASCADE, related_name="presenters")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presentations"
    )
    pinned = models.BooleanField(
        default=False, help_text="Placed by staff: a new assignment keeps it."
    )

    class Meta:
        ordering = ["slot_role", "student__username"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "student"], name="one_role_per_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.slot_role}"


class BlockedWeek(models.Model):
    """A week in which a student cannot present (a conference, a religious holiday, ...)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="blocked_weeks")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    week = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["course", "student", "week"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "student", "week"], name="blocked_week_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} blocked in week {self.week}"


class PaperReview(models.Model):
    """A student's review of a paper, in the five parts of the course's guideline; the rubric
    subject ``review:<pk>``. A draft until ``submitted_at`` is set."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="reviews")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paper_reviews"
    )
    summary = models.TextField(blank=True)
    strengths = models.TextField(blank=True)
    weaknesses = models.TextField(blank=True)
    suggestions = models.TextField(blank=True)
    questions = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(default=False)

    class Meta:
        ordering = ["paper", "student__username"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "student"], name="one_review_per_paper"),
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.paper.key}"

    @property
    def subject(self) -> str:
        return f"review:{self.pk}"

"""The grade structure: categories with weights, graded items, scores and their history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from coursesite.models.course import Course

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class GradeCategory(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=100)
    weight = models.DecimalField(
        max_digits=5, decimal_places=2, validators=PERCENT, help_text="Percent of the final grade."
    )
    drop_lowest = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "position", "name"]
        verbose_name_plural = "grade categories"
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="category_unique_in_course"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight}%)"


class GradeItem(models.Model):
    """Every graded thing of a course: a quiz, an assignment, the midterm, a deliverable."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="items")
    # RESTRICT: a category with items cannot be deleted alone, but its course can be.
    category = models.ForeignKey(GradeCategory, on_delete=models.RESTRICT, related_name="items")
    slug = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    max_points = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    weight = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
        help_text="Percent of the final grade; empty to share the category's weight by points.",
    )
    opens_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    released = models.BooleanField(default=False, help_text="Students can see their scores.")
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="When the scores were last released to students."
    )
    required_to_pass = models.BooleanField(default=False)
    pass_mark = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Points needed to pass an item that is required to pass.",
    )
    uses_grace_days = models.BooleanField(
        default=False, help_text="Late work draws on the course's grace-day pool."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "category__position", "position", "due_at"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="item_slug_unique_in_course"),
            models.CheckConstraint(
                condition=models.Q(required_to_pass=False) | models.Q(pass_mark__isnull=False),
                name="required_item_has_pass_mark",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.category_id and self.course_id and self.category.course_id != self.course_id:
            raise ValidationError({"category": "The category belongs to another course."})
        if self.required_to_pass and self.pass_mark is None:
            raise ValidationError({"pass_mark": "An item required to pass needs a pass mark."})
        if self.pass_mark is not None and self.max_points and self.pass_mark > self.max_points:
            raise ValidationError({"pass_mark": "The pass mark is above the item's maximum."})
        if self.opens_at and self.due_at and self.due_at < self.opens_at:
            raise ValidationError({"due_at": "The item is due before it opens."})


class PartialDay(models.TextChoices):
    COUNTS = "counts", "A started day counts as a whole day"
    IGNORED = "ignored", "Only whole days count"


class AfterPool(models.TextChoices):
    ZERO = "zero", "Late work beyond the pool scores zero"
    PERCENT_PER_DAY = "percent_per_day", "A percentage off per late day"
    NO_CREDIT_AFTER = "no_credit_after", "Full credit up to N late days, then none"


class GracePolicy(models.Model):
    """How late work is counted: the semester's pool of grace days and what happens beyond it."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="grace_policy")
    pool_days = models.PositiveSmallIntegerField(default=7)
    per_item_cap = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most grace days one item may use; empty for no cap."
    )
    slack_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Minutes after the due time before work counts as late."
    )
    partial_day = models.CharField(
        max_length=16, choices=PartialDay.choices, default=PartialDay.COUNTS
    )
    after_pool = models.CharField(max_length=20, choices=AfterPool.choices, default=AfterPool.ZERO)
    penalty_percent_per_day = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=PERCENT
    )
    late_days_after_pool = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For 'no credit after N days': N."
    )

    class Meta:
        verbose_name_plural = "grace policies"

    def __str__(self) -> str:
        return f"{self.pool_days} grace days ({self.course.slug})"

    def clean(self) -> None:
        if self.after_pool == AfterPool.PERCENT_PER_DAY and self.penalty_percent_per_day is None:
            raise ValidationError(
                {"penalty_percent_per_day": "Say how many percent a late day costs."}
            )
        if self.after_pool == AfterPool.NO_CREDIT_AFTER and self.late_days_after_pool is None:
            raise ValidationError(
                {"late_days_after_pool": "Say after how many late days credit ends."}
            )


class ScoreSource(models.TextChoices):
    AUTOGRADER = "autograder", "Autograder"
    RUBRIC = "rubric", "Rubric"
    QUIZ = "quiz", "Online quiz"
    MANUAL = "manual", "Entered by staff"


class Score(models.Model):
    """A student's points on an item. Written only by ``coursesite.services.score_record``."""

    item = models.ForeignKey(GradeItem, on_delete=models.PROTECT, related_name="scores")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scores"
    )
    points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    excused = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=ScoreSource.choices)
    comment = models.TextField(blank=True)
    late_penalty_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PERCENT,
        help_text="The late penalty already taken off these points (the gradebook never applies "
        "one again).",
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "student__username"]
        constraints = [
            models.UniqueConstraint(fields=["item", "student"], name="one_score_per_student_item"),
        ]

    def __str__(self) -> str:
        shown = "excused" if self.excused else self.points
        return f"{self.student} on {self.item}: {shown}"


class ScoreChange(models.Model):
    """One row per change to a Score: who, when, what it was, what it became, and why."""

    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system made the change (an autograder).",
    )
    changed_at = models.DateTimeField()
    old_points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    new_points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    old_excused = models.BooleanField(null=True, blank=True)
    new_excused = models.BooleanField()
    source = models.CharField(max_length=16, choices=ScoreSource.choices)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["score", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.old_points} -> {self.new_points} by {self.changed_by} ({self.reason})"


class LetterGrade(models.Model):
    """One step of a course's letter scale: the letter of every final total at or above ``minimum``
    (and below the next step's)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="letter_grades")
    letter = models.CharField(max_length=8)
    minimum = models.DecimalField(
        max_digits=5, decimal_places=2, validators=PERCENT, help_text="Inclusive lower bound, %."
    )

    class Meta:
        ordering = ["course", "-minimum"]
        constraints = [
            models.UniqueConstraint(fields=["course", "letter"], name="letter_unique_in_course"),
            models.UniqueConstraint(fields=["course", "minimum"], name="letter_bound_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.letter} from {self.minimum}%"


class RegradeState(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"


class RegradeRequest(models.Model):
    """A student's question about the score of one item (optionally one test or criterion)."""

    item = models.ForeignKey(GradeItem, on_delete=models.CASCADE, related_name="regrade_requests")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="regrade_requests"
    )
    part = models.CharField(
        max_length=200, blank=True, help_text="The test or rubric criterion asked about, if any."
    )
    message = models.TextField()
    created_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=RegradeState.choices, default=RegradeState.OPEN)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    score_changed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["item", "state"])]

    def __str__(self) -> str:
        return f"{self.student} on {self.item} ({self.get_state_display()})"

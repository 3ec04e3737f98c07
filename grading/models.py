"""Grading's records: versioned autograder bundles, grading jobs with their lease, test results.

Grading knows nothing of hand-ins: a job names what it grades with an opaque ``subject`` (for
example ``submission:42``) that the layer above interprets, and an ``owner`` (``student:7`` or
``group:3``) so that a newer hand-in of the same owner supersedes an older one still queued.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from coursesite.models import Course, GradeItem


class BundleKind(models.TextChoices):
    NATIVE = "native", "coursesite bundle"
    GRADESCOPE = "gradescope", "Gradescope-style bundle"


class AutograderBundle(models.Model):
    """One uploaded version of an item's autograder; the highest version grades new hand-ins."""

    item = models.ForeignKey(GradeItem, on_delete=models.CASCADE, related_name="bundles")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=BundleKind.choices)
    archive = models.FileField(max_length=200, help_text="The bundle as a zip, stored once.")
    sha256 = models.CharField(max_length=64)
    manifest = models.JSONField(help_text="What autograder.toml says: files, limits, tests.")
    missing_packages = models.JSONField(
        default=list, blank=True, help_text="Packages requirements.txt names that workers lack."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "version"], name="bundle_version_unique_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} autograder v{self.version}"

    @property
    def uses_gpu(self) -> bool:
        return bool(self.manifest.get("limits", {}).get("gpu"))


class Queue(models.TextChoices):
    CPU = "cpu", "CPU"
    GPU = "gpu", "GPU"
    REGRADE = "regrade", "Regrade"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    ERROR = "error", "Error (needs staff)"
    SUPERSEDED = "superseded", "Superseded by a newer hand-in"


class Verdict(models.TextChoices):
    OK = "ok", "Ran to the end"
    TIMEOUT = "timeout", "Ran out of time"
    MEMORY = "memory", "Ran out of memory"
    CRASHED = "crashed", "Crashed"
    OUTPUT_LIMIT = "output_limit", "Wrote too much output"
    BAD_OUTPUT = "bad_output", "Left unreadable outputs"
    BUILD_FAILED = "build_failed", "The build failed"
    ERROR = "error", "The autograder failed"


class GradingJob(models.Model):
    item = models.ForeignKey(GradeItem, on_delete=models.CASCADE, related_name="grading_jobs")
    bundle = models.ForeignKey(AutograderBundle, on_delete=models.PROTECT, related_name="jobs")
    subject = models.CharField(max_length=64, help_text="What is graded, e.g. submission:42.")
    owner = models.CharField(max_length=64, help_text="Whose work it is, e.g. student:7.")
    archive = models.CharField(max_length=200, help_text="The hand-in's name in storage.")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    queue = models.CharField(max_length=16, choices=Queue.choices)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempt = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(help_text="When the job was last sent to the broker.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)
    score = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    max_score = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    execution_time = models.FloatField(null=True, blank=True)
    self_reported = models.BooleanField(default=False)
    logs = models.TextField(blank=True)
    images = models.JSONField(
        default=list, blank=True, help_text="PNGs the autograder shows with the results."
    )
    error = models.TextField(blank=True, help_text="Why grading itself failed, for staff.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "enqueued_at"]),
            models.Index(fields=["status", "lease_until"]),
            models.Index(fields=["item", "owner", "created_at"]),
            models.Index(fields=["subject"]),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.subject}, {self.status})"


class TestStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"


class Visibility(models.TextChoices):
    VISIBLE = "visible", "Visible"
    AFTER_DUE_DATE = "after_due_date", "After the due date"
    AFTER_PUBLISHED = "after_published", "After grades are published"
    HIDDEN = "hidden", "Hidden from students"


class TestResult(models.Model):
    __test__ = False  # pytest: a model, not a test class
    job = models.ForeignKey(GradingJob, on_delete=models.CASCADE, related_name="tests")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    score = models.DecimalField(max_digits=10, decimal_places=4)
    max_score = models.DecimalField(max_digits=10, decimal_places=4)
    status = models.CharField(max_length=16, choices=TestStatus.choices)
    visibility = models.CharField(max_length=20, choices=Visibility.choices)
    output = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "name"], name="test_name_unique_per_job"),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.score}/{self.max_score}"


# Rubrics: the other way work turns into points, for work that staff judge.


class Rubric(models.Model):
    """How staff score one kind of work: criteria, each with levels or a free range of points."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="rubrics")
    slug = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    items = models.ManyToManyField(
        GradeItem,
        blank=True,
        related_name="rubrics",
        help_text="The graded items this rubric scores (presentation roles name their own).",
    )

    class Meta:
        ordering = ["course", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="rubric_slug_unique_in_course"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def max_points(self) -> Decimal:
        return sum((criterion.max_points for criterion in self.criteria.all()), Decimal(0))


class Criterion(models.Model):
    """One thing a rubric judges. With levels, the grader picks one; without, the grader gives
    any points from 0 to ``max_points``."""

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    max_points = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="With levels: the highest level's points.",
    )

    class Meta:
        ordering = ["rubric", "position", "pk"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(
                fields=["rubric", "title"], name="criterion_title_unique_in_rubric"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.max_points})"


class Level(models.Model):
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=100, help_text="e.g. Excellent")
    points = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["criterion", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["criterion", "title"], name="level_title_unique_in_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.points})"


class Consensus(models.TextChoices):
    AVERAGE = "average", "The graders' evaluations are averaged"
    FINAL = "final", "The final grader's evaluation counts"


class RubricPolicy(models.Model):
    """A course's rules for rubric grading: how two graders' evaluations combine, when they
    disagree, and what students see."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="rubric_policy")
    consensus = models.CharField(
        max_length=16, choices=Consensus.choices, default=Consensus.AVERAGE
    )
    final_grader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose evaluation counts in 'final' mode; empty: the course's instructors'.",
    )
    disagreement_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(10),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Graders disagree when their totals differ by more than this percent of the "
        "rubric's points.",
    )
    show_grader_names = models.BooleanField(
        default=False, help_text="Students see who evaluated their work."
    )

    class Meta:
        verbose_name_plural = "rubric policies"

    def __str__(self) -> str:
        return f"rubric policy of {self.course.slug}"


class RubricEvaluation(models.Model):
    """One grader's evaluation of one piece of work with a rubric.

    ``subject`` names the work with an opaque string that the layer above interprets, as a
    grading job's does: ``student:7`` (a student's midterm), ``group:3`` (a project group's
    deliverable), ``review:12``, ``role:5`` (a presentation role's group).
    """

    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="evaluations")
    item = models.ForeignKey(GradeItem, on_delete=models.CASCADE, related_name="evaluations")
    subject = models.CharField(max_length=64)
    grader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluations"
    )
    comment = models.TextField(blank=True)
    points = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="The sum of the criteria's points."
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "subject", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "subject", "grader"], name="one_evaluation_per_grader"
            ),
        ]
        indexes = [models.Index(fields=["item", "subject"])]

    def __str__(self) -> str:
        return f"{self.subject} on {self.item} by {self.grader}: {self.points}"


class CriterionMark(models.Model):
    """What a grader chose for one criterion: a level (its points) or free points, and why."""

    evaluation = models.ForeignKey(RubricEvaluation, on_delete=models.CASCADE, related_name="marks")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    points = models.DecimalField(max_digits=8, decimal_places=2)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["evaluation", "criterion__position", "criterion__pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "criterion"], name="one_mark_per_criterion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.title}: {self.points}"


class MemberAdjustment(models.Model):
    """Points added to (or taken from) one member's share of a group's work, with the reason:
    a presenter who did more or less than their group, a project member the peer survey flags."""

    item = models.ForeignKey(GradeItem, on_delete=models.CASCADE, related_name="adjustments")
    subject = models.CharField(max_length=64)
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    points = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="Added to the group's points; negative takes off."
    )
    reason = models.CharField(max_length=300)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    adjusted_at = models.DateTimeField()

    class Meta:
        ordering = ["item", "subject", "student"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "subject", "student"], name="one_adjustment_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.subject}: {self.points:+} ({self.reason})"

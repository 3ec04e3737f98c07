"""Grading's records: versioned autograder bundles, grading jobs with their lease, test results.

Grading knows nothing of hand-ins: a job names what it grades with an opaque ``subject`` (for
example ``submission:42``) that the layer above interprets, and an ``owner`` (``student:7`` or
``group:3``) so that a newer hand-in of the same owner supersedes an older one still queued.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from coursesite.models import GradeItem


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

"""API tokens: kept only as a hash, with an expiry, and either personal or a read-only export
token scoped to one course's gradebook."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from coursesite.models.course import Course


class TokenScope(models.TextChoices):
    PERSONAL = "personal", "Everything its owner may do"
    GRADEBOOK_EXPORT = "gradebook_export", "Read one course's gradebook"


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for.")
    # sha256 of the key; the key itself is shown once, when the token is made.
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="The key's first characters.")
    scope = models.CharField(max_length=20, choices=TokenScope.choices, default=TokenScope.PERSONAL)
    course = models.ForeignKey(
        Course,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The course an export token reads.",
    )
    # The owner's session hash when the token was made: a password change invalidates it.
    password_hash = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="personal", course__isnull=True)
                | models.Q(scope="gradebook_export", course__isnull=False),
                name="export_token_names_its_course",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… of {self.user} ({self.get_scope_display()})"

"""A course and its people: staff, students and the students' project groups."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as 'Europe/Istanbul'")


class Course(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    code = models.CharField(
        max_length=64, help_text="The university's course code, e.g. COMP441/541."
    )
    title = models.CharField(max_length=200)
    term = models.CharField(max_length=64, help_text="e.g. Fall 2024")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    starts_on = models.DateField()
    ends_on = models.DateField()
    textbook = models.CharField(max_length=300, blank=True)
    group_size_min = models.PositiveSmallIntegerField(default=2, validators=[MinValueValidator(1)])
    group_size_max = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    groups_locked_at = models.DateTimeField(
        null=True, blank=True, help_text="After this moment only staff change project groups"
    )
    regrade_window_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days after an item's release during which students may ask a regrade."
    )
    tas_release = models.BooleanField(
        "TAs release scores",
        default=True,
        help_text="TAs may release an item's scores to students (instructors always may).",
    )
    tas_grant_extensions = models.BooleanField(
        "TAs grant extensions",
        default=True,
        help_text="TAs may grant and revoke extensions (instructors always may).",
    )

    class Meta:
        ordering = ["-starts_on", "slug"]

    def __str__(self) -> str:
        return f"{self.code} {self.term}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The term ends before it starts."})
        if self.group_size_max < self.group_size_min:
            raise ValidationError(
                {"group_size_max": "The largest group is smaller than the smallest."}
            )

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def term_bounds(self) -> tuple[datetime, datetime]:
        """The first and the last instant of the term, in the course's time zone."""
        return (
            datetime.combine(self.starts_on, time.min, tzinfo=self.tz),
            datetime.combine(self.ends_on, time.max, tzinfo=self.tz),
        )


class Role(models.TextChoices):
    INSTRUCTOR = "instructor", "Instructor"
    TA = "ta", "Teaching assistant"
    STUDENT = "student", "Student"


STAFF_ROLES = (Role.INSTRUCTOR, Role.TA)


class Membership(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    section = models.CharField(max_length=32, blank=True)
    sis_user_id = models.CharField("SIS user id", max_length=64, blank=True)
    sis_login_id = models.CharField("SIS login id", max_length=128, blank=True)
    active = models.BooleanField(
        default=True,
        help_text="Off for a student who dropped the course: kept, with their work and scores, "
        "but no longer on the roster the LMS sends.",
    )

    class Meta:
        ordering = ["course", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="one_membership_per_course"),
        ]
        indexes = [models.Index(fields=["course", "role"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.course.slug})"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES


class ProjectGroup(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="project_groups")
    name = models.CharField(max_length=100)
    title = models.CharField(max_length=300, blank=True, help_text="The project's title.")
    abstract = models.TextField(blank=True, help_text="What the project sets out to do.")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="GroupMembership", related_name="project_groups"
    )

    class Meta:
        ordering = ["course", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="group_name_unique_in_course"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(models.Model):
    # The course is repeated here so that the database itself keeps a student in one group.
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(
        ProjectGroup, on_delete=models.CASCADE, related_name="group_memberships"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="one_group_per_student"),
        ]

    def __str__(self) -> str:
        return f"{self.student} in {self.group}"


class InvitationState(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class GroupInvitation(models.Model):
    """A student's invitation to another student to join their project group."""

    group = models.ForeignKey(ProjectGroup, on_delete=models.CASCADE, related_name="invitations")
    invited = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=16, choices=InvitationState.choices, default=InvitationState.PENDING
    )
    responded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the invitation stopped being pending"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Answered invitations stay as history, so only an open one is unique.
            models.UniqueConstraint(
                fields=["group", "invited"],
                condition=models.Q(state="pending"),
                name="one_pending_invitation_per_group_and_student",
            ),
        ]
        indexes = [models.Index(fields=["invited", "state"])]

    def __str__(self) -> str:
        return f"{self.invited} to {self.group} ({self.get_state_display()})"

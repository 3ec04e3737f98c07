from __future__ import annotations

from django.conf import settings
from django.db import models
from lti_tool.models import LtiContext

from coursesite.models import Course


class CourseLink(models.Model):
    """An LMS course (an LTI context of one deployment) is this coursesite course. Made once, by
    a member of the course's staff, at the first launch from the LMS course; launches from an
    unlinked context reach no course."""

    context = models.OneToOneField(LtiContext, on_delete=models.CASCADE, related_name="course_link")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lms_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField()
    post_final_grade = models.BooleanField(
        default=True,
        help_text="Post the course total (the gradebook's current percent) to the LMS as a "
        "gradebook column of its own, beside the released items.",
    )

    class Meta:
        ordering = ["course", "linked_at"]

    def __str__(self) -> str:
        return f"{self.context} -> {self.course.slug}"

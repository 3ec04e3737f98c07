"""Registrations, deployments, contexts, users and keys are django-lti's (``lti_tool``); these
models say what they mean to the course: which coursesite course an LMS course is, which line item
a GradeItem posts to, what was sent and what the LMS answered."""

from lms.models.links import CourseLink
from lms.models.passback import LineItemLink, RosterSync, ScoreSent

__all__ = ["CourseLink", "LineItemLink", "RosterSync", "ScoreSent"]

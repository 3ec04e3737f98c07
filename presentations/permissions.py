"""Who may reach the papers of a course. An outsider gets the same 404 for a paper of a course
that exists as for one that does not (``coursesite.permissions.access_course``).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404

from coursesite.models import Course, Membership
from coursesite.permissions import access_course
from presentations.models import Paper


def access_paper(
    user: User | AnonymousUser, course_slug: str, paper_key: str
) -> tuple[Course, Membership | None, Paper]:
    """A paper of a course the user belongs to, with its review item; 404 for anything else."""
    course, membership = access_course(user, course_slug)
    paper = Paper.objects.select_related("review_item").filter(course=course, key=paper_key).first()
    if paper is None:
        raise Http404
    paper.course = course
    return course, membership, paper

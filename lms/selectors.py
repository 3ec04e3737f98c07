"""Reads of the LMS link: who a launch's user is on a course's roster, which courses a member of
staff may link an LMS course to, and the course an LMS course is linked to."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from lti_tool.models import LtiContext

from coursesite.models import Course, Membership
from coursesite.models.course import STAFF_ROLES
from lms.models import CourseLink


@dataclass(frozen=True)
class LmsPerson:
    """Who the LMS says launched: the ids a roster can be matched on. ``tied_user_id`` is the
    coursesite user an earlier launch of the same LMS user was matched to."""

    email: str
    sis_id: str
    tied_user_id: int | None


def roster_membership(*, course: Course, person: LmsPerson) -> Membership | None:
    """The course's membership (active or not) that the LMS user is, or None.

    The SIS id (``lis.person_sourcedid`` against ``Membership.sis_user_id``) is tried first: it is
    the university's own id for the person. Then the email, case-insensitively, unless the member
    found has another SIS id than the launch sends (two people sharing an address). Then the user
    an earlier launch was matched to. A match that is not one membership alone matches nobody.
    """
    memberships = Membership.objects.select_related("user", "course").filter(course=course)
    if person.sis_id:
        found = list(memberships.filter(sis_user_id=person.sis_id)[:2])
        if len(found) == 1:
            return found[0]
    if person.email:
        found = list(memberships.filter(user__email__iexact=person.email)[:2])
        if len(found) == 1 and (not person.sis_id or found[0].sis_user_id in ("", person.sis_id)):
            return found[0]
    if person.tied_user_id is not None:
        return memberships.filter(user_id=person.tied_user_id).first()
    return None


def linkable_memberships(*, person: LmsPerson) -> list[Membership]:
    """The active staff memberships (instructor or TA) the LMS user holds, one per course, each
    found the way ``roster_membership`` finds a member: the courses they may link an LMS course
    to."""
    matches = Q(pk__in=[])
    if person.sis_id:
        matches |= Q(sis_user_id=person.sis_id)
    if person.email:
        matches |= Q(user__email__iexact=person.email)
    if person.tied_user_id is not None:
        matches |= Q(user_id=person.tied_user_id)
    candidates = Course.objects.filter(
        pk__in=Membership.objects.filter(matches, role__in=STAFF_ROLES, active=True).values(
            "course_id"
        )
    ).order_by("-starts_on", "slug")
    found = []
    for course in candidates:
        membership = roster_membership(course=course, person=person)
        if membership is not None and membership.is_staff_role and membership.active:
            found.append(membership)
    return found


def course_link_of(*, context: LtiContext) -> CourseLink | None:
    """The link of an LMS course to its coursesite course, if it has been linked."""
    return CourseLink.objects.select_related("course").filter(context=context).first()


@dataclass(frozen=True)
class ItemPage:
    """A graded item of a course with the kind of page it has (no kind: no page of its own)."""

    slug: str
    title: str
    kind: str
    pk: int | None


# GradeItem's reverse one-to-one relations that give an item a page, most specific first, named
# here so that this layer never imports the apps that own them.
PAGE_KINDS = ("assignment", "deliverable", "quiz")


def item_pages(*, course: Course, slug: str | None = None) -> list[ItemPage]:
    """The course's graded items (or the one with ``slug``) with the kind of their page, in the
    gradebook's order. One query."""
    items = course.items.all()
    if slug is not None:
        items = items.filter(slug=slug)
    rows = items.values("slug", "title", *(f"{kind}__pk" for kind in PAGE_KINDS))
    pages = []
    for row in rows:
        kind = next((kind for kind in PAGE_KINDS if row[f"{kind}__pk"] is not None), "")
        pages.append(
            ItemPage(row["slug"], row["title"], kind, row[f"{kind}__pk"] if kind else None)
        )
    return pages

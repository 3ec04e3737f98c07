"""Who a launch lets in, and as whom. The LMS says who launched; the course's roster says what they
may do: a launch never grants more than the roster, whatever roles the LMS sends.

A refusal is a ``LaunchRefused``: the launch pages show it as a page that says what happened and
what to do, with its HTTP status.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from lti_tool.constants import SESSION_KEY
from lti_tool.models import LtiLaunch, LtiUser
from lti_tool.utils import get_launch_from_request
from pylti1p3.exception import LtiException

from coursesite.models import Course, Membership
from lms.models import CourseLink
from lms.selectors import LmsPerson, linkable_memberships, roster_membership

LIS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lis"


class LaunchRefused(Exception):
    """A launch, or a step after it, that coursesite turns down: ``title`` and ``message`` are
    what the person at the keyboard reads."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


NOT_LINKED = LaunchRefused(
    403,
    "This LMS course is not linked yet",
    "This LMS course is not linked to a coursesite course yet. Ask your instructor: the first "
    "time an instructor or TA of the course opens coursesite from the LMS, they link it.",
)


def lms_person(lti_launch: LtiLaunch) -> LmsPerson:
    """The ids the launch gives its user by: email, SIS id and the coursesite user an earlier
    launch tied them to. The launch's data was synced, so its LtiUser exists."""
    lis = lti_launch.get_claim(LIS_CLAIM) or {}
    lti_user: LtiUser = lti_launch.user
    return LmsPerson(
        email=str(lti_launch.get_claim("email") or "").strip(),
        sis_id=str(lis.get("person_sourcedid") or "").strip(),
        tied_user_id=lti_user.auth_user_id,
    )


def access_launch(request: HttpRequest, *, deep_link: bool = False) -> LtiLaunch:
    """The launch this browser came with, kept for the pages that follow it (linking the course,
    placing links); ``deep_link`` asks for a deep-linking launch."""
    launch_id = request.session.get(SESSION_KEY)
    if not launch_id:
        raise LaunchRefused(
            400,
            "Open coursesite from your LMS",
            "This page continues a launch from your LMS, and this browser has none under way. "
            "Open coursesite again from the LMS course.",
        )
    try:
        lti_launch = get_launch_from_request(request, launch_id)
    except LtiException:
        raise LaunchRefused(
            400,
            "This launch has expired",
            "The launch from your LMS is too old to go on with. Open coursesite again from the "
            "LMS course.",
        ) from None
    if deep_link and not lti_launch.is_deep_link_launch:
        raise LaunchRefused(
            400,
            "Not a launch to place content",
            "Links are placed in the LMS from its own “add content” screen, which opens this page.",
        )
    return lti_launch


def access_linkable_courses(lti_launch: LtiLaunch) -> list[Membership]:
    """The staff memberships of the courses the launch's user may link the LMS course to;
    anyone who is staff of none is told to ask their instructor."""
    memberships = linkable_memberships(person=lms_person(lti_launch))
    if not memberships:
        raise NOT_LINKED
    return memberships


def access_link_course(lti_launch: LtiLaunch, course_id: str) -> Membership:
    """The launch's user's staff membership of the course they chose to link the LMS course to."""
    for membership in access_linkable_courses(lti_launch):
        if str(membership.course_id) == course_id:
            return membership
    raise LaunchRefused(
        403,
        "You cannot link this course",
        "Choose one of the courses listed: an LMS course is linked to a course you teach.",
    )


def access_member(lti_launch: LtiLaunch, link: CourseLink, *, staff: bool = False) -> Membership:
    """The roster's membership of the launch's user in the linked course; with ``staff``, an
    instructor's or TA's. Someone the roster does not list, or lists as dropped, gets nothing."""
    course: Course = link.course
    membership = roster_membership(course=course, person=lms_person(lti_launch))
    if membership is None:
        raise LaunchRefused(
            403,
            "You are not on this course's roster",
            f"coursesite does not list you in {course.code} {course.title} ({course.term}). It "
            "matches you by your university email or SIS id; if you are enrolled, ask the course "
            "staff to add you.",
        )
    user: User = membership.user
    if not membership.active or not user.is_active:
        raise LaunchRefused(
            403,
            "You are no longer on this course's roster",
            f"coursesite lists you as no longer taking {course.code} {course.title}. If that is "
            "wrong, ask the course staff.",
        )
    if staff and not membership.is_staff_role:
        raise LaunchRefused(
            403,
            "Only the course staff place links",
            f"Placing coursesite pages in the LMS course is for the instructors and TAs of "
            f"{course.code} {course.title}.",
        )
    return membership

"""The demo semester's LMS: the demo course linked to an LMS course, as an administrator and the
instructor would have set it up, so that the course's LMS page has something to show.

What is set up
    The tool's signing key (when it has no active one, as ``manage.py rotate_keys`` makes it),
    a registration of an example LMS under ``https://lms.example.invalid/`` with its deployment
    switched on, the LMS course with the roster and line items URLs a launch would have given,
    and its link to the demo course, made by the course's instructor.
Nothing pretends
    That LMS does not exist, so nothing is said to have come from it or gone to it: no launch,
    no LMS user, no roster sync, no line item, no score sent. On the LMS page every released
    item is a column not sent yet; a roster dry run or "send grades now" reaches no LMS and
    shows the error, as it would for a real LMS that is down.
Running it again
    Each piece is made only when it is not there, and what is there is left as it is: an
    administrator who switched the registration off, or moved the link, keeps it so.
"""

from __future__ import annotations

from lti_tool.models import Key, LtiContext, LtiDeployment, LtiRegistration

from coursesite.demo import DemoPlayer, DemoSemester
from coursesite.models import Membership, Role
from lms.models import CourseLink
from lms.services import course_link_create

LMS = "https://lms.example.invalid"
REGISTRATION_NAME = "Example LMS (demo registration)"
CLIENT_ID = "coursesite-demo"
DEPLOYMENT_ID = "demo-deployment-1"
CONTEXT_ID = "comp541-fall2024"
CONTEXT_TITLE = "COMP541 Fall 2024 (LMS course)"
CONTEXT_LABEL = "COMP541"


def demo_registration() -> tuple[LtiRegistration, bool]:
    """The example LMS's registration, made if it is not there; and whether it was made."""
    registration = LtiRegistration.objects.filter(issuer=LMS, client_id=CLIENT_ID).first()
    if registration is not None:
        return registration, False
    registration = LtiRegistration(
        name=REGISTRATION_NAME,
        issuer=LMS,
        client_id=CLIENT_ID,
        auth_url=f"{LMS}/lti/authorize",
        token_url=f"{LMS}/lti/token",
        keyset_url=f"{LMS}/lti/jwks",
        is_active=True,
    )
    registration.full_clean()
    registration.save()
    return registration, True


def demo_context(deployment: LtiDeployment) -> LtiContext:
    """The LMS course, with the service URLs a launch from it would have given."""
    context = LtiContext.objects.filter(deployment=deployment, id_on_platform=CONTEXT_ID).first()
    if context is not None:
        return context
    course_url = f"{LMS}/api/lti/courses/{CONTEXT_ID}"
    context = LtiContext(
        deployment=deployment,
        id_on_platform=CONTEXT_ID,
        title=CONTEXT_TITLE,
        label=CONTEXT_LABEL,
        memberships_url=f"{course_url}/names_and_roles",
        lineitems_url=f"{course_url}/line_items",
    )
    context.full_clean()
    context.save()
    return context


class LmsPlayer(DemoPlayer):
    """The LMS set up for the demo course (see the module doc)."""

    key = "lms"

    def play(self, semester: DemoSemester) -> list[str]:
        lines = []
        if not Key.objects.active().exists():
            Key.objects.generate()
            lines.append("The LTI tool's signing key made")
        registration, made = demo_registration()
        if made:
            lines.append(f"{REGISTRATION_NAME} registered, at {LMS}/ (an LMS that does not exist)")
        deployment, _ = LtiDeployment.objects.get_or_create(
            registration=registration, deployment_id=DEPLOYMENT_ID, defaults={"is_active": True}
        )
        context = demo_context(deployment)
        if CourseLink.objects.filter(context=context).exists():
            return lines
        instructor = (
            Membership.objects.filter(
                course=semester.course, role=Role.INSTRUCTOR, active=True, user__is_active=True
            )
            .select_related("user")
            .order_by("user__username")
            .first()
        )
        if instructor is None:
            return lines
        course_link_create(context=context, course=semester.course, linked_by=instructor.user)
        lines.append(
            f"The LMS course “{CONTEXT_TITLE}” linked to {semester.course.code} by "
            f"{instructor.user.username}: its roster sync and grade sends fail, as the example "
            "LMS does not answer"
        )
        return lines

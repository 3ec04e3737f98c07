"""The tool's endpoints for the LMS and the pages that follow a launch.

A launch goes: the LMS asks ``/lti/login/`` to start (OIDC login initiation); the tool sends the
browser to the LMS's authorization URL with a state (a cookie) and a nonce; the LMS posts back a
signed id_token to ``/lti/launch/``. A launch that passes every check is then matched to the
roster of the coursesite course its LMS course is linked to, and its user logged in as that
member and sent to the page the link names.

The launch arrives as a cross-site POST: it is exempt from CSRF checks (the signed id_token is
its proof), and the site's session and CSRF cookies (SameSite=Lax) are not sent with it but are
set by its answer, which is enough for the pages that follow in the same window. coursesite is
never framed (its pages forbid it), so the LMS opens it in a window of its own.

A refused launch changes nothing of coursesite: the data django-lti keeps of a launch (its LMS
user, course, membership and resource link) is written in the same transaction as the launch's
decision and rolled back with a refusal. PyLTI1p3 records a deployment id it has not seen before
(inactive, for an administrator to switch on) before anything else runs; that row stays.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONCE
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lti_tool.constants import SESSION_KEY
from lti_tool.models import LtiLaunch
from lti_tool.utils import DjangoToolConfig, get_launch_from_request, sync_data_from_launch
from lti_tool.views import LtiLaunchBaseView, OIDCLoginInitView
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoOIDCLogin
from pylti1p3.exception import LtiException, OIDCException

from lms.deep_links import (
    TARGET_PARAMETER,
    Placeable,
    deep_link_resources,
    placeables,
    target_path,
)
from lms.launch.checks import audience_check, nonce_spend, refusal_of
from lms.permissions import (
    NOT_LINKED,
    LaunchRefused,
    access_launch,
    access_link_course,
    access_linkable_courses,
    access_member,
)
from lms.selectors import course_link_of
from lms.services import course_link_create, lti_user_tie

DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


def launch_backend() -> str:
    """The site's authentication backend a launch logs its user in with: the first that is not
    django-axes' (axes counts password failures, and the LMS, not a password, identified the
    user). The backend must be one of the site's, or the session would not be honoured."""
    return next(path for path in settings.AUTHENTICATION_BACKENDS if not path.startswith("axes."))


def refused_page(request: HttpRequest, refusal: LaunchRefused) -> HttpResponse:
    return render(request, "lms/refused.html", {"refusal": refusal}, status=refusal.status)


class LoginView(OIDCLoginInitView):
    """The LMS's OIDC login initiation: answered with a redirect to its authorization URL.

    The answer always names this tool's launch URL as the redirect URI, whatever target the LMS
    sends, so a launch can only ever come back here. No cookie-check page is shown first: it runs
    an inline script, which the site's Content Security Policy forbids.
    """

    def get_redirect_url(self, target_link_uri: str) -> str:
        return self.request.build_absolute_uri(reverse("lti-launch"))

    def get_oidc_response(
        self, request: HttpRequest, registration_uuid: Any, params: Any
    ) -> HttpResponse:
        if not params.get("target_link_uri"):
            return refused_page(
                request,
                LaunchRefused(400, "Not a launch", "The LMS's request names no target link."),
            )
        oidc_login = DjangoOIDCLogin(
            request,
            DjangoToolConfig(registration_uuid),
            launch_data_storage=DjangoCacheDataStorage(),
        )
        try:
            return oidc_login.disable_check_cookies().redirect(
                self.get_redirect_url(params["target_link_uri"])
            )
        except (LtiException, OIDCException) as error:
            return refused_page(request, refusal_of(error))


@method_decorator(csrf_exempt, name="dispatch")
class LaunchView(LtiLaunchBaseView):
    """The launch: the id_token checked, then the LMS user matched to the linked course's roster.

    Whoever was logged in in this browser is logged out first: a launch speaks for the person
    the LMS says is at the keyboard now.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        logout(request)
        try:
            lti_launch = get_launch_from_request(request)
            audience_check(lti_launch)
            nonce_spend(lti_launch)
            if not lti_launch.deployment.is_active:
                return self.handle_inactive_deployment(request, lti_launch)
            with transaction.atomic():
                sync_data_from_launch(lti_launch)
                if lti_launch.is_resource_launch:
                    return self.handle_resource_launch(request, lti_launch)
                if lti_launch.is_deep_link_launch:
                    return self.handle_deep_linking_launch(request, lti_launch)
                raise LaunchRefused(
                    400,
                    "coursesite does not answer this kind of launch",
                    "coursesite opens course pages and places links to them; open it from a "
                    "link in the LMS course.",
                )
        except (LtiException, OIDCException) as error:
            return refused_page(request, refusal_of(error))
        except LaunchRefused as refusal:
            return refused_page(request, refusal)

    def handle_inactive_deployment(
        self, request: HttpRequest, lti_launch: LtiLaunch
    ) -> HttpResponse:
        deployment_id = lti_launch.deployment.deployment_id
        raise LaunchRefused(
            403,
            "coursesite is not switched on for this LMS deployment",
            f"The LMS launched coursesite from deployment “{deployment_id}”, which coursesite "
            "does not have as active. An administrator switches it on in the instructor panel, "
            "under LTI registrations.",
        )

    def handle_resource_launch(self, request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
        return launch_continue(request, lti_launch)

    def handle_deep_linking_launch(
        self, request: HttpRequest, lti_launch: LtiLaunch
    ) -> HttpResponse:
        return launch_continue(request, lti_launch)


def launch_continue(request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
    """Take a checked launch on: to the linking page from an LMS course not linked yet, to the
    page placing links for a deep-linking launch, to the target page for a resource launch.

    The launch is kept in the session for the pages that continue it.
    """
    if not (lti_launch.context_claim or {}).get("id"):
        raise LaunchRefused(
            400,
            "Open coursesite from an LMS course",
            "coursesite pages belong to a course: open coursesite from a link in the LMS course.",
        )
    link = course_link_of(context=lti_launch.context)
    if link is None:
        access_linkable_courses(lti_launch)
        request.session[SESSION_KEY] = lti_launch.get_launch_id()
        return redirect("lti-link")
    deep_link = lti_launch.is_deep_link_launch
    membership = access_member(lti_launch, link, staff=deep_link)
    lti_user_tie(lti_user=lti_launch.user, user=membership.user)
    login(request, membership.user, backend=launch_backend())
    if deep_link:
        request.session[SESSION_KEY] = lti_launch.get_launch_id()
        return redirect("lti-deep-link")
    request.session.pop(SESSION_KEY, None)
    target = lti_launch.get_custom_claim(TARGET_PARAMETER)
    return redirect(target_path(course=link.course, target=target, staff=membership.is_staff_role))


@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest) -> HttpResponse:
    """The first launch from an LMS course by a member of staff: which of their courses it is."""
    try:
        lti_launch = access_launch(request)
        context = lti_launch.context
        if course_link_of(context=context) is not None:
            return launch_continue(request, lti_launch)
        memberships = access_linkable_courses(lti_launch)
        if request.method == "POST":
            chosen = access_link_course(lti_launch, request.POST.get("course", ""))
            try:
                link = course_link_create(
                    context=context, course=chosen.course, linked_by=chosen.user
                )
            except ValidationError:
                return launch_continue(request, lti_launch)
            messages.success(
                request,
                f"“{context.title or context.id_on_platform}” in the LMS is now linked to "
                f"{link.course.code} {link.course.title} ({link.course.term}).",
            )
            return launch_continue(request, lti_launch)
    except LaunchRefused as refusal:
        return refused_page(request, refusal)
    return render(request, "lms/link.html", {"context": context, "memberships": memberships})


def deep_linking_settings(lti_launch: LtiLaunch) -> dict[str, Any]:
    """The LMS's settings for the links it asks for; refused where it takes no resource links or
    sends them back to something other than a web address."""
    asked = lti_launch.get_claim(DEEP_LINKING_SETTINGS) or {}
    return_url = str(asked.get("deep_link_return_url") or "")
    if "ltiResourceLink" not in (asked.get("accept_types") or []) or urlsplit(
        return_url
    ).scheme not in ("http", "https"):
        raise LaunchRefused(
            400,
            "The LMS takes no links from coursesite here",
            "This place in the LMS does not accept links to a tool's pages.",
        )
    return asked


def deep_link_return(
    request: HttpRequest, lti_launch: LtiLaunch, chosen: list[Placeable], return_url: str
) -> HttpResponse:
    """The signed answer of a deep-linking launch, posted to the LMS by the browser. The launch
    is spent: it places no more links."""
    launch_url = request.build_absolute_uri(reverse("lti-launch"))
    resources = deep_link_resources(chosen=chosen, launch_url=launch_url)
    token = lti_launch.get_message_launch().get_deep_link().get_response_jwt(resources)
    request.session.pop(SESSION_KEY, None)
    response = render(
        request,
        "lms/deep_link_return.html",
        {"return_url": return_url, "jwt": token, "chosen": chosen},
    )
    # This one page posts a form to the LMS, by a script of its own.
    return_origin = "{0.scheme}://{0.netloc}".format(urlsplit(return_url))
    response._csp_update = {  # type: ignore[attr-defined]
        "form-action": [return_origin],
        "script-src": [NONCE],
    }
    return response


@require_http_methods(["GET", "POST"])
def deep_link_page(request: HttpRequest) -> HttpResponse:
    """Staff pick the coursesite pages to place in the LMS course; the answer is posted back to
    the LMS, signed with the tool's key."""
    try:
        lti_launch = access_launch(request, deep_link=True)
        link = course_link_of(context=lti_launch.context)
        if link is None:
            raise NOT_LINKED
        membership = access_member(lti_launch, link, staff=True)
        if request.user.pk != membership.user_id:
            raise LaunchRefused(
                403,
                "Open coursesite from your LMS",
                "This browser is no longer logged in as the person who opened this page from "
                "the LMS. Open it again from the LMS course.",
            )
        asked = deep_linking_settings(lti_launch)
    except LaunchRefused as refusal:
        return refused_page(request, refusal)
    choices = placeables(course=link.course)
    multiple = asked.get("accept_multiple") in (True, "true")
    error = ""
    if request.method == "POST":
        wanted = request.POST.getlist("target")
        chosen = [choice for choice in choices if choice.target in wanted]
        if not chosen:
            error = "Choose what to place in the LMS course."
        elif len(chosen) > 1 and not multiple:
            error = "This place in the LMS takes one link: choose one."
        else:
            return deep_link_return(request, lti_launch, chosen, asked["deep_link_return_url"])
    return render(
        request,
        "lms/deep_link.html",
        {
            "course": link.course,
            "choices": choices,
            "multiple": multiple,
            "error": error,
            "title": asked.get("title") or "",
        },
        status=400 if error else 200,
    )

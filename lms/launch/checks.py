"""What coursesite checks of a launch beyond what PyLTI1p3 checks.

PyLTI1p3 checks the OIDC state, the id_token's signature against the platform's key set, its
expiry, that its nonce is one this tool handed out, the registration (issuer and client id, active
only) and the message's claims. It does not spend the nonce: the same id_token and state posted
twice would pass twice. Here each nonce is spent once, the audience is checked as OpenID Connect
says, and PyLTI1p3's reasons for a refusal are turned into words for the person at the keyboard.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from lti_tool.models import LtiLaunch
from pylti1p3.exception import LtiException, OIDCException

from lms.permissions import LaunchRefused

# PyLTI1p3 keeps a nonce it handed out for a day: a spent nonce is remembered as long.
NONCE_SPENT_SECONDS = 24 * 60 * 60


def nonce_spend(lti_launch: LtiLaunch) -> None:
    """Spend the launch's nonce; a launch whose nonce was spent is a replay.

    ``cache.add`` is atomic (Redis SET NX in production), so two posts of one id_token at the same
    moment cannot both get through. Processes that serve launches must share the cache.
    """
    issuer = str(lti_launch.get_claim("iss"))
    nonce = str(lti_launch.get_claim("nonce"))
    key = "lms:nonce-spent:" + hashlib.sha256(f"{issuer}\n{nonce}".encode()).hexdigest()
    if not cache.add(key, True, NONCE_SPENT_SECONDS):
        raise LaunchRefused(
            400,
            "This launch was already used",
            "A launch from the LMS can be used once, and this one was. Open coursesite again "
            "from the LMS course.",
        )


def audience_check(lti_launch: LtiLaunch) -> None:
    """The id_token is meant for this tool: its client id is an audience, and where the token has
    several audiences, the one it was issued to (``azp``)."""
    client_id = lti_launch.registration.client_id
    audience = lti_launch.get_claim("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if client_id not in audiences or (
        len(audiences) > 1 and lti_launch.get_claim("azp") != client_id
    ):
        raise LaunchRefused(
            400,
            "This launch was meant for another tool",
            "The LMS's message names another tool as its audience. Open coursesite again from "
            "the LMS course; if it happens again, tell the course staff.",
        )


def refusal_of(error: LtiException | OIDCException) -> LaunchRefused:
    """PyLTI1p3's reason for refusing a launch or a login, as a page for a person."""
    reason = str(error)
    if "Registration not found" in reason or "registration details" in reason:
        return LaunchRefused(
            403,
            "This LMS is not registered with coursesite",
            "coursesite has no active registration of this LMS (its issuer and client id). An "
            "administrator registers it, or switches its registration back on, in the instructor "
            "panel under LTI registrations.",
        )
    if "State not found" in reason or "Missing state" in reason:
        return LaunchRefused(
            400,
            "The launch could not be continued",
            "This browser did not keep coursesite's launch cookie, or the launch took too long. "
            "Open coursesite again from the LMS; if it happens again, let the LMS open coursesite "
            "in a new window.",
        )
    if "Nonce" in reason:
        return LaunchRefused(
            400,
            "This launch was already used or is too old",
            "Open coursesite again from the LMS course.",
        )
    if "expired" in reason:
        return LaunchRefused(
            400,
            "This launch has expired",
            "The LMS's message is too old to be trusted. Open coursesite again from the LMS "
            "course; if it happens again, check the clocks of the LMS and of coursesite.",
        )
    return LaunchRefused(
        400,
        "The launch from the LMS could not be verified",
        f"coursesite could not verify the LMS's message ({reason}). Open coursesite again "
        "from the LMS course; if it happens again, tell the course staff.",
    )

"""Calls to the LMS's LTI Advantage services: Names and Role Provisioning (the roster) and
Assignment and Grade Services (line items and scores).

Every call carries an OAuth 2 bearer token that the LMS hands out for a JWT client assertion
(RFC 7523) signed with the tool's key; a token is kept in the cache, per registration and set of
scopes, until shortly before the LMS says it expires, and asked for once more when the LMS
refuses it early (401). Every request has a timeout, so a hung LMS never holds a worker.

pylti1p3's ``ServiceConnector`` signs the client assertion. Its own requests are not used: they
have no timeouts, keep tokens for the life of the object, and lower-case the ``Link`` header's
next-page URL, which breaks the case-sensitive page cursors some LMSes use. Its ``LineItem`` and
``Grade`` write the bodies of line items and scores.

A failed call raises ``LmsServiceError``: its ``transient`` says whether trying again later may
succeed (no answer at all, 429, 5xx) or not (any other 4xx, an answer that is not what the
service promises).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.cache import cache
from lti_tool.models import Key, LtiRegistration
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

# (connect, read) seconds: an LMS answers a roster page or a score in well under a second.
TIMEOUT = (5, 30)
# A token is dropped this many seconds before the LMS says it expires, so it never expires in
# flight.
TOKEN_MARGIN_SECONDS = 60
DEFAULT_TOKEN_SECONDS = 3600
# The most pages of a roster or of line items read in one call: a loop in an LMS's paging ends.
MAX_PAGES = 500

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_SCOPES = (LINEITEM_SCOPE, SCORE_SCOPE)

MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"

USER_AGENT = "coursesite-lti"


def unreachable(error: requests.RequestException) -> str:
    """What staff read when no answer came: the host and the kind of failure, not the whole
    chain of exceptions requests wraps it in."""
    host = urlsplit(error.request.url or "").hostname if error.request is not None else None
    where = f" at {host}" if host else ""
    if isinstance(error, requests.Timeout):
        return f"the LMS{where} did not answer in time."
    if isinstance(error, requests.ConnectionError):
        reason = "its name does not resolve" if "resolve" in str(error) else "no connection"
        return f"could not reach the LMS{where} ({reason})."
    return f"the request to the LMS{where} failed: {type(error).__name__}."


class LmsServiceError(Exception):
    """A call to the LMS failed. ``status`` is the HTTP status, or None when no answer came."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed later: no answer, too many requests, or 5xx."""
        return self.status is None or self.status == 429 or self.status >= 500


def retry_after_seconds(response: requests.Response) -> int | None:
    """The ``Retry-After`` of a 429 or 503 in seconds, when given as a number."""
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None


def answer_error(response: requests.Response, what: str) -> LmsServiceError:
    body = " ".join(response.text.split())[:300]
    return LmsServiceError(
        f"{what}: the LMS answered {response.status_code} {response.reason}"
        + (f": {body}" if body else ""),
        status=response.status_code,
        retry_after=retry_after_seconds(response),
    )


class TokenSigner(ServiceConnector):
    """The tool's side of the client-credentials grant, with the token kept in the cache."""

    def __init__(self, registration: LtiRegistration, session: requests.Session) -> None:
        try:
            signing = registration.to_registration()
        except Key.DoesNotExist as error:
            raise LmsServiceError(
                "The tool has no active key to sign with (manage.py rotate_keys)."
            ) from error
        super().__init__(signing, requests_session=session)
        self.lti_registration = registration
        self.session = session

    def cache_key(self, scopes: Sequence[str]) -> str:
        registration = self.lti_registration
        scope_hash = hashlib.sha256(" ".join(sorted(scopes)).encode()).hexdigest()[:24]
        url_hash = hashlib.sha256(registration.token_url.encode()).hexdigest()[:12]
        return f"lms:token:{registration.pk}:{url_hash}:{scope_hash}"

    def forget(self, scopes: Sequence[str]) -> None:
        cache.delete(self.cache_key(scopes))

    def get_access_token(self, scopes: Sequence[str]) -> str:
        key = self.cache_key(scopes)
        token = cache.get(key)
        if isinstance(token, str):
            return token
        registration = self.lti_registration
        now = int(time.time())
        claims: dict[str, str | int] = {
            "iss": registration.client_id,
            "sub": registration.client_id,
            "aud": registration.audience or registration.token_url,
            "iat": now - 5,
            "exp": now + 60,
            "jti": f"coursesite-{uuid.uuid4()}",
        }
        kid = self._registration.get_kid()
        private_key = self._registration.get_tool_private_key()
        if not private_key:
            raise LmsServiceError("The tool has no key to sign with (manage.py rotate_keys).")
        assertion = self.encode_jwt(claims, private_key, {"kid": kid} if kid else {})
        try:
            response = self.session.post(
                registration.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": (
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                    ),
                    "client_assertion": assertion,
                    "scope": " ".join(sorted(scopes)),
                },
                timeout=TIMEOUT,
            )
        except requests.RequestException as error:
            raise LmsServiceError(
                f"Asking the LMS for an access token: {unreachable(error)}"
            ) from error
        if not response.ok:
            raise answer_error(response, "Asking the LMS for an access token")
        body = json_body(response, "The LMS's access token")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise LmsServiceError("The LMS's token answer holds no access_token.")
        expires_in = body.get("expires_in", DEFAULT_TOKEN_SECONDS)
        lifetime = int(expires_in) if isinstance(expires_in, int | float) else DEFAULT_TOKEN_SECONDS
        if lifetime > TOKEN_MARGIN_SECONDS:
            cache.set(key, token, timeout=lifetime - TOKEN_MARGIN_SECONDS)
        return token


def json_body(response: requests.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise LmsServiceError(
            f"{what} is not JSON ({response.headers.get('Content-Type', 'no content type')}).",
            status=response.status_code,
        ) from error


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    next_url: str | None


class LmsClient:
    """The services of one LMS registration, called with tokens of that registration."""

    def __init__(self, registration: LtiRegistration) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.signer = TokenSigner(registration, self.session)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> LmsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        url: str,
        *,
        scopes: Sequence[str],
        what: str,
        accept: str,
        params: Mapping[str, str] | None = None,
        body: str | None = None,
        content_type: str | None = None,
        read_body: bool = True,
    ) -> Answer:
        """One request with a bearer token; a token the LMS refuses is replaced once. Without
        ``read_body`` the answer's body is not read (an LMS may answer a score with any text)."""
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self.signer.get_access_token(scopes)}",
                "Accept": accept,
            }
            if content_type:
                headers["Content-Type"] = content_type
            try:
                response = self.session.request(
                    method, url, params=params, data=body, headers=headers, timeout=TIMEOUT
                )
            except requests.RequestException as error:
                raise LmsServiceError(f"{what}: {unreachable(error)}") from error
            if response.status_code == 401 and attempt == 1:
                self.signer.forget(scopes)
                continue
            if not response.ok:
                raise answer_error(response, what)
            next_link = response.links.get("next", {}).get("url")
            parsed = json_body(response, what) if read_body and response.content else None
            return Answer(response.status_code, parsed, next_link or None)
        raise AssertionError("unreachable: the second attempt returns or raises")

    # Names and Role Provisioning Services

    def members(self, memberships_url: str) -> list[dict[str, Any]]:
        """Every member of the LMS course, following the ``Link: rel="next"`` pages."""
        members: list[dict[str, Any]] = []
        for body in self.pages(
            memberships_url,
            scopes=[NRPS_SCOPE],
            accept=MEMBERSHIP_CONTAINER,
            what="Reading the LMS roster",
        ):
            page = body.get("members") if isinstance(body, dict) else None
            if not isinstance(page, list) or not all(isinstance(m, dict) for m in page):
                raise LmsServiceError("The LMS roster is not a membership container.")
            members.extend(page)
        return members

    def pages(
        self,
        url: str,
        *,
        scopes: Sequence[str],
        accept: str,
        what: str,
        params: Mapping[str, str] | None = None,
    ) -> Iterator[Any]:
        next_url: str | None = url
        for _ in range(MAX_PAGES):
            if next_url is None:
                return
            answer = self.call(
                "GET", next_url, scopes=scopes, accept=accept, what=what, params=params
            )
            # The next page's URL carries the query already.
            next_url, params = answer.next_url, None
            yield answer.body
        raise LmsServiceError(f"{what}: more than {MAX_PAGES} pages.")

    # Assignment and Grade Services

    def line_item_find(self, lineitems_url: str, resource_id: str) -> dict[str, Any] | None:
        """The course's line item with this resource id, asked with the ``resource_id`` filter
        (and checked here too: an LMS may ignore the filter)."""
        for body in self.pages(
            lineitems_url,
            scopes=AGS_SCOPES,
            accept=LINEITEM_CONTAINER,
            what="Looking up a line item",
            params={"resource_id": resource_id},
        ):
            if not isinstance(body, list):
                raise LmsServiceError("The LMS's line items are not a list.")
            for line_item in body:
                if isinstance(line_item, dict) and line_item.get("resourceId") == resource_id:
                    return line_item
        return None

    def line_item_get(self, url: str) -> dict[str, Any] | None:
        """A line item, or None when the LMS no longer has it (someone deleted the column)."""
        try:
            answer = self.call(
                "GET", url, scopes=AGS_SCOPES, accept=LINEITEM, what="Reading a line item"
            )
        except LmsServiceError as error:
            if error.status in (404, 410):
                return None
            raise
        return line_item_body(answer)

    def line_item_create(
        self, lineitems_url: str, *, label: str, score_maximum: float, resource_id: str, tag: str
    ) -> dict[str, Any]:
        line_item = (
            LineItem()
            .set_label(label)
            .set_score_maximum(score_maximum)
            .set_resource_id(resource_id)
            .set_tag(tag)
        )
        answer = self.call(
            "POST",
            lineitems_url,
            scopes=AGS_SCOPES,
            accept=LINEITEM,
            body=line_item.get_value(),
            content_type=LINEITEM,
            what=f"Creating the line item {label!r}",
        )
        return line_item_body(answer)

    def line_item_update(
        self, url: str, line_item: Mapping[str, Any], *, label: str, score_maximum: float
    ) -> dict[str, Any]:
        """Write a new label and maximum into the line item, keeping what else the LMS holds."""
        changed = {**line_item, "label": label, "scoreMaximum": score_maximum}
        answer = self.call(
            "PUT",
            url,
            scopes=AGS_SCOPES,
            accept=LINEITEM,
            body=json_dumps(changed),
            content_type=LINEITEM,
            what=f"Updating the line item {label!r}",
        )
        return line_item_body(answer) if answer.body is not None else dict(changed)

    def score_post(
        self,
        line_item_url: str,
        *,
        user_id: str,
        score_given: float | None,
        score_maximum: float,
        comment: str,
        timestamp: str,
    ) -> int:
        """Post one student's score to a line item; the LMS's HTTP status.

        Without ``score_given`` the score is withdrawn: "not graded yet", which both Canvas and
        Moodle show as an empty cell that counts in no total.
        """
        grade = (
            Grade()
            .set_user_id(user_id)
            .set_score_maximum(score_maximum)
            .set_timestamp(timestamp)
            .set_activity_progress("Completed" if score_given is not None else "Initialized")
            .set_grading_progress("FullyGraded" if score_given is not None else "NotReady")
        )
        if score_given is not None:
            grade.set_score_given(score_given)
        if comment:
            grade.set_comment(comment)
        answer = self.call(
            "POST",
            scores_url(line_item_url),
            scopes=AGS_SCOPES,
            accept="application/json",
            body=grade.get_value(),
            content_type=SCORE,
            what="Posting a score",
            read_body=False,
        )
        return answer.status


def line_item_body(answer: Answer) -> dict[str, Any]:
    if not isinstance(answer.body, dict) or not isinstance(answer.body.get("id"), str):
        raise LmsServiceError("The LMS's line item has no id.", status=answer.status)
    return answer.body


def scores_url(line_item_url: str) -> str:
    """``<line item>/scores``, the query (if any) kept after the path."""
    path, question, query = line_item_url.partition("?")
    return f"{path.rstrip('/')}/scores{question}{query}"


def json_dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(value)

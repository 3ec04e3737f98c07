"""A real LTI 1.3 platform for the tests: the LMS as the tool meets it, over real HTTP on 127.0.0.1.

It plays every part of the LMS the tool talks to: the OIDC authorization endpoint that answers the
tool's login redirect with a signed id_token, its key set, the OAuth 2 token endpoint that takes a
client assertion signed with the tool's key (RFC 7523), Names and Role Provisioning Services with
paging, and Assignment and Grade Services (line items, scores, results). It checks what a strict LMS
checks, records every request it gets, and can be told to fail the next few requests, so that
tests assert on what the tool really sent and how it copes with an LMS that is down.

Use it as a context manager (``with Platform() as lms: lms.register()``); its server thread stops
on the way out. The server thread never touches the database: the tool's keys are read when the
test calls :meth:`Platform.register` or :meth:`Platform.trust_tool_keys`.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from lti_tool.models import Key, LtiDeployment, LtiRegistration

LTI_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DEEP_LINKING_SETTINGS_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
GRANTABLE_SCOPES = frozenset((*AGS_SCOPES, SCOPE_MEMBERSHIPS))

MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

CONTEXT_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SUB_ROLES = {
    "TeachingAssistant": "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
}
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
ACTIVITY_PROGRESS = frozenset(("Initialized", "Started", "InProgress", "Submitted", "Completed"))
GRADING_PROGRESS = frozenset(("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"))

# The Django test client's host: where the tool's launch view is, as the platform is told.
TOOL_LAUNCH_URL = "http://testserver/lti/launch/"


# RSA keys take a while to make; a closed platform's key pair serves the next one (platforms open
# at the same time still each have their own), and the tool's first key is made once.
_spare_keys: list[rsa.RSAPrivateKey] = []
_spare_keys_lock = threading.Lock()
_tool_key_pems: dict[str, str] = {}


def _platform_key() -> rsa.RSAPrivateKey:
    with _spare_keys_lock:
        if _spare_keys:
            return _spare_keys.pop()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _tool_key() -> Key:
    """A new active key of the tool's, the same key pair in every test of this process."""
    if not _tool_key_pems:
        key = Key.objects.generate()
        _tool_key_pems.update(public_key=key.public_key, private_key=key.private_key)
        return key
    return Key.objects.create(**_tool_key_pems)


class PlatformRefusal(Exception):
    """The platform refuses what the tool asked or sent (a bad authentication request, a
    deep-linking response it cannot trust); the message says which check failed."""


@dataclass(frozen=True)
class Received:
    """One request the platform got: ``path`` without the query, ``headers`` with lowercase
    names, ``body`` parsed (JSON, a form as a dict, text, or None when empty)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class _Answer(Exception):
    """Raised inside a route to answer at once (the refusals are many, the paths few)."""

    def __init__(
        self,
        status: int,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})


def _refuse(status: int, error: str, description: str = "") -> _Answer:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return _Answer(status, body)


def role_uri(role: str) -> str:
    """A context role as a full IMS URI: short names ("Learner", "Instructor",
    "TeachingAssistant") are expanded, URIs are kept."""
    if ":" in role:
        return role
    return SUB_ROLES.get(role, CONTEXT_ROLE + role)


def member(
    user_id: str,
    *,
    name: str = "",
    email: str = "",
    roles: Iterable[str] = ("Learner",),
    status: str = "Active",
    sis_id: str = "",
) -> dict[str, Any]:
    """One member of the LMS course as NRPS lists them (for ``platform.members``)."""
    given_name, _, family_name = name.partition(" ")
    entry: dict[str, Any] = {
        "user_id": user_id,
        "roles": [role_uri(role) for role in roles],
        "status": status,
    }
    if name:
        entry.update(name=name, given_name=given_name, family_name=family_name)
    if email:
        entry["email"] = email
    if sis_id:
        entry["lis_person_sourcedid"] = sis_id
    return entry


def _parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _refuse(400, "invalid_request", "timestamp must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _refuse(400, "invalid_request", f"timestamp {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise _refuse(400, "invalid_request", "timestamp must carry a time zone")
    return moment


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    platform: Platform


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "CourseLMS/1.0"
    # A client that stalls must not keep a handler thread after the test.
    timeout = 10

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, content_type, extra_headers, payload = self.server.platform._answer(
            method, self.path, headers, raw
        )
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", content_type)
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``platform.received`` instead."""


class Platform:
    """An LTI 1.3 platform on a free port of 127.0.0.1, with its own RSA key pair.

    Tests set ``members`` (NRPS), ``page_size`` (paging of NRPS and line item lists),
    ``accounts`` (id_token options per login_hint for the browser's GET /auth) and
    ``redirect_uris`` (the tool's launch URLs it accepts), and read ``received``, ``line_items``,
    ``scores`` and ``deep_links``.
    """

    def __init__(
        self,
        *,
        client_id: str = "coursesite",
        deployment_id: str = "deployment-1",
        context_id: str = "lms-541",
    ) -> None:
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.context_id = context_id
        self.context_title = "Deep Learning"
        self.context_label = "COMP541"
        self.redirect_uris: set[str] = {TOOL_LAUNCH_URL}
        self.members: list[dict[str, Any]] = []
        self.page_size: int | None = None
        self.accounts: dict[str, dict[str, Any]] = {}
        self.token_seconds = 3600
        self.received: list[Received] = []
        self.line_items: dict[str, dict[str, Any]] = {}
        self.scores: dict[str, list[dict[str, Any]]] = {}
        self.deep_links: list[dict[str, Any]] = []
        self.registration: LtiRegistration | None = None
        self._lock = threading.Lock()
        self._failures: list[list[Any]] = []
        self._tokens: dict[str, tuple[frozenset[str], float]] = {}
        self._seen_jti: set[str] = set()
        self._tool_keys: list[dict[str, Any]] = []
        self._next_line_item = 1
        self._private_key = _platform_key()
        public_jwk = JWK.from_pyca(self._private_key.public_key())
        self.kid = public_jwk.thumbprint()
        self._public_jwk = {
            **json.loads(public_jwk.export_public()),
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        }
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def __enter__(self) -> Platform:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.platform = self
        self._server = server
        self.issuer = f"http://127.0.0.1:{server.server_address[1]}"
        self.auth_url = f"{self.issuer}/auth"
        self.token_url = f"{self.issuer}/token"
        self.keyset_url = f"{self.issuer}/jwks"
        self.deep_link_return_url = f"{self.issuer}/deep_links"
        self.context_path = f"/contexts/{self.context_id}"
        self.memberships_url = f"{self.issuer}{self.context_path}/memberships"
        self.lineitems_url = f"{self.issuer}{self.context_path}/lineitems"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with _spare_keys_lock:
            _spare_keys.append(self._private_key)

    # The tool's side of the registration

    def register(self, *, active_deployment: bool = True) -> LtiRegistration:
        """Register this platform with the tool the way an administrator does: the tool's key (if
        it has no active one), the registration, the deployment; and trust the tool's keys."""
        if not Key.objects.active().exists():
            _tool_key()
        registration = LtiRegistration.objects.create(
            name=f"LMS at {self.issuer}",
            issuer=self.issuer,
            client_id=self.client_id,
            auth_url=self.auth_url,
            token_url=self.token_url,
            keyset_url=self.keyset_url,
        )
        LtiDeployment.objects.create(
            registration=registration, deployment_id=self.deployment_id, is_active=active_deployment
        )
        self.trust_tool_keys()
        self.registration = registration
        return registration

    def trust_tool_keys(self, keys: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Take the tool's public keys (its active keys now, as its JWKS would list them, unless
        ``keys`` are given), the way an LMS refetches a tool's key set after a rotation."""
        if keys is None:
            keys = Key.objects.as_jwks()["keys"]
        with self._lock:
            self._tool_keys = [dict(key) for key in keys]

    # Messages to the tool

    def id_token(
        self,
        *,
        sub: str,
        nonce: str,
        email: str = "",
        roles: Iterable[str] = ("Learner",),
        name: str = "",
        sis_id: str = "",
        message_type: str = "LtiResourceLinkRequest",
        target_link_uri: str = "",
        resource_link_id: str = "rl-1",
        custom: Mapping[str, str] | None = None,
        deep_link_return_url: str | None = None,
        exp_seconds: int = 300,
        audience: str | Sequence[str] | None = None,
        deployment_id: str | None = None,
        signing_key: rsa.RSAPrivateKey | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed id_token with every claim an LTI 1.3 launch needs. ``signing_key`` signs with
        another key under this platform's kid (a forged token); ``claims`` add or replace claims,
        and a claim given as None is left out."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id if audience is None else audience,
            "azp": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + exp_seconds,
            "nonce": nonce,
            LTI_CLAIM + "message_type": message_type,
            LTI_CLAIM + "version": "1.3.0",
            LTI_CLAIM + "deployment_id": deployment_id or self.deployment_id,
            LTI_CLAIM + "target_link_uri": target_link_uri or TOOL_LAUNCH_URL,
            LTI_CLAIM + "roles": [role_uri(role) for role in roles],
            LTI_CLAIM + "context": {
                "id": self.context_id,
                "title": self.context_title,
                "label": self.context_label,
                "type": [COURSE_OFFERING],
            },
            NRPS_CLAIM: {
                "context_memberships_url": self.memberships_url,
                "service_versions": ["2.0"],
            },
            AGS_CLAIM: {"scope": list(AGS_SCOPES), "lineitems": self.lineitems_url},
        }
        if name:
            given_name, _, family_name = name.partition(" ")
            body.update(name=name, given_name=given_name, family_name=family_name)
        if email:
            body["email"] = email
        if sis_id:
            body[LTI_CLAIM + "lis"] = {"person_sourcedid": sis_id}
        if custom:
            body[LTI_CLAIM + "custom"] = dict(custom)
        if message_type == "LtiResourceLinkRequest":
            body[LTI_CLAIM + "resource_link"] = {"id": resource_link_id, "title": "Course site"}
        if message_type == "LtiDeepLinkingRequest":
            body[DEEP_LINKING_SETTINGS_CLAIM] = {
                "deep_link_return_url": deep_link_return_url or self.deep_link_return_url,
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "data": f"deep-link-{secrets.token_hex(4)}",
            }
        for claim, value in (claims or {}).items():
            if value is None:
                body.pop(claim, None)
            else:
                body[claim] = value
        return jwt.encode(
            body, signing_key or self._private_key, algorithm="RS256", headers={"kid": self.kid}
        )

    def authorize(
        self, query: Mapping[str, str], *, sub: str, **id_token_options: Any
    ) -> dict[str, str]:
        """Answer the tool's OIDC authentication request (the query of its login redirect) for the
        user ``sub``: the form fields the browser posts to the tool's redirect_uri. The query's
        nonce is used unless ``nonce`` is given (a replayed token). Raises PlatformRefusal."""
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "client_id": self.client_id,
        }
        for field, value in expected.items():
            if query.get(field) != value:
                raise PlatformRefusal(f"{field} is {query.get(field)!r}, not {value!r}")
        if query.get("redirect_uri") not in self.redirect_uris:
            raise PlatformRefusal(f"redirect_uri {query.get('redirect_uri')!r} is not registered")
        if query.get("login_hint") != sub:
            raise PlatformRefusal(f"login_hint {query.get('login_hint')!r} is not user {sub!r}")
        if query.get("prompt", "none") != "none":
            raise PlatformRefusal(f"prompt {query['prompt']!r} cannot be honoured")
        for field in ("state", "nonce"):
            if not query.get(field):
                raise PlatformRefusal(f"{field} is missing")
        id_token_options.setdefault("nonce", query["nonce"])
        id_token_options.setdefault("target_link_uri", query["redirect_uri"])
        return {"id_token": self.id_token(sub=sub, **id_token_options), "state": query["state"]}

    def deep_link_response(self, jwt: str) -> dict[str, Any]:
        """The claims of a deep-linking response from the tool, once verified: RS256 with a key of
        the tool's, iss=client_id, aud=this issuer, this deployment. Raises PlatformRefusal."""
        claims = self._verify_tool_jwt(jwt, audience=self.issuer, require=["exp", "iat"])
        checks = {
            "iss": self.client_id,
            LTI_CLAIM + "deployment_id": self.deployment_id,
            LTI_CLAIM + "message_type": "LtiDeepLinkingResponse",
            LTI_CLAIM + "version": "1.3.0",
        }
        for claim, value in checks.items():
            if claims.get(claim) != value:
                raise PlatformRefusal(f"{claim} is {claims.get(claim)!r}, not {value!r}")
        return claims

    # Faults and records

    def fail_next(self, method: str, path_prefix: str, status: int = 503, times: int = 1) -> None:
        """Answer the next ``times`` requests of ``method`` ("*" for any) whose path starts with
        ``path_prefix`` (a path, or a URL of this platform) with ``status``."""
        if path_prefix.startswith(self.issuer):
            path_prefix = path_prefix.removeprefix(self.issuer) or "/"
        with self._lock:
            self._failures.append([method.upper(), path_prefix, status, times])

    def received_matching(self, method: str = "*", path_prefix: str = "/") -> list[Received]:
        """The requests received so far of ``method`` under ``path_prefix`` (path or URL)."""
        path_prefix = path_prefix.removeprefix(self.issuer) or "/"
        with self._lock:
            return [
                request
                for request in self.received
                if method in ("*", request.method) and request.path.startswith(path_prefix)
            ]

    def revoke_tokens(self) -> None:
        """Forget every access token issued, as an LMS does when they expire."""
        with self._lock:
            self._tokens.clear()

    # Serving

    def _answer(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, str, dict[str, str], bytes]:
        parts = urlsplit(target)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        body = self._parse_body(headers.get("content-type", ""), raw)
        with self._lock:
            self.received.append(Received(method, parts.path, query, headers, body))
            failure = self._take_failure(method, parts.path)
        try:
            if failure is not None:
                raise _refuse(failure, "unavailable", "the platform was told to fail")
            self._route(method, parts.path, query, headers, body)
            raise _Answer(404, {"error": "not_found"})
        except _Answer as answer:
            return self._encode(answer)
        except Exception as error:
            return self._encode(_Answer(500, {"error": "server_error", "detail": repr(error)}))

    @staticmethod
    def _encode(answer: _Answer) -> tuple[int, str, dict[str, str], bytes]:
        if answer.body is None:
            payload = b""
        elif isinstance(answer.body, str):
            payload = answer.body.encode()
        else:
            payload = json.dumps(answer.body).encode()
        return answer.status, answer.content_type, answer.headers, payload

    @staticmethod
    def _parse_body(content_type: str, raw: bytes) -> Any:
        if not raw:
            return None
        text = raw.decode("utf-8", errors="replace")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type.endswith("json"):
            try:
                return json.loads(text)
            except ValueError:
                return text
        if media_type == "application/x-www-form-urlencoded":
            return {name: values[-1] for name, values in parse_qs(text).items()}
        return text

    def _take_failure(self, method: str, path: str) -> int | None:
        """The status of the first injected failure this request matches (the lock is held)."""
        for failure in self._failures:
            failure_method, prefix, status, _ = failure
            if failure_method in ("*", method) and path.startswith(prefix):
                failure[3] -= 1
                if failure[3] <= 0:
                    self._failures.remove(failure)
                return int(status)
        return None

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> None:
        """Raise the answer to the request; returning means no such resource."""
        if path == "/jwks" and method == "GET":
            raise _Answer(200, {"keys": [self._public_jwk]})
        if path == "/auth" and method == "GET":
            self._serve_auth(query)
        if path == "/token" and method == "POST":
            self._serve_token(body)
        if path == "/deep_links" and method == "POST":
            self._serve_deep_link(body)
        if path == f"{self.context_path}/memberships" and method == "GET":
            self._serve_memberships(query, headers)
        lineitems_path = f"{self.context_path}/lineitems"
        if path == lineitems_path:
            if method == "GET":
                self._serve_line_item_list(query, headers)
            if method == "POST":
                self._serve_line_item_create(headers, body)
            raise _Answer(405, {"error": "method_not_allowed"})
        if path.startswith(lineitems_path + "/"):
            number, _, rest = path.removeprefix(lineitems_path + "/").partition("/")
            url = f"{self.lineitems_url}/{number}"
            with self._lock:
                known = url in self.line_items
            if not known:
                raise _Answer(404, {"error": "not_found", "error_description": "no such line item"})
            if rest == "" and method in ("GET", "PUT", "DELETE"):
                self._serve_line_item(method, url, headers, body)
            if rest == "scores" and method == "POST":
                self._serve_score(url, headers, body)
            if rest == "results" and method == "GET":
                self._serve_results(url, query, headers)

    def _serve_auth(self, query: dict[str, str]) -> None:
        """The browser's way in: a form posting itself to the tool, as ``accounts[login_hint]``."""
        sub = query.get("login_hint", "")
        try:
            fields = self.authorize(query, sub=sub, **self.accounts.get(sub, {}))
        except PlatformRefusal as refusal:
            raise _Answer(400, f"Refused: {refusal}\n", content_type="text/plain") from None
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        page = (
            "<!doctype html><title>Launching</title>"
            f'<form id="launch" method="post" action="{html.escape(query["redirect_uri"])}">'
            f'{inputs}<button type="submit">Continue</button></form>'
            "<script>document.getElementById('launch').submit()</script>"
        )
        raise _Answer(200, page, content_type="text/html; charset=utf-8")

    def _serve_token(self, form: Any) -> None:
        if not isinstance(form, dict):
            raise _refuse(400, "invalid_request", "a form body is expected")
        if form.get("grant_type") != "client_credentials":
            raise _refuse(400, "unsupported_grant_type")
        if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
            raise _refuse(400, "invalid_request", "a JWT bearer client assertion is expected")
        try:
            claims = self._verify_tool_jwt(
                form["client_assertion"], audience=self.token_url, require=["exp", "iat", "sub"]
            )
        except PlatformRefusal as refusal:
            raise _refuse(401, "invalid_client", str(refusal)) from None
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            raise _refuse(401, "invalid_client", "iss and sub must both be the client_id")
        scopes = frozenset(str(form.get("scope", "")).split())
        if not scopes or not scopes <= GRANTABLE_SCOPES:
            raise _refuse(400, "invalid_scope", " ".join(sorted(scopes - GRANTABLE_SCOPES)))
        token = secrets.token_urlsafe(24)
        with self._lock:
            jti = claims.get("jti")
            if jti is not None and jti in self._seen_jti:
                raise _refuse(401, "invalid_client", "the assertion's jti was used before")
            if jti is not None:
                self._seen_jti.add(jti)
            self._tokens[token] = (scopes, time.time() + self.token_seconds)
        raise _Answer(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_seconds,
                "scope": " ".join(sorted(scopes)),
            },
            headers={"Cache-Control": "no-store"},
        )

    def _serve_deep_link(self, form: Any) -> None:
        token = form.get("JWT") if isinstance(form, dict) else None
        if not token:
            raise _Answer(400, "No JWT field.\n", content_type="text/plain")
        try:
            claims = self.deep_link_response(token)
        except PlatformRefusal as refusal:
            raise _Answer(400, f"Refused: {refusal}\n", content_type="text/plain") from None
        with self._lock:
            self.deep_links.append(claims)
        raise _Answer(200, "<!doctype html><title>Linked</title>", content_type="text/html")

    def _serve_memberships(self, query: dict[str, str], headers: dict[str, str]) -> None:
        self._require_token(headers, SCOPE_MEMBERSHIPS)
        self._require_accept(headers, MEMBERSHIPS_TYPE)
        members = list(self.members)
        if "role" in query:
            wanted = role_uri(query["role"])
            members = [entry for entry in members if wanted in map(role_uri, entry["roles"])]
        page, links = self._page(members, query, self.memberships_url)
        container = {
            "id": self.memberships_url,
            "context": {
                "id": self.context_id,
                "label": self.context_label,
                "title": self.context_title,
            },
            "members": page,
        }
        raise _Answer(200, container, content_type=MEMBERSHIPS_TYPE, headers=links)

    def _serve_line_item_list(self, query: dict[str, str], headers: dict[str, str]) -> None:
        self._require_token(headers, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        self._require_accept(headers, LINEITEMS_TYPE)
        filters = {"resource_id": "resourceId", "resource_link_id": "resourceLinkId", "tag": "tag"}
        with self._lock:
            items = [dict(item) for item in self.line_items.values()]
        for parameter, field in filters.items():
            if parameter in query:
                items = [item for item in items if item.get(field) == query[parameter]]
        page, links = self._page(items, query, self.lineitems_url)
        raise _Answer(200, page, content_type=LINEITEMS_TYPE, headers=links)

    def _serve_line_item_create(self, headers: dict[str, str], body: Any) -> None:
        self._require_token(headers, SCOPE_LINEITEM)
        self._require_content_type(headers, LINEITEM_TYPE)
        self._check_line_item(body)
        with self._lock:
            url = f"{self.lineitems_url}/{self._next_line_item}"
            self._next_line_item += 1
            item = {**body, "id": url}
            self.line_items[url] = item
        raise _Answer(201, dict(item), content_type=LINEITEM_TYPE)

    def _serve_line_item(self, method: str, url: str, headers: dict[str, str], body: Any) -> None:
        if method == "GET":
            self._require_token(headers, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
            with self._lock:
                raise _Answer(200, dict(self.line_items[url]), content_type=LINEITEM_TYPE)
        self._require_token(headers, SCOPE_LINEITEM)
        if method == "DELETE":
            with self._lock:
                self.line_items.pop(url, None)
                self.scores.pop(url, None)
            raise _Answer(204)
        self._require_content_type(headers, LINEITEM_TYPE)
        self._check_line_item(body)
        if body.get("id", url) != url:
            raise _refuse(400, "invalid_request", "a line item's id cannot change")
        with self._lock:
            item = {**body, "id": url}
            self.line_items[url] = item
        raise _Answer(200, dict(item), content_type=LINEITEM_TYPE)

    @staticmethod
    def _check_line_item(body: Any) -> None:
        if not isinstance(body, dict):
            raise _refuse(400, "invalid_request", "a line item is a JSON object")
        if not isinstance(body.get("label"), str) or not body["label"].strip():
            raise _refuse(400, "invalid_request", "label is required")
        maximum = body.get("scoreMaximum")
        if not _is_number(maximum) or maximum <= 0:
            raise _refuse(400, "invalid_request", "scoreMaximum must be a number above 0")

    def _serve_score(self, url: str, headers: dict[str, str], body: Any) -> None:
        self._require_token(headers, SCOPE_SCORE)
        self._require_content_type(headers, SCORE_TYPE)
        if not isinstance(body, dict):
            raise _refuse(400, "invalid_request", "a score is a JSON object")
        if not isinstance(body.get("userId"), str) or not body["userId"]:
            raise _refuse(400, "invalid_request", "userId is required")
        if body.get("activityProgress") not in ACTIVITY_PROGRESS:
            raise _refuse(400, "invalid_request", "activityProgress is not one of the spec's")
        if body.get("gradingProgress") not in GRADING_PROGRESS:
            raise _refuse(400, "invalid_request", "gradingProgress is not one of the spec's")
        moment = _parse_timestamp(body.get("timestamp"))
        given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
        if given is not None:
            if not _is_number(given) or given < 0:
                raise _refuse(400, "invalid_request", "scoreGiven must be a number, 0 or more")
            if not _is_number(maximum) or maximum <= 0:
                raise _refuse(400, "invalid_request", "scoreMaximum must be a number above 0")
        with self._lock:
            earlier = [
                _parse_timestamp(score["timestamp"])
                for score in self.scores.get(url, [])
                if score["userId"] == body["userId"]
            ]
            if earlier and moment < max(earlier):
                raise _refuse(409, "conflict", "a later score of this user is already recorded")
            self.scores.setdefault(url, []).append(dict(body))
        raise _Answer(200, {"resultUrl": f"{url}/results?user_id={body['userId']}"})

    def _serve_results(self, url: str, query: dict[str, str], headers: dict[str, str]) -> None:
        self._require_token(headers, SCOPE_RESULT_READONLY)
        latest: dict[str, dict[str, Any]] = {}
        with self._lock:
            for score in self.scores.get(url, []):
                latest[score["userId"]] = score
        results = [
            {
                "id": f"{url}/results/{user_id}",
                "scoreOf": url,
                "userId": user_id,
                "resultScore": score.get("scoreGiven"),
                "resultMaximum": score.get("scoreMaximum"),
                "comment": score.get("comment"),
            }
            for user_id, score in latest.items()
            if query.get("user_id", user_id) == user_id
        ]
        raise _Answer(200, results, content_type=RESULTS_TYPE)

    def _page(
        self, entries: list[Any], query: dict[str, str], url: str
    ) -> tuple[list[Any], dict[str, str]]:
        """One page of ``entries`` (``limit`` from the query, else ``page_size``) and the Link
        header to the next one."""
        size = int(query["limit"]) if query.get("limit", "").isdigit() else self.page_size
        if not size:
            return entries, {}
        number = int(query["page"]) if query.get("page", "").isdigit() else 1
        start = (number - 1) * size
        if start + size >= len(entries):
            return entries[start:], {}
        following = urlencode({**query, "page": str(number + 1)})
        return entries[start : start + size], {"Link": f'<{url}?{following}>; rel="next"'}

    def _require_token(self, headers: dict[str, str], *scopes: str) -> None:
        """Refuse a request without a live bearer token granting one of ``scopes``."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            granted = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if granted is None or granted[1] < time.time():
            raise _Answer(
                401,
                {"error": "invalid_token"},
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if not granted[0] & set(scopes):
            raise _refuse(403, "insufficient_scope", " ".join(scopes))

    @staticmethod
    def _require_accept(headers: dict[str, str], media_type: str) -> None:
        accept = headers.get("accept", "")
        if accept and not any(kind in accept for kind in (media_type, "*/*", "application/json")):
            raise _refuse(406, "not_acceptable", f"this answers {media_type}")

    @staticmethod
    def _require_content_type(headers: dict[str, str], media_type: str) -> None:
        if headers.get("content-type", "").split(";")[0].strip() != media_type:
            raise _refuse(415, "unsupported_media_type", f"send {media_type}")

    def _verify_tool_jwt(self, token: str, *, audience: str, require: list[str]) -> dict[str, Any]:
        """The claims of a JWT the tool signed with one of its trusted keys, for ``audience``."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as error:
            raise PlatformRefusal(f"not a JWT: {error}") from None
        with self._lock:
            keys = [key for key in self._tool_keys if kid is None or key.get("kid") == kid]
        if not keys:
            raise PlatformRefusal(f"no trusted key of the tool has kid {kid!r}")
        last_error: Exception | None = None
        for key in keys:
            try:
                return jwt.decode(
                    token,
                    jwt.PyJWK(key).key,
                    algorithms=["RS256"],
                    audience=audience,
                    issuer=self.client_id,
                    options={"require": ["iss", "aud", *require]},
                )
            except jwt.InvalidTokenError as error:
                last_error = error
        raise PlatformRefusal(f"the tool's JWT is refused: {last_error}")

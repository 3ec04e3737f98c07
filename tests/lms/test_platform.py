"""The test LMS itself: the other LTI tests trust it to be as strict as a real platform, so its
keys, its token endpoint, its services and its injected failures are checked here, over HTTP."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse
from lti_tool.models import Key, LtiDeployment, LtiRegistration
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from tests.lms.conftest import launch
from tests.lms.platform import (
    AGS_CLAIM,
    LINEITEM_TYPE,
    LTI_CLAIM,
    MEMBERSHIPS_TYPE,
    NRPS_CLAIM,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_MEMBERSHIPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_TYPE,
    TOOL_LAUNCH_URL,
    Platform,
    PlatformRefusal,
    member,
)

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)


def tool_signed(claims: dict[str, Any], *, key: rsa.RSAPrivateKey | str | None = None) -> str:
    """A JWT signed as the tool signs (its latest active key, its kid), or with ``key``."""
    tool_key = Key.objects.active().latest()
    return jwt.encode(
        claims,
        key or tool_key.private_key,
        algorithm="RS256",
        headers={"kid": tool_key.as_jwk()["kid"]},
    )


def client_assertion(platform: Platform, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.token_url,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    key = overrides.pop("key", None)
    claims.update(overrides)
    return tool_signed(claims, key=key)


def ask_token(platform: Platform, assertion: str, scope: str) -> requests.Response:
    return requests.post(
        platform.token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": scope,
        },
        timeout=10,
    )


def bearer(platform: Platform, *scopes: str) -> dict[str, str]:
    answer = ask_token(platform, client_assertion(platform), " ".join(scopes))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def platform_claims(platform: Platform, token: str) -> dict[str, Any]:
    """The claims of an id_token, verified with the key set the platform serves."""
    keys = requests.get(platform.keyset_url, timeout=10).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [key for key in keys if key["kid"] == kid]
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=platform.client_id)


def create_line_item(
    platform: Platform, headers: dict[str, str], **fields: Any
) -> requests.Response:
    return requests.post(
        platform.lineitems_url,
        json={"label": "A1: MLP", "scoreMaximum": 100, **fields},
        headers={**headers, "Content-Type": LINEITEM_TYPE},
        timeout=10,
    )


def score(user_id: str = "lms-carol", **fields: Any) -> dict[str, Any]:
    return {
        "userId": user_id,
        "scoreGiven": 87.5,
        "scoreMaximum": 100,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": datetime.now(UTC).isoformat(),
        **fields,
    }


def post_score(url: str, headers: dict[str, str], body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{url}/scores", json=body, headers={**headers, "Content-Type": SCORE_TYPE}, timeout=10
    )


# Registration and keys


def test_it_registers_itself_with_the_tool(platform):
    registration = LtiRegistration.objects.get(issuer=platform.issuer)
    assert (registration.client_id, registration.keyset_url) == ("coursesite", platform.keyset_url)
    assert LtiDeployment.objects.get(registration=registration).deployment_id == "deployment-1"
    assert LtiDeployment.objects.get(registration=registration).is_active
    assert Key.objects.active().count() == 1


def test_it_registers_an_inactive_deployment_when_told(db):
    with Platform() as lms:
        lms.register(active_deployment=False)
        assert not LtiDeployment.objects.get(registration__issuer=lms.issuer).is_active


def test_it_signs_id_tokens_with_the_key_it_serves(platform):
    token = platform.id_token(sub="lms-carol", nonce="n-1")
    assert platform_claims(platform, token)["sub"] == "lms-carol"


def test_it_puts_every_launch_claim_in_the_id_token(platform):
    token = platform.id_token(
        sub="lms-bob",
        nonce="n-2",
        email="bob@example.edu",
        name="Bob Tanaka",
        roles=("TeachingAssistant",),
        sis_id="S-0042",
        custom={"course": "dl-fall2024"},
    )
    claims = platform_claims(platform, token)
    assert claims["iss"] == platform.issuer
    assert claims["nonce"] == "n-2"
    assert claims[LTI_CLAIM + "version"] == "1.3.0"
    assert claims[LTI_CLAIM + "deployment_id"] == "deployment-1"
    assert claims[LTI_CLAIM + "target_link_uri"] == TOOL_LAUNCH_URL
    assert claims[LTI_CLAIM + "roles"] == [TEACHING_ASSISTANT]
    assert claims[LTI_CLAIM + "context"]["id"] == "lms-541"
    assert claims[LTI_CLAIM + "resource_link"]["id"] == "rl-1"
    assert claims[LTI_CLAIM + "lis"] == {"person_sourcedid": "S-0042"}
    assert claims[LTI_CLAIM + "custom"] == {"course": "dl-fall2024"}
    assert (claims["email"], claims["name"]) == ("bob@example.edu", "Bob Tanaka")
    assert claims[NRPS_CLAIM]["context_memberships_url"] == platform.memberships_url
    assert claims[AGS_CLAIM]["lineitems"] == platform.lineitems_url
    assert SCOPE_SCORE in claims[AGS_CLAIM]["scope"]


def test_it_asks_for_deep_links_without_a_resource_link(platform):
    token = platform.id_token(sub="lms-alice", nonce="n", message_type="LtiDeepLinkingRequest")
    claims = platform_claims(platform, token)
    settings = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    assert settings["deep_link_return_url"] == platform.deep_link_return_url
    assert LTI_CLAIM + "resource_link" not in claims


def test_it_replaces_and_drops_claims_when_told(platform):
    token = platform.id_token(sub="x", nonce="n", claims={"nonce": None, "azp": "elsewhere"})
    claims = platform_claims(platform, token)
    assert "nonce" not in claims
    assert claims["azp"] == "elsewhere"


def test_it_signs_with_another_key_when_told_so(platform):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = platform.id_token(sub="lms-carol", nonce="n", signing_key=forger)
    with pytest.raises(jwt.InvalidSignatureError):
        platform_claims(platform, token)


# The OIDC authentication request


def authentication_request(platform: Platform, **changes: str) -> dict[str, str]:
    return {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": TOOL_LAUNCH_URL,
        "login_hint": "lms-carol",
        "state": "state-1",
        "nonce": "nonce-1",
        **changes,
    }


def test_it_answers_an_authentication_request_with_the_state_and_nonce(platform):
    fields = platform.authorize(authentication_request(platform), sub="lms-carol")
    assert fields["state"] == "state-1"
    assert platform_claims(platform, fields["id_token"])["nonce"] == "nonce-1"


@pytest.mark.parametrize(
    "change",
    [
        {"scope": "profile"},
        {"response_type": "code"},
        {"response_mode": "query"},
        {"client_id": "someone-else"},
        {"redirect_uri": "http://evil.example/lti/launch/"},
        {"login_hint": "lms-dave"},
        {"nonce": ""},
    ],
)
def test_it_refuses_a_bad_authentication_request(platform, change):
    with pytest.raises(PlatformRefusal):
        platform.authorize(authentication_request(platform, **change), sub="lms-carol")


def test_it_serves_the_browser_an_auto_submitting_form(platform):
    platform.accounts["lms-carol"] = {"roles": ("Learner",), "email": "carol@example.edu"}
    answer = requests.get(platform.auth_url, params=authentication_request(platform), timeout=10)
    assert answer.status_code == 200
    assert f'action="{TOOL_LAUNCH_URL}"' in answer.text
    assert 'name="state" value="state-1"' in answer.text


def test_it_refuses_the_browser_a_foreign_redirect(platform):
    query = authentication_request(platform, redirect_uri="http://evil.example/")
    answer = requests.get(platform.auth_url, params=query, timeout=10)
    assert answer.status_code == 400


# The token endpoint


def test_it_grants_a_token_for_an_assertion_signed_with_the_tool_s_key(platform):
    answer = ask_token(platform, client_assertion(platform), f"{SCOPE_SCORE} {SCOPE_LINEITEM}")
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "Bearer"
    assert set(answer.json()["scope"].split()) == {SCOPE_SCORE, SCOPE_LINEITEM}


def test_it_grants_a_token_to_the_tool_s_own_service_client(platform):
    connector = ServiceConnector(platform.registration.to_registration())
    assert connector.get_access_token([SCOPE_MEMBERSHIPS])
    (request,) = platform.received_matching("POST", "/token")
    assert request.body["client_assertion_type"].endswith("jwt-bearer")


@pytest.mark.parametrize(
    "change",
    [
        {"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
        {"exp": int(time.time()) - 120, "iat": int(time.time()) - 180},
        {"aud": "http://127.0.0.1:1/token"},
        {"iss": "someone-else"},
        {"sub": "someone-else"},
    ],
    ids=["foreign key", "expired", "audience", "issuer", "subject"],
)
def test_it_refuses_a_bad_client_assertion(platform, change):
    answer = ask_token(platform, client_assertion(platform, **change), SCOPE_SCORE)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_it_refuses_a_replayed_client_assertion(platform):
    assertion = client_assertion(platform)
    assert ask_token(platform, assertion, SCOPE_SCORE).status_code == 200
    assert ask_token(platform, assertion, SCOPE_SCORE).status_code == 401


def test_it_refuses_an_assertion_after_the_tool_s_keys_rotate(platform):
    assertion = client_assertion(platform)
    Key.objects.update(is_active=False)
    Key.objects.generate()
    platform.trust_tool_keys()
    assert ask_token(platform, assertion, SCOPE_SCORE).status_code == 401


def test_it_refuses_a_scope_it_does_not_know(platform):
    answer = ask_token(platform, client_assertion(platform), "https://example.edu/scope/all")
    assert answer.json()["error"] == "invalid_scope"


# Names and Role Provisioning Services


def test_it_pages_the_roster_with_link_headers(platform):
    platform.members = [member(f"lms-{n}", name=f"Student {n}") for n in range(5)]
    platform.page_size = 2
    headers = {**bearer(platform, SCOPE_MEMBERSHIPS), "Accept": MEMBERSHIPS_TYPE}
    url, seen = platform.memberships_url, []
    while url:
        answer = requests.get(url, headers=headers, timeout=10)
        seen.append([entry["user_id"] for entry in answer.json()["members"]])
        url = answer.links.get("next", {}).get("url")
    assert seen == [["lms-0", "lms-1"], ["lms-2", "lms-3"], ["lms-4"]]


def test_it_serves_the_whole_roster_to_the_tool_s_nrps_client(platform):
    platform.members = [
        member("lms-carol", name="Carol Smith", sis_id="S-1"),
        member("lms-bob", roles=("TeachingAssistant",)),
        member("lms-erin", status="Inactive"),
    ]
    platform.page_size = 1
    connector = ServiceConnector(platform.registration.to_registration())
    service = NamesRolesProvisioningService(
        connector, {"context_memberships_url": platform.memberships_url}
    )
    members = service.get_members()
    assert [(entry["user_id"], entry["status"]) for entry in members] == [
        ("lms-carol", "Active"),
        ("lms-bob", "Active"),
        ("lms-erin", "Inactive"),
    ]
    assert members[0]["lis_person_sourcedid"] == "S-1"
    assert members[1]["roles"] == [TEACHING_ASSISTANT]


def test_it_refuses_the_roster_without_a_token(platform):
    headers = {"Accept": MEMBERSHIPS_TYPE}
    answer = requests.get(platform.memberships_url, headers=headers, timeout=10)
    assert answer.status_code == 401


def test_it_refuses_the_roster_to_a_token_for_grades_only(platform):
    headers = {**bearer(platform, SCOPE_SCORE), "Accept": MEMBERSHIPS_TYPE}
    assert requests.get(platform.memberships_url, headers=headers, timeout=10).status_code == 403


def test_it_refuses_a_token_it_revoked(platform):
    headers = {**bearer(platform, SCOPE_MEMBERSHIPS), "Accept": MEMBERSHIPS_TYPE}
    platform.revoke_tokens()
    assert requests.get(platform.memberships_url, headers=headers, timeout=10).status_code == 401


# Assignment and Grade Services


def test_it_creates_a_line_item_at_a_url_of_its_own(platform):
    answer = create_line_item(platform, bearer(platform, SCOPE_LINEITEM), resourceId="item-7")
    assert answer.status_code == 201
    url = answer.json()["id"]
    assert url.startswith(platform.lineitems_url + "/")
    assert platform.line_items[url]["resourceId"] == "item-7"


def test_it_filters_line_items_by_resource_id(platform):
    headers = bearer(platform, SCOPE_LINEITEM)
    wanted = create_line_item(platform, headers, resourceId="item-7").json()["id"]
    create_line_item(platform, headers, resourceId="item-8")
    answer = requests.get(
        platform.lineitems_url, params={"resource_id": "item-7"}, headers=headers, timeout=10
    )
    assert [item["id"] for item in answer.json()] == [wanted]


def test_it_refuses_a_line_item_without_a_maximum(platform):
    answer = create_line_item(platform, bearer(platform, SCOPE_LINEITEM), scoreMaximum=0)
    assert answer.status_code == 400


def test_it_refuses_to_create_line_items_with_a_read_only_token(platform):
    answer = create_line_item(platform, bearer(platform, SCOPE_LINEITEM_READONLY))
    assert answer.status_code == 403
    assert platform.line_items == {}


def test_it_updates_and_deletes_a_line_item(platform):
    headers = bearer(platform, SCOPE_LINEITEM)
    url = create_line_item(platform, headers).json()["id"]
    changed = {"label": "A1: MLP (regraded)", "scoreMaximum": 110}
    put = requests.put(
        url, json=changed, headers={**headers, "Content-Type": LINEITEM_TYPE}, timeout=10
    )
    assert put.json() == {**changed, "id": url}
    assert requests.delete(url, headers=headers, timeout=10).status_code == 204
    assert requests.get(url, headers=headers, timeout=10).status_code == 404


def test_it_records_a_score(platform):
    url = create_line_item(platform, bearer(platform, SCOPE_LINEITEM)).json()["id"]
    body = score(comment="Well trained.")
    answer = post_score(url, bearer(platform, SCOPE_SCORE), body)
    assert answer.status_code == 200
    assert platform.scores[url] == [body]


@pytest.mark.parametrize(
    "change",
    [
        {"userId": ""},
        {"scoreGiven": -1},
        {"scoreMaximum": None},
        {"activityProgress": "Done"},
        {"gradingProgress": "Graded"},
        {"timestamp": "2024-10-09 23:59"},
        {"timestamp": "yesterday"},
    ],
)
def test_it_refuses_a_malformed_score(platform, change):
    url = create_line_item(platform, bearer(platform, SCOPE_LINEITEM)).json()["id"]
    answer = post_score(url, bearer(platform, SCOPE_SCORE), score(**change))
    assert answer.status_code == 400
    assert url not in platform.scores


def test_it_refuses_a_score_older_than_the_one_it_has(platform):
    url = create_line_item(platform, bearer(platform, SCOPE_LINEITEM)).json()["id"]
    headers = bearer(platform, SCOPE_SCORE)
    post_score(url, headers, score())
    stale = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert post_score(url, headers, score(timestamp=stale)).status_code == 409
    assert len(platform.scores[url]) == 1


def test_it_refuses_a_score_sent_as_plain_json(platform):
    url = create_line_item(platform, bearer(platform, SCOPE_LINEITEM)).json()["id"]
    answer = requests.post(
        f"{url}/scores", json=score(), headers=bearer(platform, SCOPE_SCORE), timeout=10
    )
    assert answer.status_code == 415


def test_it_answers_results_from_the_latest_scores(platform):
    url = create_line_item(platform, bearer(platform, SCOPE_LINEITEM)).json()["id"]
    headers = bearer(platform, SCOPE_SCORE, SCOPE_RESULT_READONLY)
    post_score(url, headers, score(scoreGiven=50))
    post_score(url, headers, score(scoreGiven=90))
    results = requests.get(f"{url}/results", headers=headers, timeout=10).json()
    assert [(result["userId"], result["resultScore"]) for result in results] == [("lms-carol", 90)]


# Faults and records


def test_it_fails_the_next_matching_requests_then_recovers(platform):
    url = create_line_item(platform, bearer(platform, SCOPE_LINEITEM)).json()["id"]
    headers = bearer(platform, SCOPE_SCORE)
    platform.fail_next("POST", f"{url}/scores", status=503, times=2)
    statuses = [post_score(url, headers, score()).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert len(platform.received_matching("POST", f"{url}/scores")) == 3
    assert len(platform.scores[url]) == 1


def test_it_fails_only_the_method_and_path_it_was_told(platform):
    platform.fail_next("POST", "/contexts/", status=500)
    headers = bearer(platform, SCOPE_LINEITEM)
    assert requests.get(platform.lineitems_url, headers=headers, timeout=10).status_code == 200
    assert create_line_item(platform, headers).status_code == 500
    assert create_line_item(platform, headers).status_code == 201


def test_it_records_each_request_with_its_parsed_body(platform):
    headers = bearer(platform, SCOPE_LINEITEM)
    create_line_item(platform, headers, resourceId="item-7")
    request = platform.received[-1]
    assert (request.method, request.path) == ("POST", "/contexts/lms-541/lineitems")
    assert request.headers["authorization"] == headers["Authorization"]
    assert request.body["resourceId"] == "item-7"


# Deep linking


def deep_link_claims(platform: Platform, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 60,
        "nonce": uuid.uuid4().hex,
        LTI_CLAIM + "deployment_id": platform.deployment_id,
        LTI_CLAIM + "message_type": "LtiDeepLinkingResponse",
        LTI_CLAIM + "version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": [
            {"type": "ltiResourceLink", "title": "A1: MLP", "url": TOOL_LAUNCH_URL}
        ],
        **changes,
    }


def test_it_takes_a_deep_link_response_signed_by_the_tool(platform):
    claims = platform.deep_link_response(tool_signed(deep_link_claims(platform)))
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["title"] == "A1: MLP"


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "http://127.0.0.1:1"},
        {LTI_CLAIM + "deployment_id": "deployment-2"},
        {LTI_CLAIM + "message_type": "LtiResourceLinkRequest"},
    ],
)
def test_it_refuses_a_deep_link_response_it_cannot_trust(platform, change):
    with pytest.raises(PlatformRefusal):
        platform.deep_link_response(tool_signed(deep_link_claims(platform, **change)))


def test_it_refuses_a_deep_link_response_signed_by_another_key(platform):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(PlatformRefusal):
        platform.deep_link_response(tool_signed(deep_link_claims(platform), key=forger))


def test_it_records_deep_links_posted_back_to_it(platform):
    token = tool_signed(deep_link_claims(platform))
    answer = requests.post(platform.deep_link_return_url, data={"JWT": token}, timeout=10)
    assert answer.status_code == 200
    assert platform.deep_links[0][LTI_CLAIM + "message_type"] == "LtiDeepLinkingResponse"


# Life cycle


def test_it_frees_its_port_when_closed(db):
    with Platform() as lms:
        url = lms.keyset_url
        assert requests.get(url, timeout=10).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=10)


def test_it_serves_requests_at_once_from_many_threads(platform):
    headers = bearer(platform, SCOPE_LINEITEM)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda n: create_line_item(platform, headers, tag=str(n)), range(24))
        )
    assert {answer.status_code for answer in answers} == {201}
    assert len(platform.line_items) == 24


# The launch helper, through the tool's real login and launch views


def test_it_launches_the_tool_through_its_login_and_launch_views(platform, client):
    # django-lti records a deployment id it has not seen once the id_token passed every check
    # (state cookie, nonce, registration, signature), before the tool decides anything.
    launch(client, platform, sub="lms-carol", deployment_id="deployment-9")
    assert LtiDeployment.objects.filter(deployment_id="deployment-9", is_active=False).exists()
    (keys,) = platform.received_matching("GET", "/jwks")
    assert keys.headers["user-agent"].startswith("PyLTI1p3")


def test_it_launches_with_a_forged_id_token_when_told(platform, client):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    launch(client, platform, sub="lms-carol", deployment_id="deployment-9", signing_key=forger)
    assert not LtiDeployment.objects.filter(deployment_id="deployment-9").exists()


def test_it_returns_the_tool_s_answer_to_a_refused_login(platform, client):
    LtiRegistration.objects.filter(pk=platform.registration.pk).update(is_active=False)
    answer = launch(client, platform, sub="lms-carol")
    assert answer.request["PATH_INFO"] == reverse("lti-login")
    assert not platform.received_matching("GET", "/jwks")

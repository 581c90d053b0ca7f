"""Who is talking: refusals of the request-token profile, on the catalog and on negotiations.

No proof, a wrong or replayed or expired token: 401. A valid signature of a key that may not
act (not a member's, a removed connector key, a suspended member's, an admin key): 403. Each
with the area's DSP error body; another organisation's negotiation is a 404, like an unknown one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import rfc8785
from eth_account.messages import encode_defunct

from client.chain.enums import Action
from client.connector.identity import SCHEME, issue_token
from client.connector.negotiation import State
from tests.conftest import new_account
from tests.connector.conftest import Pair
from tests.contracts.factories import GENERAL, key

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]


def catalog_call(pair: Pair, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = {"@context": CONTEXT, "@type": "CatalogRequestMessage"}
    return httpx.post(f"{pair.alpha.url}/catalog/request", json=body, headers=headers)


def negotiation_call(pair: Pair, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = {
        "@context": CONTEXT,
        "@type": "ContractRequestMessage",
        "consumerPid": "urn:uuid:0e0e0e0e-0000-4000-8000-000000000001",
        "offer": pair.offer(GENERAL),
        "callbackAddress": f"{pair.beta.url}/callback",
    }
    return httpx.post(f"{pair.alpha.url}/negotiations/request", json=body, headers=headers)


CALLS: dict[str, tuple[Callable[[Pair, str | None], httpx.Response], str]] = {
    "catalog": (catalog_call, "CatalogError"),
    "negotiation": (negotiation_call, "ContractNegotiationError"),
}


def signed(claims: dict[str, Any], signer: Any) -> str:
    body = rfc8785.dumps(claims)
    signature = signer.sign_message(encode_defunct(primitive=body)).signature
    return f"{SCHEME} {base64.urlsafe_b64encode(body).rstrip(b'=').decode()}.{bytes(signature).hex()}"


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(" ", 1)[1].split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def refused(pair: Pair, area: str, authorization: str | None, status: int, words: str) -> None:
    call, kind = CALLS[area]
    response = call(pair, authorization)
    assert response.status_code == status, response.text
    body = response.json()
    pair.schemas.validate(body, kind)
    assert body["@type"] == kind
    assert words in body["reason"][0], body["reason"][0]


@pytest.mark.parametrize("area", CALLS)
def test_bad_tokens_are_401(pair: Pair, area: str) -> None:
    beta = pair.beta
    good = beta.token(pair.alpha.url)
    claims = claims_of(good)
    refused(pair, area, None, 401, "no Authorization header")
    refused(pair, area, "Bearer abc", 401, "scheme")
    refused(pair, area, f"{SCHEME} not-a-token", 401, "not <base64url claims>")
    refused(pair, area, beta.token(pair.beta.url), 401, "not for this connector")
    refused(pair, area, issue_token(beta.key, beta.org_id, pair.alpha.url, now=claims["iat"] - 3600), 401, "expired")
    refused(pair, area, signed({**claims, "exp": claims["iat"] + 3600}, beta.key), 401, "lifetime")
    forged = signed({**claims, "sub": key(pair.scene.gamma).address}, beta.key)
    refused(pair, area, forged, 401, "not by its subject")
    tampered = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
    assert catalog_call(pair, tampered).status_code == 401
    assert CALLS[area][0](pair, good).status_code in (200, 201)
    refused(pair, area, good, 401, "used already")  # one token, one request


@pytest.mark.parametrize("area", CALLS)
@pytest.mark.parametrize("who", ["outsider", "removed connector key", "suspended member", "admin key", "other org"])
def test_keys_that_may_not_act_are_403(pair: Pair, area: str, who: str) -> None:
    scene, beta = pair.scene, pair.beta
    if who == "outsider":
        stranger = new_account()
        token, words = issue_token(stranger, beta.org_id, pair.alpha.url), "belongs to no member"
    elif who == "removed connector key":
        scene.consortium.remove_connector(scene.beta.admin, key(scene.beta).address)
        token, words = beta.token(pair.alpha.url), "removed"
    elif who == "suspended member":
        scene.govern(Action.SUSPEND_MEMBER, scene.beta)
        token, words = beta.token(pair.alpha.url), "not active"
    elif who == "admin key":
        token, words = issue_token(scene.beta.admin, beta.org_id, pair.alpha.url), "admin key"
    else:  # beta's key claiming to speak for gamma
        token, words = issue_token(beta.key, scene.gamma.org_id, pair.alpha.url), "not to the token's issuer"
    refused(pair, area, token, 403, words)


def test_another_organisations_negotiation_is_404(manual: Pair) -> None:
    """Gamma (a member in good standing) cannot see or move beta's negotiation: 404 as if unknown."""
    started = manual.request(GENERAL)
    gamma_token = issue_token(key(manual.scene.gamma), manual.scene.gamma.org_id, manual.alpha.url)
    response = httpx.get(
        f"{manual.alpha.url}/negotiations/{started.provider_pid}", headers={"Authorization": gamma_token}
    )
    assert response.status_code == 404
    manual.schemas.validate(response.json(), "ContractNegotiationError")
    body = {
        "@context": CONTEXT,
        "@type": "ContractNegotiationTerminationMessage",
        "providerPid": started.provider_pid,
        "consumerPid": started.consumer_pid,
        "code": "1",
    }
    gamma_token = issue_token(key(manual.scene.gamma), manual.scene.gamma.org_id, manual.alpha.url)
    response = httpx.post(
        f"{manual.alpha.url}/negotiations/{started.provider_pid}/termination",
        json=body,
        headers={"Authorization": gamma_token},
    )
    assert response.status_code == 404
    assert manual.provider_state(started) == State.REQUESTED
    unknown = httpx.get(
        f"{manual.alpha.url}/negotiations/urn:uuid:00000000-0000-4000-8000-000000000000",
        headers={"Authorization": manual.beta.token(manual.alpha.url)},
    )
    assert unknown.status_code == 404


def test_a_provider_callback_from_another_organisation_is_404(manual: Pair) -> None:
    """The consumer's callbacks are authenticated too: gamma cannot terminate beta's negotiation."""
    started = manual.request(GENERAL)
    body = {
        "@context": CONTEXT,
        "@type": "ContractNegotiationTerminationMessage",
        "providerPid": started.provider_pid,
        "consumerPid": started.consumer_pid,
        "code": "1",
    }
    token = issue_token(key(manual.scene.gamma), manual.scene.gamma.org_id, f"{manual.beta.url}/callback")
    response = httpx.post(
        f"{manual.beta.url}/callback/negotiations/{started.consumer_pid}/termination",
        json=body,
        headers={"Authorization": token},
    )
    assert response.status_code == 404
    assert manual.beta.consumer.store.by_pid(started.role, started.consumer_pid).state == State.REQUESTED  # type: ignore[union-attr]

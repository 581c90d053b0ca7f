"""Sign-in: EIP-4361 challenges, bearer tokens, and every way they are refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session

from client.siwe import SignInMessage, sign_message
from registry_api.auth import AUDIENCE
from registry_api.models import AuthChallenge
from tests.conftest import new_account
from tests.registry_api.conftest import TEST_TOKEN_SECRET, Served, serving
from tests.registry_api.helpers import settings


def challenge(api: Served, address: str) -> str:
    response = api.http.post("/v1/auth/challenge", json={"address": address})
    assert response.status_code == 200, response.text
    return str(response.json()["message"])


def token_answer(api: Served, message: str, signature: str) -> tuple[int, dict[str, object]]:
    response = api.http.post("/v1/auth/token", json={"message": message, "signature": signature})
    return response.status_code, response.json()


def test_sign_in_names_the_caller(api: Served) -> None:
    key = api.story.key("BETA")
    message = challenge(api, key.address.lower())
    parsed = SignInMessage.parse(message)
    assert (parsed.address, parsed.chain_id, parsed.uri) == (key.address, 7351, api.url)
    assert parsed.domain == api.url.removeprefix("http://")
    status, body = token_answer(api, message, sign_message(key, message))
    assert status == 200 and body["tokenType"] == "bearer"
    assert body["caller"] == {
        "address": key.address,
        "org": {"orgNo": 2, "orgId": api.story.orgs["BETA"].org_id, "name": "BETA"},
        "roles": [],
    }
    me = api.http.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['accessToken']}"}).json()
    assert me == body["caller"]
    auditor = api.http.get("/v1/auth/me", headers=api.sign_in(api.story.auditor)).json()
    assert auditor == {"address": api.story.auditor.address, "org": None, "roles": ["auditor"]}


def test_challenges_only_for_members_and_role_holders(api: Served) -> None:
    for address, status, text in (
        (new_account().address, 403, "neither an active key"),
        (api.story.orgs["DELTA"].admin.address, 403, "neither an active key"),  # expelled member
        ("0x12", 422, "account address"),
    ):
        response = api.http.post("/v1/auth/challenge", json={"address": address})
        assert response.status_code == status and text in response.json()["error"], response.text
        assert response.json()["field"] == "address"
    missing = api.http.post("/v1/auth/challenge", json={})
    assert missing.status_code == 422 and missing.json()["field"] == "address"


def test_a_challenge_works_once_and_only_for_its_key(api: Served) -> None:
    key, other = api.story.key("ALPHA"), api.story.key("GAMMA")
    message = challenge(api, key.address)
    status, body = token_answer(api, message, sign_message(other, message))
    assert status == 401 and f"signed by {other.address}" in str(body["error"]) and body["field"] == "signature"
    status, body = token_answer(api, message.replace("Nonce: ", "Nonce: 0"), sign_message(key, message))
    assert status == 401 and body["field"] == "message"
    status, body = token_answer(api, message, "0x1234")
    assert status in (401, 422) and body["field"] == "signature"
    status, body = token_answer(api, message, "")
    assert status in (401, 422) and body["field"] == "signature", body
    status, _ = token_answer(api, message, sign_message(key, message))
    assert status == 200
    status, body = token_answer(api, message, sign_message(key, message))  # replayed
    assert status == 401 and "used already" in str(body["error"])
    status, body = token_answer(api, "hello", sign_message(key, "hello"))
    assert status == 401 and "not an IDS Registry sign-in message" in str(body["error"])


def test_an_expired_challenge_is_refused(api: Served) -> None:
    key = api.story.key("ALPHA")
    message = challenge(api, key.address)
    with Session(api.engine) as session:
        session.connection().execute(
            update(AuthChallenge)
            .where(AuthChallenge.nonce == SignInMessage.parse(message).nonce)  # type: ignore[arg-type]
            .values(expires_at=int(time.time()) - 1)
        )
        session.commit()
    status, body = token_answer(api, message, sign_message(key, message))
    assert status == 401 and "expired" in str(body["error"])


def test_concurrent_redemptions_of_one_challenge_give_one_token(api: Served) -> None:
    key = api.story.key("ALPHA")
    message = challenge(api, key.address)
    signature = sign_message(key, message)
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(token_answer(api, message, signature)[0])) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 401, 401, 401, 401, 401]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("case", ["expired", "other secret", "other audience", "garbage", "no subject"])
def test_bad_tokens_are_refused(api: Served, case: str) -> None:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": api.story.key("BETA").address,
        "ten": "",
        "iat": now,
        "exp": now + 60,
        "aud": AUDIENCE,
        "iss": api.url,
    }
    secret = TEST_TOKEN_SECRET
    if case == "expired":
        claims["exp"] = now - 5
    elif case == "other secret":
        secret = "another-secret-of-at-least-32-bytes!!"
    elif case == "other audience":
        claims["aud"] = "someone-else"
    elif case == "no subject":
        del claims["sub"]
    token = "not.a.token" if case == "garbage" else jwt.encode(claims, secret, algorithm="HS256")
    response = api.http.get("/v1/grants", headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert ("expired" if case == "expired" else "not valid") in response.json()["error"]


def test_access_ends_when_the_key_is_removed_on_chain_even_before_the_index_sees_it(
    fresh_api: Callable[..., Any],
) -> None:
    with fresh_api("DEMO:ALPHA") as fresh:
        (org,) = fresh.orgs
        headers = fresh.served.sign_in(org.connectors[0])
        assert fresh.http.get("/v1/auth/me", headers=headers).status_code == 200
        assert fresh.http.get("/v1/grants", headers=headers).status_code == 200
        fresh.consortium.remove_connector(org.admin, org.connectors[0].address)
        time.sleep(1.1)  # the API reuses a head reading for a second
        # The index lags behind the chain: the chain's word decides.
        for path in ("/v1/auth/me", "/v1/grants"):
            refused = fresh.http.get(path, headers=headers)
            assert refused.status_code == 401 and "not an active key" in refused.json()["error"], refused.text
        fresh.indexer.scan_once()
        refused = fresh.http.get("/v1/auth/me", headers=headers)
        assert refused.status_code == 401 and "may no longer sign in" in refused.json()["error"]


def test_a_token_dies_with_its_key_tenure(fresh_api: Callable[..., Any]) -> None:
    """A key removed and added again starts a new tenure: tokens of the old one stay dead."""
    with fresh_api("DEMO:ALPHA") as fresh:
        (org,) = fresh.orgs
        key = org.connectors[0]
        old = fresh.served.sign_in(key)
        fresh.consortium.remove_connector(org.admin, key.address)
        fresh.consortium.add_connector(org.admin, key.address)
        fresh.indexer.scan_once()
        refused = fresh.http.get("/v1/grants", headers=old)
        assert refused.status_code == 401 and "sign in again" in refused.json()["error"], refused.text
        new = fresh.served.sign_in(key)
        assert fresh.http.get("/v1/grants", headers=new).status_code == 200


def test_challenges_are_rate_limited_per_address_and_per_client(make_db: Callable[[], Engine]) -> None:
    engine = make_db()
    limited = settings(
        database_url=engine.url.render_as_string(hide_password=False),
        token_secret=TEST_TOKEN_SECRET,
        challenges_per_address=3,
        challenges_per_client=5,
        challenge_window=60,
    )
    first, second, third = (new_account().address for _ in range(3))
    with serving(limited, engine) as url, httpx.Client(base_url=url) as http:

        def ask(address: str) -> httpx.Response:
            return http.post("/v1/auth/challenge", json={"address": address})

        # Not members: refused 403 while within the limits, 429 beyond them.
        assert [ask(first).status_code for _ in range(3)] == [403, 403, 403]
        refused = ask(first)
        assert refused.status_code == 429 and refused.json()["field"] == "address", refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 60 and first in refused.json()["error"]
        assert ask(second).status_code == 403  # another address, the fifth request of this client
        refused = ask(third)
        assert refused.status_code == 429 and "this client" in refused.json()["error"], refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 60
        declared = http.get("/openapi.json").json()["paths"]["/v1/auth/challenge"]["post"]["responses"]["429"]
        assert "Retry-After" in declared["headers"]

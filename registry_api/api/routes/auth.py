"""`/v1/auth`: sign in with a member key (EIP-4361 challenge, EIP-191 signature) for a bearer token."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from ... import store
from ...auth import Caller, identify, issue_challenge, issue_link, issue_token, redeem
from ...errors import Forbidden, Unavailable
from ...ratelimit import check_challenge
from .. import params
from ..deps import ChainDep, SessionDep, SettingsDep, SignedInDep
from ..limits import BODY_RESPONSES
from ..queries import org_refs, ref
from ..schemas import (
    CallerPublic,
    ChallengePublic,
    ChallengeRequest,
    ErrorPublic,
    SignInLinkPublic,
    TokenPublic,
    TokenRequest,
)

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _caller(session: SessionDep, caller: Caller) -> CallerPublic:
    org = ref(org_refs(session, [caller.org_no]), caller.org_no) if caller.org_no is not None else None
    return CallerPublic(address=caller.address, org=org, roles=sorted(caller.roles))


_RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorPublic,
        "description": "Too many challenges for this address or from this client (rate limits).",
        "headers": {
            "Retry-After": {"description": "Seconds until the limit's window ends.", "schema": {"type": "integer"}}
        },
    }
}


@router.post("/challenge", response_model=ChallengePublic, responses={**BODY_RESPONSES, **_RATE_LIMITED})
def challenge(
    body: ChallengeRequest, request: Request, session: SessionDep, settings: SettingsDep, chain: ChainDep
) -> ChallengePublic:
    """A sign-in message for a member key (or a governor, auditor or arbiter) to sign."""
    address = params.address("address", body.address)
    client = request.client.host if request.client is not None else "unknown"
    check_challenge(session, settings, address, client, int(time.time()))
    if identify(session, address, int(time.time())) is None:
        raise Forbidden(
            f"{address} is neither an active key of an active member nor a consortium role holder", "address"
        )
    checkpoint = store.get_checkpoint(session)
    chain_id = checkpoint.chain_id if checkpoint is not None else chain.chain_id()
    if chain_id is None:
        raise Unavailable("the chain is not known yet (nothing indexed and the node does not answer)")
    issued = issue_challenge(session, settings, chain_id, address)
    session.commit()
    return ChallengePublic(message=issued.message, nonce=issued.nonce, expires_at=issued.expires_at)


@router.post("/token", response_model=TokenPublic, responses=BODY_RESPONSES)
def token(body: TokenRequest, session: SessionDep, settings: SettingsDep, chain: ChainDep) -> TokenPublic:
    """Trade a signed challenge for a short-lived bearer token (each challenge works once)."""
    caller = redeem(session, settings, chain, body.message, body.signature)
    access, expires = issue_token(settings, caller)
    return TokenPublic(access_token=access, expires_at=expires, caller=_caller(session, caller))


@router.get("/me", response_model=CallerPublic)
async def me(session: SessionDep, caller: SignedInDep) -> CallerPublic:
    """Who the bearer token stands for now."""
    return _caller(session, caller)


@router.post("/link", response_model=SignInLinkPublic)
def link(session: SessionDep, settings: SettingsDep, caller: SignedInDep) -> SignInLinkPublic:
    """A one-time sign-in link for the explorer in a browser (about a minute; works once), so
    that a key never enters the browser: the client signs in, the browser gets the link."""
    code, expires = issue_link(session, settings, caller)
    session.commit()
    return SignInLinkPublic(code=code, url=f"{settings.base_url}/signin?code={code}", expires_at=expires)

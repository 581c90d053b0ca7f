"""Who is talking: a short-lived request token signed by a connector key, checked against the chain.

The profile (docs/connector.md, "Who is talking"): every DSP request carries
`Authorization: IDSREG-DSP1 <claims>.<signature>`, where `claims` is the base64url of the
RFC 8785 canonical JSON object

    {"typ": "idsreg-dsp-token/1", "iss": <org id>, "sub": <connector key address>,
     "aud": <the called connector's base URL>, "iat": <unix seconds>, "exp": <unix seconds>,
     "nonce": <16 random bytes, hex>}

and `signature` the hex EIP-191 (`personal_sign`) signature of the claims bytes by `sub`. The
receiver checks, in this order: the shape (401), its own URL or callback address (`<base>/callback`)
as audience (401), the time
window and lifetime (401), the nonce not seen before (401: a token serves one request), that
the signature recovers to `sub` (401), then on the chain that `sub` is a connector key of
`iss` and acts for an active, certified member now (403). The chain's answer is kept for a
few seconds (`cache_seconds`).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rfc8785
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature

from ..chain.enums import KeyRole
from ..chain.registry import Registry
from ..errors import ContractRevertError, IdsRegistryError

SCHEME = "IDSREG-DSP1"
TOKEN_TYPE = "idsreg-dsp-token/1"
#: Longest lifetime a receiver accepts (seconds) and the clock skew it tolerates.
MAX_LIFETIME = 300
SKEW = 30
DEFAULT_LIFETIME = 60


class AuthError(IdsRegistryError):
    """A request whose token is refused: `status` 401 (no valid proof) or 403 (proof of a key
    that may not act)."""

    exit_code = 2

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Caller:
    """The organisation and connector key a request proved."""

    org_id: str  # 0x-hex, lower case
    key: str  # checksummed address


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    key: LocalAccount, org_id: str, audience: str, *, lifetime: int = DEFAULT_LIFETIME, now: int | None = None
) -> str:
    """The `Authorization` header value for one request to the connector at `audience`."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "typ": TOKEN_TYPE,
        "iss": org_id.lower(),
        "sub": key.address,
        "aud": normalise_url(audience),
        "iat": issued,
        "exp": issued + lifetime,
        "nonce": os.urandom(16).hex(),
    }
    body = rfc8785.dumps(claims)
    signature = key.sign_message(encode_defunct(primitive=body)).signature
    return f"{SCHEME} {_b64(body)}.{bytes(signature).hex()}"


def normalise_url(url: str) -> str:
    """A connector's base URL as tokens name it: no trailing slash."""
    return url.rstrip("/")


class TokenVerifier:
    """Checks request tokens for the connector at `audience` against the chain."""

    def __init__(
        self,
        registry: Registry,
        audience: str,
        *,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.audience = normalise_url(audience)
        #: The connector's base URL, and its callback address (where providers call it back).
        self.audiences = frozenset({self.audience, self.audience + "/callback"})
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._nonces: dict[str, int] = {}
        self._keys: dict[str, tuple[float, str | None]] = {}  # key → (checked at, refusal or None)

    def verify(self, header: str | None, audience: str | None = None) -> Caller:
        """The caller the header proves; AuthError (401/403) saying why not.

        `audience` replaces the connector's own URLs as the only accepted `aud` (the data plane
        asks for proofs addressed to a transfer's endpoint)."""
        claims, body, signature = _parse(header)
        if claims.get("typ") != TOKEN_TYPE:
            raise AuthError(401, f"the token's type {claims.get('typ')!r} is not {TOKEN_TYPE!r}")
        accepted = self.audiences if audience is None else frozenset({normalise_url(audience)})
        if claims.get("aud") not in accepted:
            shown = self.audience if audience is None else normalise_url(audience)
            raise AuthError(401, f"the token is for {claims.get('aud')!r}, not for this connector ({shown})")
        now = int(self._clock())
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            raise AuthError(401, "the token's iat and exp must be whole Unix seconds")
        if exp - iat > MAX_LIFETIME or exp <= iat:
            raise AuthError(401, f"the token's lifetime {exp - iat} s is not between 1 and {MAX_LIFETIME} s")
        if exp < now:
            raise AuthError(401, f"the token expired {now - exp} s ago")
        if iat > now + SKEW:
            raise AuthError(401, f"the token is issued {iat - now} s in the future")
        try:
            signer = Account.recover_message(encode_defunct(primitive=body), signature=signature)
        except (BadSignature, ValueError, IndexError) as exc:
            raise AuthError(401, f"the token's signature is malformed ({type(exc).__name__})") from None
        if signer.lower() != str(claims.get("sub", "")).lower():
            raise AuthError(401, f"the token is signed by {signer}, not by its subject {claims.get('sub')!r}")
        org = str(claims.get("iss", "")).lower()
        self._check_key(signer, org)
        self._use_nonce(str(claims.get("nonce", "")), exp, now)
        return Caller(org, signer)

    def _use_nonce(self, nonce: str, exp: int, now: int) -> None:
        if len(nonce) < 16:
            raise AuthError(401, f"the token's nonce {nonce!r} is too short")
        with self._lock:
            for seen, until in list(self._nonces.items()):
                if until < now:
                    del self._nonces[seen]
            if nonce in self._nonces:
                raise AuthError(401, f"the token with nonce {nonce} was used already (one token per request)")
            self._nonces[nonce] = exp

    def _check_key(self, key: str, org: str) -> None:
        cache_key = f"{key.lower()}:{org}"
        now = self._clock()
        with self._lock:
            cached = self._keys.get(cache_key)
        if cached is not None and now - cached[0] < self.cache_seconds:
            refusal = cached[1]
        else:
            refusal = self._refusal(key, org)
            with self._lock:
                self._keys[cache_key] = (now, refusal)
        if refusal is not None:
            raise AuthError(403, refusal)

    def _refusal(self, key: str, org: str) -> str | None:
        """Why `key` may not speak for `org` now (None: it may), from the Consortium."""
        owner, role = self.registry.call("Consortium", "keyInfo", key)
        owner_id = "0x" + bytes(owner).hex()
        if not any(bytes(owner)):
            return f"key {key} belongs to no member of the consortium"
        if owner_id != org:
            return f"key {key} belongs to organisation {owner_id}, not to the token's issuer {org}"
        try:
            self.registry.call("Consortium", "requireActiveKey", key)
        except ContractRevertError as exc:
            return str(exc)
        if KeyRole(role) != KeyRole.CONNECTOR:
            return f"key {key} is the organisation's admin key, not one of its connector keys"
        return None


def _parse(header: str | None) -> tuple[dict[str, object], bytes, bytes]:
    if not header:
        raise AuthError(401, f"the request carries no Authorization header (expected {SCHEME} <token>)")
    scheme, _, token = header.strip().partition(" ")
    if scheme != SCHEME:
        raise AuthError(401, f"the Authorization scheme {scheme!r} is not {SCHEME}")
    claims_part, _, signature_part = token.partition(".")
    try:
        body = _unb64(claims_part)
        claims = json.loads(body)
        signature = bytes.fromhex(signature_part)
    except ValueError:
        raise AuthError(401, "the token is not <base64url claims>.<hex signature>") from None
    if not isinstance(claims, dict):
        raise AuthError(401, "the token's claims are not a JSON object")
    if rfc8785.dumps(claims) != body:
        raise AuthError(401, "the token's claims are not in canonical (RFC 8785) form")
    return claims, body, signature

"""Transfer tokens: the `authorization` of a data address, bound to one transfer and one key.

A token is `<base64url(claims)>.<hex HMAC-SHA256 of the claims bytes>`, the claims the RFC 8785
canonical JSON

    {"typ": "idsreg-transfer-token/1", "pid": <providerPid>, "jti": <token id>,
     "iss": <consumer org id>, "sub": <consumer connector key>, "exp": <unix seconds>}

keyed by a secret the provider keeps in its transfer store (so tokens survive a restart). A
token is good only for its transfer, only until `exp`, only while it is the transfer's latest
(each start issues a new one), and only together with a request proof signed by the key `sub`
(the data plane checks that): a token that leaks is useless without the consumer's key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import rfc8785

TOKEN_TYPE = "idsreg-transfer-token/1"
#: How long a transfer token lives by default (seconds): long enough for a large dataset over
#: a slow line, short enough that an old address does not linger.
DEFAULT_LIFETIME = 3600


class TokenRefused(Exception):
    """A transfer token the data plane does not take (always a 401)."""


@dataclass(frozen=True)
class TokenClaims:
    pid: str
    token_id: str
    org_id: str
    key: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TransferTokens:
    """Issues and checks transfer tokens with one secret."""

    def __init__(
        self, secret: bytes, *, lifetime: int = DEFAULT_LIFETIME, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < 32:
            raise ValueError("a transfer token secret has at least 32 bytes")
        self._secret = secret
        self.lifetime = lifetime
        self._clock = clock

    @staticmethod
    def new_secret() -> bytes:
        return os.urandom(32)

    def issue(self, pid: str, key: str, org_id: str, token_id: str) -> str:
        claims: dict[str, Any] = {
            "typ": TOKEN_TYPE,
            "pid": pid,
            "jti": token_id,
            "iss": org_id.lower(),
            "sub": key,
            "exp": int(self._clock()) + self.lifetime,
        }
        body = rfc8785.dumps(claims)
        return f"{_b64(body)}.{self._mac(body)}"

    def verify(self, header: str | None, pid: str) -> TokenClaims:
        """The claims of the `Authorization: Bearer <token>` header for transfer `pid`; TokenRefused why not."""
        if not header:
            raise TokenRefused("the request carries no Authorization header (expected Bearer <transfer token>)")
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise TokenRefused(f"the Authorization scheme {scheme!r} is not Bearer")
        part, _, mac = token.strip().partition(".")
        try:
            body = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            raise TokenRefused("the transfer token is not <base64url claims>.<hex MAC>") from None
        if not hmac.compare_digest(self._mac(body), mac):
            raise TokenRefused("the transfer token was not issued by this connector (its MAC does not match)")
        claims = json.loads(body)
        if not isinstance(claims, dict) or claims.get("typ") != TOKEN_TYPE:
            raise TokenRefused("the transfer token's type is not " + TOKEN_TYPE)
        if claims.get("pid") != pid:
            raise TokenRefused(f"the transfer token is for transfer {claims.get('pid')!r}, not {pid}")
        expires = int(claims.get("exp", 0))
        now = int(self._clock())
        if expires < now:
            raise TokenRefused(f"the transfer token expired {now - expires} s ago")
        return TokenClaims(pid, str(claims.get("jti")), str(claims.get("iss")), str(claims.get("sub")), expires)

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

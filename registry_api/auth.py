"""Sign-in with a member key: challenge → signed EIP-4361 message → short-lived bearer token.

Who may sign in: an active key (admin or connector) of an active, certified member, and the
accounts holding a consortium role (governors, auditors, arbiters), as the index knows them.
The token (a JWT signed with the API's key) names the address and the tenure it was issued
for: the blocks at which the key's current role and each consortium role of the account
began. Each request looks the address up again and refuses the token if the tenure changed,
so a key removed and added again does not bring its old tokens back. While the index is
behind the chain's head, the chain decides (`confirm_on_chain`): a key removed in a block the
index has not reached yet is refused at once.

Challenges are single-use: each sign-in deletes its challenge row, and only the request that
deleted it gets a token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from sqlalchemy import delete
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from client.chain.enums import Role
from client.chain.registry import Registry
from client.consortium import Consortium
from client.errors import ConfigError
from client.siwe import SignInMessage, recover_address
from client.times import iso

from . import store
from .chainview import ChainView
from .domain import Org, OrgKey, RoleHolder
from .errors import Forbidden, Unauthorized
from .models import AuthChallenge, SignInLink
from .settings import ApiSettings

AUDIENCE = "idsreg-api"


@dataclass(frozen=True)
class Caller:
    """Who is asking: an account, the organisation it acts for (if a member key), its roles."""

    address: str
    org_no: int | None
    org_id: str | None
    roles: frozenset[str]
    #: Where the standing began, e.g. "key:3@1042,auditor@17": the block of the event that made
    #: the key what it is now (OrgKey.updated_block) and of each role's grant.
    tenure: str = ""

    @property
    def sees_everything(self) -> bool:
        """Auditors and governors see every grant and receipt."""
        return bool(self.roles & {"auditor", "governor"})

    def involves(self, *org_nos: int | None) -> bool:
        """Whether the caller acts for one of these organisations."""
        return self.org_no is not None and self.org_no in org_nos


def identify(session: Session, address: str, now: int) -> Caller | None:
    """The caller `address` is now, per the index; None if it may not sign in."""
    connection = session.connection()
    held = {
        str(r): int(b)
        for r, b in connection.execute(
            select_columns(col(RoleHolder.role), col(RoleHolder.block_number)).where(col(RoleHolder.account) == address)
        )
    }
    tenure = [f"{role}@{block}" for role, block in sorted(held.items())]
    found = connection.execute(
        select_columns(
            col(OrgKey.role),
            col(OrgKey.updated_block),
            col(Org.org_no),
            col(Org.org_id),
            col(Org.status),
            col(Org.expires_at),
        )
        .join(Org, col(Org.org_no) == col(OrgKey.org_no))
        .where(col(OrgKey.address) == address)
    ).first()
    roles = frozenset(held)
    if found is not None:
        role, since, org_no, org_id, status, expires_at = found
        if role != "none" and status == "active" and int(expires_at) > now:
            return Caller(address, int(org_no), str(org_id), roles, ",".join([f"key:{org_no}@{since}", *tenure]))
    return Caller(address, None, None, roles, ",".join(tenure)) if roles else None


def confirm_on_chain(registry: Registry, caller: Caller) -> Caller:
    """`caller` as far as the chain's current state confirms it (for when the index lags): its
    key only if still an active key of the same organisation, its roles only if still held.
    Unauthorized if nothing is left."""
    consortium = Consortium(registry)
    org_id, org_no = caller.org_id, caller.org_no
    if org_id is not None and not (
        consortium.is_active_key(caller.address) and consortium.key_info(caller.address)[0] == org_id
    ):
        org_id, org_no = None, None
    roles = frozenset(r for r in caller.roles if consortium.has_role(Role[r.upper()], caller.address))
    if org_id is None and not roles:
        raise Unauthorized(
            f"{caller.address} is not an active key of an active member, nor a role holder, on chain "
            "(the index has not caught up yet)"
        )
    return Caller(caller.address, org_no, org_id, roles, caller.tenure)


def index_lags(session: Session, head: int | None) -> bool:
    """Whether the chain's head is past the last indexed block (False if the head is unknown)."""
    if head is None:
        return False
    checkpoint = store.get_checkpoint(session)
    return checkpoint is None or checkpoint.block_number < head


def issue_challenge(session: Session, settings: ApiSettings, chain_id: int, address: str) -> AuthChallenge:
    """A new sign-in challenge for `address` (stored; the caller commits)."""
    now = int(time.time())
    session.connection().execute(delete(AuthChallenge).where(col(AuthChallenge.expires_at) < now))
    site = urlsplit(settings.base_url)
    message = SignInMessage(
        domain=site.netloc,
        address=address,
        uri=settings.base_url,
        chain_id=chain_id,
        nonce=secrets.token_hex(16),
        issued_at=iso(now),
        expires_at=iso(now + settings.challenge_ttl),
    )
    challenge = AuthChallenge(
        nonce=message.nonce, address=address, message=message.text(), expires_at=now + settings.challenge_ttl
    )
    session.add(challenge)
    return challenge


def redeem(session: Session, settings: ApiSettings, chain: ChainView, text: str, signature: str) -> Caller:
    """Check a signed challenge and use it up; the caller it identifies (commits the deletion)."""
    try:
        message = SignInMessage.parse(text)
    except ConfigError as exc:
        raise Unauthorized(str(exc), "message") from None
    now = int(time.time())
    challenge = session.get(AuthChallenge, message.nonce)
    if challenge is None or challenge.message != text:
        raise Unauthorized("this sign-in message was not issued by this API, or it was used already", "message")
    if challenge.expires_at < now:
        raise Unauthorized(
            f"the sign-in challenge expired at {iso(challenge.expires_at)}; ask for a new one", "message"
        )
    try:
        signer = recover_address(text, signature)
    except ConfigError as exc:
        raise Unauthorized(str(exc), "signature") from None
    if signer != challenge.address:
        raise Unauthorized(f"the message was signed by {signer}, not by {challenge.address}", "signature")
    used = session.connection().execute(delete(AuthChallenge).where(col(AuthChallenge.nonce) == message.nonce))
    session.commit()
    if used.rowcount != 1:
        raise Unauthorized("this sign-in message was used already", "message")
    caller = identify(session, signer, now)
    if caller is None:
        raise Forbidden(f"{signer} is neither an active key of an active member nor a consortium role holder")
    if index_lags(session, chain.head()):
        caller = confirm_on_chain(chain.registry(), caller)
    return caller


def issue_token(settings: ApiSettings, caller: Caller) -> tuple[str, int]:
    """A bearer token for `caller` and the time it expires."""
    now = int(time.time())
    expires = now + settings.token_ttl
    claims = {
        "sub": caller.address,
        "ten": caller.tenure,
        "iat": now,
        "exp": expires,
        "iss": settings.base_url,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, settings.signing_key(), algorithm="HS256"), expires


def caller_of(session: Session, settings: ApiSettings, token: str) -> Caller:
    """The caller a bearer token stands for now; Unauthorized if the token is not good."""
    try:
        claims = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=settings.base_url,
            options={"require": ["sub", "ten", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the bearer token has expired; sign in again") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"the bearer token is not valid: {exc}") from None
    caller = identify(session, str(claims["sub"]), int(time.time()))
    if caller is None:
        raise Unauthorized(f"{claims['sub']} may no longer sign in (key removed or member not active)")
    if caller.tenure != claims["ten"]:
        raise Unauthorized(
            f"{claims['sub']} was removed or its roles changed since this token was issued; sign in again"
        )
    return caller


#: Seconds a one-time sign-in link lasts: long enough to paste it into a browser, short enough
#: that a link left in a terminal's scrollback is of no use.
LINK_TTL = 60


def _code_hash(code: str) -> str:
    return "0x" + hashlib.sha256(code.encode()).hexdigest()


def issue_link(session: Session, settings: ApiSettings, caller: Caller) -> tuple[str, int]:
    """A one-time sign-in code for `caller`'s browser and when it expires (stored; the caller
    commits). The browser's session gets a bearer token of its own, issued now."""
    now = int(time.time())
    session.connection().execute(delete(SignInLink).where(col(SignInLink.expires_at) < now))
    code = secrets.token_urlsafe(24)
    token, _ = issue_token(settings, caller)
    session.add(SignInLink(code_hash=_code_hash(code), token=token, expires_at=now + LINK_TTL))
    return code, now + LINK_TTL


def redeem_link(session: Session, code: str) -> str:
    """The bearer token of a one-time sign-in code, used up (commits); Unauthorized if the code
    was never issued, was used already or expired."""
    key = _code_hash(code)
    found = (
        session.connection()
        .execute(
            select_columns(col(SignInLink.token), col(SignInLink.expires_at)).where(col(SignInLink.code_hash) == key)
        )
        .first()
    )
    used = session.connection().execute(delete(SignInLink).where(col(SignInLink.code_hash) == key))
    session.commit()
    # Only the request that deleted the row signs in: two browsers racing for one link get one session.
    if found is None or used.rowcount != 1:
        raise Unauthorized("this sign-in link is not known or was used already; ask for a new one", "code")
    token, expires_at = str(found[0]), int(found[1])
    if expires_at < int(time.time()):
        raise Unauthorized(
            f"this sign-in link expired at {iso(expires_at)}; ask for a new one (idsreg api login --link)", "code"
        )
    return token

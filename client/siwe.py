"""Sign-in messages for the registry API, in the EIP-4361 ("Sign-In with Ethereum") format.

The API hands out a message naming the key, the API's address, the chain, a one-time nonce
and an expiry; the key signs it as an EIP-191 personal message; the API checks the signature
and gives back a short-lived bearer token. A client should read the message before signing
(`SignInMessage.parse`) and refuse one for another address, site or chain.

>>> m = SignInMessage("api.example", "0x" + "ab" * 20, "https://api.example", 7351, "n0nce1234",
...                   "2026-12-01T10:00:00Z", "2026-12-01T10:05:00Z")
>>> SignInMessage.parse(m.text()) == m
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_utils import to_checksum_address
from eth_utils.exceptions import ValidationError

from .errors import ConfigError

STATEMENT = "Sign in to the IDS Registry API."

_PATTERN = re.compile(
    r"^(?P<domain>[^\s]+) wants you to sign in with your Ethereum account:\n"
    r"(?P<address>0x[0-9a-fA-F]{40})\n"
    r"\n" + re.escape(STATEMENT) + r"\n"
    r"\n"
    r"URI: (?P<uri>[^\s]+)\n"
    r"Version: 1\n"
    r"Chain ID: (?P<chain_id>[0-9]+)\n"
    r"Nonce: (?P<nonce>[0-9A-Za-z]{8,64})\n"
    r"Issued At: (?P<issued_at>[0-9TZ:.+-]+)\n"
    r"Expiration Time: (?P<expires_at>[0-9TZ:.+-]+)$"
)


@dataclass(frozen=True)
class SignInMessage:
    """The fields of a sign-in message (times are RFC 3339 UTC strings)."""

    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    expires_at: str

    def __post_init__(self) -> None:
        # The text names the address checksummed, so a message and its parsed text compare equal.
        object.__setattr__(self, "address", to_checksum_address(self.address))

    def text(self) -> str:
        """The exact text that is signed."""
        return (
            f"{self.domain} wants you to sign in with your Ethereum account:\n"
            f"{to_checksum_address(self.address)}\n\n{STATEMENT}\n\n"
            f"URI: {self.uri}\nVersion: 1\nChain ID: {self.chain_id}\nNonce: {self.nonce}\n"
            f"Issued At: {self.issued_at}\nExpiration Time: {self.expires_at}"
        )

    @classmethod
    def parse(cls, text: str) -> SignInMessage:
        """The fields of a message; ConfigError if it is not a registry sign-in message."""
        match = _PATTERN.match(text)
        if match is None:
            raise ConfigError("the text is not an IDS Registry sign-in message (EIP-4361)")
        fields = match.groupdict()
        return cls(
            domain=fields["domain"],
            address=to_checksum_address(fields["address"]),
            uri=fields["uri"],
            chain_id=int(fields["chain_id"]),
            nonce=fields["nonce"],
            issued_at=fields["issued_at"],
            expires_at=fields["expires_at"],
        )


def sign_message(account: LocalAccount, text: str) -> str:
    """The EIP-191 signature of `text` by `account`, as 0x-hex."""
    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def recover_address(text: str, signature: str) -> str:
    """The address that signed `text`; ConfigError if the signature is malformed."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
        if len(raw) != 65:
            raise ValueError(f"{len(raw)} bytes instead of 65")
        return str(Account.recover_message(encode_defunct(text=text), signature=raw))
    except (ValueError, TypeError, ValidationError, BadSignature) as exc:
        raise ConfigError(f"the signature {signature[:20]!r}… is not a valid signature: {exc}") from None

"""Checking what callers send: ids, hashes, addresses, organisations, cursors.

Each parser takes the parameter's name so that a refusal names it (`BadInput`, 422).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any

from eth_utils import is_hex_address, keccak, to_checksum_address
from fastapi import Path, Query

from ..errors import BadInput

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_IDENTIFIER_TEXT = r"[A-Z][A-Z0-9]{1,15}:[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
ORG = rf"^([0-9]{{1,10}}|0x[0-9a-fA-F]{{64}}|{_IDENTIFIER_TEXT})$"
CURSOR = r"^[A-Za-z0-9_-]{1,512}$"
_HEX32 = re.compile(HEX32)
_IDENTIFIER = re.compile(rf"^{_IDENTIFIER_TEXT}$")

#: What each pattern means, for the refusal's message (the schema lists the patterns).
PATTERNS = {
    HEX32: "0x followed by 64 hex digits",
    ADDRESS: "an account address (0x followed by 40 hex digits)",
    ORG: "an organisation (identifier like LEI:5493001KJTIIGC8Y1R12, 0x org id, or member number)",
    CURSOR: "a cursor this list handed out (nextCursor)",
}

#: A dataset id (content root) in a path.
RootPath = Annotated[
    str, Path(description="Content root: 0x followed by 64 hex digits.", pattern=HEX32, examples=["0x" + "11" * 32])
]
Hex32Path = Annotated[str, Path(description="0x followed by 64 hex digits.", pattern=HEX32)]
Hex32Query = Annotated[str | None, Query(description="Content root: 0x followed by 64 hex digits.", pattern=HEX32)]
AddressPath = Annotated[str, Path(description="An account address.", pattern=ADDRESS)]
OrgPath = Annotated[str, Path(description="Identifier (LEI:…), 0x org id or member number.", pattern=ORG)]
#: How many items a page holds.
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (1 to 500).")]
Cursor = Annotated[str | None, Query(description="`nextCursor` of the previous page.", pattern=CURSOR)]
OrgQuery = Annotated[
    str | None, Query(description="An organisation: identifier (LEI:…), 0x org id, or member number.", pattern=ORG)
]


def hex32(field: str, value: str) -> str:
    """A 32-byte 0x-hex value in lower case."""
    if not _HEX32.match(value):
        raise BadInput(field, value, "0x followed by 64 hex digits")
    return value.lower()


def address(field: str, value: str) -> str:
    """A checksummed account address."""
    if not is_hex_address(value) or not value.startswith("0x"):
        raise BadInput(field, value, "an account address (0x followed by 40 hex digits)")
    return to_checksum_address(value)


def org_key(field: str, value: str) -> tuple[str, Any]:
    """("org_no", n) or ("org_id", 0x…) for an organisation given by number, identifier or org id."""
    text = value.strip()
    if text.isdigit() and len(text) <= 10:
        if int(text) >= 2**32:
            raise BadInput(field, value, "a member number (at most 4294967295)")
        return "org_no", int(text)
    if _HEX32.match(text):
        return "org_id", text.lower()
    if _IDENTIFIER.match(text):
        return "org_id", "0x" + keccak(text=text).hex()
    raise BadInput(field, value, "an organisation (identifier like LEI:5493001KJTIIGC8Y1R12, 0x org id, or member number)")


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(value: str | None, kinds: tuple[type, ...]) -> list[Any] | None:
    """The sort key a cursor carries, checked against the kinds of the list's sort columns."""
    if value is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raw = None
    if (
        not isinstance(raw, list)
        or len(raw) != len(kinds)
        or not all(isinstance(v, k) and not isinstance(v, bool) for v, k in zip(raw, kinds, strict=True))
    ):
        raise BadInput("cursor", value, "a cursor this list handed out (nextCursor)")
    return raw

"""Checking what callers send: ids, hashes, addresses, organisations, cursors.

Each parser takes the parameter's name so that a refusal names it (`BadInput`, 422).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from eth_utils import is_hex_address, keccak, to_checksum_address
from fastapi import Path, Query

from ..errors import BadInput

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_IDENTIFIER_TEXT = r"[A-Z][A-Z0-9]{1,15}:[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
ORG = rf"^([0-9]{{1,10}}|0x[0-9a-fA-F]{{64}}|{_IDENTIFIER_TEXT})$"
#: A cursor is the page's last sort key, its fields joined by dots: whole numbers below 10**18
#: (the sort columns are 64-bit integers), log indexes below 10**9 (32-bit columns), and
#: lower-case content roots. Each list's pattern says exactly which cursors it takes.
_CURSOR_FIELD = {int: r"[0-9]{1,18}", str: r"0x[0-9a-f]{64}"}
_LOG_INDEX = r"[0-9]{1,9}"
CURSOR_1 = rf"^{_CURSOR_FIELD[int]}$"
CURSOR_2 = rf"^{_CURSOR_FIELD[int]}\.{_LOG_INDEX}$"
CURSOR_GRANTS = rf"^{_CURSOR_FIELD[int]}\.{_CURSOR_FIELD[str]}\.{_CURSOR_FIELD[int]}\.{_CURSOR_FIELD[int]}$"
_HEX32 = re.compile(HEX32)
_IDENTIFIER = re.compile(rf"^{_IDENTIFIER_TEXT}$")

#: What each pattern means, for the refusal's message (the schema lists the patterns).
PATTERNS = {
    HEX32: "0x followed by 64 hex digits",
    ADDRESS: "an account address (0x followed by 40 hex digits)",
    ORG: "an organisation (identifier like LEI:5493001KJTIIGC8Y1R12, 0x org id, or member number)",
    CURSOR_1: "a cursor this list handed out (nextCursor)",
    CURSOR_2: "a cursor this list handed out (nextCursor)",
    CURSOR_GRANTS: "a cursor this list handed out (nextCursor)",
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
_CURSOR_TEXT = "`nextCursor` of the previous page."
#: The cursor of a list sorted by one number (member number, proposal id, dispute id).
Cursor1 = Annotated[str | None, Query(description=_CURSOR_TEXT, pattern=CURSOR_1)]
#: The cursor of a list in chain order (block number, log index).
Cursor2 = Annotated[str | None, Query(description=_CURSOR_TEXT, pattern=CURSOR_2)]
#: The cursor of the grants list (block number, dataset, grantee, serial).
GrantsCursor = Annotated[str | None, Query(description=_CURSOR_TEXT, pattern=CURSOR_GRANTS)]
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
        return "org_no", int(text)  # beyond the 32-bit member numbers: no such member (404)
    if _HEX32.match(text):
        return "org_id", text.lower()
    if _IDENTIFIER.match(text):
        return "org_id", "0x" + keccak(text=text).hex()
    raise BadInput(
        field, value, "an organisation (identifier like LEI:5493001KJTIIGC8Y1R12, 0x org id, or member number)"
    )


def encode_cursor(values: list[Any]) -> str:
    return ".".join(str(v) for v in values)


_CURSOR_PATTERNS = {pattern: re.compile(pattern) for pattern in (CURSOR_1, CURSOR_2, CURSOR_GRANTS)}


def decode_cursor(value: str | None, pattern: str) -> list[Any] | None:
    """The sort key a cursor carries, checked against the list's cursor pattern."""
    if value is None:
        return None
    if not _CURSOR_PATTERNS[pattern].match(value):
        raise BadInput("cursor", value, "a cursor this list handed out (nextCursor)")
    return [p if p.startswith("0x") else int(p) for p in value.split(".")]

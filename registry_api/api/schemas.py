"""What the API answers with and what its requests carry.

The answers (`XPublic` models, camelCase in JSON) are defined once in `client/api_models.py`,
which the API's client reads them into, and re-exported here for the routes; request bodies,
which only the API validates, are defined here.

Conventions: 32-byte values are 0x-hex, accounts checksummed, times Unix seconds; `uint256`
amounts (prices, nonces) are decimal strings so that no JSON reader rounds them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from client.api_models import (
    AnchorPublic,
    CallerPublic,
    ChainRef,
    ChallengePublic,
    DatasetDetailPublic,
    DatasetPublic,
    DisputeDetailPublic,
    DisputePublic,
    ErrorPublic,
    GrantPublic,
    HistoryEntryPublic,
    HoldersPublic,
    KeyPublic,
    LineageEdgePublic,
    LineageNodePublic,
    LineagePublic,
    MemberDetailPublic,
    MemberPublic,
    OrgRef,
    Page,
    ProposalPublic,
    Public,
    ReceiptPublic,
    RightChangePublic,
    RolesPublic,
    SignInLinkPublic,
    StatusPublic,
    TokenPublic,
    VerdictPublic,
    VotePublic,
    one_of,
)

from .params import ADDRESS, HEX32

#: An EIP-191 / EIP-712 signature: 65 bytes of 0x-hex.
SIGNATURE = r"^0x[0-9a-fA-F]{130}$"


# ----- auth ---------------------------------------------------------------------------------


class Request(Public):
    """A request body: unknown fields are refused (the schema says `additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid")


class ChallengeRequest(Request):
    address: str = Field(description="The key that will sign in.", examples=["0x" + "ab" * 20], pattern=ADDRESS)


class TokenRequest(Request):
    message: str
    signature: str = Field(description="0x-hex EIP-191 signature of the message (65 bytes).", pattern=SIGNATURE)


# ----- verify -------------------------------------------------------------------------------


# Whole numbers of the request bodies: a proof file's counters are bounded by the largest integer
# that every JSON parser reads exactly (2**53 - 1, JavaScript's MAX_SAFE_INTEGER). A receipt file's
# are only non-negative here: a value beyond its field's uint width is a receipt that does not
# verify (a verdict), not a malformed request. Bounds such as 2**256 - 1 cannot be written as JSON
# numbers that every reader compares exactly.
JSON_SAFE = 2**53 - 1


class ProofFileBody(Request):
    """An idsreg-inclusion-proof/1 file (docs/proofs.md)."""

    format: Literal["idsreg-inclusion-proof/1"]
    leaf: str = Field(pattern=HEX32)
    leaf_index: int = Field(ge=0, le=JSON_SAFE)
    tree_size: int = Field(ge=0, le=JSON_SAFE)
    path: list[Annotated[str, Field(pattern=HEX32)]] = Field(max_length=64)
    root: str = Field(pattern=HEX32)
    chain_id: int = Field(ge=0, le=JSON_SAFE)
    contract: str = Field(pattern=ADDRESS)
    transaction: str = Field(pattern=HEX32)
    block_number: int = Field(ge=0, le=JSON_SAFE)
    block_hash: str = Field(pattern=HEX32)
    anchored_at: int = Field(ge=0, le=JSON_SAFE)
    anchored_by: str = Field(pattern=HEX32)
    item: str = ""


class ReceiptFieldsBody(Public):
    """The receipt's fields, as its EIP-712 type has them."""

    dataset: str = Field(pattern=HEX32)
    grant_serial: int = Field(ge=0)
    provider: str = Field(pattern=HEX32)
    consumer: str = Field(pattern=HEX32)
    delivered_root: str = Field(pattern=HEX32)
    terms_commitment: str = Field(pattern=HEX32)
    delivered_at: int = Field(ge=0)
    nonce: int = Field(ge=0)


class ReceiptSignatureBody(Public):
    key: str = Field(pattern=ADDRESS)
    signature: str = Field(pattern=SIGNATURE)


class ReceiptFileBody(Public):
    """An idsreg-receipt/2 file (docs/licences.md); other fields (its `digest`) are not read. The
    terms and salt are checked against the signed commitment and not kept."""

    format: Literal["idsreg-receipt/2"]
    chain_id: int = Field(ge=0)
    ledger: str = Field(pattern=ADDRESS)
    receipt: ReceiptFieldsBody
    terms: dict[str, str] = Field(max_length=16)
    salt: str = Field(pattern=HEX32)
    signatures: dict[Literal["provider", "consumer"], ReceiptSignatureBody] = Field(default_factory=dict)


class DiscloseRequest(Request):
    """An opening of a terms commitment: the terms document and its 32-byte salt."""

    terms: dict[str, str] = Field(max_length=16)
    salt: str = Field(pattern=HEX32)


class VerifyRequest(Request):
    """Exactly one of: a content root, an inclusion-proof file, a receipt file (as JSON)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    # Each may be left out but not be null: typed without None so that the schema and the
    # validation refuse a null, defaulting to None so that the route sees what was left out.
    content_root: str = Field(default=None, pattern=HEX32, examples=["0x" + "11" * 32])  # type: ignore[assignment]
    proof: ProofFileBody = Field(default=None)  # type: ignore[assignment]
    receipt: ReceiptFileBody = Field(default=None)  # type: ignore[assignment]


__all__ = [
    "JSON_SAFE",
    "SIGNATURE",
    "AnchorPublic",
    "CallerPublic",
    "ChainRef",
    "ChallengePublic",
    "ChallengeRequest",
    "DatasetDetailPublic",
    "DatasetPublic",
    "DiscloseRequest",
    "DisputeDetailPublic",
    "DisputePublic",
    "ErrorPublic",
    "GrantPublic",
    "HistoryEntryPublic",
    "HoldersPublic",
    "KeyPublic",
    "LineageEdgePublic",
    "LineageNodePublic",
    "LineagePublic",
    "MemberDetailPublic",
    "MemberPublic",
    "OrgRef",
    "Page",
    "ProofFileBody",
    "ProposalPublic",
    "Public",
    "ReceiptFieldsBody",
    "ReceiptFileBody",
    "ReceiptPublic",
    "ReceiptSignatureBody",
    "Request",
    "RightChangePublic",
    "RolesPublic",
    "SignInLinkPublic",
    "StatusPublic",
    "TokenPublic",
    "TokenRequest",
    "VerdictPublic",
    "VerifyRequest",
    "VotePublic",
    "one_of",
]

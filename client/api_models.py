"""The registry API's answers as typed models, shared by the API and its client.

The API (`registry_api/api/schemas.py`) answers with these models and the client
(`client.registry_client.RegistryClient`) reads its answers into them, so the two cannot
drift apart; they live in the client package because the client never imports
`registry_api` (docs/architecture.md). Request bodies, which only the API validates, stay
in its schemas.

Conventions (docs/api.md): camelCase in JSON (snake_case attributes in Python), 32-byte
values are 0x-hex, accounts checksummed, times Unix seconds; `uint256` amounts (a receipt's
nonce) are decimal strings so that no JSON reader rounds them. Fields the client does not
know (an API newer than it) are ignored, not refused.

>>> OrgRef.model_validate({"orgNo": 3, "orgId": "0x" + "ab" * 32, "name": "ACME"}).name
'ACME'
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")


def one_of(*values: str, description: str | None = None) -> Any:
    """A text field that takes one of `values` (listed as an enum in the OpenAPI schema)."""
    return Field(description=description, json_schema_extra={"enum": list(values)})


class Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class Page(Public, Generic[T]):
    """One page of a list; pass `nextCursor` as `cursor` for the next one (null: last page)."""

    data: list[T]
    next_cursor: str | None = None


class ErrorPublic(Public):
    """Every error answer."""

    error: str = Field(description="What is wrong, naming the bad value.")
    status: int
    field: str | None = Field(default=None, description="The parameter or body field at fault, if one is.")


class OrgRef(Public):
    """An organisation as other records mention it."""

    org_no: int
    org_id: str | None = None
    name: str | None = None


class ChainRef(Public):
    """Where a record's event sits on the chain."""

    block_number: int
    tx_hash: str


# ----- status -------------------------------------------------------------------------------


class StatusPublic(Public):
    chain_id: int | None
    node_reachable: bool
    chain_head: int | None = Field(description="The node's head block (null when it does not answer).")
    indexed_block: int | None = Field(description="Last block whose events are all indexed.")
    indexed_block_hash: str | None
    indexed_block_time: int | None = Field(
        default=None,
        description="The indexed block's timestamp: the chain's time as the index knows it (Unix seconds). "
        "Licence windows are in this time, not the wall clock's.",
    )
    lag: int | None = Field(description="Blocks between the node's head and the index.")
    confirmations: int
    deployment_block: int | None
    contracts: dict[str, str]
    indexed_at: int | None = Field(description="When the index last moved (Unix seconds).")
    service: str = Field(description="The name of the service that answered (`IDSREG_API_SERVICE_NAME`).")
    indexing_service: str | None = Field(
        description="The service whose indexer holds the database's indexing lock (PostgreSQL; null on SQLite, "
        "and while no service indexes)."
    )


# ----- members ------------------------------------------------------------------------------


class KeyPublic(Public):
    address: str
    org: OrgRef
    role: str = one_of("admin", "connector", "none")
    active: bool = Field(description="Acts for the organisation now: a current key of an active, certified member.")
    added_block: int


class MemberPublic(Public):
    org_no: int
    org_id: str
    name: str
    status: str = one_of("active", "suspended", "expelled")
    level: int
    certified_until: int
    certified: bool
    evidence_hash: str
    admin: str
    admitted_at: int
    admitted: ChainRef


class MemberDetailPublic(MemberPublic):
    keys: list[KeyPublic]


class RolesPublic(Public):
    governors: list[str]
    auditors: list[str]
    arbiters: list[str]
    thresholds: dict[str, int]
    dispute_period: int | None = Field(
        description="Seconds a new dispute may freeze a right (the council's dispute period; null before indexed)."
    )


class ProposalPublic(Public):
    proposal_id: int
    action: str
    args: dict[str, Any]
    proposer: str
    status: str = one_of("open", "executed", "cancelled")
    approvals: int
    created_at: int
    created: ChainRef


# ----- datasets -----------------------------------------------------------------------------


class HoldersPublic(Public):
    holding: OrgRef
    processing: OrgRef
    operation: OrgRef


class DatasetPublic(Public):
    root: str
    registrant: OrgRef
    grade: str = one_of("general", "important", "core")
    registered_at: int = Field(description="Priority time: the registration's block time, or its commitment's.")
    holders: HoldersPublic
    metadata_uri: str
    registered: ChainRef


class DatasetDetailPublic(DatasetPublic):
    metadata_hash: str
    manifest_uri: str
    parents: list[str]
    children: list[str] = Field(description="Datasets derived from this one (first 100).")
    child_count: int
    offers: dict[str, OrgRef] = Field(description="Open offers of a right, by right.")
    frozen: list[str] = Field(
        description="Rights frozen by an open dispute now: as of the latest indexed block's time, before the "
        "freeze's end. A freeze ends by time even while its dispute is still open."
    )
    frozen_until: dict[str, int] = Field(
        description="When each frozen right's freeze ends (Unix seconds, block time; the same rights as `frozen`)."
    )
    open_disputes: list[int] = Field(
        description="Disputes open on chain, including any whose period is over but that nobody closed yet."
    )


class HistoryEntryPublic(Public):
    block_number: int
    block_hash: str
    block_time: int
    tx_hash: str
    log_index: int
    contract: str
    event: str
    args: dict[str, Any] | None = Field(description="The event's arguments (null when redacted).")
    redacted: bool = Field(description="A licence or delivery the caller may not see: only that it happened is shown.")


class LineageNodePublic(Public):
    root: str
    distance: int = Field(description="Steps from the dataset asked about: negative up (ancestors), positive down.")
    registrant: OrgRef
    grade: str
    registered_at: int


class LineageEdgePublic(Public):
    child: str
    parent: str


class LineagePublic(Public):
    root: str
    direction: str = one_of("up", "down", "both")
    depth: int
    nodes: list[LineageNodePublic]
    edges: list[LineageEdgePublic]
    truncated: bool = Field(description="True when the depth limit or the node limit cut the graph.")


class RightChangePublic(Public):
    right: str
    from_org: OrgRef
    to_org: OrgRef
    kind: str = one_of("transferred", "awarded")
    dispute_id: int | None
    block_time: int
    changed: ChainRef


# ----- licences, deliveries, anchors, disputes ----------------------------------------------


class GrantPublic(Public):
    dataset: str
    grantee: OrgRef
    grantor: OrgRef
    serial: int
    permissions: list[str]
    valid_from: int
    valid_until: int
    terms_commitment: str = Field(description="Salted commitment to the confidential terms (docs/licences.md).")
    terms: dict[str, str] | None = Field(
        default=None, description="The terms, if a party disclosed them to the service (null otherwise)."
    )
    status: str = one_of("pending", "active", "rejected", "revoked")
    current: bool = Field(description="False once a newer grant to the same organisation replaced it.")
    decided_by: str | None
    issued_at: int
    issued: ChainRef


class ReceiptPublic(Public):
    digest: str
    dataset: str
    provider: OrgRef
    consumer: OrgRef
    grant_serial: int
    delivered_root: str
    terms_commitment: str = Field(description="Salted commitment to the confidential terms (docs/licences.md).")
    terms: dict[str, str] | None = Field(
        default=None, description="The terms, if a party disclosed them to the service (null otherwise)."
    )
    delivered_at: int
    nonce: str = Field(description="uint256, as a decimal string.")
    provider_key: str
    consumer_key: str
    recorded_at: int
    recorded: ChainRef


class AnchorPublic(Public):
    root: str
    org: OrgRef
    leaf_count: int
    note_hash: str
    anchored_at: int
    block_hash: str
    anchored: ChainRef


class VotePublic(Public):
    arbiter: str
    uphold: bool
    live: bool = Field(
        description="Whether the vote counts now: its arbiter holds the role in the term it voted in. An open "
        "dispute's counts are its live votes; a decided one keeps the counts it was decided with."
    )
    block_time: int
    cast: ChainRef


class DisputePublic(Public):
    dispute_id: int
    dataset: str
    right: str
    claimant: OrgRef
    respondent: OrgRef
    evidence_hash: str
    status: str = one_of("open", "upheld", "dismissed", "lapsed", "voided")
    prior_anchor_root: str | None
    prior_anchored_at: int | None
    uphold_votes: int = Field(
        description="Open: the live votes (current arbiters, in their current term), as the court counts them. "
        "Closed: the counts at the last vote."
    )
    dismiss_votes: int
    opened_at: int
    closed_block: int | None
    opened: ChainRef


class DisputeDetailPublic(DisputePublic):
    votes: list[VotePublic]


# ----- auth ---------------------------------------------------------------------------------


class ChallengePublic(Public):
    message: str = Field(description="The EIP-4361 message to sign (EIP-191 personal_sign), exactly as given.")
    nonce: str
    expires_at: int


class CallerPublic(Public):
    address: str
    org: OrgRef | None
    roles: list[str]


class TokenPublic(Public):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int
    caller: CallerPublic


class SignInLinkPublic(Public):
    """A one-time sign-in link for a browser: open `url` within a minute; it works once."""

    code: str
    url: str = Field(description="The explorer's sign-in page with the code: `…/signin?code=…`.")
    expires_at: int


# ----- verify -------------------------------------------------------------------------------


class VerdictPublic(Public):
    verified: bool
    kind: str = one_of("content-root", "proof", "receipt")
    subject: str | None = Field(
        description="The content root, or the receipt digest, that was checked; null for a receipt whose fields "
        "cannot be signed (its reason says which)."
    )
    reason: str | None = Field(default=None, description="Why it did not verify.")
    evidence: dict[str, Any] = Field(default_factory=dict, description="What the chain says, read from contract state.")
    chain_head: int | None

"""The domain tables: what the registry contracts' events say, folded into current state.

The indexer is their only writer (`registry_api.projection`); the API only reads them. Every
table has `block_number`: the block of the event that created the row. A reorganisation
rolls back by restoring the before-images kept in `undoentry` for changes above the common
ancestor and then deleting the rows created above it (docs/indexer.md).

Conventions: 32-byte values are 0x-prefixed lower-case hex (66 characters), accounts are
checksummed addresses, organisations are member numbers (`org_no`, the contracts' uint32, in
BIGINT columns so that every uint32 fits PostgreSQL), times are Unix seconds from block time
or from the event. Enumerations are stored by name in lower case ("active", "important").
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, SmallInteger, String, Text
from sqlmodel import Field, SQLModel

from .columns import UInt64, UInt256

HEX32 = 66
ADDRESS = 42


# ----- consortium ---------------------------------------------------------------------------


class Org(SQLModel, table=True):
    """A member organisation (MemberAdmitted, then status, certification and admin changes)."""

    org_no: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    org_id: str = Field(sa_type=String(HEX32), unique=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    admin: str = Field(sa_type=String(ADDRESS))
    level: int
    evidence_hash: str = Field(sa_type=String(HEX32))
    expires_at: int = Field(sa_column=Column(UInt64(), nullable=False))
    #: active, suspended or expelled.
    status: str = Field(sa_type=String(16), index=True)
    admitted_at: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    tx_hash: str = Field(sa_type=String(HEX32))
    updated_block: int = Field(sa_type=BigInteger)


class OrgKey(SQLModel, table=True):
    """A key that acts or acted for an organisation."""

    address: str = Field(sa_type=String(ADDRESS), primary_key=True)
    org_no: int = Field(sa_type=BigInteger, index=True)
    #: admin, connector, or none once removed or replaced (a key never moves to another org).
    role: str = Field(sa_type=String(16))
    block_number: int = Field(sa_type=BigInteger, index=True)
    updated_block: int = Field(sa_type=BigInteger)


class RoleHolder(SQLModel, table=True):
    """An account holding a consortium role now (the row goes when the role is revoked)."""

    #: governor, auditor or arbiter.
    role: str = Field(sa_type=String(16), primary_key=True)
    account: str = Field(sa_type=String(ADDRESS), primary_key=True)
    #: Where the RoleGranted event sits: the holder's current term starts there.
    block_number: int = Field(sa_type=BigInteger, index=True)
    log_index: int = Field(default=0)
    tx_hash: str = Field(sa_type=String(HEX32))


class Threshold(SQLModel, table=True):
    """Approvals a governance proposal (governor) or a ruling (arbiter) needs."""

    role: str = Field(sa_type=String(16), primary_key=True)
    value: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    updated_block: int = Field(sa_type=BigInteger)


class Setting(SQLModel, table=True):
    """A council setting that is neither a role nor a threshold (the dispute period)."""

    #: dispute_period (seconds a dispute may freeze a right; DisputePeriodChanged).
    name: str = Field(sa_type=String(32), primary_key=True)
    value: int = Field(sa_column=Column(UInt64(), nullable=False))
    block_number: int = Field(sa_type=BigInteger, index=True)
    updated_block: int = Field(sa_type=BigInteger)


class Proposal(SQLModel, table=True):
    """A governance proposal."""

    proposal_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    action: str = Field(sa_type=String(32))
    proposer: str = Field(sa_type=String(ADDRESS))
    #: The ABI-encoded action arguments as 0x-hex.
    args: str = Field(sa_column=Column(Text, nullable=False))
    #: open, executed or cancelled.
    status: str = Field(sa_type=String(16), index=True)
    approvals: int
    created_at: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    tx_hash: str = Field(sa_type=String(HEX32))
    updated_block: int = Field(sa_type=BigInteger)


# ----- datasets and rights ------------------------------------------------------------------


class Dataset(SQLModel, table=True):
    """A registered dataset with the current holders of its three rights."""

    __table_args__ = (Index("ix_dataset_order", "block_number", "log_index"),)

    root: str = Field(sa_type=String(HEX32), primary_key=True)
    registrant: int = Field(sa_type=BigInteger, index=True)
    #: general, important or core.
    grade: str = Field(sa_type=String(16), index=True)
    metadata_hash: str = Field(sa_type=String(HEX32))
    metadata_uri: str = Field(sa_column=Column(Text, nullable=False, default=""))
    #: The manifest URI of the batch the dataset was registered in ("" for single registrations).
    manifest_uri: str = Field(sa_column=Column(Text, nullable=False, default=""))
    #: Priority time: the registration's block time, or its commitment's for commit and reveal.
    registered_at: int = Field(sa_type=BigInteger, index=True)
    #: The parents' roots, JSON list (also one `lineage` row each).
    parents: str = Field(sa_column=Column(Text, nullable=False, default="[]"))
    holding: int = Field(sa_type=BigInteger, index=True)
    processing: int = Field(sa_type=BigInteger, index=True)
    operation: int = Field(sa_type=BigInteger, index=True)
    offer_holding: int | None = Field(default=None, sa_type=BigInteger)
    offer_processing: int | None = Field(default=None, sa_type=BigInteger)
    offer_operation: int | None = Field(default=None, sa_type=BigInteger)
    #: Bit set of rights frozen by open disputes (bit 0 holding, 1 processing, 2 operation): set
    #: by RightFrozen, cleared by RightUnfrozen. A freeze also ends by time, at its `frozen_until_…`,
    #: whether or not anyone closes the dispute: the API compares with the indexed chain's time.
    frozen: int = Field(default=0, sa_type=SmallInteger)
    #: When each right's freeze ends (RightFrozen's `until`, Unix seconds; 0 when none is recorded).
    frozen_until_holding: int = Field(default=0, sa_column=Column(UInt64(), nullable=False, default=0))
    frozen_until_processing: int = Field(default=0, sa_column=Column(UInt64(), nullable=False, default=0))
    frozen_until_operation: int = Field(default=0, sa_column=Column(UInt64(), nullable=False, default=0))
    block_number: int = Field(sa_type=BigInteger)
    log_index: int
    tx_hash: str = Field(sa_type=String(HEX32))
    updated_block: int = Field(sa_type=BigInteger)


class Lineage(SQLModel, table=True):
    """ "`child` is derived from `parent`" (DatasetRegistered's parents)."""

    child: str = Field(sa_type=String(HEX32), primary_key=True)
    parent: str = Field(sa_type=String(HEX32), primary_key=True, index=True)
    block_number: int = Field(sa_type=BigInteger, index=True)


class RightChange(SQLModel, table=True):
    """One move of one right from one organisation to another."""

    __table_args__ = (Index("ix_rightchange_root", "root", "block_number", "log_index"),)

    tx_hash: str = Field(sa_type=String(HEX32), primary_key=True)
    log_index: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    root: str = Field(sa_type=String(HEX32))
    #: holding, processing or operation.
    right: str = Field(sa_type=String(16))
    from_org: int = Field(sa_type=BigInteger)
    to_org: int = Field(sa_type=BigInteger)
    #: transferred (offer accepted) or awarded (upheld dispute).
    kind: str = Field(sa_type=String(16))
    dispute_id: int | None = Field(default=None, sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    block_time: int = Field(sa_type=BigInteger)


# ----- licences and deliveries --------------------------------------------------------------


class Grant(SQLModel, table=True):
    """A licence (GrantIssued; approved, rejected or revoked later)."""

    root: str = Field(sa_type=String(HEX32), primary_key=True)
    grantee: int = Field(sa_type=BigInteger, primary_key=True, index=True)
    serial: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    grantor: int = Field(sa_type=BigInteger, index=True)
    #: Bit set: 1 read, 2 derive, 4 reshare, 8 commercial.
    permissions: int
    valid_from: int = Field(sa_column=Column(UInt64(), nullable=False))
    valid_until: int = Field(sa_column=Column(UInt64(), nullable=False))
    #: keccak256(salt ‖ canonical terms): purpose, policy and price stay with the parties.
    terms_commitment: str = Field(sa_type=String(HEX32))
    #: pending, active, rejected or revoked.
    status: str = Field(sa_type=String(16), index=True)
    #: False once a newer grant to the same organisation replaced this one.
    current: bool = Field(sa_column=Column(Boolean, nullable=False, default=True))
    #: The auditor who approved or rejected it (important data).
    decided_by: str | None = Field(default=None, sa_type=String(ADDRESS))
    issued_at: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    tx_hash: str = Field(sa_type=String(HEX32))
    updated_block: int = Field(sa_type=BigInteger)


class Receipt(SQLModel, table=True):
    """A delivery recorded on the ExchangeLedger, signed by both organisations."""

    digest: str = Field(sa_type=String(HEX32), primary_key=True)
    dataset: str = Field(sa_type=String(HEX32), index=True)
    provider: int = Field(sa_type=BigInteger, index=True)
    consumer: int = Field(sa_type=BigInteger, index=True)
    grant_serial: int = Field(sa_type=BigInteger)
    delivered_root: str = Field(sa_type=String(HEX32))
    #: keccak256(salt ‖ canonical terms): size and price stay with the parties.
    terms_commitment: str = Field(sa_type=String(HEX32))
    delivered_at: int = Field(sa_column=Column(UInt64(), nullable=False))
    nonce: int = Field(sa_column=Column(UInt256(), nullable=False))
    provider_key: str = Field(sa_type=String(ADDRESS))
    consumer_key: str = Field(sa_type=String(ADDRESS))
    block_number: int = Field(sa_type=BigInteger, index=True)
    log_index: int
    tx_hash: str = Field(sa_type=String(HEX32))
    block_time: int = Field(sa_type=BigInteger)


class Anchor(SQLModel, table=True):
    """A batch anchor: one RFC 6962 root over many hashes."""

    root: str = Field(sa_type=String(HEX32), primary_key=True)
    #: Anchors are per (root, organisation): two organisations may anchor the same root.
    org_no: int = Field(sa_type=BigInteger, primary_key=True, index=True, sa_column_kwargs={"autoincrement": False})
    leaf_count: int = Field(sa_column=Column(UInt64(), nullable=False))
    note_hash: str = Field(sa_type=String(HEX32))
    anchored_at: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    block_hash: str = Field(sa_type=String(HEX32))
    log_index: int
    tx_hash: str = Field(sa_type=String(HEX32))


# ----- disputes -----------------------------------------------------------------------------


class Dispute(SQLModel, table=True):
    """A dispute over one right on one dataset."""

    dispute_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    root: str = Field(sa_type=String(HEX32), index=True)
    right: str = Field(sa_type=String(16))
    claimant: int = Field(sa_type=BigInteger, index=True)
    respondent: int = Field(sa_type=BigInteger)
    evidence_hash: str = Field(sa_type=String(HEX32))
    #: open, upheld, dismissed, lapsed (period over, or claimant no longer active) or voided
    #: (the registration it was about was superseded).
    status: str = Field(sa_type=String(16), index=True)
    prior_anchor_root: str | None = Field(default=None, sa_type=String(HEX32))
    prior_anchored_at: int | None = Field(default=None, sa_type=BigInteger)
    #: The counts of the last VoteCast: the counts a decided dispute keeps. For an open dispute
    #: the API recounts the live votes (`vote` rows of current arbiters in their current term).
    uphold_votes: int = Field(default=0, sa_type=Integer)
    dismiss_votes: int = Field(default=0, sa_type=Integer)
    opened_at: int = Field(sa_type=BigInteger)
    closed_block: int | None = Field(default=None, sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    tx_hash: str = Field(sa_type=String(HEX32))
    updated_block: int = Field(sa_type=BigInteger)


class Vote(SQLModel, table=True):
    """An arbiter's latest vote on a dispute (an arbiter re-appointed may vote again)."""

    dispute_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    arbiter: str = Field(sa_type=String(ADDRESS), primary_key=True)
    uphold: bool = Field(sa_column=Column(Boolean, nullable=False))
    block_number: int = Field(sa_type=BigInteger, index=True)
    #: With `block_number`, the vote's place in the chain: it counts while its arbiter holds the
    #: role in the term it voted in (appointed before this place, not removed since).
    log_index: int = Field(default=0)
    tx_hash: str = Field(sa_type=String(HEX32))
    block_time: int = Field(sa_type=BigInteger)


#: Every domain table, in the order a from-scratch comparison lists them.
DOMAIN_TABLES: tuple[type[SQLModel], ...] = (
    Org,
    OrgKey,
    RoleHolder,
    Threshold,
    Setting,
    Proposal,
    Dataset,
    Lineage,
    RightChange,
    Grant,
    Receipt,
    Anchor,
    Dispute,
    Vote,
)

"""The indexer's own tables: raw decoded events, the recent-block window, the undo log and the
checkpoint; and the API's sign-in challenges and their rate counters (the only tables the API writes).

The domain tables (organisations, datasets, grants…) are in `registry_api.domain`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class RawEvent(SQLModel, table=True):
    """One event log of a registry contract, decoded with the compiled ABIs."""

    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_rawevent_tx_log"),
        Index("ix_rawevent_contract_name", "contract", "name"),
        Index("ix_rawevent_subject", "subject", "block_number", "log_index"),
    )

    chain_id: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    block_hash: str
    tx_hash: str
    log_index: int
    contract: str
    name: str
    #: The decoded arguments as JSON (enum members as ints, bytes as 0x-hex).
    args: str = Field(sa_column=Column(Text, nullable=False))
    #: The block's timestamp.
    block_time: int = Field(sa_type=BigInteger)
    #: The dataset (content root) the event is about, if any: what a dataset's history lists.
    subject: str | None = Field(default=None, sa_type=String(66))
    id: int | None = Field(default=None, primary_key=True)


class IndexedBlock(SQLModel, table=True):
    """A recently indexed block header: the window used to find the common ancestor after a reorg."""

    number: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: str
    parent_hash: str


class Checkpoint(SQLModel, table=True):
    """The single row saying how far the index reaches; written in the same transaction as the rows."""

    chain_id: int = Field(sa_type=BigInteger)
    deployment_block: int = Field(sa_type=BigInteger)
    #: The deployment block's hash: a redeployment on the same chain is another registry.
    deployment_block_hash: str = Field(sa_type=String(66))
    #: The last block whose events are all in the database (deployment block − 1 before the first range).
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str
    #: That block's timestamp: the index's clock ("now, as the indexed chain says"), against which
    #: the API decides which freezes still run.
    block_time: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=_now)
    id: int = Field(default=1, primary_key=True)


class UndoEntry(SQLModel, table=True):
    """The before-image of a domain row changed in a recent block, for rolling back a reorganisation."""

    #: The block whose event changed the row.
    block_number: int = Field(sa_type=BigInteger, index=True)
    #: The domain table's name.
    table_name: str = Field(sa_type=String(32))
    #: The row's primary key, JSON list.
    row_key: str = Field(sa_column=Column(Text, nullable=False))
    #: The whole row before the block's first change to it, JSON object.
    before: str = Field(sa_column=Column(Text, nullable=False))
    id: int | None = Field(default=None, primary_key=True)


class AuthChallenge(SQLModel, table=True):
    """A sign-in challenge handed out by the API and not used yet (each is good for one sign-in)."""

    nonce: str = Field(sa_type=String(64), primary_key=True)
    address: str = Field(sa_type=String(42))
    #: The exact EIP-4361 message the key must sign.
    message: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: int = Field(sa_type=BigInteger, index=True)


class SignInLink(SQLModel, table=True):
    """A one-time sign-in link's code for the explorer (`POST /v1/auth/link`), not used yet: a
    signed-in client hands it to a browser, which trades it once for a session cookie."""

    __tablename__ = "signin_link"

    #: SHA-256 of the code (0x-hex): the table never holds a code a reader could use.
    code_hash: str = Field(sa_type=String(66), primary_key=True)
    #: The bearer token the browser's session gets.
    token: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: int = Field(sa_type=BigInteger, index=True)


class ChallengeRate(SQLModel, table=True):
    """Sign-in challenges one address or one client asked for in the current window (rate limits)."""

    #: `address:0x…` or `client:<IP address>`.
    key: str = Field(sa_type=String(80), primary_key=True)
    #: Start of the counted window (Unix seconds, a multiple of the window's length).
    window_start: int = Field(sa_type=BigInteger, index=True)
    count: int


class DisclosedTerms(SQLModel, table=True):
    """An opening of a grant's or receipt's terms commitment that one of its parties disclosed to
    the service (docs/licences.md, "Disclosure"). Not part of the index: no event writes it, a
    re-index keeps it, and it was checked against the commitment before it was accepted."""

    __tablename__ = "disclosed_terms"

    #: keccak256(salt ‖ canonical terms), as the chain recorded it (0x-hex).
    commitment: str = Field(sa_type=String(66), primary_key=True)
    #: The terms document, RFC 8785 canonical JSON.
    document: str = Field(sa_column=Column(Text, nullable=False))
    salt: str = Field(sa_type=String(66))
    #: The signed-in key that disclosed it, and when (Unix seconds).
    disclosed_by: str = Field(sa_type=String(42))
    disclosed_at: int = Field(sa_type=BigInteger)


class CheckpointBlockHash(SQLModel, table=True):
    """A block hash of the chain as the service's node reported it, for the checkpoint tree
    (docs/audit.md). Not part of the index: a re-index keeps it; a hash the node no longer
    reports (a reorganisation) is dropped with everything after it when found."""

    __tablename__ = "checkpoint_block_hashes"

    number: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: str = Field(sa_type=String(66))


class CheckpointCosignature(SQLModel, table=True):
    """A governor's cosignature of the checkpoint of one tree size, checked against its witness
    key on chain and the service's own tree before it was accepted. Not part of the index."""

    __tablename__ = "checkpoint_cosignatures"

    size: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    #: The governor, 0x lowercase.
    governor: str = Field(sa_type=String(42), primary_key=True)
    #: The tree's root, 0x hex.
    root: str = Field(sa_type=String(66))
    #: The signature line as the governor signed it (without its newline).
    line: str = Field(sa_column=Column(Text, nullable=False))
    #: The cosignature's own timestamp, and when the service accepted it (Unix seconds).
    timestamp: int = Field(sa_type=BigInteger)
    submitted_at: int = Field(sa_type=BigInteger)

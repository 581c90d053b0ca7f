"""The indexer's tables: raw decoded events, the recent-block window and the checkpoint.

Each table follows the `XBase` (plain fields) → `X(table=True)` pattern so that API schemas can
reuse the field definitions later.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class RawEventBase(SQLModel):
    chain_id: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger, index=True)
    block_hash: str
    tx_hash: str
    log_index: int
    contract: str
    name: str
    #: The decoded arguments as JSON (enum members as ints, bytes as 0x-hex).
    args: str = Field(sa_column=Column(Text, nullable=False))


class RawEvent(RawEventBase, table=True):
    """One event log of a registry contract, decoded with the compiled ABIs."""

    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_rawevent_tx_log"),
        Index("ix_rawevent_contract_name", "contract", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)


class IndexedBlockBase(SQLModel):
    number: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: str
    parent_hash: str


class IndexedBlock(IndexedBlockBase, table=True):
    """A recently indexed block header: the window used to find the common ancestor after a reorg."""


class CheckpointBase(SQLModel):
    chain_id: int = Field(sa_type=BigInteger)
    deployment_block: int = Field(sa_type=BigInteger)
    #: The last block whose events are all in the database (deployment block − 1 before the first range).
    block_number: int = Field(sa_type=BigInteger)
    block_hash: str
    updated_at: datetime = Field(default_factory=_now)


class Checkpoint(CheckpointBase, table=True):
    """The single row saying how far the index reaches; written in the same transaction as the rows."""

    id: int = Field(default=1, primary_key=True)

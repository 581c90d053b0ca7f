"""Reads and writes of the indexer's tables. These functions never commit: the indexer owns the
transaction and commits a range's rows together with its checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from .models import Checkpoint, IndexedBlock, RawEvent


def _insert(session: Session, table: Any) -> Any:
    """A dialect's INSERT (both SQLite and PostgreSQL support ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect}")


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert event rows, skipping any already stored (same transaction hash and log index)."""
    if not rows:
        return 0
    stmt = _insert(session, RawEvent).values(list(rows)).on_conflict_do_nothing(index_elements=["tx_hash", "log_index"])
    # rowcount is not reliable for multi-row inserts on every driver; RETURNING is.
    return len(session.connection().execute(stmt.returning(RawEvent.id)).all())


def upsert_blocks(session: Session, blocks: Sequence[dict[str, Any]]) -> None:
    """Record block headers (number, hash, parent_hash) in the reorg window, replacing stale ones."""
    if not blocks:
        return
    stmt = _insert(session, IndexedBlock).values(list(blocks))
    stmt = stmt.on_conflict_do_update(
        index_elements=["number"], set_={"hash": stmt.excluded.hash, "parent_hash": stmt.excluded.parent_hash}
    )
    session.connection().execute(stmt)


def prune_blocks(session: Session, below: int) -> None:
    """Forget block headers older than `below` (outside the reorg window)."""
    session.connection().execute(delete(IndexedBlock).where(col(IndexedBlock.number) < below))


def recent_blocks(session: Session) -> list[IndexedBlock]:
    """The stored block headers, newest first."""
    return list(session.exec(select(IndexedBlock).order_by(col(IndexedBlock.number).desc())).all())


def get_checkpoint(session: Session) -> Checkpoint | None:
    return session.get(Checkpoint, 1)


def create_checkpoint(session: Session, chain_id: int, deployment_block: int, number: int, block_hash: str) -> None:
    """Write the initial checkpoint unless one exists (another indexer may have written it)."""
    values = {"id": 1, "chain_id": chain_id, "deployment_block": deployment_block, "block_number": number,
              "block_hash": block_hash, "updated_at": datetime.now(UTC)}  # fmt: skip
    session.connection().execute(
        _insert(session, Checkpoint).values(values).on_conflict_do_nothing(index_elements=["id"])
    )


def set_checkpoint(session: Session, checkpoint: Checkpoint, number: int, block_hash: str) -> None:
    checkpoint.block_number = number
    checkpoint.block_hash = block_hash
    checkpoint.updated_at = datetime.now(UTC)
    session.add(checkpoint)


def delete_above(session: Session, number: int) -> None:
    """Remove every event and block header above block `number` (a rollback to an ancestor)."""
    session.connection().execute(delete(RawEvent).where(col(RawEvent.block_number) > number))
    session.connection().execute(delete(IndexedBlock).where(col(IndexedBlock.number) > number))


def all_events(session: Session) -> list[RawEvent]:
    """Every stored event in chain order."""
    return list(session.exec(select(RawEvent).order_by(col(RawEvent.block_number), col(RawEvent.log_index))).all())

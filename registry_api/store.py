"""Reads and writes of the indexer's tables. These functions never commit: the indexer owns the
transaction and commits a range's rows together with its checkpoint."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from .changes import restore, tables
from .models import Checkpoint, IndexedBlock, RawEvent, UndoEntry


def _insert(session: Session, table: Any) -> Any:
    """A dialect's INSERT (both SQLite and PostgreSQL support ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect}")


def new_events(session: Session, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The event rows not stored yet (by transaction hash and log index)."""
    if not rows:
        return []
    numbers = [int(r["block_number"]) for r in rows]
    stored = indexed_keys(session, min(numbers), max(numbers))
    return [r for r in rows if (r["tx_hash"], r["log_index"]) not in stored]


def add_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new event rows (in batches); a row already stored is skipped, never doubled."""
    if rows:
        stmt = _insert(session, RawEvent).on_conflict_do_nothing(index_elements=["tx_hash", "log_index"])
        session.connection().execute(stmt, list(rows))


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows not stored yet; returns how many were new."""
    fresh = new_events(session, rows)
    add_events(session, fresh)
    return len(fresh)


def upsert_blocks(session: Session, blocks: Sequence[dict[str, Any]]) -> None:
    """Record block headers (number, hash, parent_hash) in the reorg window, replacing stale ones."""
    if not blocks:
        return
    stmt = _insert(session, IndexedBlock).values(list(blocks))
    stmt = stmt.on_conflict_do_update(
        index_elements=["number"], set_={"hash": stmt.excluded.hash, "parent_hash": stmt.excluded.parent_hash}
    )
    session.connection().execute(stmt)


def prune_window(session: Session, below: int) -> None:
    """Forget block headers and undo entries older than `below` (outside the reorg window)."""
    session.connection().execute(delete(IndexedBlock).where(col(IndexedBlock.number) < below))
    session.connection().execute(delete(UndoEntry).where(col(UndoEntry.block_number) < below))


def indexed_keys(session: Session, first: int, last: int) -> set[tuple[str, int]]:
    """(transaction hash, log index) of the events already stored for blocks first..last."""
    rows = session.connection().execute(
        select(RawEvent.tx_hash, RawEvent.log_index).where(col(RawEvent.block_number).between(first, last))
    )
    return {(str(tx), int(index)) for tx, index in rows}


def recent_blocks(session: Session) -> list[IndexedBlock]:
    """The stored block headers, newest first."""
    return list(session.exec(select(IndexedBlock).order_by(col(IndexedBlock.number).desc())).all())


def get_checkpoint(session: Session) -> Checkpoint | None:
    return session.get(Checkpoint, 1)


def create_checkpoint(
    session: Session,
    chain_id: int,
    deployment_block: int,
    deployment_block_hash: str,
    number: int,
    block_hash: str,
    block_time: int,
) -> None:
    """Write the initial checkpoint unless one exists (another indexer may have written it)."""
    values = {
        "id": 1,
        "chain_id": chain_id,
        "deployment_block": deployment_block,
        "deployment_block_hash": deployment_block_hash,
        "block_number": number,
        "block_hash": block_hash,
        "block_time": block_time,
        "updated_at": datetime.now(UTC),
    }
    session.connection().execute(
        _insert(session, Checkpoint).values(values).on_conflict_do_nothing(index_elements=["id"])
    )


def set_checkpoint(session: Session, checkpoint: Checkpoint, number: int, block_hash: str, block_time: int) -> None:
    checkpoint.block_number = number
    checkpoint.block_hash = block_hash
    checkpoint.block_time = block_time
    checkpoint.updated_at = datetime.now(UTC)
    session.add(checkpoint)


def rollback_above(session: Session, number: int) -> int:
    """Undo everything above block `number` (a rollback to a common ancestor): restore the domain
    rows changed above it from the undo log, newest change first, then delete the rows, events
    and block headers created above it. Returns the number of rows restored."""
    connection = session.connection()
    entries = connection.execute(
        select(UndoEntry.table_name, UndoEntry.row_key, UndoEntry.before)
        .where(col(UndoEntry.block_number) > number)
        .order_by(col(UndoEntry.id).desc())
    ).all()
    for name, key, before in entries:
        restore(session, name, tuple(json.loads(key)), json.loads(before))
    connection.execute(delete(UndoEntry).where(col(UndoEntry.block_number) > number))
    for info in tables().values():
        connection.execute(delete(info.table).where(info.table.c.block_number > number))
    connection.execute(delete(RawEvent).where(col(RawEvent.block_number) > number))
    connection.execute(delete(IndexedBlock).where(col(IndexedBlock.number) > number))
    return len(entries)


def all_events(session: Session) -> list[RawEvent]:
    """Every stored event in chain order."""
    return list(session.exec(select(RawEvent).order_by(col(RawEvent.block_number), col(RawEvent.log_index))).all())


def count_events(session: Session) -> int:
    """How many events the index holds."""
    return int(session.connection().execute(select(func.count()).select_from(RawEvent)).scalar_one())


def refresh_statistics(session: Session) -> None:
    """Let the database's query planner see the tables as they are now (ANALYZE, on either
    database). Without it, right after a bulk catch-up PostgreSQL plans on
    empty-table statistics until autovacuum comes round: a dataset's history then scans the
    whole event table (196 ms instead of 0.4 ms measured on 100,000 events). SQLite samples at
    most a few thousand rows of each index (as `PRAGMA optimize` does), so that refreshing
    during a catch-up costs milliseconds, not a scan of every index."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit=2000")
    connection.exec_driver_sql("ANALYZE")

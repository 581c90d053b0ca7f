"""The domain rows one block range changes: read once, changed in memory, written once.

The projection (`registry_api.projection`) folds a range's events into these rows; at the end
of the range `flush` writes the difference from what the database held, with bulk statements,
inside the indexer's transaction (nothing here commits). Before a row is first changed in a
block its previous content goes to the undo log, so that a reorganisation can restore it;
a row that did not exist needs no entry, because a rollback deletes every row created above
the common ancestor (`store.rollback_above`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, select, tuple_
from sqlmodel import Session, SQLModel

from .domain import DOMAIN_TABLES
from .errors import ProjectionError
from .models import UndoEntry

Key = tuple[Any, ...]
Row = dict[str, Any]

#: Keys per `IN (…)` lookup: well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 400


@dataclass(frozen=True)
class TableInfo:
    """A domain table as the projection sees it: its columns and primary key."""

    name: str
    table: Table
    key: tuple[str, ...]
    columns: frozenset[str]

    def key_of(self, row: Row) -> Key:
        return tuple(row[c] for c in self.key)

    def where_keys(self, keys: Sequence[Key]) -> Any:
        """A WHERE clause matching any of `keys`."""
        if len(self.key) == 1:
            return self.table.c[self.key[0]].in_([k[0] for k in keys])
        columns = [self.table.c[c] for c in self.key]
        if len(keys) == 1:
            return and_(*(c == v for c, v in zip(columns, keys[0], strict=True)))
        return tuple_(*columns).in_(keys)

    def where_key(self, key: Key) -> Any:
        return and_(*(self.table.c[c] == v for c, v in zip(self.key, key, strict=True)))


@cache
def tables() -> dict[str, TableInfo]:
    """Every domain table by name."""
    found: dict[str, TableInfo] = {}
    for model in DOMAIN_TABLES:
        table: Table = model.__table__  # type: ignore[attr-defined]
        key = tuple(c.name for c in table.primary_key.columns)
        found[table.name] = TableInfo(table.name, table, key, frozenset(c.name for c in table.columns))
    return found


def table_name(model: type[SQLModel]) -> str:
    return str(model.__tablename__)


class RangeChanges:
    """The state of every domain row a range touches, before and after its events."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._original: dict[str, dict[Key, Row | None]] = defaultdict(dict)
        self._current: dict[str, dict[Key, Row | None]] = defaultdict(dict)
        self._marked: set[tuple[str, Key, int]] = set()
        self.undo: list[Row] = []
        #: Small look-ups the projection keeps for the range (org id → member number…).
        self.memo: dict[Any, Any] = {}

    # -- reading -------------------------------------------------------------------------------

    def prefetch(self, name: str, keys: Iterable[Key]) -> None:
        """Load the rows with these keys (those not loaded yet) in a few bulk queries."""
        info = tables()[name]
        known = self._current[name]
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        connection = self.session.connection()
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            found = {
                info.key_of(dict(r._mapping)): dict(r._mapping)
                for r in connection.execute(select(info.table).where(info.where_keys(chunk)))
            }
            for key in chunk:
                row = found.get(key)
                self._original[name][key] = row
                known[key] = dict(row) if row is not None else None

    def get(self, name: str, key: Key) -> Row | None:
        """The row as the events so far left it (None: it does not exist)."""
        if key not in self._current[name]:
            self.prefetch(name, [key])
        return self._current[name][key]

    def require(self, name: str, key: Key) -> Row:
        row = self.get(name, key)
        if row is None:
            raise ProjectionError(f"{name} {list(key)} is not in the index")
        return row

    def find(self, name: str, column: str, value: Any) -> Row | None:
        """The row whose `column` (a unique column) equals `value`, as the events left it."""
        for row in self._current[name].values():
            if row is not None and row[column] == value:
                return row
        info = tables()[name]
        found = self.session.connection().execute(select(info.table).where(info.table.c[column] == value)).first()
        if found is None:
            return None
        key = info.key_of(dict(found._mapping))
        row = self.get(name, key)  # loads it (or returns the changed copy already held)
        return row if row is not None and row[column] == value else None

    # -- changing ------------------------------------------------------------------------------

    def _before_change(self, name: str, key: Key, block: int) -> Row | None:
        row = self.get(name, key)
        mark = (name, key, block)
        if mark not in self._marked:
            self._marked.add(mark)
            if row is not None:
                self.undo.append(
                    {
                        "block_number": block,
                        "table_name": name,
                        "row_key": json.dumps(list(key)),
                        "before": json.dumps(row),
                    }
                )
        return row

    def put(self, name: str, row: Row, block: int) -> None:
        """Create the row (or replace it whole) at `block`."""
        info = tables()[name]
        if set(row) != info.columns:
            raise ProjectionError(f"{name} row has columns {sorted(row)}, the table {sorted(info.columns)}")
        key = info.key_of(row)
        self._before_change(name, key, block)
        self._current[name][key] = dict(row)

    def update(self, name: str, key: Key, block: int, **values: Any) -> Row:
        """Change some columns of an existing row at `block`; ProjectionError if it does not exist."""
        row = self._before_change(name, key, block)
        if row is None:
            raise ProjectionError(f"{name} {list(key)} is not in the index")
        changed = {**row, **values}
        self._current[name][key] = changed
        return changed

    def delete(self, name: str, key: Key, block: int) -> None:
        self._before_change(name, key, block)
        self._current[name][key] = None

    # -- writing -------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write every changed row and the undo entries; returns the number of rows written."""
        connection = self.session.connection()
        written = 0
        for name, rows in self._current.items():
            info = tables()[name]
            original = self._original[name]
            inserts: list[Row] = []
            updates: list[Row] = []
            deletes: list[Key] = []
            for key, row in rows.items():
                before = original.get(key)
                if row is None:
                    if before is not None:
                        deletes.append(key)
                elif before is None:
                    inserts.append(row)
                elif row != before:
                    updates.append(row)
            for start in range(0, len(deletes), _CHUNK):
                connection.execute(delete(info.table).where(info.where_keys(deletes[start : start + _CHUNK])))
            if updates:
                others = sorted(info.columns - set(info.key))
                statement = (
                    info.table.update()
                    .where(and_(*(info.table.c[c] == bindparam(f"k_{c}") for c in info.key)))
                    .values({c: bindparam(f"v_{c}") for c in others})
                )
                connection.execute(
                    statement,
                    [{**{f"k_{c}": row[c] for c in info.key}, **{f"v_{c}": row[c] for c in others}} for row in updates],
                )
            if inserts:
                connection.execute(info.table.insert(), inserts)
            written += len(inserts) + len(updates) + len(deletes)
        if self.undo:
            connection.execute(UndoEntry.__table__.insert(), self.undo)  # type: ignore[attr-defined]
        return written


def restore(session: Session, name: str, key: Key, before: Row) -> None:
    """Put a row back as it was (insert it, or overwrite what is there now)."""
    info = tables()[name]
    connection = session.connection()
    connection.execute(delete(info.table).where(info.where_key(key)))
    connection.execute(info.table.insert(), [before])

"""The hottest reads (a dataset by its root), on a database connection of the worker's own.

A lookup is two index-backed queries; going through SQLAlchemy's pool, execution context and
result objects cost three times what the database spends on them. Here the statements are
still written with SQLAlchemy Core, but compiled once for the database's dialect and run on
a DBAPI connection that the worker keeps open (autocommit, like the API's engine). The async
routes that use it all run on the worker's one event-loop thread, so the connection is never
used by two requests at once. A connection that fails is replaced and the statement retried
once.

Why a second read path (issue 14 asked for one unless a measurement says otherwise): the
same-run comparison of `scripts/bench registry --api-baseline` on 2026-12-03 (32 clients,
dataset lookups, default workers, a shared 2-core machine at load 8-10) measured every route
on one Session in the thread pool against this path:

| store | read path | requests/s | p50 ms | p99 ms |
|---|---|---:|---:|---:|
| SQLite | this hot path | 621 | 48.1 | 89.8 |
| SQLite | one Session, thread pool | 306 | 94.8 | 220.0 |
| PostgreSQL | this hot path | 490 | 55.9 | 211.8 |
| PostgreSQL | one Session, thread pool | 181 | 135.2 | 518.1 |

An earlier run at 5,000 datasets (load 24) showed the same order. So the hot path stays for the
dataset lookup, history and lineage; every other route reads through the one `SessionDep`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Select

from ..errors import Unavailable


class CompiledRead:
    """One SELECT, compiled for one dialect, with a row type named by its result columns."""

    def __init__(self, statement: Select[Any], engine: Engine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = compiled.string
        # Values written into the statement itself (a LIMIT, a status), by their name in the SQL.
        self.defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        self.order = compiled.positiontup if compiled.positional else None
        # Attribute access by column name, like SQLAlchemy's rows, so that code reading a row
        # does not care which path fetched it.
        self.row: Any = namedtuple("Row", [str(c.key) for c in statement.selected_columns])  # type: ignore[misc]

    def arguments(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        merged = {**self.defaults, **values}
        return [merged[name] for name in self.order] if self.order is not None else merged


class HotReads:
    """The worker's connection and its compiled statements."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._compiled: dict[int, CompiledRead] = {}
        self._connection: Any = None

    def _raw(self) -> Any:
        if self._connection is None:
            # The pool hands out a DBAPI connection set up as the engine's (pragmas, autocommit);
            # it is kept for this worker's lifetime instead of going back after each request.
            self._connection = self.engine.raw_connection()
        return self._connection

    def _reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
            except DBAPIError:
                pass
            self._connection = None

    def rows(self, statement: Any, **values: Any) -> list[Any]:
        """The statement's rows (named tuples: a column's value by its key)."""
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            compiled = self._compiled[id(statement)] = CompiledRead(statement, self.engine)
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            try:
                cursor = self._raw().cursor()
                try:
                    cursor.execute(compiled.sql, compiled.arguments(values))
                    return [compiled.row._make(row) for row in cursor.fetchall()]
                finally:
                    cursor.close()
            except dbapi_error as exc:
                self._reset()
                if attempt == 2:
                    raise Unavailable(f"the index database did not answer ({type(exc).__name__}); try again") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

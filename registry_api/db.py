"""Database engines: a SQLite file (WAL) by default, PostgreSQL (psycopg 3) by URL; same code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, inspect
from sqlmodel import SQLModel, create_engine

from . import domain, models  # noqa: F401  (registers the tables with SQLModel.metadata)
from .errors import ServiceConfigError


def normalise_url(url: str) -> str:
    """`postgresql://…` and `postgres://…` mean PostgreSQL through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(url: str, *, reader: bool = False) -> Engine:
    """An engine for `url`; SQLite connections get WAL, synchronous=NORMAL and foreign keys.

    A `reader` engine (the API's) runs every statement in autocommit mode and checks no
    connection before use: a read then costs one round trip to PostgreSQL instead of four
    (ping, BEGIN, the query, ROLLBACK). Each statement sees the index as last committed, so
    the queries of one answer are not one snapshot; a connection found dead is thrown away
    and that request answered 503 (`registry_api.api.errors`).
    """
    url = normalise_url(url)
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if reader else {}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA busy_timeout=5000")
            finally:
                cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=not reader, **options)


def init_db(engine: Engine) -> None:
    """Create the tables that do not exist yet; ServiceConfigError if an existing table lacks a column
    this version needs (a database made by an older version: re-index it)."""
    SQLModel.metadata.create_all(engine)
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing = sorted(c.name for c in table.columns if c.name not in present)
        if missing:
            raise ServiceConfigError(
                f"the index database {engine.url.render_as_string(hide_password=True)} was made by another version "
                f"(table {table.name} has no {', '.join(missing)}); rebuild it with `idsreg api reindex`"
            )


#: Tables that are not the index and that a re-index keeps: terms openings the parties disclosed,
#: checkpoint cosignatures and the block hashes they cover.
KEPT = frozenset({"disclosed_terms", "checkpoint_cosignatures", "checkpoint_block_hashes"})


def reset_db(engine: Engine) -> None:
    """Drop every table of the index and create them empty (a re-index starts from here); the
    disclosed terms are not the index (nothing on chain could rebuild them) and are kept."""
    SQLModel.metadata.drop_all(engine, tables=[t for t in SQLModel.metadata.sorted_tables if t.name not in KEPT])
    SQLModel.metadata.create_all(engine)

"""One indexer per index database: the indexing lock that several registry services share.

Operators run several services on one PostgreSQL database (behind a load balancer); each runs
an indexer process, and exactly one of them may index. That one holds a PostgreSQL
session-level advisory lock (`INDEXING_LOCK`) on a connection of its own for as long as it
indexes; the others ask for the lock every `WAIT_INTERVAL` seconds and serve reads meanwhile.
The server releases a session lock when its connection ends, so when the indexing process dies
(SIGKILL, a crashed host whose connection the server drops) the next ask of a waiting one wins,
and it carries on from the committed checkpoint: a range is committed whole or not at all, and
the killed one's open transaction is rolled back by the server, so nothing is lost or doubled.

The lock connection's `application_name` is the service's name, so that any service's API can
say which service indexes (`indexing_service`, in `GET /v1/status`).

While it indexes, every commit of the indexer first checks that this connection still holds
the lock (`Fence`): should the connection be lost while the process lives on, the indexer stops
before it writes another range, instead of racing the service that took over; the process then
exits with an error, and its supervisor starts it again, to wait for the lock like the others.

SQLite has no such locks: an SQLite index is one service's own file, served and indexed by that
service alone (run one service per SQLite database, as before).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from .errors import LeadershipLost, ServiceConfigError

log = logging.getLogger(__name__)

#: The advisory lock's key (advisory locks are per database, so one key serves every index):
#: the first 63 bits of sha256("idsreg indexer"), a positive bigint.
INDEXING_LOCK = 0x6244_B250_B960_A984
#: Guards `init_db` when several services start at once on one database.
SCHEMA_LOCK = INDEXING_LOCK + 1
#: Seconds between a waiting indexer's asks for the lock, and between the holder's checks
#: that its lock connection still answers.
WAIT_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 1.0
#: PostgreSQL limits application_name to 63 bytes.
NAME_BYTES = 63

_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
    # A bigint key shows as its high and low 32 bits (classid, objid), objsubid 1.
    "AND ((l.classid::bigint << 32) | l.objid::bigint) = :key AND l.objsubid = 1"
)
_HELD_HERE = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() "
    "AND ((classid::bigint << 32) | objid::bigint) = :key AND objsubid = 1"
)


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Exclusive among the services on one PostgreSQL database (table creation at start-up); a
    no-op on SQLite, whose writers already take turns."""
    if not is_postgresql(engine):
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
            connection.commit()


def indexing_service(connection: Connection) -> str | None:
    """The name of the service whose indexer holds the indexing lock of this PostgreSQL
    database (None when none does, and on SQLite)."""
    if connection.dialect.name != "postgresql":
        return None
    found = connection.execute(_HOLDER, {"key": INDEXING_LOCK}).first()
    return str(found[0]) if found is not None else None


class Fence:
    """The held lock: its connection, a heartbeat that stops the indexer if the connection
    fails, and a check before each of the indexer's commits."""

    def __init__(self, connection: Connection, stop: threading.Event) -> None:
        self.connection = connection
        self.stop = stop
        self.lost: str | None = None
        self._use = threading.Lock()  # the heartbeat thread and the indexer's commits share the connection
        self._ended = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="indexing-lock", daemon=True)

    def check(self) -> None:
        """LeadershipLost unless this connection still holds the indexing lock."""
        if self.lost is not None:
            raise LeadershipLost(self.lost)
        try:
            with self._use:
                held = self.connection.execute(_HELD_HERE, {"key": INDEXING_LOCK}).scalar_one()
        except SQLAlchemyError as exc:
            held = 0
            reason = f"the indexing lock's connection failed ({type(exc).__name__})"
        else:
            reason = "the indexing lock is no longer held"
        if not held:
            self.lost = f"{reason}; stopping, another service may index now"
            self.stop.set()
            raise LeadershipLost(self.lost)

    def _heartbeat(self) -> None:
        while not self._ended.wait(HEARTBEAT_INTERVAL):
            try:
                self.check()
            except LeadershipLost as exc:
                log.error("%s", exc)
                return

    def guard(self, engine: Engine) -> None:
        """Check the lock before every commit on `engine` (the indexer's), and start the heartbeat."""

        def before_commit(_connection: Connection) -> None:
            self.check()

        event.listen(engine, "commit", before_commit)
        self._remove = lambda: event.remove(engine, "commit", before_commit)
        self._beat.start()

    def end(self) -> None:
        self._ended.set()
        remove = getattr(self, "_remove", None)
        if remove is not None:
            remove()


@contextmanager
def indexing_lock(engine: Engine, service: str, stop: threading.Event | None = None) -> Iterator[Fence | None]:
    """Wait until this process holds the indexing lock of `engine`'s PostgreSQL database (or
    `stop` is set: then None), and hold it for the `with` block; every commit on `engine`
    inside it first checks that the lock is still held. Without `stop`, do not wait: a
    ServiceConfigError names the service that holds it. On SQLite: at once, with no lock."""
    if not is_postgresql(engine):
        yield None
        return
    with engine.connect() as raw:
        connection = raw.execution_options(isolation_level="AUTOCOMMIT")
        name = service.encode()[:NAME_BYTES].decode(errors="ignore")
        connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name})
        told = False
        while True:
            if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": INDEXING_LOCK}).scalar_one():
                break
            holder = indexing_service(connection) or "another service"
            if stop is None:
                raise ServiceConfigError(
                    f"{holder} indexes {engine.url.render_as_string(hide_password=True)} now; "
                    "stop its indexer first (or let it keep the index current)"
                )
            if not told:
                log.warning("%s indexes this database; %s waits to take over", holder, service)
                told = True
            if stop.wait(WAIT_INTERVAL):
                yield None
                return
        log.warning("%s holds the indexing lock and indexes", service)
        fence = Fence(connection, stop if stop is not None else threading.Event())
        fence.guard(engine)
        try:
            yield fence
        finally:
            fence.end()
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INDEXING_LOCK})
            except SQLAlchemyError:
                pass  # the connection is gone, and the lock with it

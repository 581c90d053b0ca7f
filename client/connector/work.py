"""What the connector's engines share: jobs run after a message is acknowledged, and the
SQLite file each engine keeps its rows in."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Background:
    """A small thread pool for the moves an engine makes after it answered (a callback, a
    decision); `wait_idle` lets tests and shutdown wait for them."""

    def __init__(self, prefix: str, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=prefix)
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        future = self._pool.submit(job)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until the jobs submitted so far are done (or `timeout` seconds pass)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return
            time.sleep(0.02)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class SqliteFile:
    """One SQLite file shared by the server's threads (WAL, autocommit: every change is committed
    before it is acknowledged). `locked(pid)` serialises everything that reads, decides and
    writes one process, so a message and a callback to the same process never interleave."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(schema)
        self._lock = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def locked(self, pid: str) -> Iterator[None]:
        with self._lock:
            lock = self._locks.setdefault(pid, threading.RLock())
        with lock:
            yield

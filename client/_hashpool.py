"""Spreading hashing over processes: big files as contiguous chunk ranges, small files in
batches, results merged in order by the parent, which hashes too while it waits.

The workers are plain ``python -S`` processes running `client._hashworker`, which imports only
the standard library: one starts in about 15 ms whatever imported the caller (the `idsreg`
CLI, a web server), where a multiprocessing worker re-imported the caller's ``__main__``
(1.5 s for the CLI with web3). Only paths and hashes cross the pipes, never file data.

Part of `client.hashing`, which is the public interface.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from client._chunks import (
    CHUNK_SIZE,
    File,
    Progress,
    check_unchanged,
    fail,
    hash_file,
    os_reason,
)
from client._hashworker import Request, receive, run, send
from client.errors import HashingError
from client.merkle import MerkleAccumulator

#: Below this many bytes in total, hashing stays in the calling process. A worker process
#: takes about 15 ms to start against 0.75 ms per MiB hashed on one core; the parent hashes
#: meanwhile, so workers pay off from a few tens of MiB (measured, docs/benchmarks.md).
PARALLEL_MIN_SIZE = 64 * CHUNK_SIZE

#: Most chunks one worker task hashes. Small enough that a 1 GiB file makes 32 tasks to
#: balance over the cores and report progress with, big enough to amortise the round trip.
_MAX_TASK_CHUNKS = 32

#: Small files are sent to workers in batches of at most about this many bytes (or files).
_BATCH_BYTES = 32 * CHUNK_SIZE
_BATCH_FILES = 256


@dataclass(frozen=True)
class _RangeTask:
    """Leaf hashes of chunks ``first .. first + count - 1`` of a big file."""

    file_index: int
    file: File
    first: int
    count: int

    @property
    def last(self) -> bool:
        """Whether this is the file's final range, after which its root can be finished."""
        return self.first + self.count == self.file.chunk_count

    @property
    def size(self) -> int:
        return min(self.file.size - self.first * CHUNK_SIZE, self.count * CHUNK_SIZE)


@dataclass(frozen=True)
class _BatchTask:
    """Roots of consecutive small files, starting at ``first_index``."""

    first_index: int
    files: tuple[File, ...]

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


_Task = _RangeTask | _BatchTask


def _request(task: _Task) -> Request:
    """The task as `client._hashworker` takes it: plain tuples."""
    if isinstance(task, _BatchTask):
        return ("batch", tuple((file.path, file.size, file.mtime_ns) for file in task.files))
    file = task.file
    return ("range", file.path, file.size, file.mtime_ns, task.first, task.count)


def _plan(files: Sequence[File], workers: int, parallel_min_size: int) -> Iterator[_Task]:
    """Split the work into tasks, in file order so results can be merged as they arrive."""
    # About four tasks per worker, so that one slow task does not leave the others idle.
    tasks_wanted = 4 * workers
    # Once workers run, splitting a file costs nothing more, so files bigger than one task
    # are split even below the threshold for starting workers.
    split_size = min(parallel_min_size, _MAX_TASK_CHUNKS * CHUNK_SIZE)
    small_bytes = sum(file.size for file in files if file.size < split_size)
    batch_target = max(CHUNK_SIZE, min(_BATCH_BYTES, small_bytes // tasks_wanted))
    batch: list[File] = []
    batch_bytes = 0
    for index, file in enumerate(files):
        if file.size < split_size:
            batch.append(file)
            batch_bytes += file.size
            if batch_bytes >= batch_target or len(batch) >= _BATCH_FILES:
                yield _BatchTask(index + 1 - len(batch), tuple(batch))
                batch, batch_bytes = [], 0
            continue
        if batch:
            yield _BatchTask(index - len(batch), tuple(batch))
            batch, batch_bytes = [], 0
        chunks = file.chunk_count
        per_task = max(1, min(_MAX_TASK_CHUNKS, -(-chunks // tasks_wanted)))
        for first in range(0, chunks, per_task):
            yield _RangeTask(index, file, first, min(per_task, chunks - first))
    if batch:
        yield _BatchTask(len(files) - len(batch), tuple(batch))


# The worker's whole program. `-S` skips site packages (and their .pth files); `sys.path`
# gets the folder holding the `client` package, wherever it is installed.
_WORKER_CODE = "import sys; sys.path.insert(0, sys.argv[1]); from client._hashworker import serve; serve()"
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)

# Windows cannot `select` on pipes: there the parent only merges, with a worker per core.
_CAN_POLL = os.name == "posix"


class _Worker:
    """One worker process, with the requests sent to it and not yet answered."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-c", _WORKER_CODE, _PACKAGE_ROOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Unbuffered, so that `ready` can ask the pipe itself whether an answer is there.
            bufsize=0,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests: IO[bytes] = self.process.stdin
        self.answers: IO[bytes] = self.process.stdout
        self.pending = 0

    def ready(self) -> bool:
        """Whether an answer can be read without waiting (never, where pipes cannot be polled)."""
        return _CAN_POLL and bool(select.select([self.answers], [], [], 0)[0])

    def submit(self, task: _Task) -> None:
        try:
            send(self.requests, _request(task))
        except OSError as error:
            raise _died(task) from error
        self.pending += 1

    def result(self, task: _Task) -> list[bytes]:
        """The answer to the oldest request sent and not yet answered, which is ``task``'s."""
        self.pending -= 1
        answer = receive(self.answers)
        if answer is None:
            raise _died(task)
        ok, payload = answer
        if not ok:
            raise HashingError(payload)
        return [payload[i : i + 32] for i in range(0, len(payload), 32)]

    def stop(self, wait: bool) -> None:
        """End the worker: by closing its input when all went well, else by killing it."""
        if not wait:
            self.process.kill()
        for stream in (self.requests, self.answers):
            try:
                stream.close()
            except OSError:
                pass  # A broken pipe to a worker that died: nothing left to flush.
        self.process.wait()


def _died(task: _Task) -> HashingError:
    path = task.file.path if isinstance(task, _RangeTask) else task.files[0].path
    return fail(path, "a hashing worker process died")


def _hash_in_pool(
    files: Sequence[File], workers: int, progress: Progress | None, parallel_min_size: int
) -> list[bytes]:
    """Hash ``files`` with ``workers - 1`` worker processes and this one."""
    roots: list[bytes] = [b""] * len(files)
    accumulators: dict[int, MerkleAccumulator] = {}
    tasks = _plan(files, workers, parallel_min_size)
    next_task = next(tasks, None)
    # Tasks in flight, in plan order, so results merge in order: each with the worker it was
    # sent to, or with its hashes when the parent ran it. Bounding it keeps the parent's
    # memory constant however many files or chunks there are.
    window: deque[tuple[_Task, _Worker | list[bytes]]] = deque()
    window_limit = 4 * workers
    buffer = bytearray(CHUNK_SIZE)
    pool: list[_Worker] = []
    finished = False
    try:
        pool.extend(_Worker() for _ in range(workers - 1 if _CAN_POLL else workers))
        while True:
            # A few requests queued per worker, so that it keeps hashing while its answers
            # wait to be read.
            while next_task is not None and len(window) < window_limit:
                idle = min(pool, key=lambda worker: worker.pending)
                if idle.pending >= 3:
                    break
                idle.submit(next_task)
                window.append((next_task, idle))
                next_task = next(tasks, None)
            if not window:
                break
            task, source = window[0]
            if (
                _CAN_POLL
                and next_task is not None
                and isinstance(source, _Worker)
                and len(window) < window_limit
                and not source.ready()
            ):
                # Rather than wait for a worker, the parent hashes the next task itself: it
                # uses the core it runs on and covers the workers' start-up.
                window.append((next_task, run(_request(next_task), buffer)))
                next_task = next(tasks, None)
                continue
            window.popleft()
            hashes = source.result(task) if isinstance(source, _Worker) else source
            if isinstance(task, _RangeTask):
                acc = accumulators.setdefault(task.file_index, MerkleAccumulator())
                acc.extend(hashes)
                if task.last:
                    del accumulators[task.file_index]
                    try:
                        check_unchanged(task.file, os.stat(task.file.path))
                    except OSError as error:
                        raise fail(task.file.path, os_reason(error)) from error
                    roots[task.file_index] = acc.root()
            else:
                roots[task.first_index : task.first_index + len(hashes)] = hashes
            if progress is not None and task.size:
                progress(task.size)
        finished = True
    finally:
        for worker in pool:
            worker.stop(wait=finished)
    return roots


def _worker_count(workers: int | None) -> int:
    if workers is None:
        if hasattr(os, "sched_getaffinity"):
            # The cores this process may run on, which containers often limit.
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return workers


def hash_files(
    files: Sequence[File],
    workers: int | None,
    progress: Progress | None,
    parallel_min_size: int,
) -> list[bytes]:
    count = _worker_count(workers)
    if count == 1 or sum(file.size for file in files) < parallel_min_size:
        buffer = bytearray(CHUNK_SIZE)
        return [hash_file(file, buffer, progress) for file in files]
    return _hash_in_pool(files, count, progress, parallel_min_size)

"""Spreading hashing over processes: big files as contiguous chunk ranges, small files in
batches, results merged in order by the parent, which hashes too while it waits.

Part of `client.hashing`, which is the public interface.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from client._chunks import (
    CHUNK_SIZE,
    File,
    Progress,
    check_unchanged,
    fail,
    hash_file,
    leaf_hashes,
    open_checked,
    os_reason,
)
from client.merkle import MerkleAccumulator

#: Below this many bytes in total, hashing stays in the calling process. Worker processes
#: take about 40 ms to start (forkserver) against 0.65 ms per MiB hashed on one core, so
#: they pay off from about 60 MiB with many cores to about 120 MiB with two (measured).
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


def _execute(task: _Task, buffer: bytearray) -> list[bytes]:
    if isinstance(task, _BatchTask):
        return [hash_file(file, buffer, None) for file in task.files]
    fd = open_checked(task.file)
    try:
        return list(leaf_hashes(fd, task.file, task.first, task.count, buffer, None))
    finally:
        os.close(fd)


# One buffer per worker process, reused by every task the process runs (a worker runs one
# task at a time), so a worker's memory does not grow with the data it hashes.
_worker_buffer: bytearray | None = None


def _worker_execute(task: _Task) -> list[bytes]:
    global _worker_buffer
    if _worker_buffer is None:
        _worker_buffer = bytearray(CHUNK_SIZE)
    return _execute(task, _worker_buffer)


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


def _mp_context() -> multiprocessing.context.BaseContext:
    # forkserver rather than fork: the caller may run threads (a progress bar, a web
    # server), and forking a threaded process can deadlock the child. Its cost, about 40 ms
    # before a worker starts, is hidden by the parent hashing meanwhile (`_hash_in_pool`).
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _hash_in_pool(
    files: Sequence[File], workers: int, progress: Progress | None, parallel_min_size: int
) -> list[bytes]:
    """Hash ``files`` with ``workers - 1`` worker processes and this one."""
    roots: list[bytes] = [b""] * len(files)
    accumulators: dict[int, MerkleAccumulator] = {}
    tasks = _plan(files, workers, parallel_min_size)
    next_task = next(tasks, None)
    # Tasks in flight, in plan order, so results merge in order. Bounding it keeps the
    # parent's memory constant however many files or chunks there are.
    window: deque[tuple[_Task, Future[list[bytes]], bool]] = deque()
    window_limit = 4 * workers
    # Enough queued per worker that it keeps hashing while the parent runs a task itself.
    pool_limit = 2 * (workers - 1)
    in_pool = 0
    buffer = bytearray(CHUNK_SIZE)
    executor = ProcessPoolExecutor(max_workers=workers - 1, mp_context=_mp_context())
    try:
        while True:
            while next_task is not None and in_pool < pool_limit and len(window) < window_limit:
                window.append((next_task, executor.submit(_worker_execute, next_task), True))
                in_pool += 1
                next_task = next(tasks, None)
            if not window:
                break
            task, future, pooled = window[0]
            if next_task is not None and not future.done() and len(window) < window_limit:
                # Rather than wait, the parent hashes the next task itself: it uses the core
                # it runs on and covers the workers' start-up.
                inline: Future[list[bytes]] = Future()
                inline.set_result(_execute(next_task, buffer))
                window.append((next_task, inline, False))
                next_task = next(tasks, None)
                continue
            window.popleft()
            if pooled:
                in_pool -= 1
            try:
                hashes = future.result()
            except BrokenProcessPool as error:
                path = task.file.path if isinstance(task, _RangeTask) else task.files[0].path
                hint = "in a script, hash from under `if __name__ == '__main__':`"
                raise fail(path, f"a hashing worker process died ({hint})") from error
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
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
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

"""Content roots: the bytes32 that identifies a dataset on the registry.

A **file**'s root is the RFC 6962 tree (`client.merkle`) over its consecutive 1 MiB chunks,
the last one possibly shorter; an empty file is one empty chunk. A **directory**'s root is
the same tree over a canonical manifest: a header leaf, then one leaf per regular file
(relative path, size, file root) sorted by path. ``docs/hashing.md`` specifies the byte
encoding and argues why no file root can equal a directory root.

Hashing streams through one reused 1 MiB buffer per process, so memory stays constant
whatever the file size. Work of at least `PARALLEL_MIN_SIZE` bytes is spread over worker
processes: big files as contiguous chunk ranges, small files in batches. Workers open the
files themselves and read with ``os.preadv``; only paths and leaf hashes cross the process
boundary, and the parent merges the leaf hashes in order with a `MerkleAccumulator`.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import stat
import struct
import unicodedata
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import pairwise

from client.errors import HashingError
from client.merkle import HASH_SIZE, MerkleAccumulator, inclusion_proof, leaf_hash

__all__ = [
    "CHUNK_SIZE",
    "MANIFEST_TAG",
    "PARALLEL_MIN_SIZE",
    "ContentManifest",
    "ManifestEntry",
    "bytes_root",
    "content_root",
    "directory_manifest",
    "directory_root",
    "file_root",
]

#: Leaf size of the file tree: 1 MiB. Part of the content-root definition; never change it.
CHUNK_SIZE = 1 << 20

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

#: Manifest leaf encoding; see docs/hashing.md. The tag makes every manifest leaf say what
#: it is, and the header leaf keeps directory trees apart from file trees.
MANIFEST_TAG = b"IDSREG-DIR-V1\x00"
_HEADER = struct.Struct(">QQ")  # entry count, total size
_ENTRY_PATH_LENGTH = struct.Struct(">H")
_ENTRY_SIZE = struct.Struct(">Q")
_MAX_PATH_BYTES = 0xFFFF

StrPath = str | os.PathLike[str]
Progress = Callable[[int], None]

# --------------------------------------------------------------------------------------
# Reading chunks


if hasattr(os, "preadv"):

    def _pread_into(fd: int, buffer: memoryview, offset: int) -> int:
        return os.preadv(fd, [buffer], offset)

else:  # Windows has neither pread nor preadv; each process owns its descriptor anyway.

    def _pread_into(fd: int, buffer: memoryview, offset: int) -> int:
        os.lseek(fd, offset, os.SEEK_SET)
        with io.FileIO(fd, "rb", closefd=False) as raw:
            return raw.readinto(buffer) or 0


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    # A path swapped for a FIFO after it was checked must fail, not block forever.
    | getattr(os, "O_NONBLOCK", 0)
)


@dataclass(frozen=True)
class _File:
    """A regular file to hash, with the size and mtime seen when it was listed."""

    path: str
    size: int
    mtime_ns: int

    @property
    def chunk_count(self) -> int:
        return max(1, -(-self.size // CHUNK_SIZE))


def _fail(path: str, reason: str) -> HashingError:
    # Undecodable bytes in a name come back from os.fsdecode as lone surrogates, which a
    # terminal cannot print; show them as \x escapes instead.
    shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return HashingError(f"cannot hash {shown}: {reason}")


def _os_reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _check_unchanged(file: _File, now: os.stat_result) -> None:
    if not stat.S_ISREG(now.st_mode):
        raise _fail(file.path, "it is no longer a regular file")
    if (now.st_size, now.st_mtime_ns) != (file.size, file.mtime_ns):
        raise _fail(file.path, "the file changed while it was being hashed")


def _open_checked(file: _File) -> int:
    try:
        fd = os.open(file.path, _OPEN_FLAGS)
    except OSError as error:
        raise _fail(file.path, _os_reason(error)) from error
    try:
        _check_unchanged(file, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _leaf_hashes(
    fd: int,
    file: _File,
    first: int,
    count: int,
    buffer: bytearray,
    progress: Progress | None,
) -> Iterator[bytes]:
    """Leaf hashes of chunks ``first .. first + count - 1``, read into ``buffer``."""
    if hasattr(os, "posix_fadvise"):
        # Tell the kernel to read ahead aggressively; a hint, so failure does not matter.
        try:
            os.posix_fadvise(fd, first * CHUNK_SIZE, count * CHUNK_SIZE, os.POSIX_FADV_SEQUENTIAL)
        except OSError:
            pass
    view = memoryview(buffer)
    for index in range(first, first + count):
        offset = index * CHUNK_SIZE
        want = min(CHUNK_SIZE, file.size - offset)
        got = 0
        try:
            while got < want:
                n = _pread_into(fd, view[got:want], offset + got)
                if n == 0:
                    break
                got += n
        except OSError as error:
            raise _fail(file.path, _os_reason(error)) from error
        if got != want:
            raise _fail(file.path, "the file shrank while it was being hashed")
        yield leaf_hash(view[:want])
        if progress is not None and want:
            progress(want)


def _hash_file(file: _File, buffer: bytearray, progress: Progress | None) -> bytes:
    """The root of one whole file, hashed in this process."""
    fd = _open_checked(file)
    try:
        acc = MerkleAccumulator()
        acc.extend(_leaf_hashes(fd, file, 0, file.chunk_count, buffer, progress))
        _check_unchanged(file, os.fstat(fd))
    finally:
        os.close(fd)
    return acc.root()


# --------------------------------------------------------------------------------------
# Spreading the work over processes


@dataclass(frozen=True)
class _RangeTask:
    """Leaf hashes of chunks ``first .. first + count - 1`` of a big file."""

    file_index: int
    file: _File
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
    files: tuple[_File, ...]

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


_Task = _RangeTask | _BatchTask


def _execute(task: _Task, buffer: bytearray) -> list[bytes]:
    if isinstance(task, _BatchTask):
        return [_hash_file(file, buffer, None) for file in task.files]
    fd = _open_checked(task.file)
    try:
        return list(_leaf_hashes(fd, task.file, task.first, task.count, buffer, None))
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


def _plan(files: Sequence[_File], workers: int, parallel_min_size: int) -> Iterator[_Task]:
    """Split the work into tasks, in file order so results can be merged as they arrive."""
    # About four tasks per worker, so that one slow task does not leave the others idle.
    tasks_wanted = 4 * workers
    # Once workers run, splitting a file costs nothing more, so files bigger than one task
    # are split even below the threshold for starting workers.
    split_size = min(parallel_min_size, _MAX_TASK_CHUNKS * CHUNK_SIZE)
    small_bytes = sum(file.size for file in files if file.size < split_size)
    batch_target = max(CHUNK_SIZE, min(_BATCH_BYTES, small_bytes // tasks_wanted))
    batch: list[_File] = []
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
    files: Sequence[_File], workers: int, progress: Progress | None, parallel_min_size: int
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
                raise _fail(path, f"a hashing worker process died ({hint})") from error
            if isinstance(task, _RangeTask):
                acc = accumulators.setdefault(task.file_index, MerkleAccumulator())
                acc.extend(hashes)
                if task.last:
                    del accumulators[task.file_index]
                    try:
                        _check_unchanged(task.file, os.stat(task.file.path))
                    except OSError as error:
                        raise _fail(task.file.path, _os_reason(error)) from error
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


def _hash_files(
    files: Sequence[_File],
    workers: int | None,
    progress: Progress | None,
    parallel_min_size: int,
) -> list[bytes]:
    count = _worker_count(workers)
    if count == 1 or sum(file.size for file in files) < parallel_min_size:
        buffer = bytearray(CHUNK_SIZE)
        return [_hash_file(file, buffer, progress) for file in files]
    return _hash_in_pool(files, count, progress, parallel_min_size)


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as error:
        raise _fail(path, _os_reason(error)) from error


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISREG, "a regular file"),
    ):
        if test(mode):
            return name
    return "an unknown kind of file"


# --------------------------------------------------------------------------------------
# Files


def bytes_root(data: bytes | bytearray | memoryview) -> bytes:
    """The content root of ``data``, as if it were a file's contents.

    >>> bytes_root(b"").hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
    >>> bytes_root(b"hello").hex()
    '8a2a5c9b768827de5a9552c38a044c66959c68f6d2f21b5260af54d2f87db827'
    >>> from client.merkle import leaf_hash, node_hash
    >>> two_chunks = bytes(CHUNK_SIZE + 1)
    >>> bytes_root(two_chunks) == node_hash(leaf_hash(two_chunks[:CHUNK_SIZE]), leaf_hash(b"\\0"))
    True
    """
    view = memoryview(data).cast("B")
    acc = MerkleAccumulator()
    for offset in range(0, max(1, len(view)), CHUNK_SIZE):
        acc.append(leaf_hash(view[offset : offset + CHUNK_SIZE]))
    return acc.root()


def file_root(
    path: StrPath,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    parallel_min_size: int = PARALLEL_MIN_SIZE,
) -> bytes:
    """The content root of the regular file at ``path`` (symbolic links are followed).

    ``workers`` caps the worker processes (default: the usable cores); files smaller than
    ``parallel_min_size`` bytes are hashed in this process. ``progress`` is called with the
    number of bytes hashed since its last call. Raises `HashingError` naming the path if it
    is missing, unreadable, not a regular file, or changes while it is read.
    """
    name = os.fspath(path)
    info = _stat(name)
    if not stat.S_ISREG(info.st_mode):
        raise _fail(name, f"it is {_kind(info.st_mode)}, not a regular file")
    file = _File(name, info.st_size, info.st_mtime_ns)
    return _hash_files([file], workers, progress, parallel_min_size)[0]


# --------------------------------------------------------------------------------------
# Directories


@dataclass(frozen=True)
class ManifestEntry:
    """One regular file of a directory: its path relative to the directory, size and root.

    ``path`` uses ``/`` separators and Unicode NFC, as `directory_manifest` produces it.
    """

    path: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        parts = self.path.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise HashingError(f"manifest path {self.path!r} is not a clean relative path")
        if unicodedata.normalize("NFC", self.path) != self.path:
            raise HashingError(f"manifest path {self.path!r} is not in Unicode NFC")
        if len(self.encoded_path) > _MAX_PATH_BYTES:
            raise HashingError(f"manifest path {self.path[:60]!r}... is over 65,535 bytes")
        if not 0 <= self.size < 1 << 64:
            raise HashingError(f"size {self.size} of {self.path!r} is out of range")
        if len(self.root) != HASH_SIZE:
            raise HashingError(f"root of {self.path!r} must be {HASH_SIZE} bytes")

    @property
    def encoded_path(self) -> bytes:
        """The path as UTF-8: what entries are sorted by."""
        try:
            return self.path.encode("utf-8")
        except UnicodeEncodeError as error:
            # os.fsdecode() maps undecodable bytes in file names to lone surrogates.
            raise HashingError(f"manifest path {self.path!r} is not valid UTF-8") from error

    def encode(self) -> bytes:
        """The manifest leaf: tag, ``E``, path length (u16), path, size (u64), root."""
        path = self.encoded_path
        return b"".join(
            (
                MANIFEST_TAG,
                b"E",
                _ENTRY_PATH_LENGTH.pack(len(path)),
                path,
                _ENTRY_SIZE.pack(self.size),
                self.root,
            )
        )


@dataclass(frozen=True, init=False)
class ContentManifest:
    """The canonical list of a directory's files, whose RFC 6962 root is the directory's root.

    Entries are kept sorted by their UTF-8 path; leaf 0 of the tree is a header (file count
    and total size) and entry ``i`` is leaf ``i + 1``.

    >>> manifest = ContentManifest([ManifestEntry("b.txt", 2, bytes_root(b"hi")),
    ...                             ManifestEntry("a.txt", 0, bytes_root(b""))])
    >>> [entry.path for entry in manifest.entries]
    ['a.txt', 'b.txt']
    >>> manifest.root().hex()
    'ab5930cd085594167da93bac6a315a626794fbbd67005c1337bda48851e40d49'
    """

    entries: tuple[ManifestEntry, ...]

    def __init__(self, entries: Iterable[ManifestEntry]) -> None:
        ordered = tuple(sorted(entries, key=lambda entry: entry.encoded_path))
        if not ordered:
            # Refused rather than given a root: an empty manifest would be a one-leaf tree,
            # which is also the root of some 31-byte file (see docs/hashing.md).
            raise HashingError("a manifest needs at least one file")
        for before, after in pairwise(ordered):
            if before.encoded_path == after.encoded_path:
                raise HashingError(f"manifest lists {after.path!r} twice")
        object.__setattr__(self, "entries", ordered)

    @property
    def total_size(self) -> int:
        """Sum of the files' sizes, in bytes."""
        return sum(entry.size for entry in self.entries)

    @property
    def tree_size(self) -> int:
        """Number of leaves of the manifest tree: the header and one per file."""
        return len(self.entries) + 1

    def header(self) -> bytes:
        """Leaf 0: tag, ``H``, file count (u64), total size (u64)."""
        return MANIFEST_TAG + b"H" + _HEADER.pack(len(self.entries), self.total_size)

    def leaves(self) -> list[bytes]:
        """The leaf data of the manifest tree, in order."""
        return [self.header(), *(entry.encode() for entry in self.entries)]

    def leaf_hashes(self) -> list[bytes]:
        """``leaf_hash`` of every leaf, in order."""
        return [leaf_hash(leaf) for leaf in self.leaves()]

    def root(self) -> bytes:
        """The directory's content root."""
        acc = MerkleAccumulator()
        acc.extend(self.leaf_hashes())
        return acc.root()

    def leaf_index(self, path: str) -> int:
        """The tree index of the entry for ``path`` (a manifest path, ``/``-separated)."""
        key = unicodedata.normalize("NFC", path).encode("utf-8", "surrogateescape")
        position = bisect_left(self.entries, key, key=lambda entry: entry.encoded_path)
        if position == len(self.entries) or self.entries[position].encoded_path != key:
            raise HashingError(f"{path!r} is not in the manifest")
        return position + 1

    def inclusion_proof(self, path: str) -> list[bytes]:
        """The audit path proving that the entry for ``path`` is in the directory's root."""
        return inclusion_proof(self.leaf_hashes(), self.leaf_index(path))


def _scan(top: str) -> list[tuple[str, _File]]:
    """Every regular file under ``top`` as (manifest path, file), unsorted."""
    found: list[tuple[str, _File]] = []
    pending: list[tuple[str, str]] = [(top, "")]  # (OS path, manifest path prefix)
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as listing:
                children = list(listing)
        except OSError as error:
            raise _fail(directory, _os_reason(error)) from error
        for child in children:
            try:
                info = child.stat(follow_symlinks=False)
            except OSError as error:
                raise _fail(child.path, _os_reason(error)) from error
            manifest_path = unicodedata.normalize("NFC", prefix + child.name)
            if stat.S_ISDIR(info.st_mode):
                pending.append((child.path, manifest_path + "/"))
            elif stat.S_ISREG(info.st_mode):
                found.append((manifest_path, _File(child.path, info.st_size, info.st_mtime_ns)))
            elif stat.S_ISLNK(info.st_mode):
                # Following links could leave the dataset or loop; skipping them would give
                # a root that silently leaves out files the user sees. So: refuse.
                raise _fail(
                    child.path,
                    "symbolic links inside a directory are not followed; "
                    "replace them with the files (for example `cp -rL`)",
                )
            else:
                raise _fail(child.path, f"it is {_kind(info.st_mode)}, not a regular file")
    return found


def directory_manifest(
    path: StrPath,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    parallel_min_size: int = PARALLEL_MIN_SIZE,
) -> ContentManifest:
    """List and hash every regular file under the directory ``path``.

    Hidden files are included; subdirectories contribute only the files in them. Raises
    `HashingError` naming the path for a symbolic link or special file inside the tree,
    a file name that is not UTF-8, two names equal after NFC normalisation, an unreadable
    entry, or a directory with no files. Other arguments are as for `file_root`.
    """
    top = os.fspath(path)
    info = _stat(top)
    if not stat.S_ISDIR(info.st_mode):
        raise _fail(top, f"it is {_kind(info.st_mode)}, not a directory")
    found = _scan(top)
    if not found:
        raise _fail(top, "the directory contains no files")
    keyed: dict[bytes, tuple[str, _File]] = {}
    for manifest_path, file in found:
        try:
            key = manifest_path.encode("utf-8")
        except UnicodeEncodeError as error:
            raise _fail(file.path, "the file name is not valid UTF-8") from error
        if key in keyed:
            raise _fail(
                file.path,
                f"its name equals that of {keyed[key][1].path} after Unicode NFC normalisation",
            )
        keyed[key] = (manifest_path, file)
    # Hashing in manifest order lets the workers' results be consumed in one ordered pass.
    ordered = [keyed[key] for key in sorted(keyed)]
    files = [file for _, file in ordered]
    roots = _hash_files(files, workers, progress, parallel_min_size)
    return ContentManifest(
        ManifestEntry(manifest_path, file.size, root) for (manifest_path, file), root in zip(ordered, roots)
    )


def directory_root(
    path: StrPath,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    parallel_min_size: int = PARALLEL_MIN_SIZE,
) -> bytes:
    """The content root of the directory ``path``: the root of its `directory_manifest`."""
    return directory_manifest(path, workers=workers, progress=progress, parallel_min_size=parallel_min_size).root()


def content_root(
    path: StrPath,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    parallel_min_size: int = PARALLEL_MIN_SIZE,
) -> bytes:
    """The content root of a file or a directory, whichever ``path`` is.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data = pathlib.Path(tmp, "data.csv")
    ...     _ = data.write_bytes(b"hello")
    ...     content_root(data) == bytes_root(b"hello")
    True
    """
    name = os.fspath(path)
    info = _stat(name)
    if stat.S_ISDIR(info.st_mode):
        return directory_root(name, workers=workers, progress=progress, parallel_min_size=parallel_min_size)
    if stat.S_ISREG(info.st_mode):
        return file_root(name, workers=workers, progress=progress, parallel_min_size=parallel_min_size)
    raise _fail(name, f"it is {_kind(info.st_mode)}, not a file or directory")

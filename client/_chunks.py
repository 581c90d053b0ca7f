"""Reading a file for hashing: its 1 MiB chunks, read with ``pread`` into one reused buffer and
turned into RFC 6962 leaf hashes, with a check that the file did not change meanwhile.

Part of `client.hashing`, which is the public interface.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from client.errors import HashingError
from client.merkle import MerkleAccumulator, leaf_hash

#: Leaf size of the file tree: 1 MiB. Part of the content-root definition; never change it.
CHUNK_SIZE = 1 << 20

StrPath = str | os.PathLike[str]
Progress = Callable[[int], None]


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
class File:
    """A regular file to hash, with the size and mtime seen when it was listed."""

    path: str
    size: int
    mtime_ns: int

    @property
    def chunk_count(self) -> int:
        return max(1, -(-self.size // CHUNK_SIZE))


def fail(path: str, reason: str) -> HashingError:
    # Undecodable bytes in a name come back from os.fsdecode as lone surrogates, which a
    # terminal cannot print; show them as \x escapes instead.
    shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return HashingError(f"cannot hash {shown}: {reason}")


def os_reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def check_unchanged(file: File, now: os.stat_result) -> None:
    if not stat.S_ISREG(now.st_mode):
        raise fail(file.path, "it is no longer a regular file")
    if (now.st_size, now.st_mtime_ns) != (file.size, file.mtime_ns):
        raise fail(file.path, "the file changed while it was being hashed")


def open_checked(file: File) -> int:
    try:
        fd = os.open(file.path, _OPEN_FLAGS)
    except OSError as error:
        raise fail(file.path, os_reason(error)) from error
    try:
        check_unchanged(file, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def leaf_hashes(
    fd: int,
    file: File,
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
            raise fail(file.path, os_reason(error)) from error
        if got != want:
            raise fail(file.path, "the file shrank while it was being hashed")
        yield leaf_hash(view[:want])
        if progress is not None and want:
            progress(want)


def hash_file(file: File, buffer: bytearray, progress: Progress | None) -> bytes:
    """The root of one whole file, hashed in this process."""
    fd = open_checked(file)
    try:
        acc = MerkleAccumulator()
        acc.extend(leaf_hashes(fd, file, 0, file.chunk_count, buffer, progress))
        check_unchanged(file, os.fstat(fd))
    finally:
        os.close(fd)
    return acc.root()


def stat_path(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as error:
        raise fail(path, os_reason(error)) from error


def kind(mode: int) -> str:
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

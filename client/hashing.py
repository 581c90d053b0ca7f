"""Content roots: the bytes32 that identifies a dataset on the registry.

A **file**'s root is the RFC 6962 tree (`client.merkle`) over its consecutive 1 MiB chunks,
the last one possibly shorter; an empty file is one empty chunk. A **directory**'s root is
the same tree over a canonical manifest: a header leaf, then one leaf per regular file
(relative path, size, file root) sorted by path. ``docs/hashing.md`` specifies the byte
encoding and argues why no file root can equal a directory root.

Hashing streams through one reused 1 MiB buffer per process, so memory stays constant
whatever the file size (`client._chunks`). Work of at least `PARALLEL_MIN_SIZE` bytes is
spread over worker processes: big files as contiguous chunk ranges, small files in batches
(`client._hashpool`; the workers are small ``python -S`` processes, `client._hashworker`).
Workers open the files themselves and read with ``os.preadv``; only
paths and leaf hashes cross the process boundary, and the parent merges the leaf hashes in
order with a `MerkleAccumulator`. Directories and their manifests: `client.directory`.
"""

from __future__ import annotations

import os
import stat

from client._chunks import CHUNK_SIZE, File, Progress, StrPath, fail, kind, stat_path
from client._hashpool import PARALLEL_MIN_SIZE, hash_files
from client.directory import MANIFEST_TAG, ContentManifest, ManifestEntry, directory_manifest, directory_root
from client.errors import ConfigError
from client.merkle import MerkleAccumulator, leaf_hash

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
    "hex32",
    "parse_root",
]


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
    info = stat_path(name)
    if not stat.S_ISREG(info.st_mode):
        raise fail(name, f"it is {kind(info.st_mode)}, not a regular file")
    file = File(name, info.st_size, info.st_mtime_ns)
    return hash_files([file], workers, progress, parallel_min_size)[0]


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
    info = stat_path(name)
    if stat.S_ISDIR(info.st_mode):
        return directory_root(name, workers=workers, progress=progress, parallel_min_size=parallel_min_size)
    if stat.S_ISREG(info.st_mode):
        return file_root(name, workers=workers, progress=progress, parallel_min_size=parallel_min_size)
    raise fail(name, f"it is {kind(info.st_mode)}, not a file or directory")


def parse_root(value: str) -> bytes:
    """A dataset id (0x + 64 hex digits) as 32 bytes; ConfigError naming the value otherwise."""
    text = value.strip()
    try:
        raw = bytes.fromhex(text.removeprefix("0x")) if text.startswith("0x") else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{value!r} is not a dataset id (0x followed by 64 hex digits)")
    return raw


def hex32(value: bytes) -> str:
    """A content root (or any 32-byte hash) as people and the chain tools show it: 0x-hex."""
    return "0x" + value.hex()

"""Directories: the canonical manifest of a directory's files, whose RFC 6962 root is the
directory's content root. ``docs/hashing.md`` specifies the byte encoding.

Part of `client.hashing`, which is the public interface.
"""

from __future__ import annotations

import os
import stat
import struct
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from client._chunks import File, Progress, StrPath, fail, kind, os_reason, stat_path
from client._hashpool import PARALLEL_MIN_SIZE, hash_files
from client.errors import HashingError
from client.merkle import HASH_SIZE, MerkleAccumulator, inclusion_proof, leaf_hash

#: Manifest leaf encoding; see docs/hashing.md. The tag makes every manifest leaf say what
#: it is, and the header leaf keeps directory trees apart from file trees.
MANIFEST_TAG = b"IDSREG-DIR-V1\x00"
_HEADER = struct.Struct(">QQ")  # entry count, total size
_ENTRY_PATH_LENGTH = struct.Struct(">H")
_ENTRY_SIZE = struct.Struct(">Q")
_MAX_PATH_BYTES = 0xFFFF


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

    >>> from client.hashing import bytes_root
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


def _scan(top: str) -> list[tuple[str, File]]:
    """Every regular file under ``top`` as (manifest path, file), unsorted."""
    found: list[tuple[str, File]] = []
    pending: list[tuple[str, str]] = [(top, "")]  # (OS path, manifest path prefix)
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as listing:
                children = list(listing)
        except OSError as error:
            raise fail(directory, os_reason(error)) from error
        for child in children:
            try:
                info = child.stat(follow_symlinks=False)
            except OSError as error:
                raise fail(child.path, os_reason(error)) from error
            manifest_path = unicodedata.normalize("NFC", prefix + child.name)
            if stat.S_ISDIR(info.st_mode):
                pending.append((child.path, manifest_path + "/"))
            elif stat.S_ISREG(info.st_mode):
                found.append((manifest_path, File(child.path, info.st_size, info.st_mtime_ns)))
            elif stat.S_ISLNK(info.st_mode):
                # Following links could leave the dataset or loop; skipping them would give
                # a root that silently leaves out files the user sees. So: refuse.
                raise fail(
                    child.path,
                    "symbolic links inside a directory are not followed; "
                    "replace them with the files (for example `cp -rL`)",
                )
            else:
                raise fail(child.path, f"it is {kind(info.st_mode)}, not a regular file")
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
    info = stat_path(top)
    if not stat.S_ISDIR(info.st_mode):
        raise fail(top, f"it is {kind(info.st_mode)}, not a directory")
    found = _scan(top)
    if not found:
        raise fail(top, "the directory contains no files")
    keyed: dict[bytes, tuple[str, File]] = {}
    for manifest_path, file in found:
        try:
            key = manifest_path.encode("utf-8")
        except UnicodeEncodeError as error:
            raise fail(file.path, "the file name is not valid UTF-8") from error
        if key in keyed:
            raise fail(
                file.path,
                f"its name equals that of {keyed[key][1].path} after Unicode NFC normalisation",
            )
        keyed[key] = (manifest_path, file)
    # Hashing in manifest order lets the workers' results be consumed in one ordered pass.
    ordered = [keyed[key] for key in sorted(keyed)]
    files = [file for _, file in ordered]
    roots = hash_files(files, workers, progress, parallel_min_size)
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

"""Content roots of files and directories, checked against the definitions in docs/hashing.md.

The reference functions below rebuild roots from the written definition with hashlib only.
The fixed hex values were computed independently with the `openssl dgst` command line
(see docs/hashing.md), not with this code.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from client.errors import HashingError
from client.hashing import (
    CHUNK_SIZE,
    ContentManifest,
    ManifestEntry,
    bytes_root,
    content_root,
    directory_manifest,
    directory_root,
    file_root,
)
from client.merkle import leaf_hash, verify_inclusion

MiB = CHUNK_SIZE
PATTERN = bytes(range(251))  # a prime length, so chunk boundaries never line up with it


def pattern(n: int) -> bytes:
    return (PATTERN * (n // len(PATTERN) + 1))[:n]


# --- the definitions, restated -----------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH over leaf data."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def reference_file_root(data: bytes) -> bytes:
    chunks = [data[i : i + MiB] for i in range(0, len(data), MiB)] or [b""]
    return mth(chunks)


def reference_directory_root(files: dict[str, bytes]) -> bytes:
    """docs/hashing.md: header leaf, then (path, size, root) leaves sorted by UTF-8 path."""
    tag = b"IDSREG-DIR-V1\x00"
    named = sorted((unicodedata.normalize("NFC", p).encode(), d) for p, d in files.items())
    total = sum(len(d) for d in files.values())
    leaves = [tag + b"H" + len(files).to_bytes(8, "big") + total.to_bytes(8, "big")]
    for name, content in named:
        leaves.append(
            tag
            + b"E"
            + len(name).to_bytes(2, "big")
            + name
            + len(content).to_bytes(8, "big")
            + reference_file_root(content)
        )
    return mth(leaves)


def write_tree(top: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        target = top / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return top


# --- files -------------------------------------------------------------------------------

FILE_SIZES = [0, 1, 251, MiB - 1, MiB, MiB + 1, 2 * MiB, 5 * MiB + 3]


@pytest.mark.parametrize("size", FILE_SIZES)
def test_file_root_matches_definition(tmp_path: Path, size: int) -> None:
    data = pattern(size)
    target = tmp_path / "data.bin"
    target.write_bytes(data)
    expected = reference_file_root(data)
    assert file_root(target) == expected
    assert content_root(target) == expected
    assert bytes_root(data) == expected
    assert file_root(target, workers=1) == expected


@pytest.mark.parametrize(
    ("data", "root"),
    [
        (b"", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        (b"hello", "8a2a5c9b768827de5a9552c38a044c66959c68f6d2f21b5260af54d2f87db827"),
        (pattern(MiB + 1), "c782cd77b0f9139f9d7fab306f384a6cab7f6c65426252d0f67ef5aadffcc3f3"),
        (pattern(5 * MiB + 3), "c6552c34cd7dbf276293e3629afd95442843885a295520f8992fc61595be00a2"),
    ],
    ids=["empty", "hello", "1MiB+1", "5MiB+3"],
)
def test_fixed_file_roots(tmp_path: Path, data: bytes, root: str) -> None:
    target = tmp_path / "fixed.bin"
    target.write_bytes(data)
    assert file_root(target).hex() == root
    assert bytes_root(data).hex() == root


def test_empty_file_is_one_empty_chunk(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.touch()
    assert file_root(target) == leaf_hash(b"")


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("size", [MiB + 1, 5 * MiB + 3, 9 * MiB])
def test_worker_processes_give_the_same_root(tmp_path: Path, workers: int, size: int) -> None:
    data = pattern(size)
    target = tmp_path / "big.bin"
    target.write_bytes(data)
    reported: list[int] = []
    root = file_root(target, workers=workers, parallel_min_size=MiB, progress=reported.append)
    assert root == reference_file_root(data)
    assert sum(reported) == size
    assert len(reported) > 1  # one report per task, not one at the end


def test_in_process_progress_reports_every_chunk(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(pattern(3 * MiB + 7))
    reported: list[int] = []
    file_root(target, progress=reported.append)
    assert reported == [MiB, MiB, MiB, 7]


def test_symlink_to_a_file_is_followed(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"linked")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert file_root(link) == content_root(link) == bytes_root(b"linked")


def test_missing_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    for function in (file_root, directory_root, content_root):
        with pytest.raises(HashingError, match=f"cannot hash {missing}: no such file"):
            function(missing)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(HashingError, match=f"cannot hash {tmp_path}: it is a directory"):
        file_root(tmp_path)
    target = tmp_path / "f"
    target.touch()
    with pytest.raises(HashingError, match=f"cannot hash {target}: it is a regular file, not a"):
        directory_root(target)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(HashingError, match=f"cannot hash {fifo}: it is a named pipe"):
        content_root(fifo)
    with pytest.raises(HashingError, match=f"cannot hash {fifo}: it is a named pipe"):
        file_root(fifo)
    with pytest.raises(HashingError, match=f"cannot hash {fifo}: it is a named pipe"):
        directory_root(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_named(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_bytes(b"x")
    target.chmod(0)
    with pytest.raises(HashingError, match=f"cannot hash {target}: permission denied"):
        file_root(target)


def test_read_failure_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Like the test above, but also when running as root: the open itself fails."""
    target = tmp_path / "secret"
    target.write_bytes(b"x")

    def refuse(path: str, flags: int, mode: int = 0o777) -> int:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(HashingError, match=f"cannot hash {target}: permission denied"):
        file_root(target)


@pytest.mark.parametrize("workers", [1, 2])
def test_file_changing_while_hashed_is_refused(tmp_path: Path, workers: int) -> None:
    target = tmp_path / "growing.log"
    target.write_bytes(pattern(10 * MiB))

    def append_once(done: int) -> None:
        if target.stat().st_size == 10 * MiB:
            with target.open("ab") as log:
                log.write(b"one more line\n")

    with pytest.raises(HashingError, match=f"cannot hash {target}: the file changed"):
        file_root(target, workers=workers, parallel_min_size=MiB, progress=append_once)


def test_file_shrinking_while_hashed_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "shrinking"
    target.write_bytes(pattern(3 * MiB))

    def truncate(done: int) -> None:
        os.truncate(target, MiB + 10)

    with pytest.raises(HashingError, match=f"cannot hash {target}: the file shrank"):
        file_root(target, progress=truncate)


# --- directories -------------------------------------------------------------------------

UNUSUAL = {
    "with space.txt": b"spaces",
    ".hidden": b"dot file",
    ".config/settings.json": b"{}",
    "a-b": b"hyphen",
    "a.txt": b"dot",
    "a/b": b"slash",  # '/' (0x2f) sorts after '.' and '-': whole paths are compared
    "a0": b"zero",
    "Z": b"upper case sorts before lower case as bytes",
    "é.csv": b"composed",
    "\uff21.txt": b"fullwidth A, U+FF21",
    "\U0001f600.txt": b"emoji U+1F600: before U+FF21 in UTF-16 order, after it in UTF-8",
    "deep/er/and/deeper/leaf.bin": pattern(MiB + 5),
    "empty.csv": b"",
    "nested/empty": b"",
}


def test_directory_root_matches_definition(tmp_path: Path) -> None:
    top = write_tree(tmp_path / "ds", UNUSUAL)
    expected = reference_directory_root(UNUSUAL)
    assert directory_root(top) == expected
    assert content_root(top) == expected
    assert directory_root(top, workers=1) == expected
    assert directory_root(top, workers=2, parallel_min_size=MiB) == expected


def test_manifest_order_is_utf8_byte_order(tmp_path: Path) -> None:
    manifest = directory_manifest(write_tree(tmp_path / "ds", UNUSUAL))
    assert [entry.path for entry in manifest.entries] == [
        ".config/settings.json",
        ".hidden",
        "Z",
        "a-b",
        "a.txt",
        "a/b",
        "a0",
        "deep/er/and/deeper/leaf.bin",
        "empty.csv",
        "nested/empty",
        "with space.txt",
        "é.csv",
        "\uff21.txt",
        "\U0001f600.txt",
    ]
    assert manifest.total_size == sum(len(d) for d in UNUSUAL.values())
    assert manifest.entries[7].size == MiB + 5
    assert manifest.entries[7].root == reference_file_root(pattern(MiB + 5))


def test_worked_example_from_the_docs(tmp_path: Path) -> None:
    top = write_tree(tmp_path / "dataset", {"hello.txt": b"hello", "data/empty.csv": b""})
    manifest = directory_manifest(top)
    assert [leaf.hex() for leaf in manifest.leaves()] == [
        "4944535245472d4449522d5631004800000000000000020000000000000005",
        (
            "4944535245472d4449522d56310045000e646174612f656d7074792e637376"  # tag E len path
            "0000000000000000"  # size 0
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"  # root of b""
        ),
        (
            "4944535245472d4449522d56310045000968656c6c6f2e747874"  # tag E len path
            "0000000000000005"  # size 5
            "8a2a5c9b768827de5a9552c38a044c66959c68f6d2f21b5260af54d2f87db827"  # root of b"hello"
        ),
    ]
    root = "7fc3749f444316ff9d873fe6411a11858737efa626a651822c52891bdce52ee3"
    assert manifest.root().hex() == root
    assert directory_root(top).hex() == root
    assert manifest.leaf_index("hello.txt") == 2
    assert [h.hex() for h in manifest.inclusion_proof("hello.txt")] == [
        "2d29061275a795ead49746185ea2136224983e32795983fa7352c7d40ef13a1f"
    ]


def test_every_entry_proves_against_the_directory_root(tmp_path: Path) -> None:
    manifest = directory_manifest(write_tree(tmp_path / "ds", UNUSUAL))
    root = manifest.root()
    for entry in manifest.entries:
        index = manifest.leaf_index(entry.path)
        proof = manifest.inclusion_proof(entry.path)
        verify_inclusion(leaf_hash(entry.encode()), index, manifest.tree_size, proof, root)
    with pytest.raises(HashingError, match="'missing.txt' is not in the manifest"):
        manifest.leaf_index("missing.txt")


def test_creation_order_does_not_matter(tmp_path: Path) -> None:
    names = list(UNUSUAL)
    forward = write_tree(tmp_path / "forward", UNUSUAL)
    backward = write_tree(tmp_path / "backward", {n: UNUSUAL[n] for n in reversed(names)})
    assert directory_root(forward) == directory_root(backward)


@pytest.mark.parametrize(
    "change",
    [
        "rename",
        "move into subdirectory",
        "move to top",
        "swap contents",
        "touch new empty file",
        "edit one byte",
    ],
)
def test_changes_change_the_root(tmp_path: Path, change: str) -> None:
    files = {"a.csv": b"1,2,3\n", "b.csv": b"4,5,6\n", "sub/c.csv": b"7\n"}
    top = write_tree(tmp_path / "ds", files)
    before = directory_root(top)
    if change == "rename":
        (top / "a.csv").rename(top / "a2.csv")
    elif change == "move into subdirectory":
        (top / "a.csv").rename(top / "sub" / "a.csv")
    elif change == "move to top":
        (top / "sub" / "c.csv").rename(top / "c.csv")
    elif change == "swap contents":
        (top / "a.csv").write_bytes(files["b.csv"])
        (top / "b.csv").write_bytes(files["a.csv"])
    elif change == "touch new empty file":
        (top / ".keep").touch()
    else:
        (top / "sub" / "c.csv").write_bytes(b"8\n")
    assert directory_root(top) != before


def test_empty_subdirectories_are_not_content(tmp_path: Path) -> None:
    top = write_tree(tmp_path / "ds", {"a.csv": b"1"})
    before = directory_root(top)
    (top / "empty" / "deeper").mkdir(parents=True)
    assert directory_root(top) == before


def test_empty_directory_has_no_root(tmp_path: Path) -> None:
    top = tmp_path / "empty"
    (top / "only" / "subdirs").mkdir(parents=True)
    with pytest.raises(HashingError, match=f"cannot hash {top}: the directory contains no files"):
        content_root(top)
    with pytest.raises(HashingError, match="at least one file"):
        ContentManifest([])


def test_directory_roots_are_not_file_roots(tmp_path: Path) -> None:
    """No file can have a directory's root: not its single file, nor its encoded entry."""
    top = write_tree(tmp_path / "ds", {"data.csv": b"x,y\n1,2\n"})
    manifest = directory_manifest(top)
    root = manifest.root()
    assert root != file_root(top / "data.csv")
    # Without the header leaf, a file holding exactly the one manifest entry would collide.
    (entry_leaf,) = manifest.leaves()[1:]
    assert root != bytes_root(entry_leaf)
    assert root != bytes_root(b"".join(manifest.leaves()))


def test_nfd_names_are_normalised(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "é.csv")
    assert decomposed != "é.csv"
    top = write_tree(tmp_path / "ds", {decomposed: b"data"})
    manifest = directory_manifest(top)
    assert [entry.path for entry in manifest.entries] == ["é.csv"]
    assert manifest.root() == reference_directory_root({"é.csv": b"data"})


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems normalise names")
def test_names_equal_after_normalisation_are_refused(tmp_path: Path) -> None:
    top = write_tree(tmp_path / "ds", {"é.csv": b"1", unicodedata.normalize("NFD", "é.csv"): b"2"})
    with pytest.raises(HashingError, match="after Unicode NFC normalisation"):
        directory_root(top)


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="names must be Unicode there")
def test_non_utf8_name_is_refused(tmp_path: Path) -> None:
    top = tmp_path / "ds"
    top.mkdir()
    bad = os.path.join(os.fsencode(top), b"caf\xe9.csv")
    with open(bad, "wb") as handle:
        handle.write(b"latin-1 name")
    with pytest.raises(HashingError, match=r"caf\\xe9\.csv: the file name is not valid UTF-8"):
        directory_root(top)


def test_symlink_inside_directory_is_refused(tmp_path: Path) -> None:
    top = write_tree(tmp_path / "ds", {"real.csv": b"1"})
    (top / "alias.csv").symlink_to(top / "real.csv")
    with pytest.raises(HashingError, match=f"cannot hash {top / 'alias.csv'}: symbolic links"):
        directory_root(top)


def test_symlinked_top_directory_is_followed(tmp_path: Path) -> None:
    top = write_tree(tmp_path / "ds", {"real.csv": b"1"})
    link = tmp_path / "latest"
    link.symlink_to(top, target_is_directory=True)
    assert directory_root(link) == directory_root(top)


def test_many_small_files_through_workers(tmp_path: Path) -> None:
    files = {f"part-{i:04d}.csv": pattern(i * 97) for i in range(300)}
    files["big/blob.bin"] = pattern(3 * MiB + 1)
    top = write_tree(tmp_path / "ds", files)
    reported: list[int] = []
    root = directory_root(top, workers=2, parallel_min_size=MiB, progress=reported.append)
    assert root == directory_root(top, workers=1) == reference_directory_root(files)
    assert sum(reported) == sum(len(d) for d in files.values())


def test_directory_progress_in_process(tmp_path: Path) -> None:
    top = write_tree(tmp_path / "ds", {"a": pattern(MiB + 1), "b": b"xy", "c": b""})
    reported: list[int] = []
    directory_root(top, progress=reported.append)
    assert reported == [MiB, 1, 2]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/abs", "not a clean relative path"),
        ("a//b", "not a clean relative path"),
        ("a/../b", "not a clean relative path"),
        ("./a", "not a clean relative path"),
        ("dir/", "not a clean relative path"),
        (unicodedata.normalize("NFD", "é"), "not in Unicode NFC"),
        ("x" * 65536, "is over 65,535 bytes"),
    ],
)
def test_manifest_entry_refuses_bad_paths(path: str, message: str) -> None:
    with pytest.raises(HashingError, match=message):
        ManifestEntry(path, 0, leaf_hash(b""))


def test_manifest_entry_refuses_bad_values() -> None:
    with pytest.raises(HashingError, match="root of 'a' must be 32 bytes"):
        ManifestEntry("a", 0, b"short")
    with pytest.raises(HashingError, match="size -1 of 'a' is out of range"):
        ManifestEntry("a", -1, leaf_hash(b""))
    entry = ManifestEntry("a", 1, leaf_hash(b"1"))
    with pytest.raises(HashingError, match="manifest lists 'a' twice"):
        ContentManifest([entry, entry])


def test_workers_must_be_positive(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.touch()
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        file_root(target, workers=0)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null here")
def test_device_is_refused() -> None:
    with pytest.raises(HashingError, match="cannot hash /dev/null: it is a character device"):
        content_root("/dev/null")
    with pytest.raises(HashingError, match="cannot hash /dev/null: it is a character device"):
        file_root("/dev/null")


def test_hashing_worker_imports_only_the_standard_library() -> None:
    # Workers start with `python -S` and the package folder on sys.path (client._hashpool);
    # anything more than the standard library would fail there or slow every worker down.
    from client import _hashpool

    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import client._hashworker; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'client'))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe, _hashpool._PACKAGE_ROOT], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [
        "['client',",
        "'client._chunks',",
        "'client._hashworker',",
        "'client.errors',",
        "'client.merkle']",
    ]


def test_a_worker_that_dies_is_reported_with_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from client import _hashpool

    target = tmp_path / "big.bin"
    target.write_bytes(os.urandom(8 * MiB))
    # A worker that ends before answering, as one killed by the OOM killer would.
    monkeypatch.setattr(_hashpool, "_WORKER_CODE", "import os; os._exit(9)")
    with pytest.raises(HashingError, match=r"cannot hash .*big\.bin: a hashing worker process died"):
        file_root(target, workers=2, parallel_min_size=MiB)

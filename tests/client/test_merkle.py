"""RFC 6962 tree hashes and inclusion proofs, checked against the RFC's own definitions.

The reference functions below are written straight from RFC 6962 section 2.1 (MTH, PATH)
with hashlib only, so they share no code with `client.merkle`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from client.errors import ProofError
from client.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_and_proofs,
    root_from_leaf_hashes,
    verify_inclusion,
)

VECTORS = Path(__file__).parents[1] / "vectors" / "rfc6962.json"
SHARED_VECTORS = Path(__file__).parents[2].parent / "shared" / "vectors" / "rfc6962.json"


# --- RFC 6962 section 2.1, literally -----------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf *data*."""
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = largest_power_of_two_below(n)
    return sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def path(m: int, entries: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) over leaf *data*, leaf to root."""
    n = len(entries)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return path(m, entries[:k]) + [mth(entries[k:])]
    return path(m - k, entries[k:]) + [mth(entries[:k])]


def root_from_path(m: int, n: int, leaf: bytes, audit: list[bytes]) -> bytes | None:
    """Recompute the root by undoing PATH's recursion; None if the path has the wrong length."""
    if n == 1:
        return leaf if not audit else None
    if not audit:
        return None
    k = largest_power_of_two_below(n)
    if m < k:
        left = root_from_path(m, k, leaf, audit[:-1])
        return None if left is None else sha256(b"\x01" + left + audit[-1])
    right = root_from_path(m - k, n - k, leaf, audit[:-1])
    return None if right is None else sha256(b"\x01" + audit[-1] + right)


def data(n: int) -> list[bytes]:
    """n distinct leaves of varying length, including an empty one."""
    return [bytes([i % 256]) * (i % 5) + i.to_bytes(2, "big") if i else b"" for i in range(n)]


# --- roots -------------------------------------------------------------------------------


def test_hash_primitives_follow_the_rfc() -> None:
    assert leaf_hash(b"abc") == sha256(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert EMPTY_ROOT == sha256(b"")
    assert leaf_hash(memoryview(b"abc")) == leaf_hash(bytearray(b"abc")) == leaf_hash(b"abc")


@pytest.mark.parametrize("n", range(71))
def test_root_matches_rfc_definition(n: int) -> None:
    entries = data(n)
    assert root_from_leaf_hashes([leaf_hash(d) for d in entries]) == mth(entries)


def test_accumulator_root_is_right_after_every_append() -> None:
    entries = data(70)
    acc = MerkleAccumulator()
    assert acc.size == 0
    assert acc.root() == EMPTY_ROOT
    for n, d in enumerate(entries, start=1):
        acc.append(leaf_hash(d))
        assert acc.size == n
        assert acc.root() == mth(entries[:n])
        # Taking the root must not disturb later appends; checked by the next iteration.


def test_accumulator_memory_is_logarithmic() -> None:
    acc = MerkleAccumulator()
    acc.extend(leaf_hash(i.to_bytes(4, "big")) for i in range(5000))
    assert len(acc._stack) == (5000).bit_count()


def test_wrong_length_leaf_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="leaf hash must be 32 bytes, got 31"):
        MerkleAccumulator().append(b"\x00" * 31)
    with pytest.raises(ValueError, match="leaf hash 1 must be 32 bytes"):
        root_and_proofs([b"\x00" * 32, b"\x00" * 33])


# --- proofs ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 71))
def test_proofs_match_rfc_definition_and_verify(n: int) -> None:
    entries = data(n)
    hashes = [leaf_hash(d) for d in entries]
    root = mth(entries)
    batch_root, batch_proofs = root_and_proofs(hashes)
    assert batch_root == root
    assert len(batch_proofs) == n
    for m in range(n):
        expected = path(m, entries)
        assert inclusion_proof(hashes, m) == expected
        assert batch_proofs[m] == expected
        verify_inclusion(hashes[m], m, n, expected, root)


def test_root_and_proofs_of_nothing() -> None:
    assert root_and_proofs([]) == (EMPTY_ROOT, [])


def test_root_and_proofs_scales_to_a_batch_anchor() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(10_000)]
    root, proofs = root_and_proofs(hashes)
    assert root == root_from_leaf_hashes(hashes)
    for m in (0, 1, 4095, 8191, 8192, 9998, 9999):
        assert proofs[m] == inclusion_proof(hashes, m)
        verify_inclusion(hashes[m], m, 10_000, proofs[m], root)


@pytest.mark.parametrize("index", [-1, 3])
def test_inclusion_proof_index_out_of_range(index: int) -> None:
    with pytest.raises(ValueError, match=f"leaf index {index} is out of range for a tree of 3"):
        inclusion_proof([leaf_hash(b"")] * 3, index)


@pytest.mark.parametrize("n", range(1, 34))
def test_verifier_agrees_with_rfc_recursion_on_shifted_index_and_size(n: int) -> None:
    """verify_inclusion accepts exactly what undoing PATH's recursion accepts.

    A proof made for (m, n) is tried as (m', n') for neighbouring indices and sizes. Some
    such pairs are genuinely valid (a 3-leaf proof for leaf 0 is also a 4-leaf proof for a
    tree with that root), so the reference decides, not a blanket expectation.
    """
    entries = data(n)
    hashes = [leaf_hash(d) for d in entries]
    root = mth(entries)
    for m in range(n):
        audit = path(m, entries)
        for m2 in (m - 1, m, m + 1):
            for n2 in (n - 1, n, n + 1, 2 * n):
                valid = 0 <= m2 < n2 and root_from_path(m2, n2, hashes[m], audit) == root
                if valid:
                    verify_inclusion(hashes[m], m2, n2, audit, root)
                else:
                    with pytest.raises(ProofError):
                        verify_inclusion(hashes[m], m2, n2, audit, root)


def flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


@pytest.mark.parametrize("n", [2, 3, 5, 7, 8, 13, 64, 70])
def test_tampered_proofs_are_refused(n: int) -> None:
    entries = data(n)
    hashes = [leaf_hash(d) for d in entries]
    root, proofs = root_and_proofs(hashes)
    for m in range(n):
        proof = proofs[m]
        for i in range(len(proof)):
            tampered = proof[:i] + [flip(proof[i], i % 8)] + proof[i + 1 :]
            with pytest.raises(ProofError, match="does not verify"):
                verify_inclusion(hashes[m], m, n, tampered, root)
        with pytest.raises(ProofError, match="does not verify"):
            verify_inclusion(flip(hashes[m]), m, n, proof, root)
        with pytest.raises(ProofError, match="does not verify"):
            verify_inclusion(hashes[m], m, n, proof, flip(root, 7))
        with pytest.raises(ProofError, match=f"must have {len(proof)} hashes, got"):
            verify_inclusion(hashes[m], m, n, proof[:-1], root)
        with pytest.raises(ProofError, match=f"must have {len(proof)} hashes, got"):
            verify_inclusion(hashes[m], m, n, [*proof, root], root)
        # The proof of another leaf never proves this one.
        other = (m + 1) % n
        with pytest.raises(ProofError):
            verify_inclusion(hashes[m], m, n, proofs[other], root)


@pytest.mark.parametrize(
    ("index", "tree_size", "message"),
    [
        (0, 0, "a tree of size 0 contains no leaf"),
        (-1, 4, "leaf index -1 is out of range for a tree of 4 leaves"),
        (4, 4, "leaf index 4 is out of range for a tree of 4 leaves"),
    ],
)
def test_impossible_positions_are_refused(index: int, tree_size: int, message: str) -> None:
    with pytest.raises(ProofError, match=message):
        verify_inclusion(leaf_hash(b""), index, tree_size, [], EMPTY_ROOT)


def test_malformed_hashes_are_refused() -> None:
    leaf = leaf_hash(b"")
    with pytest.raises(ProofError, match="leaf hash must be 32 bytes, got 31"):
        verify_inclusion(leaf[:31], 0, 1, [], leaf)
    with pytest.raises(ProofError, match="root must be 32 bytes, got 0"):
        verify_inclusion(leaf, 0, 1, [], b"")
    with pytest.raises(ProofError, match="path element 1 must be 32 bytes, got 64"):
        verify_inclusion(leaf, 0, 4, [leaf, leaf * 2], leaf)


def test_single_leaf_tree() -> None:
    leaf = leaf_hash(b"only")
    verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(ProofError, match="does not verify"):
        verify_inclusion(leaf, 0, 1, [], EMPTY_ROOT)


# --- Certificate Transparency reference vectors -----------------------------------------


def load_vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VECTORS.read_text())
    return loaded


def test_in_repo_vectors_are_a_faithful_copy() -> None:
    if not SHARED_VECTORS.exists():
        pytest.skip(f"{SHARED_VECTORS} is not on this machine")
    assert json.loads(SHARED_VECTORS.read_text()) == load_vectors()


def test_reference_roots() -> None:
    vectors = load_vectors()
    leaves = [bytes.fromhex(h) for h in vectors["leaves_hex"]]
    assert root_from_leaf_hashes([]).hex() == vectors["empty_tree_root"]
    assert len(vectors["roots"]) == len(leaves)
    for size, root in vectors["roots"].items():
        hashes = [leaf_hash(d) for d in leaves[: int(size)]]
        assert root_from_leaf_hashes(hashes).hex() == root
        assert mth(leaves[: int(size)]).hex() == root  # the test's reference agrees too


def test_reference_inclusion_proofs() -> None:
    vectors = load_vectors()
    leaves = [bytes.fromhex(h) for h in vectors["leaves_hex"]]
    assert len(vectors["inclusion_proofs"]) == 36  # every leaf of every tree of 1..8
    for case in vectors["inclusion_proofs"]:
        n, m = case["tree_size"], case["leaf_index"]
        hashes = [leaf_hash(d) for d in leaves[:n]]
        expected = [bytes.fromhex(h) for h in case["path"]]
        root = bytes.fromhex(vectors["roots"][str(n)])
        assert inclusion_proof(hashes, m) == expected
        assert root_and_proofs(hashes)[1][m] == expected
        verify_inclusion(hashes[m], m, n, expected, root)

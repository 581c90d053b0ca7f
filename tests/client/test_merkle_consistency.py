"""RFC 6962 consistency proofs, checked against the RFC's own SUBPROOF definition and the
Certificate Transparency reference proofs over the eight reference leaves.

`subproof` below is RFC 6962 section 2.1.2 written literally with hashlib only, so it shares
no code with `client.merkle`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from client.errors import ProofError
from client.merkle import consistency_proof, leaf_hash, root_from_leaf_hashes, verify_consistency

VECTORS = Path(__file__).parents[1] / "vectors" / "rfc6962.json"


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(entries: list[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def subproof(m: int, entries: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 section 2.1.2, over leaf data."""
    n = len(entries)
    if m == n:
        return [] if b else [mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, entries[:k], b) + [mth(entries[k:])]
    return subproof(m - k, entries[k:], False) + [mth(entries[:k])]


def rfc_proof(m: int, entries: list[bytes]) -> list[bytes]:
    return [] if m in (0, len(entries)) else subproof(m, entries, True)


def data(n: int) -> list[bytes]:
    return [i.to_bytes(3, "big") * (i % 4) for i in range(n)]


# Consistency proofs over the CT reference leaves (certificate-transparency-go, merkle tests).
CT_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]  # fmt: skip  (one reference proof a row reads better than the formatter's layout)


@pytest.mark.parametrize(("old", "new", "expected"), CT_PROOFS)
def test_reference_consistency_proofs(old: int, new: int, expected: list[str]) -> None:
    vectors = json.loads(VECTORS.read_text())
    leaves = [leaf_hash(bytes.fromhex(x)) for x in vectors["leaves_hex"]][:new]
    proof = consistency_proof(leaves, old)
    assert [p.hex() for p in proof] == expected
    old_root = bytes.fromhex(vectors["roots"][str(old)])
    new_root = bytes.fromhex(vectors["roots"][str(new)])
    verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize("n", range(1, 34))
def test_every_proof_matches_the_rfc_and_verifies(n: int) -> None:
    entries = data(n)
    hashes = [leaf_hash(d) for d in entries]
    new_root = root_from_leaf_hashes(hashes)
    for m in range(n + 1):
        proof = consistency_proof(hashes, m)
        assert proof == rfc_proof(m, entries)
        verify_consistency(m, n, root_from_leaf_hashes(hashes[:m]), new_root, proof)


@pytest.mark.parametrize("n", [3, 7, 8, 13, 32])
def test_tampered_proofs_are_refused(n: int) -> None:
    hashes = [leaf_hash(d) for d in data(n)]
    new_root = root_from_leaf_hashes(hashes)
    for m in range(1, n):
        old_root = root_from_leaf_hashes(hashes[:m])
        proof = consistency_proof(hashes, m)
        for position in range(len(proof)):
            bad = list(proof)
            bad[position] = bytes([bad[position][0] ^ 1]) + bad[position][1:]
            with pytest.raises(ProofError):
                verify_consistency(m, n, old_root, new_root, bad)
        with pytest.raises(ProofError):
            verify_consistency(m, n, old_root, new_root, proof[:-1])
        with pytest.raises(ProofError):
            verify_consistency(m, n, old_root, new_root, [*proof, new_root])
        # A forked log: the same old size, a different leaf inside it.
        forked = list(hashes)
        forked[m - 1] = leaf_hash(b"forked")
        with pytest.raises(ProofError, match=f"consistency proof from size {m} to size {n}"):
            verify_consistency(m, n, old_root, root_from_leaf_hashes(forked), consistency_proof(forked, m))


def test_equal_and_shrinking_sizes() -> None:
    hashes = [leaf_hash(d) for d in data(5)]
    root = root_from_leaf_hashes(hashes)
    verify_consistency(5, 5, root, root, [])
    with pytest.raises(ProofError, match="same size 5 have different roots"):
        verify_consistency(5, 5, root, root_from_leaf_hashes(hashes[:4]), [])
    with pytest.raises(ProofError, match="cannot be extended to a smaller size 4"):
        verify_consistency(5, 4, root, root, [])
    with pytest.raises(ValueError, match="old tree size 6 is out of range"):
        consistency_proof(hashes, 6)

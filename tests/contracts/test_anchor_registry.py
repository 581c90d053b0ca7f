"""AnchorRegistry contract: batch anchors and on-chain RFC 6962 inclusion proofs — on anvil."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from client.chain.transact import TxResult
from client.merkle import leaf_hash, root_and_proofs
from tests.client.test_merkle import mth, path
from tests.conftest import expect_revert
from tests.contracts.factories import Scene, h, hx, key, make_scene

VECTORS = Path(__file__).parents[1] / "vectors" / "rfc6962.json"
ANCHOR_FIELDS = ("anchoredAt", "blockNumber", "leafCount")
NOTE = h("note: nightly batch")
SIZES = [1, 2, 3, 5, 7, 8, 13, 100]


@pytest.fixture(scope="module")
def scene(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Scene:
    # Once per module; the per-test snapshot restores it (see test_data_registry).
    return make_scene(w3, tmp_path_factory.mktemp("deployments"))


@pytest.fixture
def s(scene: Scene, w3: Web3) -> Scene:
    return scene


def anchor(s: Scene, root: bytes, leaf_count: int, note: bytes = NOTE, signer: Any = None) -> TxResult:
    return s.registry.transact(signer or key(s.alpha), "AnchorRegistry", "anchor", root, leaf_count, note)


def anchor_of(s: Scene, root: bytes, org_no: int = 1) -> dict[str, int]:
    """Organisation `org_no`'s anchor of `root` (alpha's by default)."""
    return dict(zip(ANCHOR_FIELDS, s.registry.call("AnchorRegistry", "anchorOf", root, org_no), strict=True))


def verify(s: Scene, root: bytes, leaf: bytes, index: int, proof: list[bytes], org_no: int = 1) -> tuple[int, int]:
    """verifyInclusion against `org_no`'s anchor (alpha's by default): (org, anchor time)."""
    anchored_at, _ = s.registry.call("AnchorRegistry", "verifyInclusion", root, org_no, leaf, index, proof)
    return org_no, int(anchored_at)


def anchored_tree(s: Scene, size: int) -> tuple[bytes, list[bytes], list[list[bytes]], int]:
    """Anchor a tree over `size` distinct 32-byte hashes; returns root, hashes, proofs, anchor time."""
    leaves = [h(f"tree {size} leaf {i}") for i in range(size)]
    root, proofs = root_and_proofs([leaf_hash(leaf) for leaf in leaves])
    return root, leaves, proofs, s.block_time(anchor(s, root, size))


# ----- anchor -----


def test_anchor(s: Scene) -> None:
    root = h("batch root")
    tx = anchor(s, root, 5)
    at = s.block_time(tx)
    assert [e.name for e in tx.events] == ["Anchored"]
    assert tx.event("Anchored").args == {"root": hx(root), "orgNo": 1, "leafCount": 5, "noteHash": hx(NOTE)}
    assert anchor_of(s, root) == {"anchoredAt": at, "blockNumber": tx.block_number, "leafCount": 5}
    assert anchor_of(s, root, 2) == dict.fromkeys(ANCHOR_FIELDS, 0)  # beta did not anchor it
    other = anchor(s, h("beta's root"), 2**64 - 1, bytes(32), signer=key(s.beta))
    assert other.event("Anchored").args == {
        "root": hx(h("beta's root")),
        "orgNo": 2,
        "leafCount": 2**64 - 1,
        "noteHash": hx(bytes(32)),
    }


def test_unknown_anchor_reads_as_empty(s: Scene) -> None:
    assert anchor_of(s, h("never anchored")) == {"anchoredAt": 0, "blockNumber": 0, "leafCount": 0}


def test_duplicate_root_is_refused_for_the_same_organisation(s: Scene) -> None:
    root = h("anchored twice")
    at = s.block_time(anchor(s, root, 3))
    expect_revert(
        lambda: anchor(s, root, 4, signer=key(s.alpha)),
        "AnchorRegistryAlreadyAnchored",
        root=hx(root),
        orgNo=1,
        anchoredAt=at,
    )
    assert anchor_of(s, root)["leafCount"] == 3


def test_another_organisation_anchoring_the_same_root_gets_its_own_anchor(s: Scene) -> None:
    root, leaves, proofs, at = anchored_tree(s, 3)
    expect_revert(
        lambda: verify(s, root, leaves[1], 1, proofs[1], 2), "AnchorRegistryUnknownAnchor", root=hx(root), orgNo=2
    )
    later = anchor(s, root, 3, signer=key(s.beta))
    assert anchor_of(s, root, 2)["blockNumber"] == later.block_number
    assert verify(s, root, leaves[1], 1, proofs[1], 2) == (2, s.block_time(later))
    assert verify(s, root, leaves[1], 1, proofs[1]) == (1, at)  # alpha's anchor is untouched


def test_empty_batch_is_refused(s: Scene) -> None:
    root = h("no leaves")
    expect_revert(lambda: anchor(s, root, 0), "AnchorRegistryInvalidLeafCount", root=hx(root), leafCount=0)
    assert anchor_of(s, root)["leafCount"] == 0


# ----- verifyInclusion -----


@pytest.mark.parametrize("size", SIZES)
def test_every_leaf_verifies(s: Scene, size: int) -> None:
    root, leaves, proofs, at = anchored_tree(s, size)
    for index, leaf in enumerate(leaves):
        assert verify(s, root, leaf, index, proofs[index]) == (1, at), f"leaf {index} of {size}"


def flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x01]) + value[1:]


#: Ways to spoil a valid (leaf, index, path); None where the tree is too small for it.
MUTATIONS: dict[str, Callable[[bytes, int, list[bytes], int], list[tuple[bytes, int, list[bytes]]] | None]] = {
    "tampered leaf": lambda leaf, i, p, n: [(flip(leaf), i, p)],
    "wrong index": lambda leaf, i, p, n: [(leaf, (i + 1) % n, p), (leaf, (i + n - 1) % n, p)] if n > 1 else None,
    "path element flipped": lambda leaf, i, p, n: (
        [(leaf, i, p[:k] + [flip(p[k])] + p[k + 1 :]) for k in range(len(p))] or None
    ),
    "path truncated": lambda leaf, i, p, n: [(leaf, i, p[:-1])] if p else None,
    "path extended": lambda leaf, i, p, n: [(leaf, i, [*p, bytes(32)]), (leaf, i, [*p, leaf_hash(leaf)])],
    "path reversed": lambda leaf, i, p, n: [(leaf, i, p[::-1])] if len(p) > 1 else None,
}


def spoiled_proofs(
    mutation: str, leaves: list[bytes], proofs: list[list[bytes]]
) -> list[tuple[bytes, int, list[bytes]]]:
    return [
        case for i, leaf in enumerate(leaves) for case in MUTATIONS[mutation](leaf, i, proofs[i], len(leaves)) or []
    ]


def _applies(mutation: str, size: int) -> bool:
    leaves = [h(str(i)) for i in range(size)]
    return bool(spoiled_proofs(mutation, leaves, root_and_proofs([leaf_hash(x) for x in leaves])[1]))


SPOILED = [(size, m) for size in [1, 2, 3, 7, 13, 100] for m in sorted(MUTATIONS) if _applies(m, size)]


@pytest.mark.parametrize(("size", "mutation"), SPOILED)
def test_spoiled_proofs_are_refused(s: Scene, size: int, mutation: str) -> None:
    """Every leaf's proof, spoiled in every applicable way, is refused with the values as given."""
    root, leaves, proofs, _ = anchored_tree(s, size)
    for leaf, index, proof in spoiled_proofs(mutation, leaves, proofs):
        expect_revert(
            partial(verify, s, root, leaf, index, proof),
            "AnchorRegistryInvalidProof",
            root=hx(root),
            leaf=hx(leaf),
            leafIndex=index,
        )


def test_proof_for_another_anchor_is_refused(s: Scene) -> None:
    _, leaves, proofs, _ = anchored_tree(s, 5)
    second, *_ = anchored_tree(s, 6)
    expect_revert(
        lambda: verify(s, second, leaves[0], 0, proofs[0]),
        "AnchorRegistryInvalidProof",
        root=hx(second),
        leaf=hx(leaves[0]),
        leafIndex=0,
    )


@pytest.mark.parametrize("index", [7, 8, 2**64, 2**256 - 1])
def test_index_out_of_range(s: Scene, index: int) -> None:
    root, leaves, proofs, _ = anchored_tree(s, 7)
    expect_revert(
        lambda: verify(s, root, leaves[0], index, proofs[0]),
        "AnchorRegistryIndexOutOfRange",
        root=hx(root),
        leafIndex=index,
        leafCount=7,
    )


def test_unknown_anchor(s: Scene) -> None:
    missing = h("not anchored")
    expect_revert(
        lambda: verify(s, missing, h("leaf"), 0, []), "AnchorRegistryUnknownAnchor", root=hx(missing), orgNo=1
    )


def test_understated_leaf_count_breaks_the_proofs_it_covers(s: Scene) -> None:
    """An anchor's leafCount is part of what proofs are checked against."""
    leaves = [h(f"count {i}") for i in range(5)]
    root, proofs = root_and_proofs([leaf_hash(leaf) for leaf in leaves])
    anchor(s, root, 4)
    expect_revert(
        lambda: verify(s, root, leaves[0], 0, proofs[0]),
        "AnchorRegistryInvalidProof",
        root=hx(root),
        leaf=hx(leaves[0]),
        leafIndex=0,
    )


# ----- RFC 6962 reference vectors -----
#
# The Certificate Transparency leaves are byte strings of 0 to 16 bytes, while verifyInclusion
# takes a 32-byte anchored hash and computes its leaf hash itself, so the vectors' proofs cannot
# be fed to the contract as they are. Instead: the RFC 6962 reference MTH/PATH functions of
# tests/client/test_merkle.py (hashlib only, no client code) are checked against the vectors,
# and the chain must accept those same functions' proofs, for every (tree size, index) shape
# the vectors cover, over 32-byte leaves.


def load_vectors() -> dict[str, Any]:
    return dict(json.loads(VECTORS.read_text()))


def test_reference_functions_reproduce_the_vectors() -> None:
    vectors = load_vectors()
    leaves = [bytes.fromhex(x) for x in vectors["leaves_hex"]]
    for n, root in vectors["roots"].items():
        assert mth(leaves[: int(n)]).hex() == root
    for case in vectors["inclusion_proofs"]:
        assert [p.hex() for p in path(case["leaf_index"], leaves[: case["tree_size"]])] == case["path"]


def test_vector_shapes_verify_on_chain(s: Scene) -> None:
    vectors = load_vectors()
    leaves = [h(f"vector leaf {i}") for i in range(len(vectors["leaves_hex"]))]
    anchored: dict[int, tuple[bytes, int]] = {}
    for n in sorted(int(k) for k in vectors["roots"]):
        root = mth(leaves[:n])
        anchored[n] = (root, s.block_time(anchor(s, root, n)))
    for case in vectors["inclusion_proofs"]:
        n, i = case["tree_size"], case["leaf_index"]
        root, at = anchored[n]
        proof = path(i, leaves[:n])
        assert len(proof) == len(case["path"])
        assert verify(s, root, leaves[i], i, proof) == (1, at), f"leaf {i} of {n}"


def test_vector_roots_anchor(s: Scene) -> None:
    """The CT roots themselves anchor like any other root (their leaves are not 32-byte hashes,
    so they cannot be proven through verifyInclusion; see above)."""
    vectors = load_vectors()
    for n, root in vectors["roots"].items():
        tx = anchor(s, bytes.fromhex(root), int(n))
        assert anchor_of(s, bytes.fromhex(root)) == {
            "anchoredAt": s.block_time(tx),
            "blockNumber": tx.block_number,
            "leafCount": int(n),
        }


# ----- gas: a correctness bound (the figures are scripts/bench gas's) -----


def test_anchor_gas_does_not_grow_with_leaf_count(s: Scene) -> None:
    small = anchor(s, h("gas small"), 1)
    large = anchor(s, h("gas large"), 10_000)
    assert abs(large.gas_used - small.gas_used) < 200

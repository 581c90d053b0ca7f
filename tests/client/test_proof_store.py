"""The member's proof folders and anchor index (client.proof_store), without a chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.anchors import AnchorBatch
from client.chain.transact import TxResult
from client.errors import OverwriteRefusedError
from client.merkle import leaf_hash, root_and_proofs
from client.proof_store import AnchorIndex, matching, planned_files, proof_names, save_proofs
from client.proofs import ProofFile


def test_proof_names_are_unique_within_a_batch() -> None:
    assert proof_names(["a/x.csv", "b/x.csv", "x.csv", "we ird/ä b.json", ""]) == [
        "x.csv.proof.json",
        "x.csv-2.proof.json",
        "x.csv-3.proof.json",
        "__b.json.proof.json",
        "root.proof.json",
    ]


def h(value: bytes) -> str:
    return "0x" + value.hex()


def _batch(items: list[bytes], labels: list[str]) -> AnchorBatch:
    """What Anchors.anchor returns, built by hand (the chain fields are placeholders)."""
    root, paths = root_and_proofs([leaf_hash(i) for i in items])
    proofs = [
        ProofFile(
            leaf=h(i),
            leaf_index=n,
            tree_size=len(items),
            path=[h(p) for p in path],
            root=h(root),
            chain_id=7351,
            contract="0x" + "00" * 20,
            transaction="0x" + "ab" * 32,
            block_number=5,
            block_hash="0x" + "cd" * 32,
            anchored_at=1_800_000_000,
            anchored_by="0x" + "ef" * 32,
            item=labels[n],
        )
        for n, (i, path) in enumerate(zip(items, paths, strict=True))
    ]
    tx = TxResult("0x" + "ab" * 32, 5, "0x" + "cd" * 32, 49_000, None, [])
    return AnchorBatch(root, tx, proofs)


def test_index_records_every_leaf_and_finds_it_again(tmp_path: Path) -> None:
    items, labels = [bytes([n]) * 32 for n in range(3)], ["a.csv", "b.csv", "a/a.csv"]
    out, index = tmp_path / "proofs", AnchorIndex(tmp_path / "home" / "anchors.jsonl")
    index.path.parent.mkdir()
    files = planned_files(out, items, labels)
    batch = _batch(items, labels)
    assert {f.parent for f in files} == {out / batch.root.hex()}
    save_proofs(batch, files, index)
    for proof, path in zip(batch.proofs, files, strict=True):
        assert ProofFile.read(path) == proof
        proof.verify_offline()
    with pytest.raises(OverwriteRefusedError, match="a.csv.proof.json already exists"):
        planned_files(out, items, labels)

    with index.path.open("a") as handle:
        handle.write('{"format": "idsreg-anchor-ind')  # a crash in the middle of a line
    anchors, unreadable = index.read()
    assert [u.line for u in unreadable] == [2]
    [anchor] = anchors
    assert [p.leaf for p in anchor.proofs] == [p.leaf for p in batch.proofs]
    assert [p.file for p in anchor.proofs] == [str(f) for f in files] and all(p.exists for p in anchor.proofs)
    # the leaves alone rebuild every proof
    root, paths = root_and_proofs([leaf_hash(bytes.fromhex(p.leaf[2:])) for p in anchor.proofs])
    assert "0x" + root.hex() == anchor.root and ["0x" + x.hex() for x in paths[1]] == batch.proofs[1].path
    assert [p.leaf_index for p in matching(anchors, batch.proofs[2].leaf)[0].proofs] == [2]
    assert len(matching(anchors, anchor.root.upper().replace("0X", "0x"))[0].proofs) == 3
    assert matching(anchors, "0x" + "99" * 32) == []
    files[0].unlink()
    assert [p.exists for p in index.read()[0][0].proofs] == [False, True, True]
    line = json.loads(index.path.read_text().splitlines()[0])
    assert line["format"] == "idsreg-anchor-index/1" and line["transaction"] == "0x" + "ab" * 32

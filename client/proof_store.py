"""Where a member keeps the proofs of its anchors, so that none is ever lost.

Only an anchor's root goes on chain: a proof file, once lost or overwritten, cannot be had
again from the chain. So each anchor's proofs go to a folder of their own, named by the
anchored root (`<out>/<root without 0x>/<item>.proof.json`), no file is ever replaced
(`client.files.create_new`), and every anchor is recorded in the member's append-only index
`$IDSREG_HOME/anchors.jsonl` — one JSON line per anchor with its transaction, block and every
anchored leaf in tree order with its proof file — before any proof file is written. The
layout and the index format are in docs/proofs.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .anchors import AnchorBatch
from .errors import ConfigError, OverwriteRefusedError
from .files import append_line, create_new
from .merkle import leaf_hash, root_from_leaf_hashes
from .proofs import _hex

INDEX_FORMAT = "idsreg-anchor-index/1"


def proof_names(labels: Sequence[str]) -> list[str]:
    """One file name per anchored item, from the item's name, unique within the batch."""
    names: list[str] = []
    used: set[str] = set()
    for item in labels:
        base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(item).name or "root")
        name, n = f"{base}.proof.json", 2
        while name in used:
            name, n = f"{base}-{n}.proof.json", n + 1
        used.add(name)
        names.append(name)
    return names


def planned_files(out: Path, items: Sequence[bytes], labels: Sequence[str]) -> list[Path]:
    """The proof files an anchor of `items` will write under `out`; OverwriteRefusedError if one exists.

    Called before the anchor is sent, so that a taken name costs nothing on chain.
    """
    root = root_from_leaf_hashes([leaf_hash(i) for i in items])
    folder = out / root.hex()
    files = [folder / name for name in proof_names(labels)]
    for path in files:
        if path.exists() or path.is_symlink():
            raise OverwriteRefusedError("proof file", path)
    return files


@dataclass(frozen=True)
class IndexedProof:
    item: str
    leaf: str
    leaf_index: int
    file: str
    exists: bool


@dataclass(frozen=True)
class IndexedAnchor:
    """One anchor of the member's, as its index records it."""

    root: str
    chain_id: int
    contract: str
    transaction: str
    block_number: int
    block_hash: str
    anchored_at: int
    anchored_by: str
    tree_size: int
    proofs: list[IndexedProof]


@dataclass(frozen=True)
class UnreadableLine:
    line: int
    reason: str


class AnchorIndex:
    """The member's append-only index of its anchors (JSON lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, batch: AnchorBatch, files: Sequence[Path]) -> None:
        """Append `batch` with the proof file of each leaf (absolute paths)."""
        first = batch.proofs[0]
        line = {
            "format": INDEX_FORMAT,
            "root": _hex(batch.root),
            "chainId": first.chain_id,
            "contract": first.contract,
            "transaction": first.transaction,
            "blockNumber": first.block_number,
            "blockHash": first.block_hash,
            "anchoredAt": first.anchored_at,
            "anchoredBy": first.anchored_by,
            "treeSize": first.tree_size,
            "proofs": [
                {"item": p.item, "leaf": p.leaf, "file": str(f.absolute())}
                for p, f in zip(batch.proofs, files, strict=True)
            ],
        }
        append_line(self.path, json.dumps(line, separators=(",", ":")), what="anchor index")

    def read(self) -> tuple[list[IndexedAnchor], list[UnreadableLine]]:
        """Every anchor recorded, oldest first, and the lines that cannot be read (with why)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return [], []
        except OSError as exc:
            raise ConfigError(f"cannot read anchor index {self.path}: {exc.strerror}") from None
        anchors, unreadable = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                anchors.append(_parse(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                unreadable.append(UnreadableLine(number, str(exc) or type(exc).__name__))
        return anchors, unreadable


def matching(anchors: Sequence[IndexedAnchor], root: str) -> list[IndexedAnchor]:
    """The anchors whose root is `root` (with all their proofs) or that hold `root` as a leaf
    (with the proofs of that leaf only)."""
    wanted = root.lower()
    found = []
    for anchor in anchors:
        if anchor.root.lower() == wanted:
            found.append(anchor)
            continue
        proofs = [p for p in anchor.proofs if p.leaf.lower() == wanted]
        if proofs:
            found.append(replace(anchor, proofs=proofs))
    return found


def _parse(raw: Any) -> IndexedAnchor:
    if not isinstance(raw, dict) or raw.get("format") != INDEX_FORMAT:
        raise ValueError(f"not an {INDEX_FORMAT} record")
    return IndexedAnchor(
        root=str(raw["root"]),
        chain_id=int(raw["chainId"]),
        contract=str(raw["contract"]),
        transaction=str(raw["transaction"]),
        block_number=int(raw["blockNumber"]),
        block_hash=str(raw["blockHash"]),
        anchored_at=int(raw["anchoredAt"]),
        anchored_by=str(raw["anchoredBy"]),
        tree_size=int(raw["treeSize"]),
        proofs=[
            IndexedProof(str(p["item"]), str(p["leaf"]), index, str(p["file"]), Path(p["file"]).is_file())
            for index, p in enumerate(raw["proofs"])
        ],
    )


def save_proofs(batch: AnchorBatch, files: Sequence[Path], index: AnchorIndex) -> list[Path]:
    """Record `batch` in the index, then write each proof file (never replacing one)."""
    if {path.parent.name for path in files} != {batch.root.hex()}:
        raise ConfigError(f"the proof files were planned for another root than the anchored {_hex(batch.root)}")
    index.record(batch, files)
    for proof, path in zip(batch.proofs, files, strict=True):
        create_new(path, proof.to_json(), what="proof file")
    return list(files)


__all__ = [
    "INDEX_FORMAT",
    "AnchorIndex",
    "IndexedAnchor",
    "IndexedProof",
    "UnreadableLine",
    "matching",
    "planned_files",
    "proof_names",
    "save_proofs",
]

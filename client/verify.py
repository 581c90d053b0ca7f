"""Verifying content against the chain: who registered or anchored it, when, and who holds it now.

Verification never trusts an index: it reads contract state, blocks and receipts from a node.
"""

from __future__ import annotations

from dataclasses import dataclass

from .anchors import AnchorEvidence, Anchors
from .datasets import DatasetInfo, Datasets, hex32
from .errors import NotRegisteredError, ProofError
from .merkle import leaf_hash
from .proofs import ProofFile


@dataclass(frozen=True)
class Verdict:
    """A positive verification: what the content is and the on-chain evidence for it."""

    path: str
    content_root: str
    registration: DatasetInfo | None
    anchor: AnchorEvidence | None
    proof: ProofFile | None


def verify_root(datasets: Datasets, anchors: Anchors, root: bytes, path: str = "") -> Verdict:
    """The registration and/or single-item anchor of `root`; NotRegisteredError if neither exists."""
    registration = datasets.show(root) if datasets.is_registered(root) else None
    anchor = _direct_anchor(anchors, root)
    if registration is None and anchor is None:
        raise NotRegisteredError(hex32(root), path)
    return Verdict(path, hex32(root), registration, anchor, None)


def verify_with_proof(datasets: Datasets, anchors: Anchors, root: bytes, proof: ProofFile, path: str = "") -> Verdict:
    """Check that `proof` is about this content and holds on the chain."""
    if proof.leaf.lower() != hex32(root):
        raise ProofError(
            f"the proof is for content root {proof.leaf}, but {path or 'the content'} has root {hex32(root)}"
        )
    evidence = anchors.verify_on_chain(proof)
    registration = datasets.show(root) if datasets.is_registered(root) else None
    return Verdict(path, hex32(root), registration, evidence, proof)


def _direct_anchor(anchors: Anchors, root: bytes) -> AnchorEvidence | None:
    """The evidence of `root` anchored as a one-item tree (leaf = root), if it was."""
    registry = anchors.registry
    tree_root = leaf_hash(root)
    # Anchors are per (root, organisation): the first organisation that anchored it counts here.
    anchored = registry.events("AnchorRegistry", "Anchored", hex32(tree_root))
    if not anchored:
        return None
    org_no = int(anchored[0][0]["orgNo"])
    anchored_at, block_number, leaf_count = registry.call("AnchorRegistry", "anchorOf", tree_root, org_no)
    if leaf_count != 1:
        return None
    block = registry.w3.eth.get_block(block_number)
    return AnchorEvidence(
        registry.org_ref(int(org_no)), int(anchored_at), int(block_number), block["hash"].to_0x_hex(), ""
    )

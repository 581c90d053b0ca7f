"""`idsreg verify PATH --proof FILE --offline`: check an inclusion proof with no chain node at all.

Offline verification recomputes the anchored tree's root from the content and the proof file.
It proves that the content is an item of the tree the file describes; it cannot prove that
this tree's root was ever anchored: that is a fact of the chain, checked by `verify --proof`
without `--offline`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..datasets import hex32
from ..errors import ConfigError, ProofError
from ..proofs import ProofFile
from .common import console, emit

#: What an offline check establishes, and what it leaves to a check against the chain.
PROVES = (
    "the content's root is the proof's leaf",
    "the leaf and the audit path lead to the proof's tree root (RFC 6962)",
)
DOES_NOT_PROVE = (
    "that the tree root was anchored on the chain, by whom or when: the file's chain fields are claims, not checked",
    "run `idsreg verify PATH --proof FILE` against a node to check them",
)


def verify_offline(path: Path, proof: Path | None, as_json: bool) -> None:
    """Verify `path` against the proof file `proof` without contacting a node; ProofError (exit 4) if it fails."""
    from .datasets import hash_path  # datasets registers this command's option: import late

    if proof is None:
        raise ConfigError(
            "--offline needs --proof FILE: without a proof file only the chain can say what is registered"
        )
    proof_file = ProofFile.read(proof)
    root = hash_path(path, not as_json)
    if proof_file.leaf.lower() != hex32(root):
        raise ProofError(f"the proof is for content root {proof_file.leaf}, but {path} has root {hex32(root)}")
    proof_file.verify_offline()
    claimed = {
        "chainId": proof_file.chain_id,
        "contract": proof_file.contract,
        "transaction": proof_file.transaction,
        "blockNumber": proof_file.block_number,
        "blockHash": proof_file.block_hash,
        "anchoredAt": proof_file.anchored_at,
        # Offline there is no chain to name the organisation: its org id only (docs/json.md).
        "anchoredBy": {"orgNo": None, "orgId": proof_file.anchored_by, "name": None},
    }
    data: dict[str, Any] = {
        "verified": True,
        "offline": True,
        "path": str(path),
        "contentRoot": hex32(root),
        "proof": str(proof),
        "leafIndex": proof_file.leaf_index,
        "treeSize": proof_file.tree_size,
        "treeRoot": proof_file.root,
        "checkedAgainstChain": False,
        "proves": list(PROVES),
        "doesNotProve": list(DOES_NOT_PROVE),
        "claimedAnchor": claimed,
    }

    def human() -> None:
        console.print(
            f"[green]✓ verified offline[/] {path}  (content root {hex32(root)}): "
            f"item {proof_file.leaf_index + 1} of {proof_file.tree_size} in the tree with root {proof_file.root}",
            soft_wrap=True,
        )
        console.print(
            "  not checked: that this tree root was anchored on the chain (no node was contacted). "
            "The proof file claims:",
            soft_wrap=True,
        )
        console.print(
            f"  anchored by org {proof_file.anchored_by} at {claimed['anchoredAt']}, chain {proof_file.chain_id}, "
            f"contract {proof_file.contract}, block {proof_file.block_number}, transaction {proof_file.transaction}",
            soft_wrap=True,
        )
        console.print(f"  check these against a node: idsreg verify {path} --proof {proof}", soft_wrap=True)

    emit(as_json, data, human)

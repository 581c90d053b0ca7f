"""Batch anchoring on the AnchorRegistry: one RFC 6962 root over many hashes, one transaction,
one proof file per hash; and checking a proof file against the chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from .chain.registry import OrgRef, Registry
from .chain.transact import TxResult
from .errors import ConfigError, ContractRevertError, ProofError
from .merkle import leaf_hash, root_and_proofs
from .proofs import ProofFile, _hex
from .times import iso


@dataclass(frozen=True)
class AnchorBatch:
    root: bytes
    tx: TxResult
    proofs: list[ProofFile]


@dataclass(frozen=True)
class AnchorEvidence:
    """What the chain says about an anchored root."""

    org: OrgRef
    anchored_at: int
    block_number: int
    block_hash: str
    transaction: str


class Anchors:
    """The AnchorRegistry contract of a deployed registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def anchor(
        self,
        signer: LocalAccount,
        items: Sequence[bytes],
        labels: Sequence[str] | None = None,
        note_hash: bytes = bytes(32),
    ) -> AnchorBatch:
        """Anchor the root over `items` (32-byte hashes) and make each item's proof file."""
        if not items:
            raise ConfigError("nothing to anchor")
        if any(len(i) != 32 for i in items):
            raise ConfigError("every anchored item is a 32-byte hash")
        root, paths = root_and_proofs([leaf_hash(i) for i in items])
        tx = self.registry.transact(signer, "AnchorRegistry", "anchor", root, len(items), note_hash)
        block = self.registry.w3.eth.get_block(tx.block_number)
        org_no = int(tx.event("Anchored").args["orgNo"])
        org = _hex(bytes(self.registry.call("Consortium", "orgIdOf", org_no)))
        names = list(labels) if labels is not None else [""] * len(items)
        proofs = [
            ProofFile(
                leaf=_hex(item),
                leaf_index=index,
                tree_size=len(items),
                path=[_hex(p) for p in path],
                root=_hex(root),
                chain_id=self.registry.chain_id,
                contract=self.registry.contract("AnchorRegistry").address,
                transaction=tx.tx_hash,
                block_number=tx.block_number,
                block_hash=tx.block_hash,
                anchored_at=int(block["timestamp"]),
                anchored_by=org,
                item=names[index],
            )
            for index, (item, path) in enumerate(zip(items, paths, strict=True))
        ]
        return AnchorBatch(root, tx, proofs)

    def verify_on_chain(self, proof: ProofFile) -> AnchorEvidence:
        """Check a proof file against the chain; ProofError naming the first thing that differs.

        Checks: same chain and contract; the anchor exists with the same organisation, time,
        block and leaf count; the block is still on the canonical chain; the transaction is in
        it and emitted this anchor; and the contract itself accepts the inclusion proof.
        """
        proof.verify_offline()
        registry = self.registry
        if proof.chain_id != registry.chain_id:
            raise ProofError(f"the proof is for chain {proof.chain_id}, but this node serves chain {registry.chain_id}")
        contract = registry.contract("AnchorRegistry").address
        if Web3.to_checksum_address(proof.contract) != contract:
            raise ProofError(f"the proof names anchor contract {proof.contract}, but this chain's is {contract}")
        root = bytes.fromhex(proof.root[2:])
        # Anchors are kept per (root, organisation): the proof names whose anchor it is.
        org_no = int(registry.call("Consortium", "orgNoOf", bytes.fromhex(proof.anchored_by[2:])))
        anchored_at, block_number, leaf_count = registry.call("AnchorRegistry", "anchorOf", root, org_no)
        if leaf_count == 0:
            raise ProofError(f"root {proof.root} is not anchored by {proof.anchored_by} on chain {registry.chain_id}")
        expected = {
            "time": (proof.anchored_at, anchored_at),
            "block number": (proof.block_number, block_number),
            "tree size": (proof.tree_size, leaf_count),
        }
        for what, (claimed, actual) in expected.items():
            if str(claimed).lower() != str(actual).lower():
                shown = (iso(claimed), iso(actual)) if what == "time" else (claimed, actual)
                raise ProofError(f"the proof's anchor {what} is {shown[0]} but the chain says {shown[1]}")
        block = registry.w3.eth.get_block(block_number)
        if block["hash"].to_0x_hex() != proof.block_hash.lower():
            raise ProofError(f"block {block_number} now has hash {block['hash'].to_0x_hex()}, not {proof.block_hash}")
        receipt = registry.w3.eth.get_transaction_receipt(proof.transaction)  # type: ignore[arg-type]
        if receipt["blockHash"].to_0x_hex() != proof.block_hash.lower() or receipt["status"] != 1:
            raise ProofError(f"transaction {proof.transaction} is not a successful transaction of block {block_number}")
        anchored = [
            log
            for log in receipt["logs"]
            if log["address"] == contract and len(log["topics"]) > 1 and log["topics"][1] == root
        ]
        if not anchored:
            raise ProofError(f"transaction {proof.transaction} did not anchor root {proof.root}")
        try:
            registry.call(
                "AnchorRegistry",
                "verifyInclusion",
                root,
                org_no,
                bytes.fromhex(proof.leaf[2:]),
                proof.leaf_index,
                [bytes.fromhex(p[2:]) for p in proof.path],
            )
        except ContractRevertError as exc:
            raise ProofError(f"the anchor contract refuses the proof: {exc}") from None
        return AnchorEvidence(
            org=registry.org_ref(int(org_no)),
            anchored_at=int(anchored_at),
            block_number=int(block_number),
            block_hash=proof.block_hash,
            transaction=proof.transaction,
        )

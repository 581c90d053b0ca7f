"""Disputes on the DisputeCourt: opening, proving prior anchoring, arbiters' votes, reads.

A member disputes one right on a dataset; the right is frozen until the arbiters decide or the
council's dispute period ends, whichever comes first. The
claimant strengthens its case by proving, with a proof file from `client.anchors`, that it
anchored the dataset's content root before the dataset was registered (docs/disputes.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from .chain.enums import DisputeStatus, Right, Role
from .chain.registry import OrgRef, Registry
from .chain.transact import TxResult
from .errors import ProofError
from .proofs import ProofFile, _hex


@dataclass(frozen=True)
class DisputeInfo:
    """A dispute as an arbiter reviews it: the record, its evidence and the votes so far."""

    dispute_id: int
    root: str
    right: Right
    status: DisputeStatus
    claimant: OrgRef
    respondent: OrgRef
    holder: OrgRef
    opened_at: int
    #: End of the dispute period: the freeze lapses then, and anyone may close the dispute.
    expires_at: int
    registered_at: int
    evidence_hash: str
    #: Earliest anchoring time the claimant proved on chain, and that anchor's root (None: no proof).
    prior_anchored_at: int | None
    prior_anchor_root: str | None
    uphold_votes: int
    dismiss_votes: int
    #: The arbiters' threshold now (it is read again at every vote).
    threshold: int
    transaction: str


class Disputes:
    """The DisputeCourt contract of a deployed registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def open(self, signer: LocalAccount, root: bytes, right: Right, evidence_hash: bytes) -> tuple[int, TxResult]:
        """Dispute `right` on dataset `root` for the signer's organisation; returns the new id."""
        tx = self.registry.transact(signer, "DisputeCourt", "open", root, int(right), evidence_hash)
        return int(tx.event("DisputeOpened").args["disputeId"]), tx

    def prove(self, signer: LocalAccount, dispute_id: int, proof: ProofFile) -> TxResult:
        """Prove prior anchoring with a proof file of the disputed dataset's content root.

        ProofError (nothing sent) when the file proves another hash, or belongs to another
        chain or anchor contract; the contract checks the rest (who anchored, and when).
        """
        proof.check_shape()
        root = _hex(bytes(self.registry.call("DisputeCourt", "dispute", dispute_id)[0]))
        if proof.leaf.lower() != root:
            raise ProofError(f"the proof is for {proof.leaf}, but dispute {dispute_id} is about dataset {root}")
        contract = self.registry.contract("AnchorRegistry").address
        if proof.chain_id != self.registry.chain_id or Web3.to_checksum_address(proof.contract) != contract:
            raise ProofError(
                f"the proof is for anchor contract {proof.contract} on chain {proof.chain_id}, "
                f"but this registry's is {contract} on chain {self.registry.chain_id}"
            )
        path = [bytes.fromhex(p[2:]) for p in proof.path]
        return self.registry.transact(
            signer, "DisputeCourt", "proveAnchor", dispute_id, bytes.fromhex(proof.root[2:]), proof.leaf_index, path
        )

    def vote(self, signer: LocalAccount, dispute_id: int, uphold: bool) -> TxResult:
        """Cast an arbiter's vote; the transaction also decides the dispute when it reaches the threshold."""
        return self.registry.transact(signer, "DisputeCourt", "vote", dispute_id, uphold)

    def close(self, signer: LocalAccount, dispute_id: int) -> TxResult:
        """Close a dispute whose period ended or whose claimant is no longer an active member (anyone)."""
        return self.registry.transact(signer, "DisputeCourt", "close", dispute_id)

    def has_voted(self, dispute_id: int, arbiter: str) -> bool:
        return bool(self.registry.call("DisputeCourt", "hasVoted", dispute_id, Web3.to_checksum_address(arbiter)))

    def count(self) -> int:
        return int(self.registry.call("DisputeCourt", "disputeCount"))

    def show(self, dispute_id: int) -> DisputeInfo:
        """The dispute with its evidence (DisputeCourtUnknownDispute if there is none)."""
        raw = self.registry.call("DisputeCourt", "dispute", dispute_id)
        root, right, status, claimant, respondent, opened_at, prior_at, uphold, dismiss, expires_at, _ = raw
        label = self.registry.org_ref
        opened, log = self._events("DisputeOpened", dispute_id)[0]
        proven = self._events("PriorAnchoringProven", dispute_id)
        dataset = self.registry.call("DataRegistry", "dataset", root)
        return DisputeInfo(
            dispute_id=dispute_id,
            root=_hex(bytes(root)),
            right=Right(right),
            status=DisputeStatus(status),
            claimant=label(int(claimant)),
            respondent=label(int(respondent)),
            holder=label(int(self.registry.call("DataRegistry", "holderOf", root, int(right)))),
            opened_at=int(opened_at),
            expires_at=int(expires_at),
            registered_at=int(dataset[4]),
            evidence_hash=str(opened["evidenceHash"]),
            prior_anchored_at=int(prior_at) or None,
            prior_anchor_root=str(proven[-1][0]["anchorRoot"]) if proven else None,
            uphold_votes=int(uphold),
            dismiss_votes=int(dismiss),
            threshold=int(self.registry.call("Consortium", "threshold", int(Role.ARBITER))),
            transaction=log["transactionHash"].to_0x_hex(),
        )

    def _events(self, name: str, dispute_id: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The court's events `name` about one dispute, in chain order, with their logs."""
        return self.registry.events("DisputeCourt", name, _hex(dispute_id.to_bytes(32, "big")))

"""The licensing, exchange and dispute operations of the gas benchmark: grants (on general data,
a grant replacing an active one, and on important data with an auditor's approval or
rejection), revocation, the submission of a receipt signed by both parties, and a dispute from
its opening to the vote that upholds it, or to the vote that dismisses it.

Every value a transaction carries is random and non-zero where a real one would be (roots,
terms commitments, delivered roots, nonces), so that calldata is priced as
in real use. Every key is made fresh and thrown away.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount

from client.anchors import Anchors
from client.chain.artifacts import load_artifact
from client.chain.enums import Action, Grade, Party, Permission, Right
from client.chain.transact import TxResult
from client.consortium import Consortium, org_id
from client.datasets import Datasets, Registration
from client.eip712 import Receipt
from client.errors import ConfigError
from client.grants import Grants
from client.receipts import Receipts
from client.terms import Opening, Terms

from .chain import ONE_YEAR, BenchChain, Member, admit, random32

#: The leaves of the anchor whose inclusion proof `proveAnchor` checks (a 14-hash audit path).
PROOF_ANCHOR_LEAVES = 10_000
#: What the grants allow: read (which a receipt needs) and derive.
PERMISSIONS = Permission.READ | Permission.DERIVE
#: The disputed right: the one that decides who may license the dataset.
DISPUTED_RIGHT = Right.OPERATION
#: Seconds between the claimant's anchor and the other organisation's registration.
ANCHOR_LEAD = 60


def court_missing(chain: BenchChain) -> str | None:
    """Why the DisputeCourt cannot be measured on this chain, or None when it can."""
    try:
        load_artifact("DisputeCourt")
    except ConfigError:
        return "no contracts/artifacts/DisputeCourt.json"
    if "DisputeCourt" not in chain.registry.manifest.contracts:
        return "the deployment has no DisputeCourt"
    return None


@dataclass
class ExchangeTxs:
    """The receipts of every measured transaction, by operation."""

    grant_general: list[TxResult] = field(default_factory=list)
    grant_important: list[TxResult] = field(default_factory=list)
    approve: list[TxResult] = field(default_factory=list)
    reject: list[TxResult] = field(default_factory=list)
    grant_replacing: list[TxResult] = field(default_factory=list)
    revoke: list[TxResult] = field(default_factory=list)
    submit: list[TxResult] = field(default_factory=list)
    submit_other_key: list[TxResult] = field(default_factory=list)
    submit_reshare: list[TxResult] = field(default_factory=list)
    dispute_open: list[TxResult] = field(default_factory=list)
    prove_anchor: list[TxResult] = field(default_factory=list)
    vote_first: list[TxResult] = field(default_factory=list)
    vote_closing: list[TxResult] = field(default_factory=list)
    vote_dismissing: list[TxResult] = field(default_factory=list)
    #: Audit-path length of the proofs `proveAnchor` was given.
    proof_hashes: int = 0


class ExchangeRun:
    """Alpha provides and licenses, beta consumes; one auditor; two arbiters with a threshold of 2."""

    def __init__(self, chain: BenchChain, samples: int, advance: Callable[[str], None]) -> None:
        self.chain = chain
        self.samples = samples
        self.advance = advance
        self.registry = chain.registry
        self.datasets = Datasets(chain.registry)
        self.grants = Grants(chain.registry)
        self.receipts = Receipts(chain.registry)
        self.alpha = chain.alpha.connector
        self.beta = chain.beta.connector
        self.auditor = Account.create()
        self.arbiters = [Account.create(), Account.create()]
        self.court_missing = court_missing(chain)
        self.txs = ExchangeTxs()

    def steps(self) -> int:
        """Progress-bar steps of `run()`."""
        return self.samples * (7 if self.court_missing else 9)

    def run(self) -> ExchangeTxs:
        self._appoint()
        self._grants_and_receipts()
        self._reshared_receipts()
        self._important_grants()
        self._replaced_and_rejected_grants()
        if self.court_missing is None:
            self._disputes()
            self._dismissed_disputes()
        return self.txs

    # ----- set-up -----

    def _appoint(self) -> None:
        consortium = Consortium(self.registry)
        governor = self.chain.governor
        proposals = [(Action.APPOINT_AUDITOR, self.auditor.address)]
        if self.court_missing is None:
            proposals += [(Action.APPOINT_ARBITER, arbiter.address) for arbiter in self.arbiters]
            proposals.append((Action.SET_ARBITER_THRESHOLD, 2))
        for action, value in proposals:
            if not consortium.propose(governor, action, value).executed:
                raise RuntimeError(f"{action.name} did not execute with a threshold-1 council")

    def _register(self, signer: LocalAccount, grade: Grade = Grade.GENERAL) -> bytes:
        root = random32()
        self.datasets.register(signer, Registration(root=root, grade=grade, metadata_hash=random32()))
        return root

    @staticmethod
    def _licence_terms() -> Opening:
        """A grant's confidential terms with a fresh salt (a random price, so every commitment differs)."""
        return Opening.new(Terms.licence(purpose="QUALITY-ANALYSIS", price=random.randint(100, 10_000_000)))

    def _now(self) -> int:
        return int(self.registry.w3.eth.get_block("latest")["timestamp"])

    def _grant(self, root: bytes) -> TxResult:
        """Alpha licenses `root` to beta for a year from now (READ and DERIVE)."""
        now = self._now()
        return self.grants.grant(
            self.alpha,
            root,
            self.chain.beta.identifier,
            PERMISSIONS,
            now,
            now + ONE_YEAR,
            self._licence_terms().commitment,
        )

    # ----- grant, receipt, revoke -----

    def _grants_and_receipts(self) -> None:
        """Per sample: a general dataset, its grant (active at once), one delivery under it, then the revocation."""
        roots = []
        for _ in range(self.samples):
            self.advance("grant (general data)")
            root = self._register(self.alpha)
            self.txs.grant_general.append(tx := self._grant(root))
            roots.append((root, int(tx.event("GrantIssued").args["serial"])))
        for root, serial in roots:
            self.advance("receipt submit")
            self.txs.submit.append(self._submit(root, serial))
        for root, serial in roots:
            # Another delivery under the same grant, sent by a key of the consumer that did not sign.
            self.advance("receipt submit, by a key that did not sign")
            self.txs.submit_other_key.append(self._submit(root, serial, submitter=self.chain.beta.admin))
        for root, _serial in roots:
            self.advance("revoke")
            self.txs.revoke.append(self.grants.revoke(self.alpha, root, self.chain.beta.identifier))

    def _submit(
        self,
        root: bytes,
        serial: int,
        *,
        provider: Member | None = None,
        consumer: Member | None = None,
        submitter: LocalAccount | None = None,
    ) -> TxResult:
        """A delivery signed by a connector key of each side, submitted by the consumer's signing
        key unless `submitter` is given (docs/licences.md); alpha to beta unless told."""
        provider, consumer = provider or self.chain.alpha, consumer or self.chain.beta
        # Confidential terms: 1 MiB to 64 GiB, a price in the agreed unit; the chain sees their commitment.
        opening = Opening.new(
            Terms.receipt(size=random.randint(1 << 20, 64 << 30), price=random.randint(100, 10_000_000))
        )
        receipt = Receipt(
            dataset=root,
            grant_serial=serial,
            provider=org_id(provider.identifier),
            consumer=org_id(consumer.identifier),
            delivered_root=random32(),
            terms_commitment=opening.commitment,
            delivered_at=self._now(),  # the grant's block or later, never ahead of the next block
            nonce=int.from_bytes(os.urandom(16), "big"),  # as `idsreg receipt draft` makes it
        )
        draft = self.receipts.draft(receipt, opening)
        file = draft.signed(Party.PROVIDER, provider.connector).signed(Party.CONSUMER, consumer.connector)
        return self.receipts.submit(submitter or consumer.connector, file)

    def _reshared_receipts(self) -> None:
        """Per sample: alpha licenses beta to read and reshare, and gamma to read; beta delivers
        to gamma, so the ledger checks beta's reshare licence instead of the operation right."""
        gamma = admit(Consortium(self.registry), self.chain.governor, "DEMO:GAMMA")
        now = self._now()
        for _ in range(self.samples):
            self.advance("receipt submit, provider with a reshare licence")
            root = self._register(self.alpha)
            reshare = Permission.READ | Permission.RESHARE
            self.grants.grant(
                self.alpha,
                root,
                self.chain.beta.identifier,
                reshare,
                now,
                now + ONE_YEAR,
                self._licence_terms().commitment,
            )
            granted = self.grants.grant(
                self.alpha, root, gamma.identifier, PERMISSIONS, now, now + ONE_YEAR, self._licence_terms().commitment
            )
            serial = int(granted.event("GrantIssued").args["serial"])
            self.txs.submit_reshare.append(self._submit(root, serial, provider=self.chain.beta, consumer=gamma))

    def _important_grants(self) -> None:
        for _ in range(self.samples):
            self.advance("grant (important data) + approve")
            root = self._register(self.alpha, Grade.IMPORTANT)
            granted = self._grant(root)
            self.txs.grant_important.append(granted)
            serial = int(granted.event("GrantIssued").args["serial"])
            self.txs.approve.append(self.grants.approve(self.auditor, root, self.chain.beta.identifier, serial))

    def _replaced_and_rejected_grants(self) -> None:
        """Per sample: a second grant of a general dataset to beta while the first is active (it
        replaces it), and the auditor's rejection of a pending grant on important data."""
        for _ in range(self.samples):
            self.advance("grant replacing an active grant")
            root = self._register(self.alpha)
            self._grant(root)
            self.txs.grant_replacing.append(self._grant(root))
        for _ in range(self.samples):
            self.advance("reject (auditor)")
            root = self._register(self.alpha, Grade.IMPORTANT)
            serial = int(self._grant(root).event("GrantIssued").args["serial"])
            self.txs.reject.append(self.grants.reject(self.auditor, root, self.chain.beta.identifier, serial))

    # ----- disputes -----

    def _disputes(self) -> None:
        """Per sample: alpha anchors a root, beta registers it a minute later, alpha disputes the
        operation right, proves its earlier anchor, and two arbiters uphold the claim."""
        anchors = Anchors(self.registry)
        for _ in range(self.samples):
            self.advance("dispute open, proveAnchor, votes")
            root = random32()
            items = [random32() for _ in range(PROOF_ANCHOR_LEAVES)]
            index = random.randrange(PROOF_ANCHOR_LEAVES)
            items[index] = root
            proof = anchors.anchor(self.alpha, items, note_hash=random32()).proofs[index]
            # Strictly before the registration: let chain time move on.
            self.chain.rpc("evm_increaseTime", ANCHOR_LEAD)
            self.datasets.register(self.beta, Registration(root=root, grade=Grade.GENERAL, metadata_hash=random32()))
            opened = self.registry.transact(self.alpha, "DisputeCourt", "open", root, int(DISPUTED_RIGHT), random32())
            dispute_id = int(opened.event("DisputeOpened").args["disputeId"])
            path = [bytes.fromhex(p[2:]) for p in proof.path]
            self.txs.proof_hashes = len(path)
            anchor_root = bytes.fromhex(proof.root[2:])
            proved = self.registry.transact(
                self.alpha, "DisputeCourt", "proveAnchor", dispute_id, anchor_root, proof.leaf_index, path
            )
            first = self.registry.transact(self.arbiters[0], "DisputeCourt", "vote", dispute_id, True)
            closing = self.registry.transact(self.arbiters[1], "DisputeCourt", "vote", dispute_id, True)
            if "DisputeUpheld" not in {e.name for e in closing.events} or "DisputeUpheld" in {
                e.name for e in first.events
            }:
                raise RuntimeError("the dispute was not upheld by the second vote exactly")
            holder = int(self.registry.call("DataRegistry", "holderOf", root, int(DISPUTED_RIGHT)))
            if holder != int(opened.event("DisputeOpened").args["claimant"]):
                raise RuntimeError("the upheld dispute did not move the right to the claimant")
            self.txs.dispute_open.append(opened)
            self.txs.prove_anchor.append(proved)
            self.txs.vote_first.append(first)
            self.txs.vote_closing.append(closing)

    def _dismissed_disputes(self) -> None:
        """Per sample: beta disputes the operation right of a dataset alpha registered, proves
        nothing, and both arbiters dismiss (the second vote closes the dispute)."""
        for _ in range(self.samples):
            self.advance("vote, dismissing")
            root = self._register(self.alpha)
            opened = self.registry.transact(self.beta, "DisputeCourt", "open", root, int(DISPUTED_RIGHT), random32())
            dispute_id = int(opened.event("DisputeOpened").args["disputeId"])
            self.registry.transact(self.arbiters[0], "DisputeCourt", "vote", dispute_id, False)
            closing = self.registry.transact(self.arbiters[1], "DisputeCourt", "vote", dispute_id, False)
            if "DisputeDismissed" not in {e.name for e in closing.events}:
                raise RuntimeError("the dispute was not dismissed by the second vote")
            self.txs.vote_dismissing.append(closing)

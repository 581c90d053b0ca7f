"""A consortium's life on the chain that emits every event type of every registry contract.

`Story` runs it step by step (`steps()`), so that a test can index, kill or reorganise between
steps. Every key is a throw-away key made for the test run (test-only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from web3 import Web3

from client.anchors import Anchors
from client.chain.enums import Action, Grade, Party, Permission, Right
from client.chain.registry import Registry
from client.consortium import Consortium
from client.datasets import Datasets, Registration, registration_commitment
from client.disputes import Disputes
from client.eip712 import Receipt
from client.grants import Grants
from client.proofs import ProofFile
from client.receipts import ReceiptFile, Receipts
from client.terms import Opening, Terms
from tests.conftest import ONE_YEAR, Org, admit, chain_time, increase_time, new_account

#: The workload's confidential terms: never on chain, only their commitments.
LICENCE_PRICE = 31_337_000
RECEIPT_SIZE = 2**40 + 12_345
RECEIPT_PRICE = 2**70 + 1


def h(text: str) -> bytes:
    """A content root for a test dataset: SHA-256 of its name."""
    return hashlib.sha256(text.encode()).digest()


def hx(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass
class Story:
    """Two governors, four organisations, an auditor, arbiters; datasets, rights, licences,
    a delivery, anchors and two disputes."""

    registry: Registry
    governors: list[LocalAccount]
    orgs: dict[str, Org] = field(default_factory=dict)
    auditor: LocalAccount = field(default_factory=new_account)
    arbiters: list[LocalAccount] = field(default_factory=lambda: [new_account(), new_account(), new_account()])
    roots: dict[str, bytes] = field(default_factory=dict)
    #: The proof files of Gamma's anchor and the delivery's signed receipt file.
    anchor_proofs: list[ProofFile] = field(default_factory=list)
    receipt_file: ReceiptFile | None = None
    #: Every terms opening of the workload (licences, then the delivery), in order.
    openings: list[Opening] = field(default_factory=list)

    @property
    def consortium(self) -> Consortium:
        return Consortium(self.registry)

    @property
    def datasets(self) -> Datasets:
        return Datasets(self.registry)

    @property
    def w3(self) -> Web3:
        return self.registry.w3

    def org_id(self, org: str) -> bytes:
        return bytes.fromhex(self.orgs[org].org_id[2:])

    def key(self, org: str) -> LocalAccount:
        return self.orgs[org].connectors[0]

    def govern(self, action: Action, *values: object) -> None:
        """A proposal that needs both governors (threshold 2 after the first steps)."""
        outcome = self.consortium.propose(self.governors[0], action, *values)
        if not outcome.executed:
            assert self.consortium.approve(self.governors[1], outcome.proposal_id).executed

    def register(
        self, org: str, name: str, *, grade: Grade = Grade.GENERAL, uri: str = "", parents: tuple[str, ...] = ()
    ) -> bytes:
        root = h(name)
        self.roots[name] = root
        self.datasets.register(
            self.key(org),
            Registration(
                root,
                grade,
                h(f"metadata of {name}"),
                uri,
                tuple(self.roots[p] for p in parents),
            ),
        )
        return root

    def steps(self) -> list[Callable[[], None]]:
        return [
            self.members,
            self.governance,
            self.registrations,
            self.supersede,
            self.rights,
            self.licences,
            self.delivery,
            self.upheld_dispute,
            self.dismissed_dispute,
            self.lapsed_dispute,
        ]

    def run(self) -> Story:
        for step in self.steps():
            step()
        return self

    # ----- the steps -----

    def members(self) -> None:
        governor = self.governors[0]
        for name in ("ALPHA", "BETA", "GAMMA"):
            self.orgs[name] = admit(self.consortium, governor, f"DEMO:{name}", connectors=1)
        self.orgs["DELTA"] = admit(self.consortium, governor, "DEMO:DELTA")
        spare = new_account()
        self.consortium.add_connector(self.orgs["ALPHA"].admin, spare.address)
        self.consortium.remove_connector(self.orgs["ALPHA"].admin, spare.address)

    def governance(self) -> None:
        c, governor = self.consortium, self.governors[0]
        assert c.propose(governor, Action.APPOINT_AUDITOR, self.auditor.address).executed
        for arbiter in self.arbiters:
            assert c.propose(governor, Action.APPOINT_ARBITER, arbiter.address).executed
        assert c.propose(governor, Action.REMOVE_ARBITER, self.arbiters[2].address).executed
        # Witness keys with which governors cosign checkpoints (docs/audit.md).
        for n, g in enumerate(self.governors):
            assert c.propose(governor, Action.SET_WITNESS_KEY, g.address, h(f"witness key {n}")).executed
        assert c.propose(governor, Action.SET_THRESHOLD, 2).executed
        # From here on every change needs both governors.
        cancelled = c.propose(governor, Action.EXPEL_MEMBER, self.org_id("DELTA"))
        c.cancel(governor, cancelled.proposal_id)
        self.govern(Action.EXPEL_MEMBER, self.org_id("DELTA"))
        self.govern(Action.SUSPEND_MEMBER, self.org_id("GAMMA"))
        self.govern(Action.REINSTATE_MEMBER, self.org_id("GAMMA"))
        self.govern(
            Action.RECERTIFY_MEMBER, self.org_id("BETA"), 3, h("audit 2026"), chain_time(self.w3) + 2 * ONE_YEAR
        )
        beta_admin = new_account()
        self.govern(Action.REPLACE_ADMIN, self.org_id("BETA"), beta_admin.address)
        self.orgs["BETA"].admin = beta_admin
        alpha_admin = new_account()
        c.transfer_admin(self.orgs["ALPHA"].admin, alpha_admin.address)
        self.orgs["ALPHA"].admin = alpha_admin

    def registrations(self) -> None:
        self.register("ALPHA", "turbine scans", uri="ipfs://alpha/turbine-scans.json")
        self.register("ALPHA", "weld parameters", grade=Grade.IMPORTANT)
        self.register("BETA", "furnace recipes", grade=Grade.CORE)
        batch = [f"line sensor {n}" for n in range(5)]
        items = []
        for n, name in enumerate(batch):
            self.roots[name] = h(name)
            parents = (self.roots["turbine scans"],) if n == 0 else ()
            items.append(Registration(h(name), Grade.GENERAL, h(f"metadata of {name}"), "", parents))
        self.datasets.register_batch(self.key("ALPHA"), items, "ipfs://alpha/batch-1.json")
        self.register("BETA", "blade wear model", parents=("turbine scans", "weld parameters"))
        self.register("GAMMA", "maintenance plan", parents=("blade wear model",))

    def supersede(self) -> None:
        """Beta commits to a root; Alpha registers it after the commitment; Beta's reveal wins."""
        root, salt = h("gear test bench"), h("beta's salt")
        self.roots["gear test bench"] = root
        self.datasets.commit(self.key("BETA"), registration_commitment(root, "DEMO:BETA", salt))
        increase_time(self.w3, 5)  # Alpha's registration comes strictly after the commitment
        self.register("ALPHA", "gear test bench", parents=("turbine scans",))
        reveal = Registration(
            root,
            Grade.GENERAL,
            h("metadata of gear test bench"),
            "ipfs://beta/gear.json",
            (self.roots["weld parameters"],),
        )
        self.datasets.reveal(self.key("BETA"), reveal, salt)

    def rights(self) -> None:
        d, scans, weld = self.datasets, self.roots["turbine scans"], self.roots["weld parameters"]
        d.offer(self.key("ALPHA"), scans, Right.PROCESSING, "DEMO:BETA")
        d.accept(self.key("BETA"), scans, Right.PROCESSING)
        d.offer(self.key("ALPHA"), scans, Right.HOLDING, "DEMO:GAMMA")
        d.cancel(self.key("ALPHA"), scans, Right.HOLDING)
        d.offer(self.key("ALPHA"), weld, Right.OPERATION, "DEMO:GAMMA")
        d.reject(self.key("GAMMA"), weld, Right.OPERATION)
        d.offer(self.key("ALPHA"), weld, Right.HOLDING, "DEMO:BETA")  # left open

    def licences(self) -> None:
        g, now = Grants(self.registry), chain_time(self.w3)
        scans, weld = self.roots["turbine scans"], self.roots["weld parameters"]

        def issue(root: bytes, grantee: str, permissions: Permission) -> None:
            terms = Terms.licence(purpose="R&D", policy="0x" + h("policy v1").hex(), price=LICENCE_PRICE)
            opening = Opening(terms, h(f"licence salt {len(self.openings)}"))
            self.openings.append(opening)
            g.grant(self.key("ALPHA"), root, grantee, permissions, now - 60, now + ONE_YEAR, opening.commitment)

        issue(scans, "DEMO:BETA", Permission.READ)
        issue(scans, "DEMO:BETA", Permission.READ | Permission.DERIVE)  # replaces serial 1
        issue(weld, "DEMO:GAMMA", Permission.READ)  # important: pending
        g.approve(self.auditor, weld, "DEMO:GAMMA", 1)
        issue(weld, "DEMO:BETA", Permission.READ)
        g.reject(self.auditor, weld, "DEMO:BETA", 1)
        issue(scans, "DEMO:GAMMA", Permission.READ | Permission.COMMERCIAL)
        g.revoke(self.key("ALPHA"), scans, "DEMO:GAMMA")

    def delivery(self) -> None:
        receipts = Receipts(self.registry)
        opening = Opening(Terms.receipt(size=RECEIPT_SIZE, price=RECEIPT_PRICE), h("receipt salt"))
        self.openings.append(opening)
        receipt = Receipt(
            dataset=self.roots["turbine scans"],
            grant_serial=2,
            provider=bytes.fromhex(self.orgs["ALPHA"].org_id[2:]),
            consumer=bytes.fromhex(self.orgs["BETA"].org_id[2:]),
            delivered_root=self.roots["turbine scans"],
            terms_commitment=opening.commitment,
            delivered_at=chain_time(self.w3),
            nonce=7,
        )
        file = (
            receipts.draft(receipt, opening)
            .signed(Party.PROVIDER, self.key("ALPHA"))
            .signed(Party.CONSUMER, self.key("BETA"))
        )
        receipts.submit(self.key("BETA"), file)
        self.receipt_file = file

    # The events of the "prototype drawings" dataset that upheld_dispute leaves, in chain order.
    UPHELD_DISPUTE_EVENTS = (
        "DatasetRegistered",
        "DisputeOpened",
        "RightFrozen",
        "PriorAnchoringProven",
        "VoteCast",
        "DisputeUpheld",
        "RightAwarded",
        "RightUnfrozen",
    )

    def upheld_dispute(self) -> None:
        """Gamma anchored a root before Alpha registered it; Gamma disputes, proves, one arbiter upholds."""
        root = h("prototype drawings")
        self.roots["prototype drawings"] = root
        batch = Anchors(self.registry).anchor(self.key("GAMMA"), [h("other drawing"), root, h("third drawing")])
        self.anchor_proofs = batch.proofs
        increase_time(self.w3, 60)
        self.register("ALPHA", "prototype drawings")
        disputes = Disputes(self.registry)
        dispute_id, _ = disputes.open(self.key("GAMMA"), root, Right.OPERATION, h("gamma's evidence"))
        disputes.prove(self.key("GAMMA"), dispute_id, batch.proofs[1])
        disputes.vote(self.arbiters[0], dispute_id, True)

    def dismissed_dispute(self) -> None:
        """Beta disputes the holding of Alpha's dataset; two arbiters dismiss (threshold 2)."""
        self.govern(Action.SET_ARBITER_THRESHOLD, 2)
        disputes = Disputes(self.registry)
        dispute_id, _ = disputes.open(self.key("BETA"), self.roots["turbine scans"], Right.HOLDING, h("beta's claim"))
        disputes.vote(self.arbiters[0], dispute_id, False)
        disputes.vote(self.arbiters[1], dispute_id, False)

    def lapsed_dispute(self) -> None:
        """Beta disputes the processing right of Alpha's weld parameters, is suspended, and Gamma
        closes the dispute (a suspended claimant's dispute lapses); Beta is then reinstated."""
        disputes = Disputes(self.registry)
        weld = self.roots["weld parameters"]
        dispute_id, _ = disputes.open(self.key("BETA"), weld, Right.PROCESSING, h("beta's second claim"))
        self.govern(Action.SUSPEND_MEMBER, self.org_id("BETA"))
        disputes.close(self.key("GAMMA"), dispute_id)
        self.govern(Action.REINSTATE_MEMBER, self.org_id("BETA"))


def story(make_registry: Callable[..., Registry]) -> Story:
    """A fresh deployment with two governors (threshold 1), ready for `steps()`."""
    governors = [new_account(), new_account()]
    return Story(make_registry(governors, 1), governors)

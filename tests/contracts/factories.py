"""Shared test scenes and helpers for the contract tests: named hashes, request tuples, the
deployed registry with three members (`Scene`), its licensing and dispute-court variants, and
the keys that must be refused (`outsider`). Plain factory functions; the fixtures stay in the
test modules (STYLE.md rule 10)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from client.anchors import Anchors
from client.chain.deploy import deploy_registry
from client.chain.enums import Action, Grade, MemberStatus, Permission, Right
from client.chain.registry import Registry
from client.chain.transact import TxResult, guarded
from client.consortium import Consortium
from client.disputes import Disputes
from client.proofs import ProofFile
from client.terms import Opening, Terms
from tests.conftest import Org, admit, chain_time, increase_time, new_account

META = b"\x4d" * 32
SALT = b"\x5a" * 32
DATASET_FIELDS = ("registrant", "holding", "processing", "operation", "registeredAt", "grade", "priority", "disputed")
COMMITMENT_FIELDS = ("orgNo", "committedAt", "blockNumber", "priority")


def h(label: str) -> bytes:
    """A distinct 32-byte value (a content root, a salt…) named for readability."""
    return hashlib.sha256(label.encode()).digest()


def hx(value: bytes) -> str:
    """bytes32 as the decoder shows it."""
    return "0x" + value.hex()


def request(
    root: bytes, *, grade: Grade = Grade.GENERAL, meta: bytes = META, uri: str = "", parents: tuple[bytes, ...] = ()
) -> tuple[Any, ...]:
    """An IDataRegistry.RegistrationRequest."""
    return (root, int(grade), meta, uri, list(parents))


def item(
    root: bytes, *, grade: Grade = Grade.GENERAL, meta: bytes = META, parents: tuple[bytes, ...] = ()
) -> tuple[Any, ...]:
    """An IDataRegistry.BatchItem."""
    return (root, int(grade), meta, list(parents))


def commitment(root: bytes, org_id: str, salt: bytes) -> bytes:
    """keccak256(abi.encode(root, orgId, salt)), as the contract computes it."""
    return keccak(encode(["bytes32", "bytes32", "bytes32"], [root, bytes.fromhex(org_id[2:]), salt]))


def id_bytes(org: Org) -> bytes:
    return bytes.fromhex(org.org_id[2:])


def key(org: Org) -> LocalAccount:
    """The connector key an organisation's software signs with."""
    return org.connectors[0]


@dataclass
class Scene:
    """A deployed registry with three active members: alpha (member 1), beta (2), gamma (3)."""

    registry: Registry
    consortium: Consortium
    governor: LocalAccount
    alpha: Org
    beta: Org
    gamma: Org

    def write(self, signer: LocalAccount, function: str, *args: Any) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", function, *args)

    def read(self, function: str, *args: Any) -> Any:
        return self.registry.call("DataRegistry", function, *args)

    def call_as(self, signer: LocalAccount, function: str, *args: Any) -> Any:
        """eth_call on the latest block (its number and time), as `signer`."""
        fn = getattr(self.registry.contract("DataRegistry").functions, function)
        return guarded(lambda: fn(*args).call({"from": signer.address}, block_identifier="latest"))

    def register(self, org: Org, root: bytes, **fields: Any) -> TxResult:
        return self.write(key(org), "register", request(root, **fields))

    def dataset(self, root: bytes) -> dict[str, int]:
        return dict(zip(DATASET_FIELDS, self.read("dataset", root), strict=True))

    def commitment_of(self, value: bytes) -> dict[str, int]:
        return dict(zip(COMMITMENT_FIELDS, self.read("commitmentOf", value), strict=True))

    def holders(self, root: bytes) -> dict[Right, int]:
        return {right: self.read("holderOf", root, int(right)) for right in Right}

    def block_time(self, tx: TxResult) -> int:
        return int(self.registry.w3.eth.get_block(tx.block_number)["timestamp"])

    def rpc(self, method: str, *params: Any) -> Any:
        """A node call outside the eth namespace (anvil's evm_*, debug_*); returns its result."""
        return self.registry.w3.provider.make_request(RPCEndpoint(method), list(params)).get("result")

    def next_block(self) -> None:
        """Mine an empty block: gas is estimated on the latest block, so a reveal sent right
        after its commitment's block would be estimated as too early."""
        self.rpc("evm_mine")

    def govern(self, action: Action, org: Org) -> None:
        assert self.consortium.propose(self.governor, action, id_bytes(org)).executed


def make_scene(w3: Web3, deployments: Path) -> Scene:
    """Deploy the registry (one governor, threshold 1) and admit three members, each with a connector."""
    governor = new_account()
    registry = Registry(w3, deploy_registry(w3, governor, [governor.address], 1, deployments, force=True))
    consortium = Consortium(registry)
    alpha, beta, gamma = (
        admit(consortium, governor, f"DEMO:{name}", connectors=1) for name in ("ALPHA", "BETA", "GAMMA")
    )
    return Scene(registry, consortium, governor, alpha, beta, gamma)


# ----- keys that cannot act -----

OUTSIDER_KINDS = ("stranger", "removed connector", "suspended org")


def outsider(s: Scene, org: Org, kind: str) -> tuple[LocalAccount, str, dict[str, Any]]:
    """A key trying to act for `org` that must be refused, with the Consortium error it gets.

    Every registry write starts with the active-key check (KeyRecords), so each refuses these keys alike.
    """
    if kind == "stranger":
        stranger = new_account()
        return stranger, "ConsortiumUnknownKey", {"key": stranger.address}
    if kind == "removed connector":
        s.consortium.remove_connector(org.admin, key(org).address)
        return key(org), "ConsortiumKeyRevoked", {"key": key(org).address, "orgId": org.org_id}
    assert kind == "suspended org"
    s.govern(Action.SUSPEND_MEMBER, org)
    return key(org), "ConsortiumMemberNotActive", {"orgId": org.org_id, "status": MemberStatus.SUSPENDED}


# ----- licensing (AccessRegistry) -----

DAY = 24 * 3600
READ, DERIVE, RESHARE, COMMERCIAL = (int(p) for p in Permission)
ALL = READ | DERIVE | RESHARE | COMMERCIAL
#: The grants' terms commitment (purpose, policy, price stay with the parties: client/terms.py).
TERMS = Opening(Terms.licence(purpose="predictive maintenance", policy=hx(h("policy: ODRL v1")), price=9000), h("s"))
GRANT_FIELDS = ("grantor", "serial", "permissions", "status", "validFrom", "validUntil", "registration")

GENERAL = h("general: line 4 vibration logs")
IMPORTANT = h("important: weld parameters")
CORE = h("core: furnace control recipes")


@dataclass
class Licensing(Scene):
    """The DataRegistry scene (alpha 1, beta 2, gamma 3, one connector each) plus an auditor.

    Alpha has registered one dataset of each grade and holds every right on them.
    """

    auditor: LocalAccount

    def access(self, signer: LocalAccount, function: str, *args: Any) -> TxResult:
        return self.registry.transact(signer, "AccessRegistry", function, *args)

    def view(self, function: str, *args: Any) -> Any:
        return self.registry.call("AccessRegistry", function, *args)

    def access_as(self, signer: LocalAccount, function: str, *args: Any) -> Any:
        """eth_call on the latest block (its time), as `signer`."""
        fn = getattr(self.registry.contract("AccessRegistry").functions, function)
        return guarded(lambda: fn(*args).call({"from": signer.address}, block_identifier="latest"))

    def grant(
        self,
        grantor: Org,
        root: bytes,
        grantee: Org,
        permissions: int = READ,
        window: tuple[int, int] | None = None,
        *,
        signer: LocalAccount | None = None,
    ) -> TxResult:
        """`grantor`'s licence on `root` to `grantee` (default: READ from now for a day)."""
        return self.access(
            signer or key(grantor), "grant", grant_request(root, grantee, permissions, window or self.day())
        )

    def day(self) -> tuple[int, int]:
        now = chain_time(self.registry.w3)
        return now, now + DAY

    def approve(
        self, root: bytes, grantee: Org, signer: LocalAccount | None = None, serial: int | None = None
    ) -> TxResult:
        """An auditor's approval of the grant's current serial (or of `serial`)."""
        return self.access(
            signer or self.auditor, "approve", root, id_bytes(grantee), self.serial(root, grantee, serial)
        )

    def reject(
        self, root: bytes, grantee: Org, signer: LocalAccount | None = None, serial: int | None = None
    ) -> TxResult:
        return self.access(
            signer or self.auditor, "reject", root, id_bytes(grantee), self.serial(root, grantee, serial)
        )

    def serial(self, root: bytes, grantee: Org, serial: int | None = None) -> int:
        """`serial`, else the serial of the current grant on `root` to `grantee` (0: none)."""
        if serial is not None:
            return serial
        org_no = int(self.registry.call("Consortium", "orgNoOf", id_bytes(grantee)))
        return int(self.view("grantOf", root, org_no)[1])

    def registration(self, root: bytes) -> int:
        """The priority of `root`'s current registration, which licences name."""
        return int(self.read("operatorOf", root)[1])

    def revoke(self, signer: LocalAccount, root: bytes, grantee: Org) -> TxResult:
        return self.access(signer, "revoke", root, id_bytes(grantee))

    def grant_of(self, root: bytes, grantee_no: int) -> dict[str, int]:
        return dict(zip(GRANT_FIELDS, self.view("grantOf", root, grantee_no), strict=True))

    def authorized(self, root: bytes, org: Org | bytes, permission: int, time: int) -> bool:
        org_id = org if isinstance(org, bytes) else id_bytes(org)
        return bool(self.view("isAuthorized", root, org_id, permission, time))

    def authorization(self, root: bytes, org_no: int, permission: int, time: int) -> tuple[bool, int]:
        authorized, serial = self.view("authorization", root, self.registration(root), org_no, permission, time)
        return bool(authorized), int(serial)

    def move_right(self, root: bytes, right: Right, frm: Org, to: Org) -> None:
        self.write(key(frm), "offerRight", root, int(right), id_bytes(to))
        self.write(key(to), "acceptRight", root, int(right))


def grant_request(
    root: bytes,
    grantee: Org,
    permissions: int,
    window: tuple[int, int],
    commitment: bytes = TERMS.commitment,
) -> tuple[Any, ...]:
    """An IAccessRegistry.GrantRequest."""
    return (root, id_bytes(grantee), permissions, window[0], window[1], commitment)


def make_licensing(w3: Web3, deployments: Any) -> Licensing:
    """make_scene, an appointed auditor, and alpha's three datasets (one per grade)."""
    base = make_scene(w3, deployments)
    auditor = new_account()
    assert Consortium(base.registry).propose(base.governor, Action.APPOINT_AUDITOR, auditor.address).executed
    scene = Licensing(**vars(base), auditor=auditor)
    for root, grade in ((GENERAL, Grade.GENERAL), (IMPORTANT, Grade.IMPORTANT), (CORE, Grade.CORE)):
        scene.register(scene.alpha, root, grade=grade)
    return scene


# ----- disputes (DisputeCourt) -----

DISPUTE_FIELDS = (
    "root",
    "right",
    "status",
    "claimant",
    "respondent",
    "openedAt",
    "priorAnchoredAt",
    "upholdVotes",
    "dismissVotes",
    "expiresAt",
    "priorAnchorBlock",
)
EVIDENCE = h("evidence bundle")
DISPUTE_PERIOD = 30 * 24 * 3600  # Consortium.DEFAULT_DISPUTE_PERIOD


@dataclass
class CourtScene(Scene):
    """The DataRegistry scene (alpha 1, beta 2, gamma 3) with two arbiters and a threshold of two."""

    arbiters: list[LocalAccount]

    @property
    def disputes(self) -> Disputes:
        return Disputes(self.registry)

    def court(self, signer: LocalAccount, function: str, *args: Any) -> TxResult:
        return self.registry.transact(signer, "DisputeCourt", function, *args)

    def court_read(self, function: str, *args: Any) -> Any:
        return self.registry.call("DisputeCourt", function, *args)

    def dispute(self, dispute_id: int) -> dict[str, Any]:
        return dict(zip(DISPUTE_FIELDS, self.court_read("dispute", dispute_id), strict=True))

    def frozen(self, root: bytes, right: Right) -> bool:
        return bool(self.read("isFrozen", root, int(right)))

    def appoint_arbiter(self) -> LocalAccount:
        arbiter = new_account()
        assert self.consortium.propose(self.governor, Action.APPOINT_ARBITER, arbiter.address).executed
        self.arbiters.append(arbiter)
        return arbiter

    def set_threshold(self, threshold: int) -> None:
        assert self.consortium.propose(self.governor, Action.SET_ARBITER_THRESHOLD, threshold).executed

    def anchor(self, org: Any, root: bytes) -> ProofFile:
        """`org` anchors a tree of three hashes with `root` in the middle; returns root's proof file."""
        batch = Anchors(self.registry).anchor(key(org), [h(f"before {root.hex()}"), root, h(f"after {root.hex()}")])
        return batch.proofs[1]

    def prior_claim(self, root: bytes, right: Right = Right.OPERATION) -> tuple[ProofFile, int]:
        """Beta anchors `root`, alpha registers it a minute later, beta disputes `right` on it."""
        proof = self.anchor(self.beta, root)
        increase_time(self.registry.w3, 60)
        self.register(self.alpha, root)
        dispute_id, _ = self.disputes.open(key(self.beta), root, right, EVIDENCE)
        return proof, dispute_id


CourtSceneT = TypeVar("CourtSceneT", bound=CourtScene)


def seat_arbiters(c: CourtSceneT) -> CourtSceneT:
    """Appoint two arbiters and set their threshold to two."""
    c.appoint_arbiter()
    c.appoint_arbiter()
    c.set_threshold(2)
    return c


def names(tx: TxResult) -> list[str]:
    return [e.name for e in tx.events]

"""Every state-changing function of every contract refuses a caller that may not make it, with
the right error and its arguments — written once, parametrised over the compiled ABIs.

One staged scene makes each call succeed for the right caller (`test_insider_succeeds` shows
it), so that a refusal is the gate's and not a missing precondition's. A function anyone may
call by design is listed in ANYONE with the reason; `test_every_write_is_listed` fails when a
contract gains a state-changing function that is in neither table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from client.chain.artifacts import DEPLOYABLE, load_artifact
from client.chain.enums import Action, Right
from client.eip712 import Receipt, sign_receipt
from client.merkle import leaf_hash, root_and_proofs
from tests.conftest import Org, chain_time, expect_revert, increase_time, new_account
from tests.contracts.factories import (
    EVIDENCE,
    GENERAL,
    IMPORTANT,
    OUTSIDER_KINDS,
    READ,
    SALT,
    Licensing,
    commitment,
    grant_request,
    h,
    id_bytes,
    item,
    key,
    make_licensing,
    outsider,
    request,
)

REVEALED = h("staged commitment")
OFFERED = h("staged dataset, holding right offered to beta")
DISPUTED = h("staged dataset, operation right disputed by beta")
_ANCHORED = [h("staged before"), DISPUTED, h("staged after")]
ANCHOR_ROOT, ANCHOR_PATHS = root_and_proofs([leaf_hash(x) for x in _ANCHORED])


@dataclass
class Staged(Licensing):
    """The licensing scene (alpha, beta, gamma, an auditor, alpha's three datasets) where every
    write below would succeed for the right caller:

    - DataRegistry: alpha committed to REVEALED, registered OFFERED and offered its holding right to beta;
    - AccessRegistry: alpha licensed GENERAL to beta (active, serial 1) and IMPORTANT (pending, serial 1);
    - DisputeCourt: two arbiters, threshold two; beta anchored a tree holding DISPUTED, alpha
      registered DISPUTED a minute later, and beta disputed its operation right (dispute 1);
    - ExchangeLedger: `delivery`, alpha's delivery of GENERAL to beta under serial 1, both signed;
    - Consortium: two governors, threshold two, and one open proposal (`proposal_id`).
    """

    arbiters: list[LocalAccount] = field(default_factory=list)
    governors: list[LocalAccount] = field(default_factory=list)
    proposal_id: int = 0
    delivery: tuple[Any, ...] = ()

    def send(self, signer: LocalAccount, contract: str, function: str, *args: Any) -> Any:
        return self.registry.transact(signer, contract, function, *args)

    def govern(self, action: Action, org: Org | str) -> None:
        """A proposal about `org` (or an account) that both governors approve."""
        outcome = self.consortium.propose(self.governor, action, id_bytes(org) if isinstance(org, Org) else org)
        if not outcome.executed:
            assert self.consortium.approve(self.governors[1], outcome.proposal_id).executed


def make_staged(w3: Web3, deployments: Any) -> Staged:
    s = Staged(**vars(make_licensing(w3, deployments)))
    s.arbiters = [new_account(), new_account()]
    for arbiter in s.arbiters:
        assert s.consortium.propose(s.governor, Action.APPOINT_ARBITER, arbiter.address).executed
    assert s.consortium.propose(s.governor, Action.SET_ARBITER_THRESHOLD, 2).executed

    s.write(key(s.alpha), "commit", commitment(REVEALED, s.alpha.org_id, SALT))
    s.register(s.alpha, OFFERED)
    s.write(key(s.alpha), "offerRight", OFFERED, int(Right.HOLDING), id_bytes(s.beta))

    delivered_at = chain_time(w3)
    s.grant(s.alpha, GENERAL, s.beta, READ, (delivered_at, delivered_at + 24 * 3600))
    s.grant(s.alpha, IMPORTANT, s.beta)

    s.send(key(s.beta), "AnchorRegistry", "anchor", ANCHOR_ROOT, len(_ANCHORED), bytes(32))
    increase_time(w3, 60)
    s.register(s.alpha, DISPUTED)
    s.send(key(s.beta), "DisputeCourt", "open", DISPUTED, int(Right.OPERATION), EVIDENCE)

    receipt = Receipt(
        dataset=GENERAL,
        grant_serial=1,
        provider=id_bytes(s.alpha),
        consumer=id_bytes(s.beta),
        delivered_root=h("staged delivery"),
        terms_commitment=h("outsider receipt terms"),
        delivered_at=delivered_at,
        nonce=1,
    )
    ledger = str(s.registry.contract("ExchangeLedger").address)
    signatures = (sign_receipt(key(org), receipt, s.registry.chain_id, ledger) for org in (s.alpha, s.beta))
    s.delivery = (receipt.as_tuple(), *signatures)

    # Last, as admissions and appointments above need a threshold-1 council.
    second = new_account()
    assert s.consortium.propose(s.governor, Action.ADD_GOVERNOR, second.address).executed
    assert s.consortium.propose(s.governor, Action.SET_THRESHOLD, 2).executed
    s.governors = [s.governor, second]
    s.proposal_id = s.consortium.propose(s.governor, Action.APPOINT_AUDITOR, new_account().address).proposal_id
    return s


@pytest.fixture(scope="module")
def scene(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Staged:
    # Once per module; the per-test snapshot restores it (see test_data_registry).
    return make_staged(w3, tmp_path_factory.mktemp("deployments"))


@pytest.fixture
def s(scene: Staged, w3: Web3) -> Staged:
    return scene


# ----- the gates, and who is refused at each -----

#: A member organisation's key that can act (`who` names the organisation).
MEMBER = "member key"
AUDITOR = "auditor"
ARBITER = "arbiter"
GOVERNOR = "governor"
ORG_ADMIN = "organisation admin"
#: Bound once at deployment (the binding itself: test_membership_mirror.py, test_dispute_court.py).
DEPLOYER = "deployer"
#: Calls between the contracts: the Consortium pushes key records to the mirrors, the
#: DisputeCourt moves and freezes rights, the DataRegistry voids disputes.
CONSORTIUM = "the Consortium contract"
COURT = "the DisputeCourt contract"
DATA_REGISTRY = "the DataRegistry contract"

#: Refusals that do not depend on the caller's membership: each gate's error names the caller.
NOT_ONE_OF = {
    AUDITOR: ("stranger", "member connector", "governor", "removed auditor"),
    ARBITER: OUTSIDER_KINDS + ("governor", "auditor"),
    GOVERNOR: ("stranger", "member admin", "member connector", "auditor"),
    ORG_ADMIN: ("stranger", "member connector", "governor", "auditor"),
    DEPLOYER: ("stranger", "member admin", "member connector"),
    CONSORTIUM: ("stranger", "member admin", "member connector", "governor"),
    COURT: ("stranger", "member connector", "arbiter", "governor"),
    DATA_REGISTRY: ("stranger", "member connector", "arbiter", "governor"),
}
GATE_ERRORS = {
    ("AccessRegistry", AUDITOR): "AccessRegistryNotAuditor",
    ("DisputeCourt", ARBITER): "DisputeCourtNotArbiter",
    ("Consortium", GOVERNOR): "ConsortiumNotGovernor",
    ("Consortium", ORG_ADMIN): "ConsortiumNotOrgAdmin",
    ("Consortium", DEPLOYER): "ConsortiumNotDeployer",
    ("DataRegistry", DEPLOYER): "DataRegistryNotDeployer",
    ("DataRegistry", COURT): "DataRegistryNotCourt",
    ("DisputeCourt", DATA_REGISTRY): "DisputeCourtNotDataRegistry",
}


def _sync_key(s: Staged) -> tuple[Any, ...]:
    return (key(s.alpha).address, bytes(32), 1, 2, 1, 2**63)


Args = Callable[[Staged], tuple[Any, ...]]

#: Every state-changing function: its gate, the organisation whose key may call it (member
#: keys), and its arguments in the staged scene.
WRITES: dict[tuple[str, str], tuple[str, str, Args]] = {
    ("Consortium", "propose"): (GOVERNOR, "", lambda s: (int(Action.APPOINT_AUDITOR), bytes(12) + h("x")[:20])),
    ("Consortium", "approve"): (GOVERNOR, "", lambda s: (s.proposal_id,)),
    ("Consortium", "execute"): (GOVERNOR, "", lambda s: (s.proposal_id,)),
    ("Consortium", "cancel"): (GOVERNOR, "", lambda s: (s.proposal_id,)),
    ("Consortium", "addConnector"): (ORG_ADMIN, "alpha", lambda s: (new_account().address,)),
    ("Consortium", "removeConnector"): (ORG_ADMIN, "alpha", lambda s: (key(s.alpha).address,)),
    ("Consortium", "transferAdmin"): (ORG_ADMIN, "alpha", lambda s: (new_account().address,)),
    ("Consortium", "bindMirrors"): (DEPLOYER, "", lambda s: ([s.registry.contract("DataRegistry").address],)),
    ("DataRegistry", "register"): (MEMBER, "alpha", lambda s: (request(h("fresh")),)),
    ("DataRegistry", "registerBatch"): (MEMBER, "alpha", lambda s: ([item(h("fresh"))], "ipfs://manifest")),
    ("DataRegistry", "commit"): (MEMBER, "alpha", lambda s: (commitment(h("fresh"), s.alpha.org_id, SALT),)),
    ("DataRegistry", "reveal"): (MEMBER, "alpha", lambda s: (request(REVEALED), SALT)),
    ("DataRegistry", "offerRight"): (MEMBER, "alpha", lambda s: (OFFERED, int(Right.PROCESSING), id_bytes(s.gamma))),
    ("DataRegistry", "acceptRight"): (MEMBER, "beta", lambda s: (OFFERED, int(Right.HOLDING))),
    ("DataRegistry", "cancelOffer"): (MEMBER, "alpha", lambda s: (OFFERED, int(Right.HOLDING))),
    ("DataRegistry", "rejectOffer"): (MEMBER, "beta", lambda s: (OFFERED, int(Right.HOLDING))),
    ("DataRegistry", "bindCourt"): (DEPLOYER, "", lambda s: (s.registry.contract("DisputeCourt").address,)),
    ("DataRegistry", "freezeRight"): (COURT, "", lambda s: (OFFERED, int(Right.HOLDING), 1, 2**40)),
    ("DataRegistry", "unfreezeRight"): (COURT, "", lambda s: (DISPUTED, int(Right.OPERATION), 1)),
    ("DataRegistry", "awardRight"): (COURT, "", lambda s: (DISPUTED, int(Right.OPERATION), 2, 1)),
    ("AnchorRegistry", "anchor"): (MEMBER, "alpha", lambda s: (h("outsider root"), 10, h("note"))),
    ("AccessRegistry", "grant"): (MEMBER, "alpha", lambda s: (grant_request(GENERAL, s.gamma, READ, s.day()),)),
    ("AccessRegistry", "revoke"): (MEMBER, "alpha", lambda s: (GENERAL, id_bytes(s.beta))),
    ("AccessRegistry", "approve"): (AUDITOR, "", lambda s: (IMPORTANT, id_bytes(s.beta), 1)),
    ("AccessRegistry", "reject"): (AUDITOR, "", lambda s: (IMPORTANT, id_bytes(s.beta), 1)),
    ("ExchangeLedger", "submit"): (MEMBER, "alpha", lambda s: s.delivery),
    ("DisputeCourt", "open"): (MEMBER, "beta", lambda s: (DISPUTED, int(Right.PROCESSING), EVIDENCE)),
    ("DisputeCourt", "proveAnchor"): (MEMBER, "beta", lambda s: (1, ANCHOR_ROOT, 1, ANCHOR_PATHS[1])),
    ("DisputeCourt", "vote"): (ARBITER, "", lambda s: (1, True)),
    ("DisputeCourt", "voidDisputes"): (DATA_REGISTRY, "", lambda s: (DISPUTED,)),
    **{(contract, "syncKey"): (CONSORTIUM, "", _sync_key) for contract in DEPLOYABLE if contract != "Consortium"},
}

#: State-changing functions anyone may call, and why.
ANYONE = {
    ("DisputeCourt", "close"): (
        "closes a dispute whose period ran out or whose parties left; its condition is the "
        "dispute's state, not the caller (tests/contracts/test_hardening.py)"
    ),
}

#: Gates whose rightful caller is a contract or was used up at deployment: their success is
#: shown where the binding or the call between contracts is (test_membership_mirror.py,
#: test_dispute_court.py), not here.
NO_INSIDER = {DEPLOYER, CONSORTIUM, COURT, DATA_REGISTRY}


def test_every_write_is_listed() -> None:
    writes = {
        (contract, entry["name"])
        for contract in DEPLOYABLE
        for entry in load_artifact(contract).abi
        if entry["type"] == "function" and entry["stateMutability"] not in ("view", "pure")
    }
    assert writes == set(WRITES) | set(ANYONE)
    assert not set(WRITES) & set(ANYONE)


def insider(s: Staged, gate: str, who: str) -> LocalAccount:
    callers = {MEMBER: lambda: key(getattr(s, who)), AUDITOR: lambda: s.auditor, ARBITER: lambda: s.arbiters[0]}
    callers[GOVERNOR] = lambda: s.governors[1]
    callers[ORG_ADMIN] = lambda: getattr(s, who).admin
    return callers[gate]()


def refused(s: Staged, contract: str, gate: str, who: str, kind: str) -> tuple[LocalAccount, str, dict[str, Any]]:
    """The caller of kind `kind`, the error it must get and the error's arguments."""
    if gate == MEMBER:
        return outsider(s, getattr(s, who), kind)
    if kind == "removed auditor":
        s.govern(Action.REMOVE_AUDITOR, s.auditor.address)
        signer = s.auditor
    elif gate == ARBITER and kind in OUTSIDER_KINDS:
        # Arbiters are accounts the council appoints, not member keys: any member key that is
        # not one, active or not, is refused as a non-arbiter.
        signer, _, _ = outsider(s, s.alpha, kind)
    else:
        signer = {
            "stranger": new_account,
            "member admin": lambda: s.alpha.admin,
            "member connector": lambda: key(s.alpha),
            "governor": lambda: s.governor,
            "auditor": lambda: s.auditor,
            "arbiter": lambda: s.arbiters[0],
        }[kind]()
    return signer, GATE_ERRORS.get((contract, gate), "MembershipMirrorNotConsortium"), {"account": signer.address}


OUTSIDER_CASES = [
    pytest.param(contract, function, kind, id=f"{contract}.{function}-{kind}")
    for (contract, function), (gate, _, _) in sorted(WRITES.items())
    for kind in (OUTSIDER_KINDS if gate == MEMBER else NOT_ONE_OF[gate])
]


@pytest.mark.parametrize(("contract", "function", "kind"), OUTSIDER_CASES)
def test_outsider_is_refused(s: Staged, contract: str, function: str, kind: str) -> None:
    gate, who, make_args = WRITES[contract, function]
    args = make_args(s)  # a receipt is signed before its signer's key or organisation is disabled
    signer, error, values = refused(s, contract, gate, who, kind)
    if error == "MembershipMirrorNotConsortium":
        values = {"caller": signer.address}
    expect_revert(lambda: s.send(signer, contract, function, *args), error, **values)


INSIDER_CASES = [
    pytest.param(contract, function, id=f"{contract}.{function}")
    for (contract, function), (gate, _, _) in sorted(WRITES.items())
    if gate not in NO_INSIDER
]


@pytest.mark.parametrize(("contract", "function"), INSIDER_CASES)
def test_insider_succeeds(s: Staged, contract: str, function: str) -> None:
    gate, who, make_args = WRITES[contract, function]
    caller = insider(s, gate, who)
    if (contract, function) == ("Consortium", "execute"):
        # The open proposal has one approval of two: lower the threshold to one first.
        lower = s.consortium.propose(s.governors[0], Action.SET_THRESHOLD, 1).proposal_id
        s.consortium.approve(s.governors[1], lower)
    if (contract, function) == ("Consortium", "cancel"):
        caller = s.governors[0]  # only the proposer cancels
    tx = s.send(caller, contract, function, *make_args(s))
    assert tx.events, f"{contract}.{function} emitted no event"

"""Issue 10, rights integrity: each test plays a member acting in bad faith against one rule
(bounded disputes, commit-then-reveal against a freeze, priority by order not by timestamp,
supersession voiding licences, approvals naming a serial, only current role holders weighing,
live key cap, expired certification, anchors per organisation, licences under dispute)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from client.chain.enums import Action, DisputeStatus, Grade, GrantStatus, Right
from client.consortium import Consortium
from tests.conftest import ONE_YEAR, chain_time, expect_revert, increase_time, new_account
from tests.contracts.factories import (
    ALL,
    EVIDENCE,
    READ,
    SALT,
    CourtScene,
    commitment,
    grant_request,
    h,
    hx,
    id_bytes,
    key,
    make_scene,
    names,
    request,
    seat_arbiters,
)

DAY = 24 * 3600
DISPUTE_PERIOD = 30 * DAY  # the deployment's default (Consortium.DEFAULT_DISPUTE_PERIOD)
MAX_OPEN_DISPUTES = 5


@dataclass
class Hardened(CourtScene):
    """Alpha 1, beta 2, gamma 3; two arbiters (threshold 2) and an auditor."""

    auditor: LocalAccount

    def access(self, signer: LocalAccount, function: str, *args: Any) -> Any:
        return self.registry.transact(signer, "AccessRegistry", function, *args)

    def authorized(self, root: bytes, org: Any, permission: int = READ) -> bool:
        now = chain_time(self.registry.w3)
        return bool(self.registry.call("AccessRegistry", "isAuthorized", root, id_bytes(org), permission, now))

    def grant(self, grantor: Any, root: bytes, grantee: Any, permissions: int = READ, days: int = 1) -> Any:
        now = chain_time(self.registry.w3)
        return self.access(key(grantor), "grant", grant_request(root, grantee, permissions, (now, now + days * DAY)))

    def status(self, dispute_id: int) -> DisputeStatus:
        return DisputeStatus(self.dispute(dispute_id)["status"])


@pytest.fixture(scope="module")
def scene(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Hardened:
    base = make_scene(w3, tmp_path_factory.mktemp("deployments"))
    auditor = new_account()
    assert Consortium(base.registry).propose(base.governor, Action.APPOINT_AUDITOR, auditor.address).executed
    return seat_arbiters(Hardened(**vars(base), arbiters=[], auditor=auditor))


@pytest.fixture
def c(scene: Hardened, w3: Web3) -> Iterator[Hardened]:
    founding = list(scene.arbiters[:2])
    yield scene
    scene.arbiters[:] = founding


def set_next_timestamp(w3: Web3, timestamp: int) -> None:
    w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]


# ----- 1. bounded disputes -----


def test_a_freeze_lapses_by_itself_after_the_dispute_period(c: Hardened) -> None:
    root = h("frozen forever?")
    c.register(c.alpha, root)
    dispute_id, opened = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    opened_at = c.block_time(opened)
    assert c.frozen(root, Right.HOLDING)
    set_next_timestamp(c.registry.w3, opened_at + DISPUTE_PERIOD - 1)
    c.next_block()
    assert c.frozen(root, Right.HOLDING)  # one second before the end
    set_next_timestamp(c.registry.w3, opened_at + DISPUTE_PERIOD)
    c.next_block()
    assert not c.frozen(root, Right.HOLDING)  # lapsed without anyone calling anything
    c.write(key(c.alpha), "offerRight", root, int(Right.HOLDING), id_bytes(c.gamma))
    expect_revert(
        lambda: c.disputes.vote(c.arbiters[0], dispute_id, True),
        "DisputeCourtDisputeExpired",
        disputeId=dispute_id,
        expiresAt=opened_at + DISPUTE_PERIOD,
    )
    # Anyone (here an arbiter's account, not a member) records the lapse.
    closed = c.court(c.arbiters[0], "close", dispute_id)
    assert closed.event("DisputeClosed").args == {
        "disputeId": dispute_id,
        "root": hx(root),
        "right": Right.HOLDING,
        "status": DisputeStatus.LAPSED,
    }
    assert c.status(dispute_id) == DisputeStatus.LAPSED


def test_an_open_dispute_cannot_be_closed_before_it_expires(c: Hardened) -> None:
    root = h("still running")
    c.register(c.alpha, root)
    dispute_id, opened = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    expect_revert(
        lambda: c.court(key(c.alpha), "close", dispute_id),
        "DisputeCourtNotClosable",
        disputeId=dispute_id,
        expiresAt=c.block_time(opened) + DISPUTE_PERIOD,
    )


def test_no_dispute_while_the_arbiters_cannot_reach_their_threshold(
    w3: Web3, tmp_path_factory: pytest.TempPathFactory
) -> None:
    s = make_scene(w3, tmp_path_factory.mktemp("no-arbiters"))  # arbiter threshold 1, no arbiter
    root = h("no court sits")
    s.register(s.alpha, root)
    expect_revert(
        lambda: s.registry.transact(key(s.beta), "DisputeCourt", "open", root, int(Right.HOLDING), EVIDENCE),
        "DisputeCourtNoArbiters",
        arbiters=0,
        threshold=1,
    )


def test_one_claimant_has_a_bounded_number_of_open_disputes(c: Hardened) -> None:
    roots = [h(f"harassed {i}") for i in range(2)]
    for root in roots:
        c.register(c.alpha, root)
    targets = [(root, right) for root in roots for right in Right][:MAX_OPEN_DISPUTES]
    opened = [c.disputes.open(key(c.beta), root, right, EVIDENCE)[0] for root, right in targets]
    expect_revert(
        lambda: c.disputes.open(key(c.beta), roots[1], Right.OPERATION, EVIDENCE),
        "DisputeCourtTooManyOpenDisputes",
        claimant=2,
        openDisputes=MAX_OPEN_DISPUTES,
        maxOpen=MAX_OPEN_DISPUTES,
    )
    # Another member is not affected, and a decided dispute frees a place.
    c.disputes.open(key(c.gamma), roots[1], Right.OPERATION, EVIDENCE)
    for arbiter in c.arbiters:
        c.disputes.vote(arbiter, opened[0], False)
    c.disputes.open(key(c.beta), h("harassed 0"), Right.HOLDING, EVIDENCE)


@pytest.mark.parametrize("action", [Action.EXPEL_MEMBER, Action.SUSPEND_MEMBER])
def test_an_inactive_claimants_dispute_is_never_upheld_and_anyone_closes_it(c: Hardened, action: Action) -> None:
    root = h("claim of a member on its way out")
    c.register(c.alpha, root)
    dispute_id, _ = c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    c.disputes.vote(c.arbiters[0], dispute_id, True)
    c.govern(action, c.beta)
    expect_revert(
        lambda: c.disputes.vote(c.arbiters[1], dispute_id, True),
        "DisputeCourtClaimantNotActive",
        disputeId=dispute_id,
        claimant=2,
    )
    assert c.holders(root)[Right.OPERATION] == 1
    closed = c.court(key(c.gamma), "close", dispute_id)
    assert "RightUnfrozen" in names(closed)
    assert c.status(dispute_id) == DisputeStatus.LAPSED
    assert not c.frozen(root, Right.OPERATION)


def test_an_expired_dispute_gives_way_to_a_new_one_on_the_same_right(c: Hardened) -> None:
    root = h("second claim")
    c.register(c.alpha, root)
    first, _ = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    increase_time(c.registry.w3, DISPUTE_PERIOD)
    second, tx = c.disputes.open(key(c.gamma), root, Right.HOLDING, EVIDENCE)
    assert names(tx)[:2] == ["DisputeClosed", "RightUnfrozen"]
    assert c.status(first) == DisputeStatus.LAPSED
    assert c.court_read("openDisputeOf", root, int(Right.HOLDING)) == second
    assert c.frozen(root, Right.HOLDING)


def test_the_council_sets_the_dispute_period_within_bounds(c: Hardened) -> None:
    assert c.registry.call("Consortium", "disputePeriod") == DISPUTE_PERIOD
    expect_revert(
        lambda: c.consortium.propose(c.governor, Action.SET_DISPUTE_PERIOD, 3600),
        "ConsortiumInvalidDisputePeriod",
        period=3600,
        minPeriod=DAY,
        maxPeriod=365 * DAY,
    )
    outcome = c.consortium.propose(c.governor, Action.SET_DISPUTE_PERIOD, 7 * DAY)
    assert outcome.executed
    assert c.registry.call("Consortium", "disputePeriod") == 7 * DAY
    root = h("short period")
    c.register(c.alpha, root)
    _, opened = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    assert c.read("frozenUntil", root, int(Right.HOLDING)) == c.block_time(opened) + 7 * DAY


# ----- 2. a valid earlier commitment wins whatever disputes are open -----


def test_an_earlier_commitment_wins_over_an_allys_dispute(c: Hardened) -> None:
    """Gamma committed; alpha front-runs the reveal and its ally beta disputes alpha's holding
    to freeze it: gamma's reveal still supersedes, and the ally's dispute is voided."""
    root = h("front-run and frozen")
    c.write(key(c.gamma), "commit", commitment(root, c.gamma.org_id, SALT))
    increase_time(c.registry.w3, 60)
    c.register(c.alpha, root)
    dispute_id, _ = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    revealed = c.write(key(c.gamma), "reveal", request(root), SALT)
    assert "RegistrationSuperseded" in names(revealed)
    voided = revealed.event("DisputeClosed").args
    assert voided == {"disputeId": dispute_id, "root": hx(root), "right": Right.HOLDING, "status": DisputeStatus.VOIDED}
    assert c.dataset(root)["registrant"] == 3
    assert not c.frozen(root, Right.HOLDING)
    assert c.court_read("openDisputeOf", root, int(Right.HOLDING)) == 0
    # The voided dispute takes no more votes, and the ally's place in the cap is given back.
    expect_revert(
        lambda: c.disputes.vote(c.arbiters[0], dispute_id, True),
        "DisputeCourtDisputeNotOpen",
        disputeId=dispute_id,
        status=DisputeStatus.VOIDED,
    )
    assert c.court_read("openDisputesOf", 2) == 0


# ----- 3. priority by order, not by timestamp -----


def test_a_registration_in_the_commits_second_gives_way_to_the_reveal(c: Hardened) -> None:
    root = h("same second")
    committed = c.write(key(c.alpha), "commit", commitment(root, c.alpha.org_id, SALT))
    t0 = c.block_time(committed)
    set_next_timestamp(c.registry.w3, t0)  # anvil mines the next block in the same second
    front_run = c.register(c.beta, root)
    assert c.block_time(front_run) == t0 and front_run.block_number > committed.block_number
    revealed = c.write(key(c.alpha), "reveal", request(root), SALT)
    assert "RegistrationSuperseded" in names(revealed)
    assert c.dataset(root)["registrant"] == 1


def test_a_registration_in_the_commits_block_is_ordered_by_position(c: Hardened, w3: Web3) -> None:
    """Two transactions of one block: what was mined first has priority."""
    first, second = h("registered first"), h("committed first")
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        data = c.registry.contract("DataRegistry")
        sent = [
            _send(c, key(c.beta), data.encode_abi("register", args=[request(first)])),
            _send(c, key(c.alpha), data.encode_abi("commit", args=[commitment(first, c.alpha.org_id, SALT)])),
            _send(c, key(c.alpha), data.encode_abi("commit", args=[commitment(second, c.alpha.org_id, SALT)])),
            _send(c, key(c.beta), data.encode_abi("register", args=[request(second)])),
        ]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    blocks = {w3.eth.get_transaction_receipt(tx)["blockNumber"] for tx in sent}
    assert len(blocks) == 1
    c.next_block()
    expect_revert(
        lambda: c.write(key(c.alpha), "reveal", request(first), SALT),
        "DataRegistryAlreadyRegistered",
        root=hx(first),
        registrant=2,
        registeredAt=c.dataset(first)["registeredAt"],
    )
    assert "RegistrationSuperseded" in names(c.write(key(c.alpha), "reveal", request(second), SALT))


def _send(c: Hardened, signer: LocalAccount, data: str, to: str | None = None) -> Any:
    """Send without waiting (automine is off): zero fees, a fixed gas limit, the next nonce."""
    w3 = c.registry.w3
    tx = {
        "to": to or c.registry.contract("DataRegistry").address,
        "data": data,
        "gas": 500_000,
        "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
        "chainId": w3.eth.chain_id,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
    }
    return w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)


# ----- 4. supersession voids the loser's licences -----


def test_supersession_voids_the_losers_licences_and_core_data_is_never_licensed(c: Hardened) -> None:
    root = h("revealed as core")
    c.write(key(c.alpha), "commit", commitment(root, c.alpha.org_id, SALT))
    increase_time(c.registry.w3, 60)
    c.register(c.beta, root)
    c.grant(c.beta, root, c.gamma, ALL, days=3650)
    assert c.authorized(root, c.gamma)
    c.write(key(c.alpha), "reveal", request(root, grade=Grade.CORE), SALT)
    assert c.dataset(root)["grade"] == Grade.CORE
    assert not c.authorized(root, c.gamma)
    now = chain_time(c.registry.w3)
    registration = c.dataset(root)["priority"]
    assert tuple(c.registry.call("AccessRegistry", "authorization", root, registration, 3, READ, now)) == (False, 1)
    # The new operator cannot license core data either.
    expect_revert(lambda: c.grant(c.alpha, root, c.gamma), "AccessRegistryCoreData", root=hx(root))


# ----- 5. an approval names the serial it approves -----


def test_an_approval_only_activates_the_serial_it_names(c: Hardened) -> None:
    root = h("important: weld parameters")
    c.register(c.alpha, root, grade=Grade.IMPORTANT)
    c.grant(c.alpha, root, c.beta, READ, days=1)  # serial 1: the terms the auditor reviewed
    c.grant(c.alpha, root, c.beta, ALL, days=3650)  # serial 2: swapped in just before approval
    expect_revert(
        lambda: c.access(c.auditor, "approve", root, id_bytes(c.beta), 1),
        "AccessRegistryWrongSerial",
        root=hx(root),
        grantee=2,
        serial=1,
        currentSerial=2,
    )
    assert not c.authorized(root, c.beta)
    c.access(c.auditor, "approve", root, id_bytes(c.beta), 2)
    assert c.authorized(root, c.beta, ALL)


# ----- 6. only current holders weigh -----


def test_a_removed_arbiters_vote_no_longer_counts(c: Hardened) -> None:
    third = c.appoint_arbiter()
    root = h("vote of a removed arbiter")
    c.register(c.alpha, root)
    dispute_id, _ = c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    c.disputes.vote(third, dispute_id, True)
    assert c.consortium.propose(c.governor, Action.REMOVE_ARBITER, third.address).executed
    assert c.dispute(dispute_id)["upholdVotes"] == 0
    assert not c.disputes.has_voted(dispute_id, third.address)
    tx = c.disputes.vote(c.arbiters[0], dispute_id, True)
    assert tx.event("VoteCast").args["upholdVotes"] == 1
    assert c.status(dispute_id) == DisputeStatus.OPEN  # one live vote of the two needed
    # Re-appointed, it starts a new term: its old vote does not come back, it may vote again.
    assert c.consortium.propose(c.governor, Action.APPOINT_ARBITER, third.address).executed
    assert c.dispute(dispute_id)["upholdVotes"] == 1
    c.disputes.vote(third, dispute_id, True)
    assert c.status(dispute_id) == DisputeStatus.UPHELD


def test_a_readded_governor_does_not_get_its_old_approvals_back(w3: Web3, make_registry: Any) -> None:
    governors = [new_account() for _ in range(4)]
    registry = make_registry(governors, 3)
    council = Consortium(registry)
    g1, g2, g3, g4 = governors
    target = new_account().address
    pid = council.propose(g1, Action.APPOINT_AUDITOR, target).proposal_id
    council.approve(g2, pid)
    remove = council.propose(g1, Action.REMOVE_GOVERNOR, g2.address).proposal_id
    council.approve(g3, remove)
    assert council.approve(g4, remove).executed
    readd = council.propose(g1, Action.ADD_GOVERNOR, g2.address).proposal_id
    council.approve(g3, readd)
    assert council.approve(g4, readd).executed
    assert registry.call("Consortium", "proposal", pid)[1] == 1
    assert not registry.call("Consortium", "hasApproved", pid, g2.address)
    assert not council.approve(g3, pid).executed  # two live approvals of three
    assert council.approve(g2, pid).executed  # its approval in the new term counts


# ----- 7. the key cap counts live keys -----


def test_the_key_cap_counts_live_keys_and_governance_can_always_replace_the_admin(c: Hardened) -> None:
    org = c.gamma  # admin + one connector
    added = [new_account() for _ in range(62)]
    for account in added:
        c.consortium.add_connector(org.admin, account.address)
    expect_revert(
        lambda: c.consortium.add_connector(org.admin, new_account().address),
        "ConsortiumTooManyKeys",
        orgId=org.org_id,
        maxKeys=64,
    )
    # Governance replaces a compromised admin of a full organisation.
    new_admin = new_account()
    assert c.consortium.propose(c.governor, Action.REPLACE_ADMIN, id_bytes(org), new_admin.address).executed
    # A removed key frees its place.
    c.consortium.remove_connector(new_admin, added[0].address)
    fresh = new_account()
    c.consortium.add_connector(new_admin, fresh.address)
    assert c.registry.call("Consortium", "isActiveKey", fresh.address)


# ----- 8. expired certification -----


def test_an_expired_members_admin_cannot_add_connectors_or_hand_over_admin(c: Hardened) -> None:
    expires_at = c.registry.call("Consortium", "member", id_bytes(c.gamma))[3]
    increase_time(c.registry.w3, ONE_YEAR + DAY)
    for call in (
        lambda: c.consortium.add_connector(c.gamma.admin, new_account().address),
        lambda: c.registry.transact(c.gamma.admin, "Consortium", "transferAdmin", new_account().address),
    ):
        expect_revert(call, "ConsortiumCertificationExpired", orgId=c.gamma.org_id, expiresAt=expires_at)


def test_a_right_is_never_awarded_to_an_expired_claimant(c: Hardened) -> None:
    root = h("claimant lets its certification lapse")
    c.register(c.alpha, root)
    # Alpha stays certified; beta's certification ends in an hour.
    soon = chain_time(c.registry.w3) + 3600
    assert c.consortium.propose(c.governor, Action.RECERTIFY_MEMBER, id_bytes(c.beta), 2, b"\x02" * 32, soon).executed
    dispute_id, _ = c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    c.disputes.vote(c.arbiters[0], dispute_id, True)
    increase_time(c.registry.w3, 3600)
    expect_revert(
        lambda: c.disputes.vote(c.arbiters[1], dispute_id, True),
        "DisputeCourtClaimantNotActive",
        disputeId=dispute_id,
        claimant=2,
    )
    assert c.holders(root)[Right.OPERATION] == 1


# ----- 9. anchors per organisation -----


def test_the_same_root_anchored_by_two_organisations_gives_each_its_own_anchor(c: Hardened) -> None:
    """Alpha squats the tree beta prepared; beta anchors it too, and proves with its own anchor."""
    from client.merkle import leaf_hash, root_and_proofs

    root = h("prepared by beta")
    leaves = [h("beta before"), root, h("beta after")]
    tree, paths = root_and_proofs([leaf_hash(x) for x in leaves])
    squat = c.registry.transact(key(c.alpha), "AnchorRegistry", "anchor", tree, 3, bytes(32))
    own = c.registry.transact(key(c.beta), "AnchorRegistry", "anchor", tree, 3, bytes(32))
    assert c.registry.call("AnchorRegistry", "anchorOf", tree, 1)[1] == squat.block_number
    assert c.registry.call("AnchorRegistry", "anchorOf", tree, 2)[1] == own.block_number
    increase_time(c.registry.w3, 60)
    c.register(c.gamma, root)
    dispute_id, _ = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    proven = c.court(key(c.beta), "proveAnchor", dispute_id, tree, 1, paths[1])
    assert proven.event("PriorAnchoringProven").args["anchoredAt"] == c.block_time(own)
    expect_revert(
        lambda: c.registry.transact(key(c.beta), "AnchorRegistry", "anchor", tree, 3, bytes(32)),
        "AnchorRegistryAlreadyAnchored",
        root=hx(tree),
        orgNo=2,
        anchoredAt=c.block_time(own),
    )


def test_an_anchor_in_the_registrations_block_does_not_prove_priority(c: Hardened, w3: Web3) -> None:
    from client.merkle import leaf_hash, root_and_proofs

    root = h("anchored in the same block")
    tree, paths = root_and_proofs([leaf_hash(root)])
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        anchors = c.registry.contract("AnchorRegistry")
        a = _send(c, key(c.beta), anchors.encode_abi("anchor", args=[tree, 1, bytes(32)]), anchors.address)
        data = c.registry.contract("DataRegistry")
        r = _send(c, key(c.alpha), data.encode_abi("register", args=[request(root)]))
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    block = w3.eth.get_transaction_receipt(a)["blockNumber"]
    assert w3.eth.get_transaction_receipt(r)["blockNumber"] == block
    dispute_id, _ = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    expect_revert(
        lambda: c.court(key(c.beta), "proveAnchor", dispute_id, tree, 0, paths[0]),
        "DisputeCourtAnchorNotBeforeRegistration",
        disputeId=dispute_id,
        anchorBlock=block,
        registrationBlock=block,
    )


# ----- 10. licences while the operation right is disputed -----


def test_no_new_licence_while_the_operation_right_is_disputed(c: Hardened) -> None:
    root = h("licensed under dispute")
    c.register(c.alpha, root)
    c.grant(c.alpha, root, c.beta)
    dispute_id, _ = c.disputes.open(key(c.gamma), root, Right.OPERATION, EVIDENCE)
    expect_revert(
        lambda: c.grant(c.alpha, root, c.gamma, ALL, days=3650), "AccessRegistryOperationDisputed", root=hx(root)
    )
    assert c.authorized(root, c.beta)  # an existing licence keeps running
    c.access(key(c.alpha), "revoke", root, id_bytes(c.beta))  # and may be revoked
    assert not c.authorized(root, c.beta)
    # A dispute over another right does not stop licensing.
    other = h("licensed, holding disputed")
    c.register(c.alpha, other)
    c.disputes.open(key(c.gamma), other, Right.HOLDING, EVIDENCE)
    c.grant(c.alpha, other, c.beta)
    # Once the dispute is decided, licensing resumes.
    for arbiter in c.arbiters:
        c.disputes.vote(arbiter, dispute_id, False)
    c.grant(c.alpha, root, c.gamma)
    assert GrantStatus(c.registry.call("AccessRegistry", "grantOf", root, 3)[3]) == GrantStatus.ACTIVE

"""Consortium contract: governance, membership, keys — against a real anvil node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from client.chain.enums import Action, KeyRole, MemberStatus, ProposalStatus, Role
from client.chain.registry import Registry
from client.consortium import Consortium
from client.errors import ContractRevertError
from tests.conftest import ONE_YEAR, admit, chain_time, expect_revert, increase_time, new_account


@dataclass
class Council:
    registry: Registry
    consortium: Consortium
    governors: list[LocalAccount]

    @property
    def g(self) -> LocalAccount:
        return self.governors[0]


@pytest.fixture
def council1(make_registry: Callable[..., Registry]) -> Council:
    """Three governors, threshold 1: every proposal executes at once."""
    governors = [new_account() for _ in range(3)]
    registry = make_registry(governors, 1)
    return Council(registry, Consortium(registry), governors)


@pytest.fixture
def council3(make_registry: Callable[..., Registry]) -> Council:
    """Three governors, threshold 3: proposals stay open until all approve."""
    governors = [new_account() for _ in range(3)]
    registry = make_registry(governors, 3)
    return Council(registry, Consortium(registry), governors)


def events(outcome: Any) -> list[str]:
    tx = getattr(outcome, "tx", outcome)
    return [e.name for e in tx.events]


def active_org_no(c: Council, key: str) -> int:
    return int(c.registry.call("Consortium", "requireActiveKey", key))


# ----- deployment -----


def test_constructor_emits_the_council(council3: Council) -> None:
    c = council3
    assert c.consortium.role_holders(Role.GOVERNOR) == [g.address for g in c.governors]
    assert c.consortium.threshold(Role.GOVERNOR) == 3
    assert c.consortium.threshold(Role.ARBITER) == 1


@pytest.mark.parametrize(("threshold", "holders"), [(0, 2), (3, 2)])
def test_constructor_refuses_an_impossible_threshold(
    make_registry: Callable[..., Registry], threshold: int, holders: int
) -> None:
    governors = [new_account() for _ in range(holders)]
    expect_revert(
        lambda: make_registry(governors, threshold),
        "ConsortiumInvalidThreshold",
        role=Role.GOVERNOR,
        threshold=threshold,
        holders=holders,
    )


# ----- every action, executed -----


def test_admit_member(council1: Council) -> None:
    c, admin = council1, new_account()
    expires = chain_time(c.registry.w3) + ONE_YEAR
    outcome = c.consortium.propose_admission(
        c.g, "LEI:5493001KJTIIGC8Y1R12", "Kiel Yards", admin.address, 3, b"\x07" * 32, expires
    )
    assert outcome.executed
    admitted = outcome.tx.event("MemberAdmitted").args
    assert admitted == {
        "orgId": "0x" + keccak(text="LEI:5493001KJTIIGC8Y1R12").hex(),
        "orgNo": 1,
        "admin": admin.address,
        "name": "Kiel Yards",
        "level": 3,
        "evidenceHash": "0x" + "07" * 32,
        "expiresAt": expires,
    }
    member = c.consortium.member("LEI:5493001KJTIIGC8Y1R12")
    assert (member.name, member.status, member.level, member.admin) == (
        "Kiel Yards",
        MemberStatus.ACTIVE,
        3,
        admin.address,
    )
    assert active_org_no(c, admin.address) == 1


def test_suspend_reinstate_expel(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA", connectors=1)
    assert "MemberSuspended" in events(c.consortium.propose(c.g, Action.SUSPEND_MEMBER, bytes.fromhex(org.org_id[2:])))
    assert c.consortium.member(org.identifier).status == MemberStatus.SUSPENDED
    assert "MemberReinstated" in events(
        c.consortium.propose(c.g, Action.REINSTATE_MEMBER, bytes.fromhex(org.org_id[2:]))
    )
    assert active_org_no(c, org.connectors[0].address) == 1
    assert "MemberExpelled" in events(c.consortium.propose(c.g, Action.EXPEL_MEMBER, bytes.fromhex(org.org_id[2:])))
    expect_revert(
        lambda: c.consortium.propose(c.g, Action.REINSTATE_MEMBER, bytes.fromhex(org.org_id[2:])),
        "ConsortiumInvalidTransition",
        orgId=org.org_id,
        status=MemberStatus.EXPELLED,
        action=Action.REINSTATE_MEMBER,
    )
    expect_revert(
        lambda: c.consortium.propose(c.g, Action.SUSPEND_MEMBER, bytes.fromhex(org.org_id[2:])),
        "ConsortiumInvalidTransition",
        orgId=org.org_id,
        status=MemberStatus.EXPELLED,
        action=Action.SUSPEND_MEMBER,
    )


def test_recertify_member(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA")
    later = chain_time(c.registry.w3) + 2 * ONE_YEAR
    outcome = c.consortium.propose(c.g, Action.RECERTIFY_MEMBER, bytes.fromhex(org.org_id[2:]), 4, b"\x09" * 32, later)
    assert outcome.tx.event("MemberRecertified").args == {
        "orgId": org.org_id,
        "level": 4,
        "evidenceHash": "0x" + "09" * 32,
        "expiresAt": later,
    }
    member = c.consortium.member(org.identifier)
    assert (member.level, member.certified_until) == (4, later)


def test_replace_admin(council1: Council) -> None:
    c, successor = council1, new_account()
    org = admit(c.consortium, c.g, "DEMO:ALPHA")
    outcome = c.consortium.propose(c.g, Action.REPLACE_ADMIN, bytes.fromhex(org.org_id[2:]), successor.address)
    assert outcome.tx.event("AdminReplaced").args == {
        "orgId": org.org_id,
        "previousAdmin": org.admin.address,
        "newAdmin": successor.address,
    }
    expect_revert(
        lambda: c.registry.call("Consortium", "requireActiveKey", org.admin.address),
        "ConsortiumKeyRevoked",
        key=org.admin.address,
        orgId=org.org_id,
    )
    assert active_org_no(c, successor.address) == 1


@pytest.mark.parametrize(
    ("appoint", "remove", "role"),
    [
        (Action.APPOINT_AUDITOR, Action.REMOVE_AUDITOR, Role.AUDITOR),
        (Action.APPOINT_ARBITER, Action.REMOVE_ARBITER, Role.ARBITER),
        (Action.ADD_GOVERNOR, Action.REMOVE_GOVERNOR, Role.GOVERNOR),
    ],
)
def test_appoint_and_remove_roles(council1: Council, appoint: Action, remove: Action, role: Role) -> None:
    c = council1
    first, second = new_account(), new_account()
    for account in (first, second):
        outcome = c.consortium.propose(c.g, appoint, account.address)
        assert outcome.tx.event("RoleGranted").args == {"role": role, "account": account.address}
    assert {first.address, second.address} <= set(c.consortium.role_holders(role))
    expect_revert(
        lambda: c.consortium.propose(c.g, appoint, first.address),
        "ConsortiumRoleAlreadyHeld",
        role=role,
        account=first.address,
    )
    outcome = c.consortium.propose(c.g, remove, first.address)
    assert outcome.tx.event("RoleRevoked").args == {"role": role, "account": first.address}
    assert first.address not in c.consortium.role_holders(role)
    expect_revert(
        lambda: c.consortium.propose(c.g, remove, first.address),
        "ConsortiumRoleNotHeld",
        role=role,
        account=first.address,
    )


def test_set_thresholds(council1: Council) -> None:
    c = council1
    outcome = c.consortium.propose(c.g, Action.SET_THRESHOLD, 2)
    assert outcome.tx.event("ThresholdChanged").args == {
        "role": Role.GOVERNOR,
        "previousThreshold": 1,
        "newThreshold": 2,
    }
    arbiters = [new_account(), new_account()]
    second = c.governors[1]
    for a in arbiters:
        pid = c.consortium.propose(c.g, Action.APPOINT_ARBITER, a.address).proposal_id
        assert c.consortium.approve(second, pid).executed
    pid = c.consortium.propose(c.g, Action.SET_ARBITER_THRESHOLD, 2).proposal_id
    outcome = c.consortium.approve(second, pid)
    assert outcome.tx.event("ThresholdChanged").args == {
        "role": Role.ARBITER,
        "previousThreshold": 1,
        "newThreshold": 2,
    }
    assert c.consortium.threshold(Role.ARBITER) == 2
    expect_revert(
        lambda: c.consortium.propose(c.g, Action.SET_ARBITER_THRESHOLD, 3),
        "ConsortiumInvalidThreshold",
        role=Role.ARBITER,
        threshold=3,
        holders=2,
    )
    expect_revert(
        lambda: c.consortium.propose(c.g, Action.REMOVE_ARBITER, arbiters[0].address),
        "ConsortiumThresholdUnreachable",
        role=Role.ARBITER,
        remaining=1,
        threshold=2,
    )


# ----- threshold edge cases -----


def test_threshold_one_executes_on_proposal(council1: Council) -> None:
    outcome = council1.consortium.propose(council1.g, Action.APPOINT_AUDITOR, new_account().address)
    assert outcome.executed
    assert council1.consortium.proposal(outcome.proposal_id).status == ProposalStatus.EXECUTED


def test_threshold_n_needs_every_governor(council3: Council) -> None:
    c, auditor = council3, new_account()
    outcome = c.consortium.propose(c.governors[0], Action.APPOINT_AUDITOR, auditor.address)
    assert not outcome.executed
    assert not c.consortium.approve(c.governors[1], outcome.proposal_id).executed
    info = c.consortium.proposal(outcome.proposal_id)
    assert (info.status, info.approvals, info.threshold) == (ProposalStatus.OPEN, 2, 3)
    assert auditor.address not in c.consortium.role_holders(Role.AUDITOR)
    assert c.consortium.approve(c.governors[2], outcome.proposal_id).executed
    assert auditor.address in c.consortium.role_holders(Role.AUDITOR)


def test_governor_cannot_approve_twice(council3: Council) -> None:
    c = council3
    pid = c.consortium.propose(c.governors[0], Action.APPOINT_AUDITOR, new_account().address).proposal_id
    expect_revert(
        lambda: c.consortium.approve(c.governors[0], pid),
        "ConsortiumAlreadyApproved",
        proposalId=pid,
        governor=c.governors[0].address,
    )
    c.consortium.approve(c.governors[1], pid)
    expect_revert(
        lambda: c.consortium.approve(c.governors[1], pid),
        "ConsortiumAlreadyApproved",
        proposalId=pid,
        governor=c.governors[1].address,
    )


def test_lowering_threshold_lets_open_proposals_execute(council3: Council) -> None:
    c, auditor = council3, new_account()
    waiting = c.consortium.propose(c.governors[0], Action.APPOINT_AUDITOR, auditor.address).proposal_id
    expect_revert(
        lambda: c.consortium.execute(c.governors[0], waiting),
        "ConsortiumThresholdNotReached",
        proposalId=waiting,
        approvals=1,
        threshold=3,
    )
    lower = c.consortium.propose(c.governors[0], Action.SET_THRESHOLD, 1).proposal_id
    c.consortium.approve(c.governors[1], lower)
    assert c.consortium.approve(c.governors[2], lower).executed
    c.consortium.execute(c.governors[1], waiting)
    assert auditor.address in c.consortium.role_holders(Role.AUDITOR)
    expect_revert(
        lambda: c.consortium.execute(c.governors[1], waiting),
        "ConsortiumProposalNotOpen",
        proposalId=waiting,
        status=ProposalStatus.EXECUTED,
    )


def test_raising_threshold_holds_open_proposals(make_registry: Callable[..., Registry]) -> None:
    governors = [new_account() for _ in range(3)]
    registry = make_registry(governors, 2)
    consortium = Consortium(registry)
    raise_ = consortium.propose(governors[0], Action.SET_THRESHOLD, 3).proposal_id
    waiting = consortium.propose(governors[0], Action.APPOINT_AUDITOR, new_account().address).proposal_id
    assert consortium.approve(governors[1], raise_).executed
    assert not consortium.approve(governors[1], waiting).executed  # 2 of now 3
    assert consortium.approve(governors[2], waiting).executed


def test_removed_governors_approval_no_longer_counts(make_registry: Callable[..., Registry]) -> None:
    governors = [new_account() for _ in range(3)]
    consortium = Consortium(make_registry(governors, 2))
    waiting = consortium.propose(governors[2], Action.APPOINT_AUDITOR, new_account().address).proposal_id
    removal = consortium.propose(governors[0], Action.REMOVE_GOVERNOR, governors[2].address).proposal_id
    assert consortium.approve(governors[1], removal).executed
    assert consortium.proposal(waiting).approvals == 0
    assert not consortium.approve(governors[0], waiting).executed
    assert consortium.approve(governors[1], waiting).executed


def test_removing_the_last_governor_is_refused(make_registry: Callable[..., Registry]) -> None:
    only = new_account()
    consortium = Consortium(make_registry([only], 1))
    expect_revert(
        lambda: consortium.propose(only, Action.REMOVE_GOVERNOR, only.address),
        "ConsortiumLastGovernor",
        governor=only.address,
    )


def test_removing_a_governor_below_threshold_is_refused(make_registry: Callable[..., Registry]) -> None:
    governors = [new_account() for _ in range(2)]
    consortium = Consortium(make_registry(governors, 2))
    expect_revert(
        lambda: consortium.propose(governors[0], Action.REMOVE_GOVERNOR, governors[1].address),
        "ConsortiumThresholdUnreachable",
        role=Role.GOVERNOR,
        remaining=1,
        threshold=2,
    )


@pytest.mark.parametrize("threshold", [0, 4])
def test_impossible_threshold_is_refused(council1: Council, threshold: int) -> None:
    expect_revert(
        lambda: council1.consortium.propose(council1.g, Action.SET_THRESHOLD, threshold),
        "ConsortiumInvalidThreshold",
        role=Role.GOVERNOR,
        threshold=threshold,
        holders=3,
    )


def test_execution_rechecks_state(council3: Council) -> None:
    c, admin_a, admin_b = council3, new_account(), new_account()
    expires = chain_time(c.registry.w3) + ONE_YEAR
    first = c.consortium.propose_admission(
        c.governors[0], "DEMO:TWIN", "Twin", admin_a.address, 1, bytes(32), expires
    ).proposal_id
    second = c.consortium.propose_admission(
        c.governors[0], "DEMO:TWIN", "Twin", admin_b.address, 1, bytes(32), expires
    ).proposal_id
    for g in c.governors[1:]:
        c.consortium.approve(g, first)
    c.consortium.approve(c.governors[1], second)
    expect_revert(
        lambda: c.consortium.approve(c.governors[2], second),
        "ConsortiumOrgExists",
        orgId="0x" + keccak(text="DEMO:TWIN").hex(),
        status=MemberStatus.ACTIVE,
    )


def test_cancel(council3: Council) -> None:
    c = council3
    pid = c.consortium.propose(c.governors[0], Action.APPOINT_AUDITOR, new_account().address).proposal_id
    expect_revert(
        lambda: c.consortium.cancel(c.governors[1], pid),
        "ConsortiumNotProposer",
        proposalId=pid,
        account=c.governors[1].address,
    )
    assert "ProposalCancelled" in events(c.consortium.cancel(c.governors[0], pid))
    expect_revert(
        lambda: c.consortium.approve(c.governors[1], pid),
        "ConsortiumProposalNotOpen",
        proposalId=pid,
        status=ProposalStatus.CANCELLED,
    )
    expect_revert(lambda: c.consortium.approve(c.governors[1], 99), "ConsortiumUnknownProposal", proposalId=99)


# ----- proposal validation -----


def test_admission_is_validated(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA")
    now = chain_time(c.registry.w3)
    cases: list[tuple[tuple[Any, ...], str, dict[str, Any]]] = [
        (
            (bytes(32), "X", new_account().address, 1, bytes(32), now + ONE_YEAR),
            "ConsortiumInvalidOrgId",
            {"orgId": "0x" + "00" * 32},
        ),
        (
            (b"\x05" * 32, "X", org.admin.address, 1, bytes(32), now + ONE_YEAR),
            "ConsortiumKeyInUse",
            {"key": org.admin.address, "orgId": org.org_id},
        ),
        (
            (b"\x05" * 32, "X", "0x" + "00" * 20, 1, bytes(32), now + ONE_YEAR),
            "ConsortiumInvalidAccount",
            {"account": "0x" + "00" * 20},
        ),
        (
            (b"\x05" * 32, "X", new_account().address, 0, bytes(32), now + ONE_YEAR),
            "ConsortiumInvalidLevel",
            {"level": 0},
        ),
    ]
    for args, name, values in cases:
        expect_revert(lambda args=args: c.consortium.propose(c.g, Action.ADMIT_MEMBER, *args), name, **values)
    with pytest.raises(ContractRevertError) as info:
        c.consortium.propose(c.g, Action.ADMIT_MEMBER, b"\x05" * 32, "X", new_account().address, 1, bytes(32), now - 1)
    assert info.value.error_name == "ConsortiumInvalidExpiry"
    assert info.value.values["expiresAt"] == now - 1


def test_malformed_arguments_are_refused(council1: Council) -> None:
    c = council1
    expect_revert(
        lambda: c.registry.transact(c.g, "Consortium", "propose", int(Action.SUSPEND_MEMBER), b"\x01" * 31),
        "ConsortiumMalformedArguments",
        action=Action.SUSPEND_MEMBER,
        length=31,
    )


def test_unknown_org_is_refused(council1: Council) -> None:
    c = council1
    missing = "0x" + keccak(text="DEMO:NOBODY").hex()
    expect_revert(lambda: c.consortium.member("DEMO:NOBODY"), "ConsortiumUnknownOrg", orgId=missing)
    expect_revert(
        lambda: c.consortium.propose(c.g, Action.SUSPEND_MEMBER, bytes.fromhex(missing[2:])),
        "ConsortiumUnknownOrg",
        orgId=missing,
    )


# ----- organisation keys -----


def test_connectors_act_for_their_org(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA", connectors=2)
    for key in org.connectors:
        assert active_org_no(c, key.address) == 1
        assert c.consortium.key_info(key.address) == (org.org_id, KeyRole.CONNECTOR)
    assert c.consortium.member(org.identifier).connectors == [k.address for k in org.connectors]


def test_removed_connector_is_refused(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA", connectors=1)
    key = org.connectors[0].address
    tx = c.consortium.remove_connector(org.admin, key)
    assert tx.event("ConnectorRemoved").args == {"orgId": org.org_id, "key": key, "admin": org.admin.address}
    expect_revert(
        lambda: c.registry.call("Consortium", "requireActiveKey", key),
        "ConsortiumKeyRevoked",
        key=key,
        orgId=org.org_id,
    )
    assert c.registry.call("Consortium", "isActiveKey", key) is False
    expect_revert(
        lambda: c.consortium.remove_connector(org.admin, key), "ConsortiumUnknownConnector", orgId=org.org_id, key=key
    )
    # It may come back to its own organisation, never to another one.
    c.consortium.add_connector(org.admin, key)
    assert active_org_no(c, key) == 1
    other = admit(c.consortium, c.g, "DEMO:BETA")
    c.consortium.remove_connector(org.admin, key)
    expect_revert(lambda: c.consortium.add_connector(other.admin, key), "ConsortiumKeyInUse", key=key, orgId=org.org_id)


def test_suspended_orgs_keys_are_refused(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA", connectors=1)
    c.consortium.propose(c.g, Action.SUSPEND_MEMBER, bytes.fromhex(org.org_id[2:]))
    for key in (org.admin.address, org.connectors[0].address):
        expect_revert(
            lambda key=key: c.registry.call("Consortium", "requireActiveKey", key),
            "ConsortiumMemberNotActive",
            orgId=org.org_id,
            status=MemberStatus.SUSPENDED,
        )
        assert c.registry.call("Consortium", "isActiveKey", key) is False
    expect_revert(
        lambda: c.consortium.add_connector(org.admin, new_account().address),
        "ConsortiumMemberNotActive",
        orgId=org.org_id,
        status=MemberStatus.SUSPENDED,
    )


def test_expired_certification_is_refused(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA")
    expires = c.consortium.member(org.identifier).certified_until
    increase_time(c.registry.w3, ONE_YEAR + 10)
    expect_revert(
        lambda: c.registry.call("Consortium", "requireActiveKey", org.admin.address),
        "ConsortiumCertificationExpired",
        orgId=org.org_id,
        expiresAt=expires,
    )


def test_unknown_key_is_refused(council1: Council) -> None:
    stranger = new_account().address
    expect_revert(
        lambda: council1.registry.call("Consortium", "requireActiveKey", stranger), "ConsortiumUnknownKey", key=stranger
    )


def test_key_of_another_org_cannot_be_added(council1: Council) -> None:
    c = council1
    alpha = admit(c.consortium, c.g, "DEMO:ALPHA", connectors=1)
    beta = admit(c.consortium, c.g, "DEMO:BETA")
    taken = alpha.connectors[0].address
    expect_revert(
        lambda: c.consortium.add_connector(beta.admin, taken), "ConsortiumKeyInUse", key=taken, orgId=alpha.org_id
    )


def test_transfer_admin(council1: Council) -> None:
    c, successor = council1, new_account()
    org = admit(c.consortium, c.g, "DEMO:ALPHA")
    tx = c.consortium.transfer_admin(org.admin, successor.address)
    assert tx.event("AdminReplaced").args == {
        "orgId": org.org_id,
        "previousAdmin": org.admin.address,
        "newAdmin": successor.address,
    }
    expect_revert(
        lambda: c.consortium.add_connector(org.admin, new_account().address),
        "ConsortiumNotOrgAdmin",
        account=org.admin.address,
    )
    c.consortium.add_connector(successor, new_account().address)


def test_besu_transaction_allowed(council1: Council) -> None:
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA")

    def allowed(sender: str) -> bool:
        return bool(
            c.registry.call("Consortium", "transactionAllowed", sender, c.registry.consortium.address, 0, 0, 0, b"")
        )

    assert allowed(org.admin.address) and allowed(c.g.address)
    assert not allowed(new_account().address)
    c.consortium.propose(c.g, Action.SUSPEND_MEMBER, bytes.fromhex(org.org_id[2:]))
    assert not allowed(org.admin.address)


@pytest.mark.parametrize(
    ("appoint", "role"), [(Action.APPOINT_AUDITOR, Role.AUDITOR), (Action.APPOINT_ARBITER, Role.ARBITER)]
)
def test_judges_are_never_member_keys(council1: Council, appoint: Action, role: Role) -> None:
    """Separation of duties: a member key cannot become an auditor or arbiter, nor the reverse."""
    c = council1
    org = admit(c.consortium, c.g, "DEMO:ALPHA", connectors=1)
    member_key = org.connectors[0].address
    expect_revert(
        lambda: c.consortium.propose(c.g, appoint, member_key), "ConsortiumKeyInUse", key=member_key, orgId=org.org_id
    )
    judge = new_account().address
    c.consortium.propose(c.g, appoint, judge)
    expect_revert(
        lambda: c.consortium.add_connector(org.admin, judge), "ConsortiumRoleAlreadyHeld", role=role, account=judge
    )
    expect_revert(
        lambda: c.consortium.transfer_admin(org.admin, judge), "ConsortiumRoleAlreadyHeld", role=role, account=judge
    )

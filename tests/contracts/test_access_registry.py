"""AccessRegistry contract: licences on general, important and core data, windows, approval,
revocation — on anvil."""

from __future__ import annotations

from functools import partial

import pytest
from eth_utils import keccak
from web3 import Web3

from client.chain.enums import Action, GrantStatus, MemberStatus, Right
from tests.conftest import chain_time, expect_revert, new_account
from tests.contracts.factories import (
    ALL,
    COMMERCIAL,
    CORE,
    DAY,
    DERIVE,
    GENERAL,
    GRANT_FIELDS,
    IMPORTANT,
    READ,
    RESHARE,
    TERMS,
    Licensing,
    grant_request,
    h,
    hx,
    key,
    make_licensing,
)


@pytest.fixture(scope="module")
def scene(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Licensing:
    # Once per module; the per-test snapshot restores it (see test_data_registry).
    return make_licensing(w3, tmp_path_factory.mktemp("deployments"))


@pytest.fixture
def s(scene: Licensing, w3: Web3) -> Licensing:
    return scene


# ----- grants on general data -----


def test_grant_on_general_data_is_active_at_once(s: Licensing) -> None:
    start, end = s.day()
    tx = s.grant(s.alpha, GENERAL, s.beta, READ | DERIVE, (start, end))
    assert [e.name for e in tx.events] == ["GrantIssued"]
    assert tx.event("GrantIssued").args == {
        "root": hx(GENERAL),
        "grantee": 2,
        "grantor": 1,
        "serial": 1,
        "permissions": READ | DERIVE,
        "validFrom": start,
        "validUntil": end,
        "termsCommitment": hx(TERMS.commitment),
        "status": GrantStatus.ACTIVE,
    }
    assert s.grant_of(GENERAL, 2) == {
        "grantor": 1,
        "serial": 1,
        "permissions": READ | DERIVE,
        "status": GrantStatus.ACTIVE,
        "validFrom": start,
        "validUntil": end,
        "registration": s.registration(GENERAL),
    }
    assert s.authorized(GENERAL, s.beta, READ, start + 60) is True
    assert s.authorization(GENERAL, 2, READ, start + 60) == (True, 1)
    # Nobody else gained anything.
    assert s.authorized(GENERAL, s.gamma, READ, start + 60) is False
    assert s.authorization(GENERAL, 3, READ, start + 60) == (False, 0)
    assert s.grant_of(GENERAL, 3) == dict.fromkeys(GRANT_FIELDS, 0)
    assert s.authorized(GENERAL, keccak(text="DEMO:NOBODY"), READ, start + 60) is False


def test_a_new_grant_replaces_the_previous_one(s: Licensing) -> None:
    start, end = s.day()
    s.grant(s.alpha, GENERAL, s.beta, READ, (start, end))
    tx = s.grant(s.alpha, GENERAL, s.beta, DERIVE | COMMERCIAL, (start + 10, end + DAY))
    assert (tx.event("GrantIssued").args["serial"], tx.event("GrantIssued").args["status"]) == (2, GrantStatus.ACTIVE)
    assert s.grant_of(GENERAL, 2) == {
        "grantor": 1,
        "serial": 2,
        "permissions": DERIVE | COMMERCIAL,
        "status": GrantStatus.ACTIVE,
        "validFrom": start + 10,
        "validUntil": end + DAY,
        "registration": s.registration(GENERAL),
    }
    assert s.authorized(GENERAL, s.beta, READ, start + 60) is False  # READ went with serial 1
    assert s.authorization(GENERAL, 2, DERIVE | COMMERCIAL, end + 1) == (True, 2)
    # Serials count per (dataset, grantee).
    assert s.grant(s.alpha, GENERAL, s.gamma).event("GrantIssued").args["serial"] == 1


def test_a_revoked_grant_can_be_issued_again(s: Licensing) -> None:
    s.grant(s.alpha, GENERAL, s.beta)
    s.revoke(key(s.alpha), GENERAL, s.beta)
    start, end = s.day()
    tx = s.grant(s.alpha, GENERAL, s.beta, READ, (start, end))
    assert (tx.event("GrantIssued").args["serial"], s.grant_of(GENERAL, 2)["status"]) == (2, GrantStatus.ACTIVE)
    assert s.authorized(GENERAL, s.beta, READ, start) is True


# ----- validity window and permissions -----


def test_window_boundaries(s: Licensing) -> None:
    now = chain_time(s.registry.w3)
    valid_from, valid_until = now + 100, now + 200
    s.grant(s.alpha, GENERAL, s.beta, READ, (valid_from, valid_until))
    answers = {
        t: s.authorized(GENERAL, s.beta, READ, t) for t in (valid_from - 1, valid_from, valid_until, valid_until + 1)
    }
    assert answers == {valid_from - 1: False, valid_from: True, valid_until: True, valid_until + 1: False}
    assert s.authorization(GENERAL, 2, READ, valid_until + 1) == (False, 1)  # the serial that decided


def test_one_second_window(s: Licensing) -> None:
    at = chain_time(s.registry.w3) + 50
    s.grant(s.alpha, GENERAL, s.beta, READ, (at, at))
    assert [s.authorized(GENERAL, s.beta, READ, t) for t in (at - 1, at, at + 1)] == [False, True, False]


@pytest.mark.parametrize(
    "granted", [READ, DERIVE, READ | DERIVE, READ | RESHARE, DERIVE | COMMERCIAL, ALL], ids=lambda p: f"granted={p}"
)
def test_permission_masks(s: Licensing, granted: int) -> None:
    """Authorised exactly for non-empty requests whose every bit the grant holds."""
    start, _ = s.day()
    s.grant(s.alpha, GENERAL, s.beta, granted, s.day())
    asked_masks = list(range(ALL + 2))  # every combination, the empty one and an unknown bit (16)
    answers = {asked: s.authorized(GENERAL, s.beta, asked, start) for asked in asked_masks}
    assert answers == {asked: asked != 0 and asked & granted == asked for asked in asked_masks}
    if granted == READ:
        assert s.authorized(GENERAL, s.beta, DERIVE, start) is False


# ----- important data: auditor approval -----


def test_important_grant_waits_for_an_auditor(s: Licensing) -> None:
    start, end = s.day()
    issued = s.grant(s.alpha, IMPORTANT, s.beta, READ, (start, end))
    assert issued.event("GrantIssued").args["status"] == GrantStatus.PENDING
    assert s.grant_of(IMPORTANT, 2)["status"] == GrantStatus.PENDING
    assert s.authorized(IMPORTANT, s.beta, READ, start) is False
    assert s.authorization(IMPORTANT, 2, READ, start) == (False, 1)
    approved = s.approve(IMPORTANT, s.beta)
    assert [e.name for e in approved.events] == ["GrantApproved"]
    assert approved.event("GrantApproved").args == {
        "root": hx(IMPORTANT),
        "grantee": 2,
        "serial": 1,
        "auditor": s.auditor.address,
    }
    assert s.grant_of(IMPORTANT, 2) == {
        "grantor": 1,
        "serial": 1,
        "permissions": READ,
        "status": GrantStatus.ACTIVE,
        "validFrom": start,
        "validUntil": end,
        "registration": s.registration(IMPORTANT),
    }
    assert s.authorized(IMPORTANT, s.beta, READ, start) is True


def test_rejected_grant_never_authorises(s: Licensing) -> None:
    start, _ = s.day()
    s.grant(s.alpha, IMPORTANT, s.beta, READ, s.day())
    rejected = s.reject(IMPORTANT, s.beta)
    assert rejected.event("GrantRejected").args == {
        "root": hx(IMPORTANT),
        "grantee": 2,
        "serial": 1,
        "auditor": s.auditor.address,
    }
    assert s.grant_of(IMPORTANT, 2)["status"] == GrantStatus.REJECTED
    assert s.authorized(IMPORTANT, s.beta, READ, start) is False
    for decide in (s.approve, s.reject):
        expect_revert(
            partial(decide, IMPORTANT, s.beta),
            "AccessRegistryNotPending",
            root=hx(IMPORTANT),
            grantee=2,
            status=GrantStatus.REJECTED,
        )
    expect_revert(
        lambda: s.revoke(key(s.alpha), IMPORTANT, s.beta),
        "AccessRegistryNotActive",
        root=hx(IMPORTANT),
        grantee=2,
        status=GrantStatus.REJECTED,
    )
    assert s.authorized(IMPORTANT, s.beta, READ, start) is False


def test_reissued_important_grant_needs_a_new_approval(s: Licensing) -> None:
    """Replacing an approved grant must not carry the approval over to new terms."""
    window = s.day()
    start = window[0]
    s.grant(s.alpha, IMPORTANT, s.beta, READ, window)
    s.approve(IMPORTANT, s.beta)
    # The same window: under load a second s.day() can start a second later than `start`.
    tx = s.grant(s.alpha, IMPORTANT, s.beta, ALL, window)
    assert (tx.event("GrantIssued").args["serial"], tx.event("GrantIssued").args["status"]) == (2, GrantStatus.PENDING)
    assert s.authorized(IMPORTANT, s.beta, READ, start) is False
    assert s.approve(IMPORTANT, s.beta).event("GrantApproved").args["serial"] == 2
    assert s.authorized(IMPORTANT, s.beta, ALL, start) is True


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_decisions_need_a_pending_grant(s: Licensing, decision: str) -> None:
    decide = getattr(s, decision)
    expect_revert(partial(decide, IMPORTANT, s.beta), "AccessRegistryUnknownGrant", root=hx(IMPORTANT), grantee=2)
    # A non-member grantee has member number 0.
    nobody = keccak(text="DEMO:NOBODY")
    expect_revert(
        lambda: s.access(s.auditor, decision, IMPORTANT, nobody, 1),
        "AccessRegistryUnknownGrant",
        root=hx(IMPORTANT),
        grantee=0,
    )
    s.grant(s.alpha, GENERAL, s.beta)
    expect_revert(
        partial(decide, GENERAL, s.beta),
        "AccessRegistryNotPending",
        root=hx(GENERAL),
        grantee=2,
        status=GrantStatus.ACTIVE,
    )
    s.grant(s.alpha, IMPORTANT, s.beta)
    s.revoke(key(s.alpha), IMPORTANT, s.beta)
    expect_revert(
        partial(decide, IMPORTANT, s.beta),
        "AccessRegistryNotPending",
        root=hx(IMPORTANT),
        grantee=2,
        status=GrantStatus.REVOKED,
    )


@pytest.mark.parametrize("who", ["grantor connector", "grantee connector", "governor", "removed auditor"])
def test_only_a_sitting_auditor_decides(s: Licensing, who: str) -> None:
    s.grant(s.alpha, IMPORTANT, s.beta)
    signer = {"grantor connector": key(s.alpha), "grantee connector": key(s.beta), "governor": s.governor}.get(who)
    if who == "removed auditor":
        s.consortium.propose(s.governor, Action.REMOVE_AUDITOR, s.auditor.address)
        signer = s.auditor
    assert signer is not None
    for decide in (s.approve, s.reject):
        expect_revert(partial(decide, IMPORTANT, s.beta, signer), "AccessRegistryNotAuditor", account=signer.address)
    assert s.grant_of(IMPORTANT, 2)["status"] == GrantStatus.PENDING


def test_grantor_cannot_approve_its_own_grant(s: Licensing) -> None:
    s.grant(s.alpha, IMPORTANT, s.beta)
    expect_revert(
        lambda: s.consortium.propose(s.governor, Action.APPOINT_AUDITOR, key(s.alpha).address),
        "ConsortiumKeyInUse",
        key=key(s.alpha).address,
        orgId=s.alpha.org_id,
    )
    assert s.grant_of(IMPORTANT, 2)["status"] == GrantStatus.PENDING


# ----- core data -----


@pytest.mark.parametrize("permissions", [READ, ALL])
def test_core_data_cannot_be_licensed(s: Licensing, permissions: int) -> None:
    expect_revert(lambda: s.grant(s.alpha, CORE, s.beta, permissions), "AccessRegistryCoreData", root=hx(CORE))
    assert s.grant_of(CORE, 2)["status"] == GrantStatus.NONE


# ----- revoke -----


@pytest.mark.parametrize("signer", ["connector", "admin", "second connector"])
def test_grantor_revokes(s: Licensing, signer: str) -> None:
    start, _ = s.day()
    s.grant(s.alpha, GENERAL, s.beta, READ, s.day())
    revoker = {"connector": key(s.alpha), "admin": s.alpha.admin, "second connector": new_account()}[signer]
    if signer == "second connector":
        s.consortium.add_connector(s.alpha.admin, revoker.address)
    tx = s.revoke(revoker, GENERAL, s.beta)
    assert [e.name for e in tx.events] == ["GrantRevoked"]
    assert tx.event("GrantRevoked").args == {"root": hx(GENERAL), "grantee": 2, "serial": 1, "grantor": 1}
    assert s.grant_of(GENERAL, 2)["status"] == GrantStatus.REVOKED
    assert s.authorized(GENERAL, s.beta, READ, start) is False
    expect_revert(
        lambda: s.revoke(revoker, GENERAL, s.beta),
        "AccessRegistryNotActive",
        root=hx(GENERAL),
        grantee=2,
        status=GrantStatus.REVOKED,
    )


def test_pending_grant_can_be_revoked(s: Licensing) -> None:
    s.grant(s.alpha, IMPORTANT, s.beta)
    assert s.revoke(key(s.alpha), IMPORTANT, s.beta).event("GrantRevoked").args["serial"] == 1
    assert s.grant_of(IMPORTANT, 2)["status"] == GrantStatus.REVOKED


@pytest.mark.parametrize(("who", "org_no"), [("beta", 2), ("gamma", 3)])
def test_only_the_grantor_revokes(s: Licensing, who: str, org_no: int) -> None:
    s.grant(s.alpha, GENERAL, s.beta)
    expect_revert(
        lambda: s.revoke(key(getattr(s, who)), GENERAL, s.beta),
        "AccessRegistryNotGrantor",
        root=hx(GENERAL),
        grantee=2,
        orgNo=org_no,
        grantor=1,
    )
    assert s.grant_of(GENERAL, 2)["status"] == GrantStatus.ACTIVE


def test_revoke_of_an_unknown_grant(s: Licensing) -> None:
    s.grant(s.alpha, GENERAL, s.beta)
    expect_revert(
        lambda: s.revoke(key(s.alpha), GENERAL, s.gamma), "AccessRegistryUnknownGrant", root=hx(GENERAL), grantee=3
    )
    expect_revert(
        lambda: s.revoke(key(s.alpha), IMPORTANT, s.beta), "AccessRegistryUnknownGrant", root=hx(IMPORTANT), grantee=2
    )
    expect_revert(
        lambda: s.access(key(s.alpha), "revoke", GENERAL, keccak(text="DEMO:NOBODY")),
        "AccessRegistryUnknownGrant",
        root=hx(GENERAL),
        grantee=0,
    )


# ----- who may grant -----


def test_only_the_operation_right_holder_grants(s: Licensing) -> None:
    expect_revert(
        lambda: s.grant(s.beta, GENERAL, s.gamma), "AccessRegistryNotOperator", root=hx(GENERAL), orgNo=2, operator=1
    )
    # Holding and processing rights do not license.
    s.move_right(GENERAL, Right.HOLDING, s.alpha, s.gamma)
    s.move_right(GENERAL, Right.PROCESSING, s.alpha, s.gamma)
    expect_revert(
        lambda: s.grant(s.gamma, GENERAL, s.beta), "AccessRegistryNotOperator", root=hx(GENERAL), orgNo=3, operator=1
    )


def test_operation_right_moves_the_power_to_grant(s: Licensing) -> None:
    s.grant(s.alpha, GENERAL, s.gamma)  # issued while alpha operated the dataset
    s.move_right(GENERAL, Right.OPERATION, s.alpha, s.beta)
    expect_revert(
        lambda: s.grant(s.alpha, GENERAL, s.beta), "AccessRegistryNotOperator", root=hx(GENERAL), orgNo=1, operator=2
    )
    tx = s.grant(s.beta, GENERAL, s.alpha, READ | DERIVE)
    assert tx.event("GrantIssued").args | {"validFrom": 0, "validUntil": 0} == {
        "root": hx(GENERAL),
        "grantee": 1,
        "grantor": 2,
        "serial": 1,
        "permissions": READ | DERIVE,
        "validFrom": 0,
        "validUntil": 0,
        "termsCommitment": hx(TERMS.commitment),
        "status": GrantStatus.ACTIVE,
    }
    # The earlier licence stays the old grantor's to revoke; the new operator can replace it.
    expect_revert(
        lambda: s.revoke(key(s.beta), GENERAL, s.gamma),
        "AccessRegistryNotGrantor",
        root=hx(GENERAL),
        grantee=3,
        orgNo=2,
        grantor=1,
    )
    replaced = s.grant(s.beta, GENERAL, s.gamma, DERIVE)
    assert (replaced.event("GrantIssued").args["serial"], s.grant_of(GENERAL, 3)["grantor"]) == (2, 2)


def test_grant_on_an_unknown_dataset(s: Licensing) -> None:
    missing = h("never registered")
    expect_revert(lambda: s.grant(s.alpha, missing, s.beta), "DataRegistryUnknownDataset", root=hx(missing))


# ----- invalid requests -----


@pytest.mark.parametrize("permissions", [0, 16, 17, 255])
def test_invalid_permissions(s: Licensing, permissions: int) -> None:
    expect_revert(
        lambda: s.grant(s.alpha, GENERAL, s.beta, permissions),
        "AccessRegistryInvalidPermissions",
        permissions=permissions,
    )


@pytest.mark.parametrize("window", ["empty", "over", "over long ago"])
def test_invalid_window(s: Licensing, window: str) -> None:
    now = chain_time(s.registry.w3)
    valid_from, valid_until = {"empty": (now + 10, now + 9), "over": (now - 100, now - 1), "over long ago": (0, 1)}[
        window
    ]
    expect_revert(
        lambda: s.grant(s.alpha, GENERAL, s.beta, READ, (valid_from, valid_until)),
        "AccessRegistryInvalidWindow",
        validFrom=valid_from,
        validUntil=valid_until,
    )


def test_window_may_end_at_the_grant_time(s: Licensing) -> None:
    now = chain_time(s.registry.w3)  # eth_call on the latest block runs at its time
    s.access_as(key(s.alpha), "grant", grant_request(GENERAL, s.beta, READ, (now, now)))
    s.access_as(key(s.alpha), "grant", grant_request(GENERAL, s.beta, READ, (0, now)))
    expect_revert(
        lambda: s.access_as(key(s.alpha), "grant", grant_request(GENERAL, s.beta, READ, (0, now - 1))),
        "AccessRegistryInvalidWindow",
        validFrom=0,
        validUntil=now - 1,
    )


def test_self_grant(s: Licensing) -> None:
    expect_revert(lambda: s.grant(s.alpha, GENERAL, s.alpha), "AccessRegistrySelfGrant", root=hx(GENERAL), orgNo=1)


def test_grantee_must_be_a_member(s: Licensing) -> None:
    nobody = keccak(text="DEMO:NOBODY")
    expect_revert(
        lambda: s.access(key(s.alpha), "grant", (GENERAL, nobody, READ, *s.day(), TERMS.commitment)),
        "ConsortiumUnknownOrg",
        orgId=hx(nobody),
    )


@pytest.mark.parametrize(
    ("action", "status"),
    [(Action.SUSPEND_MEMBER, MemberStatus.SUSPENDED), (Action.EXPEL_MEMBER, MemberStatus.EXPELLED)],
)
def test_grantee_must_be_active(s: Licensing, action: Action, status: MemberStatus) -> None:
    s.govern(action, s.beta)
    expect_revert(
        lambda: s.grant(s.alpha, GENERAL, s.beta), "ConsortiumMemberNotActive", orgId=s.beta.org_id, status=status
    )


@pytest.mark.parametrize("action", [Action.SUSPEND_MEMBER, Action.EXPEL_MEMBER])
def test_a_suspended_or_expelled_grantee_is_not_authorized(s: Licensing, action: Action) -> None:
    window = s.day()
    s.grant(s.alpha, GENERAL, s.beta, READ, window)
    assert s.authorized(GENERAL, s.beta, READ, window[0])
    s.govern(action, s.beta)
    assert not s.authorized(GENERAL, s.beta, READ, window[0])

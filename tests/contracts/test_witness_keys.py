"""Consortium witness keys (SetWitnessKey): governance sets them at threshold, a removed
governor's key is dropped, and the council history read from the events follows — on anvil."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from eth_account.signers.local import LocalAccount

from client.chain.enums import Action, Role
from client.chain.registry import Registry
from client.checkpoint_council import CouncilHistory, CouncilState, TrustedCouncil, council_history
from client.checkpoints import Council, origin_for
from client.consortium import Consortium
from client.errors import ContractRevertError
from tests.conftest import expect_revert, new_account


def key(n: int) -> bytes:
    return hashlib.sha256(b"witness %d" % n).digest()


def council(make_registry: Callable[..., Registry], threshold: int) -> tuple[Consortium, list[LocalAccount]]:
    governors = [new_account() for _ in range(3)]
    return Consortium(make_registry(governors, threshold)), governors


def test_a_witness_key_is_set_at_threshold_with_its_event(make_registry: Callable[..., Registry]) -> None:
    consortium, governors = council(make_registry, 2)
    g = governors[2].address
    opened = consortium.propose_witness_key(governors[0], g, key(1))
    assert not opened.executed
    assert consortium.witness_keys()[g] is None  # one governor of a threshold of two
    done = consortium.approve(governors[1], opened.proposal_id)
    assert done.executed
    changed = done.tx.event("WitnessKeyChanged").args
    assert (changed["governor"], changed["previousKey"], changed["newKey"]) == (
        g,
        "0x" + "00" * 32,
        "0x" + key(1).hex(),
    )
    assert consortium.witness_keys() == {governors[0].address: None, governors[1].address: None, g: key(1)}


def test_a_non_governor_cannot_propose_or_approve_a_key(make_registry: Callable[..., Registry]) -> None:
    consortium, governors = council(make_registry, 2)
    outsider = new_account()
    expect_revert(
        lambda: consortium.propose_witness_key(outsider, outsider.address, key(1)),
        "ConsortiumNotGovernor",
        account=outsider.address,
    )
    opened = consortium.propose_witness_key(governors[0], governors[0].address, key(1))
    expect_revert(
        lambda: consortium.approve(outsider, opened.proposal_id), "ConsortiumNotGovernor", account=outsider.address
    )
    # A governor alone cannot push it through below the threshold either.
    expect_revert(
        lambda: consortium.execute(governors[0], opened.proposal_id),
        "ConsortiumThresholdNotReached",
        proposalId=opened.proposal_id,
        approvals=1,
        threshold=2,
    )
    assert consortium.witness_keys()[governors[0].address] is None


def test_keys_only_for_governors_and_never_shared(make_registry: Callable[..., Registry]) -> None:
    consortium, governors = council(make_registry, 1)
    stranger = new_account().address
    expect_revert(
        lambda: consortium.propose_witness_key(governors[0], stranger, key(1)),
        "ConsortiumRoleNotHeld",
        role=Role.GOVERNOR,
        account=stranger,
    )
    consortium.propose_witness_key(governors[0], governors[0].address, key(1))
    # One key for two governors would let one signer count twice.
    expect_revert(
        lambda: consortium.propose_witness_key(governors[1], governors[1].address, key(1)),
        "ConsortiumWitnessKeyInUse",
        witnessKey="0x" + key(1).hex(),
        governor=governors[0].address,
    )
    # A governor may rotate its own key; the old one is free again.
    consortium.propose_witness_key(governors[0], governors[0].address, key(2))
    consortium.propose_witness_key(governors[1], governors[1].address, key(1))
    assert consortium.witness_keys()[governors[1].address] == key(1)


def test_removing_a_governor_drops_its_key_and_history_follows(make_registry: Callable[..., Registry]) -> None:
    consortium, governors = council(make_registry, 1)
    for n, g in enumerate(governors):
        consortium.propose_witness_key(governors[0], g.address, key(n))
    removed = consortium.propose(governors[0], Action.REMOVE_GOVERNOR, governors[2].address)
    assert [e.name for e in removed.tx.events].count("WitnessKeyChanged") == 1
    assert governors[2].address not in consortium.witness_keys()
    assert consortium.registry.call("Consortium", "witnessKey", governors[2].address) == b"\0" * 32
    # Re-appointed, it has no key until governance sets one again.
    consortium.propose(governors[0], Action.ADD_GOVERNOR, governors[2].address)
    assert consortium.witness_keys()[governors[2].address] is None

    registry = consortium.registry
    origin = origin_for(registry.chain_id, registry.consortium.address)
    history = CouncilHistory(
        TrustedCouncil(origin, 0, CouncilState()), tuple(council_history(consortium.council_events()))
    )
    lower = {g.address.lower(): key(n) for n, g in enumerate(governors)}
    before_removal = int(removed.tx.block_number) - 1
    assert history.at(before_removal) == Council(1, lower)
    assert history.at(int(removed.tx.block_number)) == Council(1, {a: k for a, k in lower.items() if k != key(2)})
    head = registry.w3.eth.block_number
    assert history.state_at(head).governors == {g.address.lower() for g in governors}


def test_malformed_witness_key_arguments_are_refused(make_registry: Callable[..., Registry]) -> None:
    consortium, governors = council(make_registry, 1)
    try:
        consortium.registry.transact(governors[0], "Consortium", "propose", int(Action.SET_WITNESS_KEY), b"\0" * 32)
    except ContractRevertError as exc:
        assert exc.error_name == "ConsortiumMalformedArguments"
        assert exc.values == {"action": Action.SET_WITNESS_KEY, "length": 32}
    else:
        raise AssertionError("a 32-byte argument was accepted for SetWitnessKey")

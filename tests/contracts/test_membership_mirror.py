"""The registry contracts' copies of the key records always equal the Consortium's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web3 import Web3

from client.chain.abi import deployment_data
from client.chain.artifacts import DEPLOYABLE, load_artifact
from client.chain.enums import Action, KeyRole, MemberStatus
from client.chain.registry import Registry
from client.chain.transact import send_transaction
from client.consortium import Consortium
from tests.conftest import ONE_YEAR, admit, chain_time, expect_revert, increase_time, new_account

MIRRORS = DEPLOYABLE[1:]


def assert_mirrors_match(registry: Registry, keys: list[str]) -> None:
    consortium = registry.consortium
    for key in keys:
        org, role = consortium.functions.keyInfo(key).call()
        org_no = consortium.functions.orgNoOf(org).call() if any(org) else 0
        expected: tuple[object, ...] = (bytes(org), org_no, role)
        # A removed key's status and expiry are not kept up to date (it cannot act whatever
        # they say; they are written afresh if it is added back).
        if org_no and role != KeyRole.NONE:
            member = consortium.functions.memberByNo(org_no).call()
            expected = (bytes(org), org_no, role, member[5], member[3])
        for name in MIRRORS:
            mirrored = tuple(registry.contract(name).functions.mirroredKey(key).call())
            assert mirrored[: len(expected)] == expected, (name, key)
            if org_no:
                assert registry.call("Consortium", "isActiveKey", key) == (
                    mirrored[2] != KeyRole.NONE
                    and mirrored[3] == MemberStatus.ACTIVE
                    and mirrored[4] > chain_time(registry.w3)
                )


def test_every_key_change_reaches_the_mirrors(make_registry: Callable[..., Registry]) -> None:
    governor = new_account()
    registry = make_registry([governor], 1)
    consortium = Consortium(registry)
    assert consortium.registry.call("Consortium", "mirrors") == [registry.contract(n).address for n in MIRRORS]
    alpha = admit(consortium, governor, "DEMO:ALPHA", connectors=2)
    beta = admit(consortium, governor, "DEMO:BETA", connectors=1)
    keys = [alpha.admin.address, beta.admin.address] + [k.address for k in alpha.connectors + beta.connectors]
    assert_mirrors_match(registry, keys)

    consortium.remove_connector(alpha.admin, alpha.connectors[0].address)
    assert_mirrors_match(registry, keys)
    alpha_id = bytes.fromhex(alpha.org_id[2:])
    consortium.propose(governor, Action.SUSPEND_MEMBER, alpha_id)
    assert_mirrors_match(registry, keys)
    consortium.propose(governor, Action.REINSTATE_MEMBER, alpha_id)
    later = chain_time(registry.w3) + 2 * ONE_YEAR
    consortium.propose(governor, Action.RECERTIFY_MEMBER, alpha_id, 3, bytes(32), later)
    assert_mirrors_match(registry, keys)
    # The connector removed before those changes comes back with the organisation's record now.
    consortium.add_connector(alpha.admin, alpha.connectors[0].address)
    assert_mirrors_match(registry, keys)
    assert registry.contract("DataRegistry").functions.mirroredKey(alpha.connectors[0].address).call()[4] == later
    successor = new_account()
    consortium.transfer_admin(alpha.admin, successor.address)
    replacement = new_account()
    consortium.propose(governor, Action.REPLACE_ADMIN, bytes.fromhex(beta.org_id[2:]), replacement.address)
    keys += [successor.address, replacement.address]
    assert_mirrors_match(registry, keys)
    consortium.propose(governor, Action.EXPEL_MEMBER, bytes.fromhex(beta.org_id[2:]))
    increase_time(registry.w3, ONE_YEAR + 1)  # beta's... and alpha's first certification would have expired
    assert_mirrors_match(registry, keys)


@pytest.mark.parametrize("mirror", MIRRORS)
def test_only_the_consortium_writes_a_mirror(make_registry: Callable[..., Registry], mirror: str) -> None:
    governor = new_account()
    registry = make_registry([governor], 1)
    alpha = admit(Consortium(registry), governor, "DEMO:ALPHA")
    for caller in (new_account(), governor, alpha.admin):
        expect_revert(
            lambda caller=caller: registry.transact(
                caller, mirror, "syncKey", caller.address, bytes(32), 1, 2, 1, 2**63
            ),
            "MembershipMirrorNotConsortium",
            caller=caller.address,
        )


def test_bind_mirrors_once_by_the_deployer_before_members(w3: Web3) -> None:
    deployer, governor = new_account(), new_account()
    created = send_transaction(
        w3, deployer, {"data": deployment_data(load_artifact("Consortium"), [governor.address], 1)}
    )
    address = str(created.contract_address)
    contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact("Consortium").abi)

    def bind(signer: object, registries: list[str]) -> object:
        data = contract.encode_abi("bindMirrors", args=[registries])
        return send_transaction(w3, signer, {"to": address, "data": data})  # type: ignore[arg-type]

    expect_revert(lambda: bind(governor, [new_account().address]), "ConsortiumNotDeployer", account=governor.address)
    expect_revert(lambda: bind(deployer, ["0x" + "00" * 20]), "ConsortiumInvalidAccount", account="0x" + "00" * 20)
    expect_revert(lambda: bind(deployer, [governor.address]), "ConsortiumInvalidAccount", account=governor.address)
    stand_in = send_transaction(w3, deployer, {"data": deployment_data(load_artifact("MinimalRegistry"))})
    mirror = str(stand_in.contract_address)
    tx = bind(deployer, [mirror])
    assert tx.event("MirrorsBound").args == {"registries": [mirror]}  # type: ignore[attr-defined]
    expect_revert(lambda: bind(deployer, [mirror]), "ConsortiumMirrorsAlreadyBound", mirrors=1, members=0)

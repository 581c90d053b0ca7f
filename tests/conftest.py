"""Shared fixtures: a real anvil node for the whole run, a snapshot per test, test-only keys.

Every key made here is a throw-away key for tests only (created fresh in each run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from client.chain.deploy import deploy_registry
from client.chain.node import AnvilProcess, ChainConfig, free_port
from client.chain.registry import Registry
from client.consortium import Consortium
from client.errors import ContractRevertError

ONE_YEAR = 365 * 24 * 3600


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fee-free anvil node from the project's genesis on a free port; yields its RPC URL."""
    log = tmp_path_factory.mktemp("anvil") / "anvil.log"
    node = AnvilProcess.from_genesis(ChainConfig.load(), free_port(), log)
    node.start()
    yield node.rpc_url
    node.stop()


@pytest.fixture(scope="session")
def w3(anvil: str) -> Web3:
    return Web3(Web3.HTTPProvider(anvil))


@pytest.fixture(autouse=True)
def _chain_snapshot(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that uses the chain starts from the same state and leaves nothing behind."""
    if "w3" not in request.fixturenames:
        yield
        return
    w3: Web3 = request.getfixturevalue("w3")
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def expect_revert(call: Callable[[], Any], error_name: str, **values: Any) -> ContractRevertError:
    """Run `call`, which must be refused with exactly this custom error and these arguments."""
    with pytest.raises(ContractRevertError) as info:
        call()
    assert info.value.error_name == error_name, str(info.value)
    assert info.value.values == values
    return info.value


def new_account() -> LocalAccount:
    """A fresh random key (test-only)."""
    return Account.create()


def chain_time(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def increase_time(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@pytest.fixture
def make_registry(w3: Web3, tmp_path: Path) -> Callable[..., Registry]:
    """Deploy the registry with the given governors and threshold (fresh per call)."""

    def make(governors: list[LocalAccount], threshold: int = 1) -> Registry:
        manifest = deploy_registry(
            w3, governors[0], [g.address for g in governors], threshold, tmp_path / "deployments", force=True
        )
        return Registry(w3, manifest)

    return make


class Org:
    """A member organisation made for a test: its identifier, admin key and connector keys."""

    def __init__(self, identifier: str, admin: LocalAccount) -> None:
        self.identifier = identifier
        self.admin = admin
        self.connectors: list[LocalAccount] = []

    @property
    def org_id(self) -> str:
        return "0x" + Web3.keccak(text=self.identifier).hex().removeprefix("0x")


def admit(consortium: Consortium, governor: LocalAccount, identifier: str, *, connectors: int = 0) -> Org:
    """Admit an organisation (threshold-1 council) and give it `connectors` connector keys."""
    org = Org(identifier, new_account())
    expires = chain_time(consortium.registry.w3) + ONE_YEAR
    outcome = consortium.propose_admission(
        governor, identifier, identifier.split(":")[1], org.admin.address, 2, b"\x01" * 32, expires
    )
    assert outcome.executed
    for _ in range(connectors):
        key = new_account()
        consortium.add_connector(org.admin, key.address)
        org.connectors.append(key)
    return org


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False

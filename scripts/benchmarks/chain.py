"""A throw-away chain for the benchmarks: its own anvil node from the project's genesis on a
free port, the registry deployed by one governor, two member organisations with a connector
key each, and the MinimalRegistry baseline. Every key here is made fresh and thrown away."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.types import RPCEndpoint, RPCResponse

from client.chain.abi import deployment_data
from client.chain.artifacts import load_artifact
from client.chain.deploy import deploy_registry
from client.chain.node import AnvilProcess, ChainConfig, free_port
from client.chain.registry import Registry, rpc_session
from client.chain.transact import TxResult, send_transaction
from client.consortium import Consortium

ONE_YEAR = 365 * 24 * 3600


def random32() -> bytes:
    """A realistic hash: 32 random bytes (almost never a zero byte, which calldata prices lower)."""
    return os.urandom(32)


class CountingHTTPProvider(HTTPProvider):
    """An HTTP provider that counts the JSON-RPC requests it sends (for the throughput table)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: Counter[str] = Counter()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.requests[str(method)] += 1
        response: RPCResponse = super().make_request(method, params)
        return response


@dataclass(frozen=True)
class Member:
    """A member organisation: its identifier and the connector key that writes for it."""

    identifier: str
    admin: LocalAccount
    connector: LocalAccount


@dataclass(frozen=True)
class BenchChain:
    """Everything the benchmarks need on the node."""

    w3: Web3
    registry: Registry
    governor: LocalAccount
    alpha: Member
    beta: Member
    baseline: Contract
    hardfork: str
    #: The anvil process's id (its memory is read from /proc by the registry benchmark).
    node_pid: int | None = None

    def requests_sent(self) -> Counter[str]:
        """JSON-RPC requests sent to the node so far, by method."""
        provider = self.w3.provider
        return Counter(provider.requests) if isinstance(provider, CountingHTTPProvider) else Counter()

    def rpc(self, method: str, *params: Any) -> Any:
        """A node call outside web3's eth namespace (evm_mine, debug_traceTransaction)."""
        return self.w3.provider.make_request(RPCEndpoint(method), list(params)).get("result")

    def baseline_register(self, signer: LocalAccount, root: bytes) -> TxResult:
        """MinimalRegistry.register(root): one mapping write and one event, no checks."""
        data = self.baseline.encode_abi("register", args=[root])
        return send_transaction(self.w3, signer, {"to": self.baseline.address, "data": data})


def admit(consortium: Consortium, governor: LocalAccount, identifier: str) -> Member:
    """Admit an organisation (threshold-1 council) and give it one connector key."""
    admin, connector = Account.create(), Account.create()
    now = int(consortium.registry.w3.eth.get_block("latest")["timestamp"])
    outcome = consortium.propose_admission(
        governor, identifier, identifier.split(":")[1].title(), admin.address, 1, random32(), now + ONE_YEAR
    )
    if not outcome.executed:
        raise RuntimeError(f"admitting {identifier} did not execute with a threshold-1 council")
    consortium.add_connector(admin, connector.address)
    return Member(identifier, admin, connector)


@contextmanager
def bench_chain(console: Console, *, steps_tracing: bool = False) -> Iterator[BenchChain]:
    """Start anvil, deploy and admit; the node is stopped on the way out, errors included.

    `steps_tracing` makes the node keep opcode traces for debug_traceTransaction (the gas
    breakdown needs them); it slows the node, so the throughput run goes without.
    """
    with tempfile.TemporaryDirectory(prefix="idsreg-bench-") as scratch:
        node = AnvilProcess.from_genesis(ChainConfig.load(), free_port(), Path(scratch) / "anvil.log")
        if steps_tracing:
            node.args.append("--steps-tracing")
        try:
            with console.status("starting anvil and deploying the contracts"):
                node.start()
                chain = _set_up(node.rpc_url, Path(scratch) / "deployments")
            yield replace(chain, node_pid=node.process.pid if node.process is not None else None)
        finally:
            node.stop()


def _set_up(rpc_url: str, deployments: Path) -> BenchChain:
    w3 = Web3(CountingHTTPProvider(rpc_url, request_kwargs={"timeout": 60}, session=rpc_session(rpc_url)))
    governor = Account.create()
    registry = Registry(w3, deploy_registry(w3, governor, [governor.address], 1, deployments, force=True))
    consortium = Consortium(registry)
    alpha = admit(consortium, governor, "DEMO:ALPHA")
    beta = admit(consortium, governor, "DEMO:BETA")
    artifact = load_artifact("MinimalRegistry")
    deployed = send_transaction(w3, governor, {"data": deployment_data(artifact)})
    assert deployed.contract_address is not None
    baseline = w3.eth.contract(address=Web3.to_checksum_address(deployed.contract_address), abi=artifact.abi)
    info = w3.provider.make_request(RPCEndpoint("anvil_nodeInfo"), []).get("result") or {}
    return BenchChain(w3, registry, governor, alpha, beta, baseline, str(info.get("hardFork", "unknown")))

"""client.chain.sender: the lean path produces eth-account's and web3's bytes, counts nonces
locally, pipelines, and still explains a refusal that was mined."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account import Account
from web3 import Web3

from client.chain.registry import Registry
from client.chain.sender import GAS_LIMIT, Sender, encoder
from client.consortium import Consortium
from client.datasets import BatchRefusedError, Datasets, Registration
from client.errors import ContractRevertError
from tests.conftest import admit, new_account


def test_signing_gives_eth_accounts_bytes() -> None:
    signer = new_account()
    sender = Sender(Web3(), signer, 7351)
    to = "0x" + "ab" * 20
    for nonce, data in [(0, b""), (7, b"\x01\x02" * 40), (300, bytes(range(256)))]:
        ours = sender._signed(nonce, Web3.to_checksum_address(to), data, 123_456)
        theirs = Account.sign_transaction(
            {
                "type": 2,
                "chainId": 7351,
                "nonce": nonce,
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "gas": 123_456,
                "to": Web3.to_checksum_address(to),
                "value": 0,
                "data": data,
            },
            signer.key,
        )
        assert ours.raw == bytes(theirs.raw_transaction)
        assert ours.tx_hash == "0x" + bytes(theirs.hash).hex()


def test_encoding_gives_web3s_bytes(make_registry: Callable[..., Registry]) -> None:
    registry = make_registry([new_account()])
    items = [(bytes([i]) * 32, i % 3, bytes(32), [bytes([9]) * 32] * (i % 2)) for i in range(1, 6)]
    web3s = registry.contract("DataRegistry").encode_abi("registerBatch", args=[items, "ipfs://m"])
    assert registry.encode("DataRegistry", "registerBatch", items, "ipfs://m") == bytes.fromhex(web3s[2:])
    assert encoder("DataRegistry", "registerBatch") is not None
    # A form only web3 accepts (a hex string for bytes32) still encodes, through web3.
    hexed = registry.encode("DataRegistry", "isRegistered", "0x" + "11" * 32)
    assert hexed == registry.encode("DataRegistry", "isRegistered", b"\x11" * 32)


def test_nonces_pipelining_and_mined_refusals(make_registry: Callable[..., Registry]) -> None:
    governor = new_account()
    registry = make_registry([governor])
    consortium = Consortium(registry)
    acme = admit(consortium, governor, "DEMO:ACME", connectors=1)
    beta = admit(consortium, governor, "DEMO:BETA")
    datasets = Datasets(registry)
    connector = acme.connectors[0]
    roots = [bytes([i + 1]) * 32 for i in range(30)]
    sent = datasets.register_batches(connector, [Registration(r) for r in roots[:25]], "m", chunk_size=3, window=4)
    assert len(sent) == 9 and sum(len(tx.events) - 1 for tx in sent) == 25
    assert registry.w3.eth.get_transaction_count(connector.address) == 9
    assert all(datasets.is_registered(r) for r in roots[:25])

    # The same key used by another client meanwhile: the cached nonce is stale; one more try.
    other = Registry(registry.w3, registry.manifest)
    Datasets(other).register(connector, Registration(roots[25]))
    datasets.register(connector, Registration(roots[26]))
    assert registry.w3.eth.get_transaction_count(connector.address) == 11

    # A refusal is mined (no estimate), then explained by replaying the call, with its values.
    with pytest.raises(ContractRevertError, match="already registered by ACME") as refused_one:
        datasets.register(beta.admin, Registration(roots[0]))
    assert refused_one.value.error_name == "DataRegistryAlreadyRegistered"
    assert refused_one.value.values["root"] == "0x" + roots[0].hex() and refused_one.value.values["registrant"] == 1

    # A refused chunk stops register_batches: the chunks in flight are awaited, nothing more goes out.
    batch = [Registration(r) for r in roots[27:]] + [Registration(bytes([0xEE]) * 32, parents=(b"\x77" * 32,))]
    batch += [Registration(bytes([0xF0 + i]) * 32) for i in range(12)]
    with pytest.raises(BatchRefusedError) as refused:
        datasets.register_batches(connector, batch, chunk_size=2, window=2)
    error = refused.value
    assert isinstance(error.refusal, ContractRevertError) and error.refusal.error_name == "DataRegistryUnknownParent"
    assert error.index == 1 and [r.root for r in error.chunk] == [roots[29], bytes([0xEE]) * 32]
    assert "batch 2 (2 datasets from 0x1e1e" in str(error) and "not sent" in str(error)
    # Sent: chunk 1, the refused chunk 2, and chunk 3, which was in flight when the refusal came.
    assert registry.w3.eth.get_transaction_count(connector.address) == 11 + 3
    assert len(error.registered) == 2 and error.unsent == len(batch) - 3 * 2
    assert GAS_LIMIT < 50_000_000


def test_a_chain_reverted_under_the_counted_nonce(make_registry: Callable[..., Registry]) -> None:
    """The node goes back to a snapshot (as tests do; a reset does the same): the counted nonce
    is ahead of the chain, the node holds the transaction back; it is dropped and sent again."""
    governor = new_account()
    registry = make_registry([governor])
    acme = admit(Consortium(registry), governor, "DEMO:ACME", connectors=1)
    datasets = Datasets(registry)
    connector = acme.connectors[0]
    snapshot = registry.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    datasets.register(connector, Registration(b"\x01" * 32))
    datasets.register(connector, Registration(b"\x02" * 32))
    registry.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    tx = datasets.register(connector, Registration(b"\x03" * 32))
    assert tx.event("DatasetRegistered").args["root"] == "0x" + "03" * 32
    assert registry.w3.eth.get_transaction_count(connector.address) == 1
    datasets.register(connector, Registration(b"\x04" * 32))
    assert not datasets.is_registered(b"\x01" * 32) and datasets.is_registered(b"\x04" * 32)
    assert registry.w3.eth.get_transaction_count(connector.address) == 2

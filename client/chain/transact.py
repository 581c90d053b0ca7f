"""Sending transactions on the fee-free consortium chain and turning refusals into typed errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError

from ..errors import ContractRevertError, TransactionFailedError
from .abi import DecodedEvent, decode_error, decode_log
from .messages import render

T = TypeVar("T")

#: Head-room over the node's gas estimate; gas is free here, a failed out-of-gas is not.
GAS_MARGIN = 1.25
#: Seconds between receipt polls.
RECEIPT_POLL = 0.02


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction and the registry events it emitted."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    contract_address: str | None
    events: list[DecodedEvent]

    def to_json(self) -> dict[str, Any]:
        """The transaction as `idsreg … --json` prints it: hash, block, gas, decoded events."""
        from ..jsonable import jsonable

        return {
            "transaction": self.tx_hash,
            "block": self.block_number,
            "blockHash": self.block_hash,
            "gasUsed": self.gas_used,
            "events": [{"contract": e.contract, "name": e.name, "args": jsonable(e.args)} for e in self.events],
        }

    def event(self, name: str) -> DecodedEvent:
        """The first event called `name`; KeyError if the transaction emitted none."""
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(name)


def revert_to_error(exc: Exception) -> Exception:
    """The client error for a web3 refusal: ContractRevertError for our custom errors."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        decoded = decode_error(bytes.fromhex(data[2:]))
        if decoded is not None:
            return ContractRevertError(decoded.name, decoded.values, render(decoded.name, decoded.values))
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, dict):
        message = message.get("message", str(message))
    return TransactionFailedError(f"the transaction was refused: {message}")


def guarded(call: Callable[[], T]) -> T:
    """Run a contract call or estimate, raising client errors instead of web3's."""
    try:
        return call()
    except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
        raise revert_to_error(exc) from None


def send_transaction(
    w3: Web3,
    signer: LocalAccount,
    tx: dict[str, Any],
    *,
    timeout: float = 60.0,
) -> TxResult:
    """Sign `tx` (a dict with `to`/`data` or a deployment `data`), send it with zero fees and
    wait for its receipt. Refusals raise ContractRevertError with the decoded reason."""
    tx = dict(tx)
    tx.setdefault("from", signer.address)
    if "chainId" not in tx:
        tx["chainId"] = w3.eth.chain_id
    if "nonce" not in tx:
        tx["nonce"] = w3.eth.get_transaction_count(signer.address, "pending")
    # The consortium chain has no fees; the node still suggests 1 gwei, so set zero ourselves.
    tx["maxFeePerGas"] = 0
    tx["maxPriorityFeePerGas"] = 0
    tx.pop("gasPrice", None)
    if "gas" not in tx:
        # Estimate in the pending block, where the transaction will land: a call that depends
        # on the block number (a reveal after its commitment) must see the next block.
        tx["gas"] = int(guarded(lambda: w3.eth.estimate_gas(tx, "pending")) * GAS_MARGIN) + 10_000  # type: ignore[arg-type]
    signed = signer.sign_transaction(tx)
    try:
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        # Poll often: on the local chain a block is mined as soon as the transaction arrives.
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=RECEIPT_POLL)
    except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
        raise revert_to_error(exc) from None
    except TimeExhausted:
        raise TransactionFailedError(
            f"transaction {HexBytes(signed.hash).to_0x_hex()} was not mined within {timeout:.0f} s"
        ) from None
    if receipt["status"] != 1:
        # Replay at the block it failed in to learn why (state may have changed since the estimate).
        replay = {k: tx[k] for k in ("from", "to", "data") if k in tx}
        try:
            w3.eth.call(replay, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            raise revert_to_error(exc) from None
        raise TransactionFailedError(
            f"transaction {receipt['transactionHash'].to_0x_hex()} reverted (gas used {receipt['gasUsed']})"
        )
    return _result(receipt)


def _result(receipt: Any) -> TxResult:
    events = []
    for log in receipt["logs"]:
        decoded = decode_log(list(log["topics"]), bytes(log["data"]))
        if decoded is not None:
            events.append(decoded)
    contract_address = receipt.get("contractAddress")
    return TxResult(
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block_number=int(receipt["blockNumber"]),
        block_hash=receipt["blockHash"].to_0x_hex(),
        gas_used=int(receipt["gasUsed"]),
        contract_address=str(contract_address) if contract_address else None,
        events=events,
    )

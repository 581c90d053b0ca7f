"""Sending a signer's transactions quickly: lean encoding and signing, a local nonce, pipelining.

`send_transaction` (transact.py) is the careful path: it estimates gas, reads the nonce and the
chain id, signs through eth-account and waits through web3. Every one of those steps costs a
request or milliseconds of Python per transaction. A `Sender` does the same work once per
signer and chain:

- call data from `eth_abi.encode` and a selector worked out once (`encoder`): web3's contract
  `encode_abi` took 8x as long for the same bytes;
- an EIP-1559 transaction serialised with `rlp` and signed with eth-keys (`coincurve`, a native
  secp256k1, when installed) — the same bytes eth-account produces (tests/client/chain/test_sender.py);
- the chain id known, the nonce counted locally after one read;
- requests and receipts as plain JSON-RPC values (no web3 result formatting);
- `pipeline`: many transactions in flight, receipts collected in order.

Gas is not estimated: on the fee-free chain the limit is a cap, not a price, so each
transaction carries a fixed limit (`GAS_LIMIT`, or the caller's). A refusal is then mined as a
failed transaction; its reason is found by replaying the call (`refusal`), so a refusal still
raises ContractRevertError with its values.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_account.signers.local import LocalAccount
from eth_keys.backends import get_backend
from eth_keys.datatypes import PrivateKey
from eth_utils import function_signature_to_4byte_selector, keccak
from rlp import encode as rlp_encode
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

from ..errors import TransactionFailedError
from .abi import DecodedEvent, _canonical_type, decode_log
from .artifacts import load_artifact
from .transact import RECEIPT_POLL, TxResult, revert_to_error

#: Gas limit of a transaction whose caller names none. Gas costs nothing here; the limit only
#: stops a runaway call. It must cover the largest call the contracts take (a registerBatch of
#: 500 datasets: about 14.6 M gas) and leave room in a block (50,000,000 in chain/genesis.json).
GAS_LIMIT = 30_000_000
#: Seconds without a receipt after which a sender checks that its nonce is still the chain's
#: (the node mines a transaction as it arrives, so a receipt is there at once or nearly).
NONCE_CHECK_AFTER = 0.25


class NonceGapError(TransactionFailedError):
    """The node holds a transaction back because an earlier nonce never arrived (the chain was
    reset, or the key is used elsewhere)."""


@dataclass(frozen=True)
class Encoder:
    """One contract function's call data: a selector and the canonical argument types."""

    selector: bytes
    types: tuple[str, ...]

    def encode(self, args: Iterable[Any]) -> bytes:
        return self.selector + abi_encode(self.types, list(args))


@cache
def encoder(contract: str, function: str) -> Encoder | None:
    """The encoder of `contract.function`, or None if the name is overloaded (then web3 chooses)."""
    items = [i for i in load_artifact(contract).abi if i["type"] == "function" and i["name"] == function]
    if len(items) != 1:
        return None
    types = tuple(_canonical_type(i) for i in items[0]["inputs"])
    return Encoder(function_signature_to_4byte_selector(f"{function}({','.join(types)})"), types)


def encode_call(w3_contract: Any, contract: str, function: str, args: list[Any]) -> bytes:
    """Call data for `contract.function(*args)`: the lean encoder, or web3's when the arguments
    are in a form only web3 accepts (hex strings for bytes, dicts for structs)."""
    found = encoder(contract, function)
    if found is not None:
        try:
            return found.encode(args)
        except (EncodingError, TypeError, ValueError):
            pass
    return bytes.fromhex(w3_contract.encode_abi(function, args=args)[2:])


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(address[2:])


@dataclass(frozen=True)
class Signed:
    raw: bytes
    tx_hash: str
    nonce: int
    to: str
    data: bytes


class Sender:
    """One signer's transactions on one chain (see the module docstring). Thread-safe."""

    def __init__(self, w3: Web3, signer: LocalAccount, chain_id: int) -> None:
        self.w3 = w3
        self.address = signer.address
        self.chain_id = chain_id
        # The backend found once: eth-keys otherwise looks it up (an import and an environment
        # read) at every signature, 0.6 ms of a registration's client time.
        self._key = PrivateKey(bytes(signer.key), backend=get_backend())
        self._nonce: int | None = None
        self._lock = threading.Lock()

    # -- requests --

    def _request(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(RPCEndpoint(method), params)
        if "error" in response:
            error = response["error"]
            exc = Web3RPCError(str(error.get("message", error) if isinstance(error, dict) else error))
            if isinstance(error, dict) and isinstance(error.get("data"), str):
                exc.data = error["data"]  # type: ignore[attr-defined]
            raise exc
        return response.get("result")

    def chain_nonce(self) -> int:
        return int(self._request("eth_getTransactionCount", [self.address, "pending"]), 16)

    # -- signing --

    def sign(self, to: str, data: bytes, gas: int = GAS_LIMIT) -> Signed:
        """Sign a zero-fee EIP-1559 call of `to` with the next local nonce."""
        with self._lock:
            if self._nonce is None:
                self._nonce = self.chain_nonce()
            nonce = self._nonce
            self._nonce += 1
        return self._signed(nonce, to, data, gas)

    def _signed(self, nonce: int, to: str, data: bytes, gas: int) -> Signed:
        fields = [self.chain_id, nonce, 0, 0, gas, _address_bytes(to), 0, data, []]
        digest = keccak(b"\x02" + rlp_encode(fields))
        signature = self._key.sign_msg_hash(digest)
        raw = b"\x02" + rlp_encode([*fields, signature.v, signature.r, signature.s])
        return Signed(raw, "0x" + keccak(raw).hex(), nonce, to, data)

    def forget_nonce(self) -> None:
        """Read the nonce from the chain again at the next send (after a refused send)."""
        with self._lock:
            self._nonce = None

    # -- sending --

    def send(self, signed: Signed) -> str:
        """Hand a signed transaction to the node; its hash. A refusal by the node (not a
        revert: a bad nonce, say) forgets the local nonce and raises TransactionFailedError."""
        try:
            self._request("eth_sendRawTransaction", ["0x" + signed.raw.hex()])
        except Web3RPCError as exc:
            self.forget_nonce()
            raise TransactionFailedError(f"the node refused transaction {signed.tx_hash}: {exc}") from None
        return signed.tx_hash

    def transact(self, to: str, data: bytes, gas: int = GAS_LIMIT, timeout: float = 60.0) -> TxResult:
        """Sign, send and wait: the mined transaction, or the refusal as ContractRevertError."""
        signed = self.sign(to, data, gas)
        try:
            self.send(signed)
        except TransactionFailedError:
            # Most often a nonce another client of the same key used meanwhile: once more, freshly read.
            signed = self.sign(to, data, gas)
            self.send(signed)
        try:
            receipt = self.wait(signed, timeout)
        except NonceGapError:
            # The counted nonce ran ahead of the chain (a node reset, or reverted to a snapshot as
            # tests do): the node holds the transaction back. Take it out of the pool, so that it
            # can never run later, and send it again with the chain's nonce. A node that cannot
            # remove it gets NonceGapError, which says so.
            if not self._drop(signed):
                raise
            signed = self.sign(to, data, gas)
            self.send(signed)
            receipt = self.wait(signed, timeout)
        return self.outcome(signed, receipt)

    def _drop(self, signed: Signed) -> bool:
        """Remove a held-back transaction from the node's pool (anvil's
        `anvil_removePoolTransactions`, which takes all of this key's waiting transactions:
        held back, they are all above the gap); False if the node cannot."""
        try:
            self._request("anvil_removePoolTransactions", [self.address])
        except Web3RPCError:
            return False
        return self._request("eth_getTransactionByHash", [signed.tx_hash]) is None

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._request("eth_getTransactionReceipt", [tx_hash])
        return found

    def wait(self, signed: Signed, timeout: float = 60.0) -> dict[str, Any]:
        """The receipt of a sent transaction (raw JSON-RPC form), polling every RECEIPT_POLL s."""
        start = time.monotonic()
        checked = False
        while True:
            found = self.receipt(signed.tx_hash)
            if found is not None:
                return found
            waited = time.monotonic() - start
            if not checked and waited > NONCE_CHECK_AFTER:
                checked = True
                if int(self._request("eth_getTransactionCount", [self.address, "latest"]), 16) < signed.nonce:
                    latest = self.chain_nonce()
                    if latest <= signed.nonce:
                        self.forget_nonce()
                        raise NonceGapError(
                            f"transaction {signed.tx_hash} has nonce {signed.nonce} but the chain expects "
                            f"{latest} from {self.address} (was the chain reset?); send again"
                        )
            if waited > timeout:
                raise TransactionFailedError(f"transaction {signed.tx_hash} was not mined within {timeout:.0f} s")
            time.sleep(RECEIPT_POLL)

    def outcome(self, signed: Signed, receipt: dict[str, Any]) -> TxResult:
        """The TxResult of a receipt; a failed one raises the replayed reason."""
        if int(receipt["status"], 16) != 1:
            raise self.refusal(signed, receipt)
        return result(receipt)

    def refusal(self, signed: Signed, receipt: dict[str, Any]) -> Exception:
        """Why a mined transaction failed: its call replayed on the state at the end of its
        block. That state is the one it failed on, but for transactions after it in the same
        block; and it has the block's number and time, which a call on the state before the
        block would not (a reveal replayed there is "too early"). If the replay succeeds (a
        later transaction of the block changed things), the state before the block is tried."""
        block = int(receipt["blockNumber"], 16)
        call = {"from": self.address, "to": signed.to, "data": "0x" + signed.data.hex()}
        for at in (block, block - 1):
            try:
                self._request("eth_call", [call, hex(at)])
            except Web3RPCError as exc:
                return revert_to_error(exc)
        gas = int(receipt["gasUsed"], 16)
        return TransactionFailedError(f"transaction {signed.tx_hash} reverted (gas used {gas:,}; out of gas?)")

    def pipeline(
        self, next_call: Callable[[], tuple[str, bytes, int] | None], window: int
    ) -> Iterator[tuple[Signed, dict[str, Any]]]:
        """Send calls (to, data, gas) with at most `window` sent and unconfirmed at a time;
        yields (signed, receipt) in sending order as the receipts arrive. `next_call` is asked
        for a call whenever there is room, and ends the sends by returning None while nothing
        is in flight; while something is, it may return None (nothing to send now, or the
        caller has stopped) and be asked again after the next receipt."""
        self.forget_nonce()  # one read per pipeline: what it sends rests on the chain's nonce
        flight: deque[Signed] = deque()
        while True:
            while len(flight) < window:
                call = next_call()
                if call is None:
                    break
                signed = self.sign(*call)
                self.send(signed)
                flight.append(signed)
            if not flight:
                return
            signed = flight.popleft()
            yield signed, self.wait(signed)


def result(receipt: dict[str, Any]) -> TxResult:
    """A TxResult from a raw JSON-RPC receipt, its registry events decoded."""
    events: list[DecodedEvent] = []
    for log in receipt["logs"]:
        decoded = decode_log([bytes.fromhex(t[2:]) for t in log["topics"]], bytes.fromhex(log["data"][2:]))
        if decoded is not None:
            events.append(decoded)
    contract_address = receipt.get("contractAddress")
    return TxResult(
        tx_hash=str(receipt["transactionHash"]),
        block_number=int(receipt["blockNumber"], 16),
        block_hash=str(receipt["blockHash"]),
        gas_used=int(receipt["gasUsed"], 16),
        contract_address=Web3.to_checksum_address(contract_address) if contract_address else None,
        events=events,
    )

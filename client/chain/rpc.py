"""Raw JSON-RPC reads for bulk work (the indexer): logs and block headers as plain values.

web3's `eth.get_logs` and `eth.get_block` (and even `manager.request_blocking`) wrap every
field of every result in HexBytes or AttributeDict; over hundreds of thousands of logs that
costs more than decoding them. These functions ask the provider directly and return small
frozen records. Node refusals raise
`Web3RPCError` (one of `client.chain.node.NODE_ERRORS`), like web3's own calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

#: Headers per JSON-RPC batch request.
HEADER_BATCH = 100


@dataclass(frozen=True)
class Header:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


@dataclass(frozen=True)
class RawLog:
    """One log as the node returned it (hex strings turned into ints and bytes)."""

    address: str
    topics: list[bytes]
    data: bytes
    block_number: int
    block_hash: str
    #: The block's timestamp when the node includes it in the log (anvil, recent clients), else None.
    block_time: int | None
    tx_hash: str
    log_index: int
    removed: bool


@lru_cache(maxsize=256)
def _checksum(address: str) -> str:
    return Web3.to_checksum_address(address)


def _header(raw: Any, number: int) -> Header:
    if not raw:
        raise Web3RPCError(f"the node has no block {number}")
    return Header(
        int(raw["number"], 16), str(raw["hash"]).lower(), str(raw["parentHash"]).lower(), int(raw["timestamp"], 16)
    )


def _request(w3: Web3, method: str, params: list[Any]) -> Any:
    """The raw result of one JSON-RPC call (web3's result formatting skipped); Web3RPCError
    when the node answers with an error."""
    response = w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in response:
        raise Web3RPCError(f"the node refused {method}: {response['error']}")
    return response.get("result")


def get_header(w3: Web3, number: int) -> Header:
    """The header of block `number`."""
    return _header(_request(w3, "eth_getBlockByNumber", [hex(number), False]), number)


def get_headers(w3: Web3, numbers: Sequence[int]) -> list[Header]:
    """The headers of blocks `numbers`, in that order, fetched in JSON-RPC batches."""
    headers: list[Header] = []
    for start in range(0, len(numbers), HEADER_BATCH):
        chunk = numbers[start : start + HEADER_BATCH]
        if len(chunk) == 1:
            headers.append(get_header(w3, chunk[0]))
            continue
        requests = [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in chunk]
        responses = w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
        if not isinstance(responses, list):
            raise Web3RPCError(f"the node refused a batch of block headers: {responses.get('error', responses)}")
        for number, response in zip(chunk, responses, strict=True):
            if "error" in response:
                raise Web3RPCError(f"the node refused block {number}: {response['error']}")
            headers.append(_header(response.get("result"), number))
    return headers


def get_logs(w3: Web3, addresses: Sequence[str], start: int, end: int) -> list[RawLog]:
    """Every log of `addresses` in blocks `start`..`end`, in chain order."""
    query = {"address": list(addresses), "fromBlock": hex(start), "toBlock": hex(end)}
    result = _request(w3, "eth_getLogs", [query])
    return [
        RawLog(
            address=_checksum(entry["address"]),
            topics=[bytes.fromhex(t[2:]) for t in entry["topics"]],
            data=bytes.fromhex(entry["data"][2:]),
            block_number=int(entry["blockNumber"], 16),
            block_hash=str(entry["blockHash"]).lower(),
            block_time=int(entry["blockTimestamp"], 16) if entry.get("blockTimestamp") else None,
            tx_hash=str(entry["transactionHash"]).lower(),
            log_index=int(entry["logIndex"], 16),
            removed=bool(entry.get("removed", False)),
        )
        for entry in result
    ]

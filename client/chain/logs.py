"""Reading logs in block ranges that nodes accept (Besu refuses more than 5,000 blocks by default)."""

from __future__ import annotations

from typing import Any

from web3 import Web3

#: Blocks per `eth_getLogs` request.
LOG_RANGE = 5_000


def fetch_logs(w3: Web3, address: str, topics: list[Any], from_block: int, to_block: int | None = None) -> list[Any]:
    """Every log of `address` matching `topics` from `from_block` to `to_block` (default: head), in
    chain order, fetched `LOG_RANGE` blocks at a time."""
    last = int(w3.eth.block_number) if to_block is None else to_block
    logs: list[Any] = []
    start = from_block
    while start <= last:
        end = min(start + LOG_RANGE - 1, last)
        query: Any = {
            "address": Web3.to_checksum_address(address),
            "fromBlock": start,
            "toBlock": end,
            "topics": topics,
        }
        logs.extend(w3.eth.get_logs(query))
        start = end + 1
    return logs

"""The event indexer: follows the deployed registry contracts and writes their events to SQL.

Design (after web3.py's event scanner): scan from the checkpoint to `head − confirmations` in
block ranges whose size adapts (doubling on success, halving when the node refuses a range);
each range's rows, block headers and checkpoint are committed in one transaction, so a kill at
any instant leaves the database at a range boundary; rows are unique on (transaction hash, log
index), so re-scanning a range changes nothing. Before each range the checkpoint block's hash is
compared with the node's; on a mismatch the indexer walks back through the stored recent block
headers to the common ancestor, deletes everything above it and re-indexes from there.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import Engine
from sqlmodel import Session
from web3 import Web3

from client.chain.abi import decode_log
from client.chain.node import NODE_ERRORS
from client.chain.registry import Registry
from client.errors import ConfigError

from . import store
from .models import Checkpoint
from .settings import ApiSettings

log = logging.getLogger(__name__)


class ChainMovedError(Exception):
    """The chain changed while a range was being read; the range is dropped and re-read."""


@dataclass
class ScanResult:
    """What one `scan_once` did."""

    start_block: int
    #: The last indexed block after the scan.
    end_block: int
    events: int = 0
    ranges: int = 0
    #: Blocks rolled back because of reorganisations.
    rolled_back: int = 0
    lag: int = 0


def json_safe(value: Any) -> Any:
    """A decoded argument in JSON form: enum members as ints, lists and dicts recursively."""
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


class Indexer:
    """Indexes every event of every contract in `registry`'s manifest into the database at `engine`."""

    def __init__(self, registry: Registry, engine: Engine, settings: ApiSettings) -> None:
        self.registry = registry
        self.w3: Web3 = registry.w3
        self.engine = engine
        self.settings = settings
        self.addresses = sorted(Web3.to_checksum_address(c.address) for c in registry.manifest.contracts.values())
        self.range_size = min(settings.initial_range, settings.max_range)

    # -- node access ---------------------------------------------------------------------------

    def _header(self, number: int) -> tuple[str, str]:
        block = self.w3.eth.get_block(number)
        return _hex(block["hash"]), _hex(block["parentHash"])

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def target(self) -> int:
        """The newest block the indexer may index (head minus the confirmation depth)."""
        return self.head() - self.settings.confirmations

    # -- checkpoint ----------------------------------------------------------------------------

    def _checkpoint(self, session: Session) -> Checkpoint:
        """The checkpoint, created (deployment block − 1, no events) on first use."""
        checkpoint = store.get_checkpoint(session)
        if checkpoint is None:
            start = self.registry.manifest.deployment_block - 1
            block_hash, parent_hash = self._header(start)
            store.create_checkpoint(
                session, self.registry.chain_id, self.registry.manifest.deployment_block, start, block_hash
            )
            store.upsert_blocks(session, [{"number": start, "hash": block_hash, "parent_hash": parent_hash}])
            session.commit()
            checkpoint = store.get_checkpoint(session)
            if checkpoint is None:
                raise ConfigError("the index database did not keep its checkpoint row")
        if checkpoint.chain_id != self.registry.chain_id:
            raise ConfigError(
                f"the database indexes chain {checkpoint.chain_id}, the node is chain {self.registry.chain_id}"
            )
        return checkpoint

    def indexed_block(self) -> int:
        with Session(self.engine) as session:
            return self._checkpoint(session).block_number

    def lag(self) -> int:
        """Blocks between the node's head and the last indexed block."""
        return max(self.head() - self.indexed_block(), 0)

    # -- reorganisations -----------------------------------------------------------------------

    def _check_reorg(self, session: Session, checkpoint: Checkpoint) -> int:
        """Roll back to the common ancestor if the checkpoint block is no longer canonical; the
        number of blocks rolled back (0 when nothing changed). Commits the rollback."""
        if self._header(checkpoint.block_number)[0] == checkpoint.block_hash:
            return 0
        ancestor: tuple[int, str] | None = None
        for block in store.recent_blocks(session):
            if block.number > checkpoint.block_number:
                continue
            if self._header(block.number)[0] == block.hash:
                ancestor = (block.number, block.hash)
                break
        if ancestor is None:
            # Deeper than the window: start again from the deployment.
            start = checkpoint.deployment_block - 1
            log.warning(
                "reorg deeper than the %d-block window; re-indexing from block %d",
                self.settings.reorg_window,
                start + 1,
            )
            block_hash, parent_hash = self._header(start)
            store.delete_above(session, start - 1)
            store.upsert_blocks(session, [{"number": start, "hash": block_hash, "parent_hash": parent_hash}])
            ancestor = (start, block_hash)
        depth = checkpoint.block_number - ancestor[0]
        log.warning("chain reorganisation: rolling back %d blocks to %d", depth, ancestor[0])
        store.delete_above(session, ancestor[0])
        store.set_checkpoint(session, checkpoint, *ancestor)
        session.commit()
        return depth

    # -- one range -----------------------------------------------------------------------------

    def _read_range(self, start: int, end: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
        """The decoded event rows and tail block headers of blocks start..end, and end's hash.
        Node errors of `eth_getLogs` propagate (the caller shrinks the range)."""
        end_hash = self._header(end)[0]
        query: Any = {"address": self.addresses, "fromBlock": start, "toBlock": end}
        logs = self.w3.eth.get_logs(query)
        first_header = max(start, end - self.settings.reorg_window + 1)
        headers: list[dict[str, Any]] = []
        for number in range(first_header, end + 1):
            block_hash, parent_hash = self._header(number)
            if headers and headers[-1]["hash"] != parent_hash:
                raise ChainMovedError(f"block {number} does not follow block {number - 1}")
            headers.append({"number": number, "hash": block_hash, "parent_hash": parent_hash})
        if headers[-1]["hash"] != end_hash:
            raise ChainMovedError(f"block {end} changed while its range was read")
        known = {h["number"]: h["hash"] for h in headers}
        rows: list[dict[str, Any]] = []
        for entry in logs:
            if entry.get("removed"):
                continue
            number = int(entry["blockNumber"])
            block_hash = _hex(entry["blockHash"])
            if known.get(number, block_hash) != block_hash:
                raise ChainMovedError(f"a log of block {number} came from another fork")
            decoded = decode_log(list(entry["topics"]), bytes(entry["data"]))
            if decoded is None:
                continue
            rows.append({
                "chain_id": self.registry.chain_id,
                "block_number": number,
                "block_hash": block_hash,
                "tx_hash": _hex(entry["transactionHash"]),
                "log_index": int(entry["logIndex"]),
                "contract": decoded.contract,
                "name": decoded.name,
                "args": json.dumps(json_safe(decoded.args), sort_keys=False),
            })  # fmt: skip
        return rows, headers, end_hash

    def _index_range(self, session: Session, checkpoint: Checkpoint, start: int, end: int) -> int:
        """Read blocks start..end and commit their rows, headers and the checkpoint together."""
        rows, headers, end_hash = self._read_range(start, end)
        if headers[0]["number"] == start and headers[0]["parent_hash"] != checkpoint.block_hash:
            raise ChainMovedError(f"block {start} does not follow the checkpoint")
        if self._header(checkpoint.block_number)[0] != checkpoint.block_hash:
            raise ChainMovedError(f"checkpoint block {checkpoint.block_number} changed while the range was read")
        added = store.insert_events(session, rows)
        store.upsert_blocks(session, headers)
        store.prune_blocks(session, end - self.settings.reorg_window + 1)
        store.set_checkpoint(session, checkpoint, end, end_hash)
        session.commit()
        return added

    # -- scanning ------------------------------------------------------------------------------

    def scan_once(self) -> ScanResult:
        """Index from the checkpoint up to head − confirmations; returns what was done."""
        with Session(self.engine, expire_on_commit=False) as session:
            checkpoint = self._checkpoint(session)
            result = ScanResult(start_block=checkpoint.block_number + 1, end_block=checkpoint.block_number)
            result.rolled_back += self._check_reorg(session, checkpoint)
            target = self.target()
            while checkpoint.block_number < target:
                start = checkpoint.block_number + 1
                end = min(start + self.range_size - 1, target)
                try:
                    result.events += self._index_range(session, checkpoint, start, end)
                except ChainMovedError as exc:
                    session.rollback()
                    log.info("chain moved during a range (%s); checking for a reorganisation", exc)
                    result.rolled_back += self._check_reorg(session, checkpoint)
                    target = self.target()
                    continue
                except NODE_ERRORS as exc:
                    session.rollback()
                    if end == start:
                        raise
                    self.range_size = max((end - start + 1) // 2, 1)
                    log.info("node refused blocks %d..%d (%s); range shrunk to %d", start, end, exc, self.range_size)
                    continue
                result.ranges += 1
                if end - start + 1 >= self.range_size:
                    self.range_size = min(self.range_size * 2, self.settings.max_range)
                result.rolled_back += self._check_reorg(session, checkpoint)
            result.end_block = checkpoint.block_number
        result.lag = max(self.head() - result.end_block, 0)
        return result

    def run(self, stop: threading.Event) -> None:
        """Scan until `stop` is set, waiting the poll interval between scans; node outages are
        logged and retried."""
        while not stop.is_set():
            try:
                result = self.scan_once()
            except NODE_ERRORS as exc:
                log.warning("chain node unavailable (%s); retrying in %.1f s", exc, self.settings.poll_interval)
            else:
                if result.ranges or result.rolled_back:
                    log.info(
                        "indexed up to block %d (%d new events, lag %d)", result.end_block, result.events, result.lag
                    )
            stop.wait(self.settings.poll_interval)

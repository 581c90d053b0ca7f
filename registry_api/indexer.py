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

import itertools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from web3 import Web3

from client.chain import rpc
from client.chain.abi import decode_log
from client.chain.node import NODE_ERRORS
from client.chain.registry import Registry
from client.chain.rpc import Header
from client.errors import ChainError
from client.jsonable import jsonable

from . import projection, store
from .changes import RangeChanges
from .errors import ChainMovedError, ProjectionError, ServiceConfigError
from .models import Checkpoint
from .projection import Event
from .settings import ApiSettings

log = logging.getLogger(__name__)

#: New events after which the database's planner statistics are refreshed (store.refresh_statistics);
#: during a long catch-up they are refreshed again each time the event table has doubled since.
ANALYSE_AFTER = 10_000


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
    #: The newest block the scan aimed for (head − confirmations when it started).
    target: int = 0


@dataclass(frozen=True)
class RangeRead:
    """What the node holds for one block range, read and checked for consistency."""

    events: list[Event]
    #: The headers of the range's last `reorg_window` blocks, or of all its blocks when it holds
    #: more events than one transaction takes (it is then committed in parts, each with its own
    #: checkpoint and window).
    headers: list[Header]
    end_hash: str


#: Called after each committed range with the scan so far (progress bars).
Progress = Callable[[ScanResult], None]


def _parts(events: list[Event], limit: int, end: int) -> list[tuple[int, list[Event]]]:
    """The range's events (in chain order) cut at block boundaries into parts of at most `limit`
    events (more only where one block holds more), each with the block it ends at: the block of
    its last event, the range's end for the last part."""
    parts: list[tuple[int, list[Event]]] = []
    current: list[Event] = []
    for _, grouped in itertools.groupby(events, key=lambda e: e.block_number):
        block = list(grouped)
        if current and len(current) + len(block) > limit:
            parts.append((current[-1].block_number, current))
            current = []
        current += block
    parts.append((end, current))
    return parts


def _raw_row(chain_id: int, event: Event, subject: str | None) -> dict[str, Any]:
    return {
        "chain_id": chain_id,
        "block_number": event.block_number,
        "block_hash": event.block_hash,
        "tx_hash": event.tx_hash,
        "log_index": event.log_index,
        "contract": event.contract,
        "name": event.name,
        "args": json.dumps(jsonable(event.args, enums="int")),
        "block_time": event.block_time,
        "subject": subject,
    }


class Indexer:
    """Indexes every event of every contract in `registry`'s manifest into the database at `engine`."""

    def __init__(self, registry: Registry, engine: Engine, settings: ApiSettings) -> None:
        self.registry = registry
        self.w3: Web3 = registry.w3
        self.engine = engine
        self.settings = settings
        self.addresses = sorted(Web3.to_checksum_address(c.address) for c in registry.manifest.contracts.values())
        self.range_size = min(settings.initial_range, settings.max_range)
        #: Events written since the planner statistics were last refreshed.
        self.unanalysed = 0
        #: Events in the index when the statistics were last refreshed (None: not known yet).
        self.analysed: int | None = None

    # -- node access ---------------------------------------------------------------------------

    def _header(self, number: int) -> Header:
        return rpc.get_header(self.w3, number)

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def target(self) -> int:
        """The newest block the indexer may index (head minus the confirmation depth)."""
        return self.head() - self.settings.confirmations

    # -- checkpoint ----------------------------------------------------------------------------

    def _checkpoint(self, session: Session) -> Checkpoint:
        """The checkpoint, created (deployment block − 1, no events) on first use."""
        manifest = self.registry.manifest
        checkpoint = store.get_checkpoint(session)
        if checkpoint is None:
            start = self._header(manifest.deployment_block - 1)
            store.create_checkpoint(
                session,
                self.registry.chain_id,
                manifest.deployment_block,
                manifest.deployment_block_hash.lower(),
                start.number,
                start.hash,
                start.timestamp,
            )
            store.upsert_blocks(
                session, [{"number": start.number, "hash": start.hash, "parent_hash": start.parent_hash}]
            )
            session.commit()
            checkpoint = store.get_checkpoint(session)
            if checkpoint is None:
                raise ServiceConfigError("the index database did not keep its checkpoint row")
        if checkpoint.chain_id != self.registry.chain_id:
            raise ServiceConfigError(
                f"the database indexes chain {checkpoint.chain_id}, the node is chain {self.registry.chain_id}"
            )
        if (checkpoint.deployment_block, checkpoint.deployment_block_hash) != (
            manifest.deployment_block,
            manifest.deployment_block_hash.lower(),
        ):
            raise ServiceConfigError(
                f"the database indexes the deployment of block {checkpoint.deployment_block}, but the manifest names "
                f"the deployment of block {manifest.deployment_block}; re-index with `idsreg api reindex`"
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
        if self._header(checkpoint.block_number).hash == checkpoint.block_hash:
            return 0
        ancestor: tuple[int, str, int] | None = None
        for block in store.recent_blocks(session):
            if block.number > checkpoint.block_number:
                continue
            header = self._header(block.number)
            if header.hash == block.hash:
                ancestor = (block.number, block.hash, header.timestamp)
                break
        deeper = ancestor is None
        if ancestor is None:
            # Deeper than the window: start again from the deployment.
            start = self._header(checkpoint.deployment_block - 1)
            log.warning(
                "reorg deeper than the %d-block window; re-indexing from block %d",
                self.settings.reorg_window,
                start.number + 1,
            )
            ancestor = (start.number, start.hash, start.timestamp)
        depth = checkpoint.block_number - ancestor[0]
        log.warning("chain reorganisation: rolling back %d blocks to %d", depth, ancestor[0])
        store.rollback_above(session, ancestor[0])
        if deeper:
            store.upsert_blocks(
                session, [{"number": start.number, "hash": start.hash, "parent_hash": start.parent_hash}]
            )
        store.set_checkpoint(session, checkpoint, *ancestor)
        session.commit()
        return depth

    # -- one range -----------------------------------------------------------------------------

    def _read_range(self, start: int, end: int) -> RangeRead:
        """The decoded events and tail block headers of blocks start..end, checked to come from
        one fork. Node errors of `eth_getLogs` propagate (the caller shrinks the range)."""
        end_hash = self._header(end).hash
        logs = rpc.get_logs(self.w3, self.addresses, start, end)
        # A range too big for one transaction is committed in parts, each of which needs its own
        # checkpoint block and reorg window: then every header of the range is read.
        first_header = (
            start if len(logs) > self.settings.max_events else max(start, end - self.settings.reorg_window + 1)
        )
        headers = rpc.get_headers(self.w3, list(range(first_header, end + 1)))
        for previous, header in itertools.pairwise(headers):
            if header.parent_hash != previous.hash:
                raise ChainMovedError(f"block {header.number} does not follow block {previous.number}")
        if headers[-1].hash != end_hash:
            raise ChainMovedError(f"block {end} changed while its range was read")
        known = {h.number: h for h in headers}
        # Block times: in the log when the node includes them, else from the block's header.
        missing = sorted({entry.block_number for entry in logs if entry.block_time is None} - set(known))
        times = {h.number: h.timestamp for h in headers} | {
            h.number: h.timestamp for h in rpc.get_headers(self.w3, missing)
        }
        events: list[Event] = []
        for entry in logs:
            if entry.removed:
                continue
            seen = known.get(entry.block_number)
            if seen is not None and seen.hash != entry.block_hash:
                raise ChainMovedError(f"a log of block {entry.block_number} came from another fork")
            decoded = decode_log(entry.topics, entry.data)
            if decoded is None:
                continue
            events.append(
                Event(
                    contract=decoded.contract,
                    name=decoded.name,
                    args=decoded.args,
                    block_number=entry.block_number,
                    block_hash=entry.block_hash,
                    block_time=entry.block_time if entry.block_time is not None else times[entry.block_number],
                    tx_hash=entry.tx_hash,
                    log_index=entry.log_index,
                )
            )
        return RangeRead(events, headers, end_hash)

    def _index_range(self, session: Session, checkpoint: Checkpoint, start: int, end: int, result: ScanResult) -> None:
        """Read blocks start..end and commit their events, domain rows, headers and the checkpoint
        together, in parts of at most `max_events` events cut at block boundaries (a block is
        never split: one block's events may exceed it); counts the new events and parts in `result`."""
        read = self._read_range(start, end)
        if read.headers[0].number == start and read.headers[0].parent_hash != checkpoint.block_hash:
            raise ChainMovedError(f"block {start} does not follow the checkpoint")
        if self._header(checkpoint.block_number).hash != checkpoint.block_hash:
            raise ChainMovedError(f"checkpoint block {checkpoint.block_number} changed while the range was read")
        stored = store.indexed_keys(session, start, end) if read.events else set()
        fresh = [e for e in read.events if (e.tx_hash, e.log_index) not in stored]
        headers = {h.number: h for h in read.headers}
        for part_end, events in _parts(fresh, self.settings.max_events, end):
            changes = RangeChanges(session)
            projection.prefetch(changes, events)
            rows = [_raw_row(self.registry.chain_id, event, projection.apply(changes, event)) for event in events]
            store.add_events(session, rows)
            changes.flush()
            window = range(max(part_end - self.settings.reorg_window + 1, start), part_end + 1)
            store.upsert_blocks(
                session,
                [
                    {"number": n, "hash": headers[n].hash, "parent_hash": headers[n].parent_hash}
                    for n in window
                    if n in headers
                ],
            )
            store.prune_window(session, part_end - self.settings.reorg_window + 1)
            last = headers[part_end]
            store.set_checkpoint(session, checkpoint, part_end, last.hash, last.timestamp)
            session.commit()
            result.events += len(rows)
            result.ranges += 1
            self.unanalysed += len(rows)
            self._refresh_statistics_if_grown(session)

    # -- scanning ------------------------------------------------------------------------------

    def scan_once(self, progress: Progress | None = None, stop: threading.Event | None = None) -> ScanResult:
        """Index from the checkpoint up to head − confirmations (or until `stop` is set, between
        ranges); calls `progress` after each committed range; returns what was done."""
        with Session(self.engine, expire_on_commit=False) as session:
            checkpoint = self._checkpoint(session)
            result = ScanResult(start_block=checkpoint.block_number + 1, end_block=checkpoint.block_number)
            result.rolled_back += self._check_reorg(session, checkpoint)
            result.target = target = self.target()
            while checkpoint.block_number < target and not (stop is not None and stop.is_set()):
                start = checkpoint.block_number + 1
                end = min(start + self.range_size - 1, target)
                events_before = result.events
                try:
                    self._index_range(session, checkpoint, start, end, result)
                except ChainMovedError as exc:
                    session.rollback()
                    log.info("chain moved during a range (%s); checking for a reorganisation", exc)
                    result.rolled_back += self._check_reorg(session, checkpoint)
                    result.target = target = self.target()
                    continue
                except NODE_ERRORS as exc:
                    session.rollback()
                    if end == start:
                        raise
                    self.range_size = max((end - start + 1) // 2, 1)
                    log.info("node refused blocks %d..%d (%s); range shrunk to %d", start, end, exc, self.range_size)
                    continue
                self.range_size = self._next_range_size(end - start + 1, result.events - events_before)
                result.rolled_back += self._check_reorg(session, checkpoint)
                result.end_block = checkpoint.block_number
                if progress is not None:
                    progress(result)
            result.end_block = checkpoint.block_number
            if self.unanalysed >= ANALYSE_AFTER:
                self._refresh_statistics(session)
        result.lag = max(self.head() - result.end_block, 0)
        return result

    def _next_range_size(self, blocks: int, events: int) -> int:
        """The next range's size in blocks after `blocks` blocks held `events` events: about
        `max_events` events at this density, growing at most twofold and only after a full range."""
        size = self.range_size * 2 if blocks >= self.range_size else self.range_size
        if events:
            size = min(size, max(blocks * self.settings.max_events // events, 1))
        return min(size, self.settings.max_range)

    def _refresh_statistics(self, session: Session) -> None:
        store.refresh_statistics(session)
        session.commit()
        self.analysed = store.count_events(session)
        self.unanalysed = 0

    def _refresh_statistics_if_grown(self, session: Session) -> None:
        """During a long catch-up, refresh the planner statistics once `ANALYSE_AFTER` events are
        new and again each time the event table has doubled since: a plan made for a table a
        tenth of its size (a sequential scan for the projection's `IN (…)` look-ups) turns a
        range of seconds into minutes, and autovacuum does not come round in time."""
        if self.analysed is None:
            self.analysed = store.count_events(session) - self.unanalysed
        if self.unanalysed >= max(ANALYSE_AFTER, self.analysed):
            log.info(
                "refreshing planner statistics (%d events, %d new)", self.analysed + self.unanalysed, self.unanalysed
            )
            self._refresh_statistics(session)

    def run(self, stop: threading.Event) -> None:
        """Scan until `stop` is set, waiting the poll interval between scans. Node outages are
        logged and retried; so are an event the index cannot place (a ProjectionError, which
        leaves the index at the last good range) and a database that belongs to another
        deployment (ServiceConfigError: re-index it)."""
        while not stop.is_set():
            try:
                result = self.scan_once(stop=stop)
            except NODE_ERRORS as exc:
                log.warning("chain node unavailable (%s); retrying in %.1f s", exc, self.settings.poll_interval)
            except (ProjectionError, ServiceConfigError) as exc:
                log.error("cannot index the next range: %s; retrying in %.1f s", exc, self.settings.poll_interval)
            else:
                if result.ranges or result.rolled_back:
                    log.info(
                        "indexed up to block %d (%d new events, lag %d)", result.end_block, result.events, result.lag
                    )
            stop.wait(self.settings.poll_interval)


def connect_indexer(settings: ApiSettings, engine: Engine, stop: threading.Event) -> Indexer | None:
    """An indexer for the deployed registry, once the node answers and the manifest is there
    (None if `stop` is set first)."""
    while not stop.is_set():
        try:
            return Indexer(Registry.connect(settings.rpc_url, settings.deployments), engine, settings)
        except (ChainError, *NODE_ERRORS) as exc:
            log.warning("indexer waiting for the chain: %s", exc)
        stop.wait(settings.poll_interval)
    return None


def follow_chain(settings: ApiSettings, engine: Engine, stop: threading.Event) -> None:
    """Wait for the chain, then index until `stop` is set (the service's indexer thread)."""
    indexer = connect_indexer(settings, engine, stop)
    if indexer is not None:
        indexer.run(stop)

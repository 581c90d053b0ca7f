"""Registering many datasets: items sorted before sending, a progress record, resumption.

A batch is a list of files. Before anything is sent, each item's root is looked up on the
chain: roots this organisation registered already are skipped, roots another organisation
registered are refused by file name, the rest are registered in chunks (`registerBatch`).

The progress record (`$IDSREG_HOME/batches/<chainId>-<key>.json`, `key` derived from the list
file's absolute path) is rewritten whole after each step: the items of a chunk are marked
`sending` before its transaction goes out and `registered` with the transaction after its
receipt. Several chunks are in flight at once (`window`, nonces counted locally), so a run cut
short may leave several chunks `sending`: exactly those whose outcome it did not see. A run
that is interrupted (killed, Ctrl-C, node gone) leaves the record; running the same list again
continues: what the earlier run registered is on the chain, counted as registered by this
batch (not as "already yours"), and only the rest is sent.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from .chain.enums import Grade
from .chain.transact import TxResult
from .datasets import WINDOW, Datasets, Registration, check_chunk_size, hex32
from .errors import ConfigError, ContractRevertError, IdsRegistryError
from .files import private_folder, replace

FORMAT = "idsreg-batch-progress/1"

REGISTERED = "registered"  # by this batch, in this run or an earlier one
SKIPPED = "skipped"  # registered by this organisation before the batch
FAILED = "failed"  # not registered: the reason says why (another organisation's, a refusal)
SENDING = "sending"  # in a transaction whose outcome this batch has not seen
PENDING = "pending"

#: Refusals of registerBatch that concern one item (named by its root), not the whole batch.
ITEM_ERRORS = frozenset({"DataRegistryAlreadyRegistered", "DataRegistryInvalidRoot"})


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class BatchItem:
    path: str
    root: str
    status: str = PENDING
    reason: str = ""
    transaction: str | None = None
    run: int | None = None  # the run that registered it


@dataclass
class BatchProgress:
    """The progress record of one batch list on one chain."""

    listing: str  # the list file's absolute path
    chain_id: int
    started_at: str
    items: list[BatchItem]
    runs: int = 0
    updated_at: str = ""
    complete: bool = False
    transactions: list[dict[str, Any]] = field(default_factory=list)
    format: str = FORMAT

    @staticmethod
    def location(folder: Path, listing: Path, chain_id: int) -> Path:
        key = hashlib.sha256(str(listing.resolve()).encode()).hexdigest()[:16]
        return folder / f"{chain_id}-{key}.json"

    @classmethod
    def load(cls, path: Path) -> BatchProgress | None:
        """The record at `path`, or None if there is none; ConfigError if it is unreadable."""
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text())
            items = [BatchItem(**i) for i in raw.pop("items")]
            return cls(items=items, **{_snake(k): v for k, v in raw.items()})
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                f"batch progress record {path} is unreadable ({exc}); move it away to start anew"
            ) from None

    def save(self, path: Path) -> None:
        self.updated_at = now_iso()
        private_folder(path.parent)
        raw = {_camel(k): v for k, v in asdict(self).items()}
        replace(path, json.dumps(raw, indent=1) + "\n", what="batch progress record", mode=0o600)

    def counts(self) -> dict[str, int]:
        found = {REGISTERED: 0, SKIPPED: 0, FAILED: 0}
        for item in self.items:
            if item.status in found:
                found[item.status] += 1
        return found


def read_listing(path: Path) -> list[Path]:
    """The paths a batch list file names: one a line, `#` comments and blank lines skipped,
    relative paths taken from the list's folder."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read batch list {path}: {exc.strerror}") from None
    entries = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not entries:
        raise ConfigError(f"batch list {path} names no files")
    base = path.parent
    return [Path(e) if Path(e).is_absolute() else base / e for e in entries]


def dedupe(paths: Sequence[Path], roots: Sequence[bytes]) -> list[tuple[Path, bytes]]:
    """The batch's (path, root) entries; ConfigError naming both files if two have the same
    content (the chain registers a root once)."""
    seen: dict[bytes, Path] = {}
    for p, r in zip(paths, roots, strict=True):
        if r in seen:
            raise ConfigError(f"{p} and {seen[r]} have the same content (root {hex32(r)}); list it once")
        seen[r] = p
    return list(zip(paths, roots, strict=True))


@dataclass(frozen=True)
class BatchOutcome:
    """What one run of a batch did: its record (saved at `record`) and its transactions."""

    progress: BatchProgress
    record: Path
    resumed: bool
    sent: list[TxResult]

    @property
    def earlier(self) -> int:
        """Items registered by an earlier run of this batch."""
        runs = self.progress.runs
        return sum(1 for i in self.progress.items if i.status == REGISTERED and i.run != runs)

    @property
    def failed(self) -> list[BatchItem]:
        return [i for i in self.progress.items if i.status == FAILED]

    def to_json(self, listing: Path) -> dict[str, Any]:
        """The outcome as `idsreg register --batch --json` prints it."""
        counts = self.progress.counts()
        return {
            "list": str(listing),
            "record": str(self.record),
            "resumed": self.resumed,
            "run": self.progress.runs,
            "startedAt": self.progress.started_at,
            "registered": counts[REGISTERED],
            "registeredEarlier": self.earlier,
            "skipped": counts[SKIPPED],
            "failed": counts[FAILED],
            "datasets": [
                {
                    "path": i.path,
                    "root": i.root,
                    "status": i.status,
                    "reason": i.reason or None,
                    "transaction": i.transaction,
                }
                for i in self.progress.items
            ],
            "transactions": [tx.to_json() for tx in self.sent],
        }


class BatchRegistrar:
    """Registers the items of one batch for the signer's organisation (see the module docstring)."""

    def __init__(
        self,
        datasets: Datasets,
        signer: LocalAccount,
        grade: Grade,
        parents: tuple[bytes, ...],
        manifest_uri: str,
        *,
        window: int = WINDOW,
    ) -> None:
        self.datasets = datasets
        self.window = window
        self.registry = datasets.registry
        self.signer = signer
        self.grade = grade
        self.parents = parents
        self.manifest_uri = manifest_uri
        self.org_no = int(self.registry.call("Consortium", "requireActiveKey", signer.address))

    def start(self, record: Path, listing: Path, entries: Sequence[tuple[Path, bytes]]) -> tuple[BatchProgress, bool]:
        """The progress of this batch: an unfinished earlier run's, brought up to date, or a new one."""
        earlier = BatchProgress.load(record)
        resumed = earlier is not None and not earlier.complete
        before = {i.root: i for i in earlier.items} if earlier is not None and resumed else {}
        items = []
        for path, root in entries:
            kept = before.get(hex32(root))
            item = BatchItem(str(path), hex32(root))
            if kept is not None and kept.status in (REGISTERED, SENDING):
                item.status, item.transaction, item.run = kept.status, kept.transaction, kept.run
            items.append(item)
        progress = BatchProgress(
            listing=str(listing.resolve()),
            chain_id=self.registry.chain_id,
            started_at=earlier.started_at if earlier is not None and resumed else now_iso(),
            items=items,
            runs=(earlier.runs if earlier is not None and resumed else 0) + 1,
            transactions=earlier.transactions if earlier is not None and resumed else [],
        )
        return progress, resumed

    def sort(self, progress: BatchProgress) -> None:
        """Set each item's status from the chain: ours already, another organisation's, or to send."""
        for item in progress.items:
            root = bytes.fromhex(item.root[2:])
            if not self.datasets.is_registered(root):
                if item.status == SENDING:
                    item.status, item.run = PENDING, None  # its transaction did not register it
                continue
            registrant = self._registrant(root)
            if registrant == self.org_no:
                if item.status == SENDING:
                    # Sent by an earlier run that did not see the receipt: the transaction is in the event.
                    found = self.registry.events("DataRegistry", "DatasetRegistered", item.root)
                    item.status = REGISTERED
                    item.transaction = found[-1][1]["transactionHash"].to_0x_hex() if found else None
                elif item.status == REGISTERED:
                    pass  # by an earlier run of this batch
                else:
                    item.status = SKIPPED
                    item.reason = "already registered by your organisation"
            else:
                item.status = FAILED
                item.reason = f"registered by {self.registry.org_label(registrant)}, not by your organisation"

    def finish(
        self, progress: BatchProgress, record: Path, resumed: bool, chunk_size: int, advance: Callable[[int], None]
    ) -> BatchOutcome:
        """`register` the pending items, then mark the record complete if nothing is left to send."""
        sent = self.register(progress, record, chunk_size, advance)
        progress.complete = not any(i.status in (PENDING, SENDING) for i in progress.items)
        progress.save(record)
        return BatchOutcome(progress, record, resumed, sent)

    def register(
        self, progress: BatchProgress, record: Path, chunk_size: int, advance: Callable[[int], None]
    ) -> list[TxResult]:
        """Send the pending items in chunks, `window` transactions in flight at a time, saving
        the record before each send and after each receipt.

        A chunk refused because of one item (registered meanwhile by another organisation)
        marks that item and sends the rest of the chunk again. A chunk refused outright (the
        key revoked, a parent unknown) stops the sends: the chunks in flight are awaited and
        recorded, then the refusal is raised. If the run dies, the chunks in flight stay
        `sending` in the record; the next run's `sort` finds out what became of them."""
        check_chunk_size(chunk_size)
        sender = self.registry.sender(self.signer)
        sent: list[TxResult] = []
        todo = deque(i for i in progress.items if i.status == PENDING)
        flight: deque[list[BatchItem]] = deque()
        refusal: Exception | None = None

        def next_call() -> tuple[str, bytes, int] | None:
            if not todo or refusal is not None:
                return None
            chunk = [todo.popleft() for _ in range(min(chunk_size, len(todo)))]
            for item in chunk:
                item.status, item.run = SENDING, progress.runs
            progress.save(record)
            flight.append(chunk)
            return self.datasets.batch_call(
                [Registration(bytes.fromhex(i.root[2:]), self.grade, bytes(32), "", self.parents) for i in chunk],
                self.manifest_uri,
            )

        for signed, receipt in sender.pipeline(next_call, self.window):
            chunk = flight.popleft()
            try:
                tx = sender.outcome(signed, receipt)
            except IdsRegistryError as exc:
                explained = self.registry.explained(exc)
                culprit = self._culprit(explained, chunk)
                for item in chunk:
                    item.status, item.run = PENDING, None
                if culprit is None:
                    refusal = refusal or explained
                    progress.save(record)
                    continue
                # One item is refused (registered meanwhile, say): mark it and send the others again.
                culprit.status, culprit.reason = FAILED, str(explained)
                root = bytes.fromhex(culprit.root[2:])
                if self._registrant(root) == self.org_no:
                    culprit.status, culprit.reason = SKIPPED, "registered by your organisation while the batch ran"
                todo.extendleft(reversed([i for i in chunk if i is not culprit]))
                progress.save(record)
                advance(1)
                continue
            for item in chunk:
                item.status, item.transaction = REGISTERED, tx.tx_hash
            progress.transactions.append(
                {"transaction": tx.tx_hash, "block": tx.block_number, "count": len(chunk), "run": progress.runs}
            )
            progress.save(record)
            sent.append(tx)
            advance(len(chunk))
        if refusal is not None:
            raise refusal
        return sent

    def _registrant(self, root: bytes) -> int:
        return int(self.registry.call("DataRegistry", "dataset", root)[0])

    def _culprit(self, exc: Exception, chunk: list[BatchItem]) -> BatchItem | None:
        """The item a refusal is about, if it is about one item of the chunk (not about the
        parents or the signer, which all items share)."""
        if not isinstance(exc, ContractRevertError) or exc.error_name not in ITEM_ERRORS:
            return None
        value = exc.values.get("root")
        if isinstance(value, bytes | bytearray):
            value = hex32(bytes(value))
        if not isinstance(value, str):
            return None
        return next((i for i in chunk if i.root == value.lower()), None)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


__all__ = ["BatchItem", "BatchOutcome", "BatchProgress", "BatchRegistrar", "dedupe", "read_listing"]

"""`idsreg register --batch LIST`: many datasets, skipping what is yours, resuming what was cut short."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from ..chain.enums import Grade
from ..errors import ConfigError, IdsRegistryError
from .common import console, emit, err_console, registry, signer
from .datasets import hash_all
from .progress import count_progress
from .tx import print_tx

#: Most datasets one registerBatch transaction may carry (the contract's MAX_BATCH).
MAX_CHUNK = 500


class BatchIncompleteError(IdsRegistryError):
    """Items of a batch that were not registered (another organisation's, or refused)."""

    exit_code = 5


def register_batch(
    listing: Path,
    paths: list[Path],
    grade: Grade,
    parents: tuple[bytes, ...],
    manifest_uri: str,
    chunk_size: int,
    key: str | None,
    password_file: Path | None,
    rpc_url: str | None,
    as_json: bool,
) -> None:
    from ..batch import PENDING, SKIPPED, BatchProgress, BatchRegistrar, dedupe
    from ..datasets import Datasets
    from ..settings import get_settings

    if not 1 <= chunk_size <= MAX_CHUNK:
        raise ConfigError(f"--chunk-size {chunk_size} is not between 1 and {MAX_CHUNK}")
    entries = dedupe(paths, hash_all(paths, not as_json))
    reg = registry(rpc_url)
    registrar = BatchRegistrar(Datasets(reg), signer(key, password_file), grade, parents, manifest_uri)
    record = BatchProgress.location(get_settings().home / "batches", listing, reg.chain_id)
    progress, resumed = registrar.start(record, listing, entries)
    if resumed:
        err_console.print(
            f"note: resuming the batch of {listing} started at {progress.started_at} (run {progress.runs}; "
            f"progress in {record})",
            soft_wrap=True,
        )
    with count_progress("checking", len(entries), not as_json) as advance:
        registrar.sort(progress)
        advance(len(entries))
    progress.save(record)
    pending = sum(1 for i in progress.items if i.status == PENDING)
    with count_progress("registering", pending, not as_json) as advance:
        outcome = registrar.finish(progress, record, resumed, chunk_size, advance)

    data = outcome.to_json(listing)
    failed, earlier = outcome.failed, outcome.earlier

    def human() -> None:
        for tx in outcome.sent:
            print_tx(tx, f"registered {sum(1 for e in tx.events if e.name == 'DatasetRegistered')} datasets")
        for item in progress.items:
            if item.status == SKIPPED:
                console.print(f"  skipped {escape(item.path)}: {escape(item.reason)}", soft_wrap=True)
        for item in failed:
            console.print(f"  [red]not registered[/] {escape(item.path)}: {escape(item.reason)}", soft_wrap=True)
        note = f" ({earlier} by an earlier run)" if earlier else ""
        console.print(
            f"registered {data['registered']}{note}, skipped {data['skipped']} already yours, "
            f"failed {data['failed']} — {len(outcome.sent)} transaction(s) in this run",
            soft_wrap=True,
        )

    emit(as_json, data, human)
    if failed:
        shown = "; ".join(f"{i.path} ({i.reason})" for i in failed[:5])
        more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
        raise BatchIncompleteError(f"{len(failed)} of {len(progress.items)} listed items not registered: {shown}{more}")

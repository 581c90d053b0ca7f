"""Registrations per second through the SDK against the local chain, single and batched.

Every call is the SDK's whole path: build the call, estimate gas, read the nonce, sign, send,
wait for the receipt, decode the events. The node mines a block per transaction.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from client.chain.enums import Grade
from client.chain.transact import RECEIPT_POLL
from client.datasets import Datasets, Registration

from .chain import BenchChain, random32
from .gas import MANIFEST_URI
from .report import Column, Row, Table


def _registrations(count: int) -> list[Registration]:
    # Made before the clock starts: the benchmark times the SDK and the node, not os.urandom.
    return [Registration(root=random32(), grade=Grade.GENERAL, metadata_hash=random32()) for _ in range(count)]


@contextmanager
def _counting_requests(chain: BenchChain) -> Iterator[Counter[str]]:
    """JSON-RPC requests sent to the node inside the block, by method (filled in on the way out)."""
    sent: Counter[str] = Counter()
    before = chain.requests_sent()
    try:
        yield sent
    finally:
        sent.update(chain.requests_sent() - before)


T = TypeVar("T")


@dataclass(frozen=True)
class _Timing:
    seconds: float
    #: Seconds each call took, in order.
    latencies: list[float]


def _timed(console: Console, label: str, units: Sequence[T], send: Callable[[T], object]) -> _Timing:
    columns = (TextColumn(f"throughput: {label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    latencies = []
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=len(units))
        start = time.perf_counter()
        for unit in units:
            before = time.perf_counter()
            send(unit)
            latencies.append(time.perf_counter() - before)
            bar.advance(task)
        return _Timing(time.perf_counter() - start, latencies)


def throughput_table(
    chain: BenchChain, console: Console, singles: int = 200, batches: int = 20, batch_size: int = 100
) -> Table:
    """Time `singles` sequential `register` calls and `batches` × `batch_size` `register_batch` calls."""
    datasets = Datasets(chain.registry)
    signer = chain.alpha.connector
    # One call first, so that connection set-up and ABI caches are not in the timings.
    datasets.register(signer, _registrations(1)[0])

    single_units = _registrations(singles)
    with _counting_requests(chain) as single_requests:
        single_timing = _timed(console, f"{singles} × register", single_units, lambda r: datasets.register(signer, r))
    batch_units = [_registrations(batch_size) for _ in range(batches)]
    with _counting_requests(chain) as batch_requests:
        batch_timing = _timed(
            console,
            f"{batches} × register_batch of {batch_size}",
            batch_units,
            lambda b: datasets.register_batch(signer, b, MANIFEST_URI),
        )
    rows: list[Row] = [
        _row("register (one per transaction)", singles, single_timing, single_requests),
        _row(f"register_batch of {batch_size}", batches * batch_size, batch_timing, batch_requests),
    ]
    return Table(
        "throughput",
        "Registrations per second through the SDK",
        [
            Column("mode", "mode"),
            Column("datasets", "datasets", ","),
            Column("transactions", "transactions", ","),
            Column("seconds", "seconds", ".2f"),
            Column("datasets_per_s", "datasets/s", ",.0f"),
            Column("ms_per_tx", "ms per tx, mean", ".1f"),
            Column("ms_p50", "p50", ".1f"),
            Column("ms_max", "max", ".1f"),
            Column("rpc_per_tx", "RPC calls per tx", ".1f"),
            Column("receipt_waits", "receipt waits", ","),
        ],
        rows,
        [
            (
                "sequential, one signer, each call waits for its receipt; anvil mines a block per transaction; "
                "p50 and max: time of one SDK call (one transaction)"
            ),
            "RPC calls per tx: JSON-RPC requests web3 sent during the timed part, divided by the transactions",
            (
                "receipt waits: transactions whose receipt was not there at web3's first poll, so that "
                f"wait_for_transaction_receipt slept its {RECEIPT_POLL} s poll interval (client/chain/transact.py) "
                "before asking again"
            ),
        ],
    )


def _row(mode: str, datasets: int, timing: _Timing, requests: Counter[str]) -> Row:
    transactions = len(timing.latencies)
    return {
        "mode": mode,
        "datasets": datasets,
        "transactions": transactions,
        "seconds": round(timing.seconds, 3),
        "datasets_per_s": datasets / timing.seconds,
        "ms_per_tx": 1000 * timing.seconds / transactions,
        "ms_p50": 1000 * statistics.median(timing.latencies),
        "ms_max": 1000 * max(timing.latencies),
        "rpc_per_tx": requests.total() / transactions,
        "receipt_waits": requests["eth_getTransactionReceipt"] - transactions,
        "rpc_calls": dict(requests),
    }

"""Registrations per second through the SDK against the local chain, single, batched and
pipelined, each next to the same node taking pre-signed raw transactions in the same run.

Every SDK call is its whole path: encode the call, sign (nonce counted locally), send, wait
for the receipt, decode the events. The baselines time only the node and bare JSON-RPC.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from client.chain.enums import Grade
from client.chain.sender import Sender, Signed
from client.chain.transact import RECEIPT_POLL
from client.datasets import WINDOW, Datasets, Registration

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


def _presigned(
    chain: BenchChain, signer: LocalAccount, calls: list[tuple[str, bytes, int]]
) -> tuple[Sender, list[Signed]]:
    """The calls signed ahead with the signer's next nonces (not timed), and a sender of
    that signer's to hand them to the node."""
    sender = Sender(chain.w3, signer, chain.registry.chain_id)
    return sender, [sender.sign(*call) for call in calls]


def _raw_sequential(sender: Sender, signed: list[Signed]) -> _Timing:
    """The baseline for singles: each pre-signed transaction sent raw, its receipt awaited
    (polled every RECEIPT_POLL s, as the SDK does) before the next is sent."""
    latencies = []
    start = time.perf_counter()
    for tx in signed:
        before = time.perf_counter()
        sender.send(tx)
        if int(sender.wait(tx)["status"], 16) != 1:
            raise RuntimeError(f"baseline transaction {tx.tx_hash} failed")
        latencies.append(time.perf_counter() - before)
    return _Timing(time.perf_counter() - start, latencies)


def _raw_windowed(sender: Sender, signed: list[Signed], window: int) -> tuple[_Timing, int]:
    """The baseline for bulk: the pre-signed transactions sent raw with `window` in flight, as
    `register_batches` sends; (timing, gas used)."""
    calls = iter(signed)
    flight: deque[Signed] = deque()
    gas = 0
    start = time.perf_counter()
    while True:
        while len(flight) < window and (tx := next(calls, None)) is not None:
            sender.send(tx)
            flight.append(tx)
        if not flight:
            break
        receipt = sender.wait(flight.popleft())
        if int(receipt["status"], 16) != 1:
            raise RuntimeError(f"baseline transaction {receipt['transactionHash']} failed")
        gas += int(receipt["gasUsed"], 16)
    seconds = time.perf_counter() - start
    return _Timing(seconds, [seconds / len(signed)] * len(signed)), gas


#: Turns the SDK and its baseline take, one after the other (see throughput_table).
ROUNDS = 10


@dataclass
class _Turns:
    """The SDK's (or a baseline's) timings and requests over its turns."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)

    def add(self, timing: _Timing, requests: Counter[str]) -> None:
        self.seconds += timing.seconds
        self.latencies += timing.latencies
        self.requests.update(requests)

    def timing(self) -> _Timing:
        return _Timing(self.seconds, self.latencies)


def throughput_table(
    chain: BenchChain,
    console: Console,
    singles: int = 200,
    batches: int = 20,
    batch_size: int = 100,
    bulk: int = 20_000,
    window: int = WINDOW,
) -> Table:
    """In one run, on one node: `singles` sequential `register` calls against the same number
    of pre-signed raw `register` transactions sent one after another; `batches` sequential
    `register_batch` calls; `bulk` datasets through `register_batches` (pipelined) against
    the same number as pre-signed raw `registerBatch` transactions sent with the same window.
    Each SDK row and its baseline take turns (ROUNDS rounds)."""
    datasets = Datasets(chain.registry)
    signer = chain.alpha.connector
    # One call first, so that connection set-up and ABI caches are not in the timings.
    datasets.register(signer, _registrations(1)[0])
    address = chain.registry.contract("DataRegistry").address
    rows: list[Row] = []

    # The baselines are signed by the other key of the same organisation (its admin key), so
    # that they can be sent between the SDK's calls: both take turns in ROUNDS rounds and see
    # the same machine (other work on it comes and goes within seconds).
    admin = chain.alpha.admin
    sdk_singles = _registrations(singles)
    raw_sender, raw_singles = _presigned(
        chain,
        admin,
        [
            (address, chain.registry.encode("DataRegistry", "register", r.request()), 1_000_000)
            for r in _registrations(singles)
        ],
    )
    step = max(1, singles // ROUNDS)
    sdk, raw = _Turns(), _Turns()
    for i in range(0, singles, step):
        with _counting_requests(chain) as requests:
            timing = _timed(console, "register", sdk_singles[i : i + step], lambda r: datasets.register(signer, r))
        sdk.add(timing, requests)
        with _counting_requests(chain) as requests:
            timing = _raw_sequential(raw_sender, raw_singles[i : i + step])
        raw.add(timing, requests)
    rows.append(_row("SDK register, one per transaction", singles, sdk.timing(), sdk.requests))
    rows.append(_row("pre-signed raw register, sequential — baseline", singles, raw.timing(), raw.requests))
    rows[-2]["vs_baseline"] = rows[-2]["datasets_per_s"] / rows[-1]["datasets_per_s"]
    rows[-1]["vs_baseline"] = 1.0

    batch_units = [_registrations(batch_size) for _ in range(batches)]
    with _counting_requests(chain) as batch_requests:
        batch_timing = _timed(
            console,
            f"{batches} × register_batch of {batch_size}",
            batch_units,
            lambda b: datasets.register_batch(signer, b, MANIFEST_URI),
        )
    rows.append(
        _row(f"SDK register_batch of {batch_size}, sequential", batches * batch_size, batch_timing, batch_requests)
    )

    per_round = max(batch_size, bulk // ROUNDS // batch_size * batch_size)
    sdk_bulk = _registrations(bulk)
    chunks = [_registrations(min(batch_size, bulk - i)) for i in range(0, bulk, batch_size)]
    bulk_sender, raw_bulk = _presigned(chain, admin, [datasets.batch_call(c, MANIFEST_URI) for c in chunks])
    sdk, raw = _Turns(), _Turns()
    sdk_gas = raw_gas = 0
    for i in range(0, bulk, per_round):
        with _counting_requests(chain) as requests:
            start = time.perf_counter()
            sent = datasets.register_batches(
                signer, sdk_bulk[i : i + per_round], MANIFEST_URI, chunk_size=batch_size, window=window
            )
            seconds = time.perf_counter() - start
        sdk.add(_Timing(seconds, [seconds / len(sent)] * len(sent)), requests)
        sdk_gas += sum(tx.gas_used for tx in sent)
        first = i // batch_size
        with _counting_requests(chain) as requests:
            timing, gas = _raw_windowed(bulk_sender, raw_bulk[first : first + per_round // batch_size], window)
        raw.add(timing, requests)
        raw_gas += gas
    mode = f"{batch_size} a transaction, {window} in flight"
    rows.append(_row(f"SDK register_batches, {mode}", bulk, sdk.timing(), sdk.requests))
    rows[-1]["gas_per_dataset"] = sdk_gas / bulk
    rows[-1]["mgas_per_s"] = sdk_gas / sdk.seconds / 1e6
    rows.append(_row(f"pre-signed raw registerBatch, {mode} — baseline", bulk, raw.timing(), raw.requests))
    rows[-1]["gas_per_dataset"] = raw_gas / bulk
    rows[-1]["mgas_per_s"] = raw_gas / raw.seconds / 1e6
    rows[-2]["vs_baseline"] = rows[-2]["datasets_per_s"] / rows[-1]["datasets_per_s"]
    rows[-1]["vs_baseline"] = 1.0
    return Table(
        "throughput",
        "Registrations per second through the SDK, next to pre-signed raw transactions on the same node",
        [
            Column("mode", "mode"),
            Column("datasets", "datasets", ","),
            Column("transactions", "transactions", ","),
            Column("seconds", "seconds", ".2f"),
            Column("datasets_per_s", "datasets/s", ",.0f"),
            Column("vs_baseline", "× baseline", ".2f"),
            Column("ms_per_tx", "ms per tx, mean", ".1f"),
            Column("ms_p50", "p50", ".1f"),
            Column("rpc_per_tx", "RPC calls per tx", ".1f"),
            Column("gas_per_dataset", "gas per dataset", ",.0f"),
            Column("mgas_per_s", "M gas/s", ".1f"),
        ],
        rows,
        [
            (
                "one signer; anvil mines a block as transactions arrive; p50: time of one SDK call (one "
                "transaction) — for the pipelined rows, the mean"
            ),
            (
                "baselines: the same calls signed before the clock starts (by the organisation's other key), "
                "sent with bare JSON-RPC requests (eth_sendRawTransaction, eth_getTransactionReceipt polled "
                f"every {RECEIPT_POLL} s) — singles one after another, bulk with the same window; each SDK row "
                f"and its baseline take turns in {ROUNDS} rounds"
            ),
            "RPC calls per tx: JSON-RPC requests sent during the timed part, divided by the transactions",
            "M gas/s: gas used by the registrations divided by the seconds: the rate the node executes at",
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

"""The registry service: indexer events per second (SQLite and PostgreSQL) against web3.py's
own fetch-and-decode of the same logs, then API latency under concurrent load on that index.

The chain gets `datasets` registrations in batches of 500 (each dataset after the first batch
derived from one of the batch before, so lineage is deep), and a few hundred right offers and
acceptances. The indexer runs with its default settings into a fresh database of each kind;
the baseline asks web3.py for every event type of every contract with
`contract.events.<Event>.get_logs()` over the same block range, in the same run. The API is
`python -m registry_api serve --no-index [--workers N]` (the service as deployed, with each of
the chosen worker counts, or its own default) answering `clients` concurrent closed-loop clients
(`load.py`) for `seconds` per chosen scenario, over SQLite and over PostgreSQL; given a baseline
checkout, that code's service answers the same databases in the same run, just before this one's.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from eth_abi import encode as abi_encode
from hexbytes import HexBytes
from psycopg import sql
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from web3 import Web3

from client.chain.enums import Grade, Right
from client.chain.node import free_port
from client.datasets import Datasets, Registration
from registry_api.db import init_db, make_engine
from registry_api.indexer import Indexer
from registry_api.models import RawEvent
from registry_api.settings import ApiSettings

from .chain import BenchChain, random32
from .load import LoadResult, run_load
from .report import Column, Row, Table

BATCH = 500
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The issues' targets: indexing at least twice web3.py's speed on SQLite; lookups p99 ≤ 25 ms;
#: history p99 ≤ 50 ms, lineage p99 ≤ 100 ms (32 clients); from 100,000 to 300,000 datasets the
#: indexer's cost per event grows at most 1.25×, history's and lineage's p99 at most 1.5×.
INDEX_TARGET = 2.0
LOOKUP_P99_MS = 25.0
HISTORY_P99_MS = 50.0
LINEAGE_P99_MS = 100.0
INDEX_GROWTH = 1.25
LATENCY_GROWTH = 1.5


def _columns() -> list[Any]:
    return [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]


class ChainBuilder:
    """Registers datasets in batches of `BATCH`, each dataset after the first batch derived from
    one of the batch before (so lineage is deep), up to a count that grows between measurements."""

    def __init__(self, chain: BenchChain, console: Console) -> None:
        self.chain = chain
        self.console = console
        self.client = Datasets(chain.registry)
        self.roots: list[bytes] = []
        self.previous: list[bytes] = []

    def register_up_to(self, datasets: int) -> None:
        """Register batches until `datasets` are on the chain. The transactions are encoded with
        eth_abi, signed and sent without waiting for each receipt (nonces counted here, one gas
        estimate for a full batch): this builds the indexer's chain, it does not measure the SDK,
        whose web3 encoding cost more CPU than anvil itself on a busy 2-core machine."""
        signer = self.chain.alpha.connector
        w3 = self.chain.w3
        contract = self.chain.registry.contract("DataRegistry")
        selector = Web3.keccak(text="registerBatch((bytes32,uint8,bytes32,bytes32[])[],string)")[:4]
        nonce = w3.eth.get_transaction_count(signer.address, "pending")
        gas: int | None = None
        sent: list[bytes] = []
        with Progress(*_columns(), console=self.console, transient=True) as bar:
            task = bar.add_task("registering datasets", total=datasets, completed=len(self.roots))
            while len(self.roots) < datasets:
                size = min(BATCH, datasets - len(self.roots))
                batch = [
                    Registration(
                        random32(), Grade.GENERAL, random32(), "", (self.previous[i],) if i < len(self.previous) else ()
                    )
                    for i in range(size)
                ]
                data = selector + abi_encode(
                    ["(bytes32,uint8,bytes32,bytes32[])[]", "string"],
                    [[r.batch_item() for r in batch], f"ipfs://bench/batch-{len(self.roots) // BATCH}.json"],
                )
                tx: dict[str, Any] = {
                    "from": signer.address,
                    "to": contract.address,
                    "data": data,
                    "nonce": nonce,
                    "chainId": self.chain.registry.chain_id,
                    "maxFeePerGas": 0,
                    "maxPriorityFeePerGas": 0,
                }
                if gas is None:
                    gas = min(int(w3.eth.estimate_gas(tx) * 1.5), 45_000_000)  # type: ignore[arg-type]
                tx["gas"] = gas
                sent.append(bytes(w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)))
                nonce += 1
                self.previous = [r.root for r in batch]
                self.roots += self.previous
                bar.advance(task, size)
        for tx_hash in sent:
            receipt = w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=120)
            if receipt["status"] != 1:
                raise RuntimeError(f"batch registration {tx_hash.hex()} failed")

    def transfer(self, transfers: int) -> None:
        """Offer and accept the processing right of `transfers` random datasets."""
        signer = self.chain.alpha.connector
        with Progress(*_columns(), console=self.console, transient=True) as bar:
            task = bar.add_task("offering and accepting rights", total=transfers)
            for root in random.Random(1).sample(self.roots, transfers):
                self.client.offer(signer, root, Right.PROCESSING, self.chain.beta.identifier)
                self.client.accept(self.chain.beta.connector, root, Right.PROCESSING)
                bar.advance(task)


def node_memory(pid: int | None) -> tuple[float, float]:
    """The node's resident memory now and at its peak (VmRSS, VmHWM), in GiB; NaN where unknown."""
    found = {"VmRSS": float("nan"), "VmHWM": float("nan")}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in found:
                found[name] = int(value.split()[0]) / 2**20  # kB
    except (OSError, ValueError):
        pass
    return found["VmRSS"], found["VmHWM"]


def web3_baseline(chain: BenchChain) -> tuple[int, float]:
    """Events and seconds for web3.py's get_logs of every event type over the deployment's blocks."""
    registry = chain.registry
    first, last = registry.manifest.deployment_block, chain.w3.eth.block_number
    count = 0
    start = time.perf_counter()
    for name in registry.manifest.contracts:
        contract = registry.contract(name)
        for item in contract.abi:
            if item["type"] == "event":
                count += len(contract.events[item["name"]].get_logs(from_block=first, to_block=last))
    return count, time.perf_counter() - start


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"idsreg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # The server's Unix socket where there is one: the API and the database share the machine,
    # and a loopback TCP round trip costs this VM three times as much (0.31 ms against 0.10).
    socket = Path("/var/run/postgresql")
    try:
        yield (
            f"postgresql://postgres@/{name}?host={socket}"
            if socket.is_dir()
            else f"postgresql://postgres@127.0.0.1:5432/{name}"
        )
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def index_into(chain: BenchChain, engine: Engine, deployments: Path) -> tuple[int, float]:
    init_db(engine)
    settings = ApiSettings(
        database_url=str(engine.url),
        rpc_url=chain.registry.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        deployments=deployments,
    )
    indexer = Indexer(chain.registry, engine, settings)
    start = time.perf_counter()
    result = indexer.scan_once()
    seconds = time.perf_counter() - start
    with Session(engine) as session:
        stored = int(session.connection().execute(select(func.count()).select_from(RawEvent)).scalar_one())
    if stored != result.events:
        raise RuntimeError(f"the indexer reported {result.events} events but stored {stored}")
    return result.events, seconds


#: The API scenarios by their `--api-scenarios` key: the label in the tables, the path after the
#: dataset's root, the issue's p99 target in ms.
SCENARIOS: dict[str, tuple[str, str, float]] = {
    "lookup": ("dataset lookup", "", LOOKUP_P99_MS),
    "history": ("history", "/history", HISTORY_P99_MS),
    "lineage": ("lineage (both ways, depth 3)", "/lineage", LINEAGE_P99_MS),
}


def baseline_python(checkout: Path) -> Path:
    """The interpreter a baseline checkout's service runs with: its own `.venv` (made by its
    `scripts/setup`, so its own pinned packages) where it has one, else this one."""
    own = checkout / ".venv" / "bin" / "python"
    return own if own.is_file() else Path(sys.executable)


def revision(checkout: Path) -> str:
    """The checkout's short commit, or its path when git cannot tell."""
    done = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or str(checkout)


@contextmanager
def api_server(
    database_url: str,
    chain: BenchChain,
    deployments: Path,
    log: Path,
    workers: int | None,
    code: Path | None = None,
) -> Iterator[str]:
    """The service as deployed (`python -m registry_api serve --no-index [--workers N]`, no
    `--workers` for the service's own default) on a free port; run from the checkout `code` (a
    baseline's source, with `baseline_python`) when given, else from this one."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    env.update(
        IDSREG_API_DATABASE_URL=database_url,
        IDSREG_API_RPC_URL=chain.registry.w3.provider.endpoint_uri,  # type: ignore[attr-defined]
        IDSREG_API_DEPLOYMENTS=str(deployments),
        IDSREG_API_PORT=str(port),
        IDSREG_API_TOKEN_SECRET="bench-only-token-secret-0123456789abcdef",
    )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                str(baseline_python(code) if code is not None else sys.executable),
                "-m",
                "registry_api",
                "serve",
                "--no-index",
                "--log-level",
                "warning",
                *(["--workers", str(workers)] if workers is not None else []),
            ],
            env=env,
            cwd=code,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        # Generous: on a 2-core machine other work can make the start take a minute.
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{url}/v1/status", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start: {log.read_text()[-500:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _load_row(
    code: str, store: str, workers: str, scenario: str, result: LoadResult, clients: int, target: float | None
) -> Row:
    errors = result.failures + sum(n for status, n in result.statuses.items() if status != 200)
    p99 = 1000 * result.percentile(99)
    return {
        "code": code,
        "store": store,
        "workers": workers,
        "scenario": scenario,
        "clients": clients,
        "requests": result.requests,
        "rps": result.requests / result.seconds,
        "p50": 1000 * result.percentile(50),
        "p99": p99,
        "max": 1000 * max(result.latencies, default=float("nan")),
        "errors": errors,
        "target": f"p99 ≤ {target:.0f} ms" if target else "—",
        "met": (p99 <= target and errors == 0) if target else None,
    }


def _load_scenarios(roots: list[bytes], keys: tuple[str, ...]) -> list[tuple[str, list[str], float]]:
    """The chosen scenarios (keys of `SCENARIOS`, in that table's order): label, paths, target."""
    hexes = ["0x" + r.hex() for r in roots]
    chooser = random.Random(3)
    sample = [hexes[chooser.randrange(len(hexes))] for _ in range(20_000)]
    return [
        (label, [f"/v1/datasets/{r}{suffix}" for r in sample], target)
        for key, (label, suffix, target) in SCENARIOS.items()
        if key in keys
    ]


def _codes(baseline: Path | None) -> list[tuple[str, Path | None]]:
    """The services to measure, each with its label in the tables: a baseline's first."""
    this: tuple[str, Path | None] = ("this checkout", None)
    return [(f"baseline {revision(baseline)}", baseline), this] if baseline is not None else [this]


def _workers_label(count: int | None, code: Path | None) -> str:
    """A worker count as the tables show it. The default is the code's own: this checkout's is
    known here, a baseline's is not."""
    if count is not None:
        return str(count)
    return "default" if code is not None else f"default ({ApiSettings().workers})"


def _measure_scale(
    chain: BenchChain,
    console: Console,
    folder: Path,
    datasets: int,
    roots: list[bytes],
    clients: int,
    seconds: float,
    workers: tuple[int | None, ...],
    scenarios: tuple[str, ...],
    baseline: Path | None,
) -> tuple[list[Row], list[Row]]:
    """The indexer rows (baseline, SQLite, PostgreSQL) and the API rows at the chain's current size."""
    deployments = folder / "deployments"
    chain.registry.manifest.save(deployments)
    with console.status(f"{datasets:,} datasets — web3.py: get_logs of every event type"):
        base_events, base_seconds = web3_baseline(chain)
    sqlite_url = f"sqlite:///{folder / f'index-{datasets}.db'}"
    with console.status(f"{datasets:,} datasets — indexing into SQLite"):
        lite_events, lite_seconds = index_into(chain, make_engine(sqlite_url), deployments)
    index_rows: list[Row] = []
    load_rows: list[Row] = []
    with postgres_database() as pg_url:
        with console.status(f"{datasets:,} datasets — indexing into PostgreSQL"):
            pg_events, pg_seconds = index_into(chain, make_engine(pg_url), deployments)
        base_rate = base_events / base_seconds
        for what, events, took, target in (
            ("web3.py contract.events.<Event>.get_logs() — baseline", base_events, base_seconds, None),
            (
                "indexer → SQLite (decode, domain tables, raw events, checkpoint)",
                lite_events,
                lite_seconds,
                INDEX_TARGET,
            ),
            ("indexer → PostgreSQL", pg_events, pg_seconds, None),
        ):
            ratio = events / took / base_rate
            index_rows.append(
                {
                    "datasets": datasets,
                    "what": what,
                    "events": events,
                    "seconds": took,
                    "rate": events / took,
                    "cost": 1e6 * took / events,
                    "ratio": ratio,
                    "target": f"≥ {target:.0f}× baseline" if target else "—",
                    "met": ratio >= target if target else None,
                }
            )
        chosen = _load_scenarios(roots, scenarios)
        for store, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            for count in workers:
                for code, source in _codes(baseline):
                    shown = _workers_label(count, source)
                    log = folder / f"api-{datasets}-{store}-{count or 'default'}-{len(load_rows)}.log"
                    with api_server(url, chain, deployments, log, count, source) as api:
                        for scenario, paths, target in chosen:
                            with console.status(
                                f"{datasets:,} datasets — {code}, API on {store}, {shown} workers: {scenario}, "
                                f"{clients} clients"
                            ):
                                result = run_load(api, paths, clients=clients, seconds=seconds)
                            row = _load_row(code, store, shown, scenario, result, clients, target)
                            load_rows.append({"datasets": datasets, **row})
    return index_rows, load_rows


def _growth_rows(index_rows: list[Row], load_rows: list[Row], small: int, large: int) -> list[Row]:
    """How each cost grew from `small` to `large` datasets, against the issue's bounds."""
    rows: list[Row] = []

    def add(what: str, before: float, after: float, unit: str, bound: float | None) -> None:
        growth = after / before
        rows.append(
            {
                "what": what,
                "small": before,
                "large": after,
                "unit": unit,
                "growth": growth,
                "target": f"≤ {bound:.2f}×" if bound else "—",
                "met": growth <= bound if bound else None,
            }
        )

    def cost(what: str, datasets: int) -> float:
        return next(float(r["cost"]) for r in index_rows if r["what"] == what and r["datasets"] == datasets)

    for what in dict.fromkeys(str(r["what"]) for r in index_rows):
        bound = None if what.startswith("web3") else INDEX_GROWTH
        add(what.split(" (")[0] + ", µs per event", cost(what, small), cost(what, large), "µs", bound)
    for r in load_rows:
        if r["datasets"] != small:
            continue
        match = next(
            (
                x
                for x in load_rows
                if x["datasets"] == large
                and (x["code"], x["store"], x["workers"], x["scenario"])
                == (r["code"], r["store"], r["workers"], r["scenario"])
            ),
            None,
        )
        if match is not None:
            bound = LATENCY_GROWTH if r["scenario"] != "dataset lookup" else None
            code = f"{r['code']}, " if r["code"] != "this checkout" else ""
            plural = "" if r["workers"] == "1" else "s"
            add(
                f"{code}{r['store']}, {r['workers']} worker{plural}, {r['scenario']}: p99",
                r["p99"],
                match["p99"],
                "ms",
                bound,
            )
    return rows


def _index_table(rows: list[Row], sizes: str, first: int, transfers: int, multi: bool) -> Table:
    return Table(
        "indexer",
        f"Indexer cost per event at {sizes} datasets",
        [
            *([Column("datasets", "datasets", ",")] if multi else []),
            Column("what", "what"),
            Column("events", "events", ","),
            Column("seconds", "seconds", ".2f"),
            Column("rate", "events/s", ",.0f"),
            Column("cost", "µs/event", ".0f"),
            Column("ratio", "× baseline", ".2f"),
            Column("target", "target"),
            Column("met", "met"),
        ],
        rows,
        [
            (
                f"datasets registered in batches of {BATCH} (each after the first batch derived from one of the batch "
                f"before) and {transfers} offers with acceptances after the first {first:,}; at each size one "
                "fresh database per store, indexed from the deployment block with the indexer's default settings "
                "(ranges of 500 to 5,000 blocks, at most 10,000 events per transaction); the baseline only fetches and "
                "decodes, the indexer also writes"
            )
        ],
    )


def _load_table(rows: list[Row], sizes: str, clients: int, seconds: float, multi: bool, compared: bool) -> Table:
    return Table(
        "api",
        f"API latency with {clients} concurrent clients over {sizes} datasets",
        [
            *([Column("datasets", "datasets", ",")] if multi else []),
            *([Column("code", "code")] if compared else []),
            Column("store", "store"),
            Column("workers", "workers"),
            Column("scenario", "scenario"),
            Column("requests", "requests", ","),
            Column("rps", "requests/s", ",.0f"),
            Column("p50", "p50 ms", ".1f"),
            Column("p99", "p99 ms", ".1f"),
            Column("max", "max ms", ".1f"),
            Column("errors", "errors", ","),
            Column("target", "target"),
            Column("met", "met"),
        ],
        rows,
        [
            (
                "closed loop: each client sends its next GET when the answer arrives, keep-alive, random datasets; "
                f"{seconds:.0f} s per scenario after 2 s of warm-up; the API is "
                "`python -m registry_api serve --no-index [--workers N]` (one indexer-less service with N "
                "uvicorn worker processes; default: the service's own default, which may differ between codes) "
                "and the load generator another process, on the same 2 cores; errors: non-200 answers and broken "
                "connections"
            )
        ],
    )


def registry_tables(
    chain: BenchChain,
    console: Console,
    datasets: tuple[int, ...] = (100_000,),
    transfers: int = 300,
    clients: int = 32,
    seconds: float = 10.0,
    workers: tuple[int | None, ...] = (1, 2),
    scenarios: tuple[str, ...] = tuple(SCENARIOS),
    baseline: Path | None = None,
    show: Callable[[list[Table]], None] | None = None,
) -> list[Table]:
    """Build the chain up to each size in `datasets` in turn (the transfers after the first) and
    measure at each: the indexer on both stores from empty databases, then the API on both stores
    with each of `workers` worker processes (None: the service's own default, one per core) in
    each of `scenarios` (keys of `SCENARIOS`); given a `baseline` checkout (`git worktree add
    --detach DIR main`), that code's service too, on the same databases just before this
    checkout's. With several sizes, `show` gets each size's tables as soon as they are measured
    (a long run interrupted later keeps them)."""
    unknown = [key for key in scenarios if key not in SCENARIOS]
    if unknown or not scenarios:
        raise ValueError(f"API scenarios must be some of {', '.join(SCENARIOS)}, not {scenarios!r}")
    scales = tuple(sorted(set(datasets)))
    multi = len(scales) > 1
    builder = ChainBuilder(chain, console)
    index_rows: list[Row] = []
    load_rows: list[Row] = []
    memory_rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="idsreg-bench-registry-") as scratch:
        for number, scale in enumerate(scales):
            started = time.perf_counter()
            builder.register_up_to(scale)
            if number == 0:
                builder.transfer(transfers)
            built = time.perf_counter() - started
            rss, peak = node_memory(chain.node_pid)
            memory_rows.append(
                {"datasets": scale, "blocks": chain.w3.eth.block_number, "rss": rss, "peak": peak, "built": built}
            )
            scale_dir = Path(scratch) / str(scale)
            scale_dir.mkdir()
            more_index, more_load = _measure_scale(
                chain, console, scale_dir, scale, builder.roots, clients, seconds, workers, scenarios, baseline
            )
            index_rows += more_index
            load_rows += more_load
            (scale_dir / f"index-{scale}.db").unlink(missing_ok=True)
            if multi and show is not None:
                show(
                    [
                        _index_table(more_index, f"{scale:,}", scales[0], transfers, False),
                        _load_table(more_load, f"{scale:,}", clients, seconds, False, baseline is not None),
                    ]
                )
    _, final_peak = node_memory(chain.node_pid)
    memory_rows[-1]["peak"] = max(memory_rows[-1]["peak"], final_peak)
    sizes = " and ".join(f"{s:,}" for s in scales)
    memory_table = Table(
        "node",
        "The chain node as the registry grows",
        [
            Column("datasets", "datasets", ","),
            Column("blocks", "blocks", ","),
            Column("built", "seconds to register", ",.0f"),
            Column("rss", "anvil RSS GiB", ".2f"),
            Column("peak", "anvil peak RSS GiB", ".2f"),
        ],
        memory_rows,
        [
            (
                "anvil 1.7.1 as the benchmark starts it (in memory, no state file); RSS and its peak (VmRSS, VmHWM "
                "of /proc/PID/status) after registering up to that size; the last row's peak is taken at the end of "
                "the run, after every indexer and API measurement; seconds to register include the transfers on the "
                "first row"
            )
        ],
    )
    tables = [
        _index_table(index_rows, sizes, scales[0], transfers, multi),
        _load_table(load_rows, sizes, clients, seconds, multi, baseline is not None),
        memory_table,
    ]
    if multi:
        tables.append(
            Table(
                "growth",
                f"Growth from {scales[0]:,} to {scales[-1]:,} datasets",
                [
                    Column("what", "what"),
                    Column("small", f"at {scales[0]:,}", ",.1f"),
                    Column("large", f"at {scales[-1]:,}", ",.1f"),
                    Column("unit", "unit"),
                    Column("growth", "growth", ".2f"),
                    Column("target", "target"),
                    Column("met", "met"),
                ],
                _growth_rows(index_rows, load_rows, scales[0], scales[-1]),
                ["growth: the figure at the larger size ÷ the figure at the smaller, same run"],
            )
        )
    return tables

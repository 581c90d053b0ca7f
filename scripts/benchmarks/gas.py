"""Gas per operation, next to the MinimalRegistry baseline measured in the same run, and where
the gas of the main transactions goes (intrinsic, calldata, execution by opcode group). The
licensing, exchange and dispute operations are sent by `exchange.py`."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from eth_utils import keccak
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from client.anchors import Anchors
from client.chain.abi import signature
from client.chain.artifacts import load_artifact
from client.chain.enums import Grade, Right
from client.chain.transact import TxResult
from client.datasets import Datasets, Registration, new_salt, registration_commitment

from .chain import BenchChain, random32
from .exchange import ANCHOR_LEAD, DISPUTED_RIGHT, PROOF_ANCHOR_LEAVES, ExchangeRun
from .report import Column, Row, Table

INTRINSIC = 21_000
#: A 40-byte metadata URI, as a content-addressed or web location typically is.
METADATA_URI = "https://meta.example.org/ds/1f3a9c7.json"
#: A batch manifest's URI (registerBatch publishes one per batch).
MANIFEST_URI = "https://meta.example.org/batch/7c01.json"
ANCHOR_LEAVES = 10_000


@dataclass(frozen=True)
class Measured:
    """One operation's gas over several samples (per dataset for a batch)."""

    operation: str
    samples: list[float]
    target: int | None = None

    @classmethod
    def of(cls, operation: str, txs: list[TxResult], target: int | None = None, per: int = 1) -> Measured:
        """From the transactions' receipts; `per` divides a batch's gas by its size."""
        return cls(operation, [tx.gas_used / per for tx in txs], target)

    @property
    def gas(self) -> int:
        return round(statistics.median(self.samples))

    def plus(self, other: Measured, operation: str) -> Measured:
        """Two operations done together, sample by sample."""
        return Measured(operation, [a + b for a, b in zip(self.samples, other.samples, strict=True)])


def _registration(uri: str = "") -> Registration:
    return Registration(root=random32(), grade=Grade.GENERAL, metadata_hash=random32(), metadata_uri=uri)


class _GasRun:
    """Sends each operation a few times on the benchmark chain and keeps the receipts."""

    def __init__(self, chain: BenchChain, samples: int, advance: Callable[[str], None]) -> None:
        self.chain = chain
        self.samples = samples
        self.advance = advance
        self.datasets = Datasets(chain.registry)
        self.anchors = Anchors(chain.registry)
        self.alpha = chain.alpha.connector
        self.beta = chain.beta.connector

    def repeat(self, label: str, send: Callable[[], TxResult], times: int | None = None) -> list[TxResult]:
        results = []
        for _ in range(times or self.samples):
            self.advance(label)
            results.append(send())
        return results

    def baseline(self) -> list[TxResult]:
        return self.repeat("baseline register", lambda: self.chain.baseline_register(self.alpha, random32()))

    def register(self, uri: str) -> list[TxResult]:
        return self.repeat("register", lambda: self.datasets.register(self.alpha, _registration(uri)))

    def register_child(self) -> list[TxResult]:
        """A registration naming one parent (a dataset registered just before it)."""

        def send() -> TxResult:
            parent = _registration()
            self.datasets.register(self.alpha, parent)
            child = Registration(root=random32(), metadata_hash=random32(), parents=(parent.root,))
            return self.datasets.register(self.alpha, child)

        return self.repeat("register, 1 parent", send)

    def batch(self, size: int) -> list[TxResult]:
        def send() -> TxResult:
            return self.datasets.register_batch(self.alpha, [_registration() for _ in range(size)], MANIFEST_URI)

        return self.repeat(f"registerBatch of {size}", send, max(2, self.samples // 2))

    def commit_reveal(self) -> tuple[list[TxResult], list[TxResult]]:
        commits, reveals = [], []
        for _ in range(self.samples):
            self.advance("commit + reveal")
            registration, salt = _registration(), new_salt()
            commitment = registration_commitment(registration.root, self.chain.alpha.identifier, salt)
            commits.append(self.datasets.commit(self.alpha, commitment))
            # A reveal must land in a later block than its commitment.
            self.chain.rpc("evm_mine")
            reveals.append(self.datasets.reveal(self.alpha, registration, salt))
        return commits, reveals

    def anchor(self, leaves: int, times: int) -> list[TxResult]:
        def send() -> TxResult:
            items = [random32() for _ in range(leaves)]
            return self.anchors.anchor(self.alpha, items, note_hash=random32()).tx

        return self.repeat(f"anchor {leaves:,} leaves", send, times)

    def offer_accept(self) -> tuple[list[TxResult], list[TxResult]]:
        offers, accepts = [], []
        for _ in range(self.samples):
            self.advance("offer + accept")
            registration = _registration()
            self.datasets.register(self.alpha, registration)
            offers.append(self.datasets.offer(self.alpha, registration.root, Right.HOLDING, self.chain.beta.identifier))
            accepts.append(self.datasets.accept(self.beta, registration.root, Right.HOLDING))
        return offers, accepts


def gas_tables(chain: BenchChain, console: Console, samples: int = 5) -> list[Table]:
    """Measure every operation (median of `samples` transactions, fewer for big batches)."""
    anchor_big_times = 2
    batch_times = max(2, samples // 2)
    columns = (TextColumn("gas: {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def advance(label: str) -> None:
            bar.update(task, description=label, advance=1)

        run = _GasRun(chain, samples, advance)
        exchange = ExchangeRun(chain, samples, advance)
        bar.update(task, total=samples * 6 + batch_times * 2 + samples + anchor_big_times + exchange.steps())
        txs = {
            "baseline": run.baseline(),
            "register": run.register(""),
            "register_uri": run.register(METADATA_URI),
            "register_child": run.register_child(),
            "batch10": run.batch(10),
            "batch100": run.batch(100),
        }
        txs["commit"], txs["reveal"] = run.commit_reveal()
        txs["anchor1"] = run.anchor(1, samples)
        txs["anchor_big"] = run.anchor(ANCHOR_LEAVES, anchor_big_times)
        txs["offer"], txs["accept"] = run.offer_accept()
        slice_txs = exchange.run()
    baseline = Measured.of("MinimalRegistry.register(bytes32) — baseline", txs["baseline"])
    batch10 = Measured.of("registerBatch of 10, per dataset", txs["batch10"], per=10)
    batch100 = Measured.of("registerBatch of 100, per dataset", txs["batch100"], 30_000, per=100)
    commit, reveal = Measured.of("commit", txs["commit"]), Measured.of("reveal (no URI)", txs["reveal"])
    offer, accept = (
        Measured.of("offerRight (holding)", txs["offer"]),
        Measured.of("acceptRight (holding)", txs["accept"]),
    )
    grant_important = Measured.of("grant, important data (pending)", slice_txs.grant_important)
    approve = Measured.of("approve (auditor)", slice_txs.approve)
    measured = [
        baseline,
        Measured.of("register, no metadata URI", txs["register"], 65_000),
        Measured.of(f"register, {len(METADATA_URI)}-byte metadata URI", txs["register_uri"], 65_000),
        Measured.of("register, 1 parent (no URI)", txs["register_child"]),
        batch10,
        batch100,
        commit,
        reveal,
        commit.plus(reveal, "commit + reveal"),
        Measured.of("anchor, 1 leaf", txs["anchor1"], 50_000),
        Measured.of(f"anchor, {ANCHOR_LEAVES:,} leaves", txs["anchor_big"], 50_000),
        offer,
        accept,
        offer.plus(accept, "offer + accept"),
        Measured.of("grant, general data (active at once)", slice_txs.grant_general, 100_000),
        grant_important,
        approve,
        grant_important.plus(approve, "grant + approve (important data)"),
        Measured.of("reject (auditor)", slice_txs.reject),
        Measured.of("grant replacing an active grant", slice_txs.grant_replacing),
        Measured.of("revoke (active grant)", slice_txs.revoke),
        Measured.of("receipt submit (2 signatures)", slice_txs.submit, 90_000),
        Measured.of("receipt submit, by a key that did not sign", slice_txs.submit_other_key, 90_000),
        Measured.of("receipt submit, provider with a reshare licence", slice_txs.submit_reshare, 90_000),
    ]
    right = DISPUTED_RIGHT.name.lower()
    if exchange.court_missing is None:
        opened = Measured.of(f"dispute open ({right} right)", slice_txs.dispute_open)
        proved = Measured.of(
            f"proveAnchor ({slice_txs.proof_hashes}-hash path, {PROOF_ANCHOR_LEAVES:,}-leaf anchor)",
            slice_txs.prove_anchor,
        )
        first = Measured.of("vote, 1st of 2 (dispute stays open)", slice_txs.vote_first)
        closing = Measured.of(f"vote, 2nd of 2 (upholds, moves the {right} right)", slice_txs.vote_closing)
        whole = opened.plus(proved, "").plus(first, "").plus(closing, "dispute: open + prove + 2 votes")
        dismissing = Measured.of("vote, 2nd of 2 (dismisses, unfreezes the right)", slice_txs.vote_dismissing)
        measured += [opened, proved, first, closing, whole, dismissing]
    base = baseline.gas
    rows: list[Row] = [
        {
            "operation": m.operation,
            "gas": m.gas,
            "baseline": base,
            "ratio": m.gas / base,
            "target": f"≤ {m.target:,}" if m.target else None,
            "met": (m.gas <= m.target) if m.target else None,
            "samples": [round(s) for s in m.samples],
        }
        for m in measured
    ]
    if exchange.court_missing is not None:
        rows.append(
            {
                "operation": (
                    "dispute open / proveAnchor / vote — not measured: DisputeCourt not deployed in this build"
                ),
                "gas": None,
                "baseline": base,
                "ratio": None,
                "target": None,
                "met": None,
                "samples": [],
                "reason": exchange.court_missing,
            }
        )
    notes = [
        (
            f"gas is the median of {samples} transactions ({batch_times} for batches, {anchor_big_times} for the "
            f"{ANCHOR_LEAVES:,}-leaf anchor); roots, metadata hashes and note hashes are random 32-byte values"
        ),
        (
            "baseline: MinimalRegistry.register(bytes32) (one mapping write, one event, no membership check), "
            "same node, same run"
        ),
        (
            f"a batch of 10 costs {batch10.gas * 10:,} gas in all, a batch of 100 {batch100.gas * 100:,} "
            f"(manifest URI of {len(MANIFEST_URI)} bytes)"
        ),
        (
            "grants: DEMO:ALPHA (holding the operation right) licenses a dataset to DEMO:BETA for the first "
            "time, read + derive, one year, a salted commitment to random confidential terms; revoke revokes "
            "such an active grant, a replacing grant licenses the same dataset to DEMO:BETA again while the "
            "first is active; reject "
            "refuses a pending grant on important data"
        ),
        (
            "receipt: signed by a connector key of each organisation (EIP-712), submitted by the consumer's "
            "signing key (or by its admin key, which did not sign), the provider holding the operation right (or "
            "a read + reshare licence from it, delivering to a third member); random delivered root, terms "
            "commitment (size 1 MiB to 64 GiB, price 100 to 10^7, salted) and 16-byte nonce"
        ),
    ]
    if exchange.court_missing is None:
        notes.append(
            f"dispute: DEMO:ALPHA anchors the root (one leaf of {PROOF_ANCHOR_LEAVES:,}), DEMO:BETA registers it "
            f"{ANCHOR_LEAD} s later, ALPHA disputes the {right} right, proves the anchor; two arbiters "
            "(threshold 2) uphold; a dismissed dispute: DEMO:BETA disputes the operation right of a dataset ALPHA "
            "registered, proves nothing, both arbiters dismiss"
        )
    else:
        notes.append(f"DisputeCourt not measured: {exchange.court_missing}")
    gas_table = Table(
        "gas",
        "Gas per operation",
        [
            Column("operation", "operation"),
            Column("gas", "gas", ","),
            Column("baseline", "baseline", ","),
            Column("ratio", "× baseline", ".2f"),
            Column("target", "target"),
            Column("met", "met"),
        ],
        rows,
        notes,
    )
    breakdown = [
        ("baseline register", txs["baseline"][-1], 1),
        ("register, no URI", txs["register"][-1], 1),
        (f"register, {len(METADATA_URI)}-byte URI", txs["register_uri"][-1], 1),
        ("registerBatch of 100, ÷ 100", txs["batch100"][-1], 100),
        ("anchor, 1 leaf", txs["anchor1"][-1], 1),
        (f"anchor, {ANCHOR_LEAVES:,} leaves", txs["anchor_big"][-1], 1),
        ("grant, general data", slice_txs.grant_general[-1], 1),
        ("grant, important data", slice_txs.grant_important[-1], 1),
        ("receipt submit", slice_txs.submit[-1], 1),
        ("receipt submit, reshare licence", slice_txs.submit_reshare[-1], 1),
    ]
    if exchange.court_missing is None:
        breakdown += [
            ("dispute open", slice_txs.dispute_open[-1], 1),
            ("proveAnchor", slice_txs.prove_anchor[-1], 1),
            ("vote, closing (upholds)", slice_txs.vote_closing[-1], 1),
        ]
    return [gas_table, _breakdown_table(chain, breakdown)]


# ----- where the gas goes -----

_GROUPS = {
    "SSTORE": "storage_writes",
    "SLOAD": "storage_reads",
    "CALL": "calls",
    "STATICCALL": "calls",
    "DELEGATECALL": "calls",
    "LOG0": "event",
    "LOG1": "event",
    "LOG2": "event",
    "LOG3": "event",
    "LOG4": "event",
}


def calldata_gas(data: bytes) -> tuple[int, int, int]:
    """(gas, non-zero bytes, zero bytes) of a transaction's input: 16 per non-zero byte, 4 per zero byte."""
    zeros = data.count(0)
    nonzero = len(data) - zeros
    return 16 * nonzero + 4 * zeros, nonzero, zeros


#: Precompiled contracts by address (the ones a registry contract may call).
_PRECOMPILES = {1: "ecrecover", 2: "sha256", 3: "ripemd160", 4: "identity", 5: "modexp"}


@dataclass(frozen=True)
class _Call:
    """One call made by the top-level contract: whom it called and what it cost the caller."""

    callee: str
    cost: int


def _callee_names(chain: BenchChain) -> tuple[dict[str, str], dict[str, str]]:
    """Registry contract names by lower-case address, and `Contract.function` by (address, selector)."""
    contracts: dict[str, str] = {}
    functions: dict[str, str] = {}
    for name, deployment in chain.registry.manifest.contracts.items():
        address = deployment.address.lower()
        contracts[address] = name
        for item in load_artifact(name).abi:
            if item.get("type") == "function":
                selector = keccak(text=signature(item))[:4].hex()
                functions[f"{address}:{selector}"] = f"{name}.{item['name']}"
    return contracts, functions


def _call_names(chain: BenchChain, tx_hash: str) -> list[str]:
    """What each top-level call of the transaction called, in order (from the node's callTracer)."""
    contracts, functions = _callee_names(chain)
    trace = chain.rpc("debug_traceTransaction", tx_hash, {"tracer": "callTracer"}) or {}
    names = []
    for call in trace.get("calls") or []:
        address = str(call.get("to", "")).lower()
        selector = str(call.get("input", "0x"))[2:10]
        number = int(address, 16) if address.startswith("0x") else 0
        if number in _PRECOMPILES:
            names.append(_PRECOMPILES[number])
        else:
            names.append(functions.get(f"{address}:{selector}") or contracts.get(address) or address)
    return names


def _opcode_groups(chain: BenchChain, tx_hash: str) -> tuple[dict[str, int], list[_Call]] | None:
    """Execution gas of the top-level call by opcode group, from the node's opcode trace, and
    the calls it made with what each cost.

    A step's cost is the gas left before it minus the gas left at the next top-level step, so
    a CALL counts its account access and everything the called contract spent. A call whose
    next step is again at the top level ran no code: a precompile (ecrecover, sha256), counted
    apart. None if the node gives no trace.
    """
    trace = chain.rpc(
        "debug_traceTransaction", tx_hash, {"disableStack": True, "disableMemory": True, "disableStorage": True}
    )
    steps = (trace or {}).get("structLogs") or []
    if not steps:
        return None
    top_depth = min(int(step["depth"]) for step in steps)
    top = [i for i, step in enumerate(steps) if int(step["depth"]) == top_depth]
    groups = dict.fromkeys(("storage_writes", "storage_reads", "calls", "precompiles", "event", "other"), 0)
    call_costs = []
    for index, following in zip(top, [*top[1:], None], strict=True):
        step = steps[index]
        cost = int(step["gas"]) - int(steps[following]["gas"]) if following is not None else int(step["gasCost"])
        group = _GROUPS.get(str(step["op"]), "other")
        if group == "calls":
            call_costs.append(cost)
            if following == index + 1:
                group = "precompiles"
        groups[group] += cost
    names = _call_names(chain, tx_hash)
    if len(names) != len(call_costs):
        names = ["?"] * len(call_costs)
    return groups, [_Call(name, cost) for name, cost in zip(names, call_costs, strict=True)]


def _calls_text(calls: list[_Call]) -> str:
    """The calls grouped by callee, in order: `DataRegistry.dataset 6,950 + ecrecover ×2 6,200`."""
    grouped: dict[str, list[int]] = {}
    for call in calls:
        grouped.setdefault(call.callee, []).append(call.cost)
    parts = []
    for callee, costs in grouped.items():
        times = f" ×{len(costs)}" if len(costs) > 1 else ""
        parts.append(f"{callee}{times} {sum(costs):,}")
    return " + ".join(parts)


def _breakdown_table(chain: BenchChain, txs: list[tuple[str, TxResult, int]]) -> Table:
    rows: list[Row] = []
    floor_binding = []
    call_notes = []
    for label, tx, per in txs:
        data = bytes(chain.w3.eth.get_transaction(tx.tx_hash)["input"])  # type: ignore[arg-type]
        calldata, nonzero, zeros = calldata_gas(data)
        execution = tx.gas_used - INTRINSIC - calldata
        # EIP-7623 (Prague and later): a transaction pays at least 10 gas per calldata token.
        if tx.gas_used <= INTRINSIC + 10 * (zeros + 4 * nonzero):
            floor_binding.append(label)
        traced = _opcode_groups(chain, tx.tx_hash)
        row: Row = {
            "transaction": label,
            "total": tx.gas_used / per,
            "intrinsic": INTRINSIC / per,
            "calldata": calldata / per,
            "calldata_bytes": f"{len(data) / per:,.0f} ({nonzero / per:,.0f} non-zero)",
            "execution": execution / per,
        }
        if traced is not None:
            groups, calls = traced
            # The trace counts gas before the refund, which the node subtracts at the end.
            groups["refund"] = execution - sum(groups.values())
            row.update({name: value / per for name, value in groups.items()})
            if calls:
                call_notes.append(f"{label}: {_calls_text(calls)}")
        rows.append(row)
    notes = [
        "execution = total − 21,000 intrinsic − calldata (16 gas per non-zero input byte, 4 per zero byte)",
        (
            "execution by opcode group, from debug_traceTransaction: storage writes = SSTORE; storage reads = "
            "SLOAD (a new slot costs 22,100: its first, cold read 2,100 shows under reads, the write to the then "
            "warm slot 20,000 under writes; the membership check's read of the key record is a read too); "
            "external calls = CALL/STATICCALL to another contract with its account access (2,600 cold, 100 warm) "
            "and everything the callee spends; precompiles = calls that ran no contract code (ecrecover: 100 + "
            "3,000 each; sha256: 100 + 60 + 12 per word each); event = LOG*; other = the rest (dispatch, ABI "
            "decoding, checks, memory, hashing of mapping keys and typed data); refund = what the EVM gives back "
            "at the end for storage set back to zero (at most a fifth of the gas used)"
        ),
    ]
    if call_notes:
        notes.append(
            "external calls and precompiles by callee, each with its account access and all the callee spent: "
            + "; ".join(call_notes)
        )
    if floor_binding:
        notes.append(f"the EIP-7623 calldata floor decided the gas of: {', '.join(floor_binding)}")
    return Table(
        "gas_breakdown",
        "Where the gas goes",
        [
            Column("transaction", "transaction"),
            Column("total", "total", ",.0f"),
            Column("intrinsic", "intrinsic", ",.0f"),
            Column("calldata_bytes", "input bytes"),
            Column("calldata", "calldata", ",.0f"),
            Column("execution", "execution", ",.0f"),
            Column("storage_writes", "storage writes", ",.0f"),
            Column("storage_reads", "storage reads", ",.0f"),
            Column("calls", "external calls", ",.0f"),
            Column("precompiles", "precompiles", ",.0f"),
            Column("event", "event", ",.0f"),
            Column("other", "other", ",.0f"),
            Column("refund", "refund", ",.0f"),
        ],
        rows,
        notes,
    )

"""`scripts/bench audit`: an audit bundle for a dataset with about 1,000 facts on a chain that also
carries blocks about other datasets. Measures the export (from the node), the bundle's size by
part and per block, its gzip size, and offline verification, against two same-run baselines: an
auditor who trusts the node and asks it for the same logs (eth_getLogs and decoding, no
evidence), and reading the bundle's JSON without checking anything.

Every key is made fresh and thrown away.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable

from rich.console import Console

from client.audit.export import export_bundle
from client.audit.facts import CONTRACTS
from client.audit.verify import verify_bytes
from client.chain.abi import decode_log
from client.chain.enums import Grade, Permission, Right
from client.chain.rpc import get_logs
from client.consortium import Consortium
from client.datasets import Datasets, Registration
from client.grants import Grants

from .chain import ONE_YEAR, BenchChain, admit, random32
from .report import Column, Table


def _best(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _story(chain: BenchChain, console: Console, facts: int, noise: int) -> bytes:
    """A dataset of Alpha's with `facts` facts (grants to Beta, right offers and cancellations)
    and `noise` registrations of other datasets by an organisation the dataset never meets."""
    datasets, grants = Datasets(chain.registry), Grants(chain.registry)
    alpha, beta = chain.alpha, chain.beta
    root = random32()
    datasets.register(alpha.connector, Registration(root, Grade.GENERAL, random32(), "", ()))
    gamma = admit(Consortium(chain.registry), chain.governor, "DEMO:GAMMA")
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    written = 1
    with console.status(f"writing {facts} facts and {noise} other registrations") as status:
        step = 0
        while written < facts or step < noise:
            if written < facts:
                if step % 2 == 0:
                    grants.grant(
                        alpha.connector, root, beta.identifier, Permission.READ, now, now + ONE_YEAR, random32()
                    )
                    written += 1
                else:
                    datasets.offer(alpha.connector, root, Right.HOLDING, beta.identifier)
                    datasets.cancel(alpha.connector, root, Right.HOLDING)
                    written += 2
            if step < noise:
                datasets.register(gamma.connector, Registration(random32(), Grade.GENERAL, random32(), "", ()))
            step += 1
            if step % 100 == 0:
                status.update(f"writing facts: {written}/{facts}, other registrations: {min(step, noise)}/{noise}")
    return root


def _measure(chain: BenchChain, console: Console, root: bytes, depth: int) -> dict[str, float | int]:
    registry = chain.registry
    with console.status(f"exporting the bundle (lineage depth {depth})"):
        start = time.perf_counter()
        bundle = export_bundle(registry, root, depth)
        export_seconds = time.perf_counter() - start
    data = bundle.to_bytes()
    document = json.loads(data)
    with console.status("verifying the bundle offline"):
        verify_seconds = _best(3, lambda: verify_bytes(data))
        parse_seconds = _best(3, lambda: json.loads(data))
    first, last = bundle.first_block, bundle.last_block
    addresses = [registry.manifest.address(name) for name in CONTRACTS]

    def trusting() -> None:
        for log in get_logs(registry.w3, addresses, first, last):
            decode_log(log.topics, log.data)

    with console.status("asking the node for the same logs (baseline)"):
        trusting_seconds = _best(3, trusting)
    blocks = last - first + 1
    part = {key: len(json.dumps(document[key], separators=(",", ":"))) for key in ("headers", "blocks", "facts")}
    return {
        "facts": len(bundle.facts),
        "blocks": blocks,
        "carried": len(bundle.blocks),
        "bytes": len(data),
        "headers": part["headers"],
        "receipts": part["blocks"],
        "fact_bytes": part["facts"],
        "gzip": len(gzip.compress(data, 6)),
        "header_rlp": round(sum(len(h) for h in bundle.headers) / blocks),
        "per_block": round(len(data) / blocks),
        "per_fact": round(len(data) / max(1, len(bundle.facts))),
        "export": round(export_seconds, 2),
        "verify": round(verify_seconds, 3),
        "parse": round(parse_seconds, 3),
        "trusting": round(trusting_seconds, 3),
        "verify_per_block": round(verify_seconds / blocks * 1e6),
    }


MEASURES = (
    ("facts", "facts in the bundle"),
    ("blocks", "blocks in the range (headers)"),
    ("carried", "blocks carried with all their receipts"),
    ("bytes", "bundle bytes (canonical JSON)"),
    ("headers", "  of which headers"),
    ("receipts", "  of which blocks' receipts"),
    ("fact_bytes", "  of which facts (decoded + receipt proofs)"),
    ("gzip", "bundle bytes, gzip -6"),
    ("header_rlp", "header RLP bytes per block, mean"),
    ("per_block", "bundle bytes per block, mean"),
    ("per_fact", "bundle bytes per fact, mean"),
    ("export", "export seconds (node → bundle)"),
    ("verify", "offline verification seconds (best of 3)"),
    ("parse", "  baseline: JSON parsing only"),
    ("trusting", "  baseline: eth_getLogs + decoding, trusting the node"),
    ("verify_per_block", "verification µs per block"),
)


def audit_table(chain: BenchChain, console: Console, facts: int = 1_000, noise: int = 1_000) -> Table:
    root = _story(chain, console, facts, noise)
    lineage = _measure(chain, console, root, 1)
    alone = _measure(chain, console, root, 0)
    rows = [{"what": label, "depth1": lineage[key], "depth0": alone[key]} for key, label in MEASURES]
    return Table(
        "audit",
        f"Audit bundle of one dataset ({lineage['facts']:,} facts, {lineage['blocks']:,} blocks, "
        f"cores: {os.cpu_count()})",
        [Column("what", "measure"), Column("depth1", "lineage depth 1", ","), Column("depth0", "depth 0", ",")],
        rows,
        notes=[
            (
                "Facts: grants to one member and right offers with their cancellations; other blocks: another "
                "member's registrations of unrelated datasets. With lineage (depth ≥ 1) every block that may hold "
                "a DatasetRegistered is carried whole (a child names its parents only in the event's data); at "
                "depth 0 those blocks carry only their header."
            ),
            (
                "Baselines ran in the same process on the same node: the trusting auditor gets the logs "
                "without any evidence; JSON parsing is the floor of reading the file."
            ),
        ],
    )

"""The event indexer against a real anvil node, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from sqlmodel import Session
from web3 import Web3
from web3.exceptions import Web3RPCError

from client.anchors import Anchors
from client.chain import rpc as chain_rpc
from client.chain.abi import decode_log
from client.chain.registry import Registry
from client.consortium import Consortium
from client.datasets import Datasets, Registration
from client.jsonable import jsonable
from registry_api import indexer as indexer_module
from registry_api import store
from registry_api.indexer import Indexer, _raw_row
from registry_api.settings import ApiSettings
from tests.conftest import admit, new_account, wait_until
from tests.registry_api.helpers import rpc, settings

Row = tuple[int, str, str, int, str, str, Any]


def workload(make_registry: Callable[..., Registry]) -> Registry:
    """Deploy, admit two organisations (with a connector each), add a connector, register
    datasets and anchor a batch."""
    governor = new_account()
    registry = make_registry([governor])
    consortium = Consortium(registry)
    alpha = admit(consortium, governor, "DEMO:ALPHA", connectors=1)
    beta = admit(consortium, governor, "DEMO:BETA", connectors=1)
    consortium.add_connector(alpha.admin, new_account().address)
    datasets = Datasets(registry)
    datasets.register(alpha.connectors[0], Registration(root=os.urandom(32), metadata_uri="ipfs://a"))
    datasets.register(beta.connectors[0], Registration(root=os.urandom(32)))
    Anchors(registry).anchor(alpha.connectors[0], [os.urandom(32), os.urandom(32)])
    return registry


def from_receipts(registry: Registry) -> list[Row]:
    """The registry's events, decoded from the receipts of every transaction since the deployment."""
    w3 = registry.w3
    addresses = {Web3.to_checksum_address(c.address) for c in registry.manifest.contracts.values()}
    found: list[Row] = []
    for number in range(registry.manifest.deployment_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number)["transactions"]:
            for entry in w3.eth.get_transaction_receipt(tx)["logs"]:  # type: ignore[arg-type]
                if Web3.to_checksum_address(entry["address"]) not in addresses:
                    continue
                decoded = decode_log(list(entry["topics"]), bytes(entry["data"]))
                assert decoded is not None
                found.append(
                    (
                        number,
                        "0x" + bytes(entry["transactionHash"]).hex(),
                        "0x" + bytes(entry["blockHash"]).hex(),
                        int(entry["logIndex"]),
                        decoded.contract,
                        decoded.name,
                        jsonable(decoded.args, enums="int"),
                    )
                )
    return found


def stored(engine: Engine) -> list[Row]:
    with Session(engine) as session:
        return [
            (e.block_number, e.tx_hash, e.block_hash, e.log_index, e.contract, e.name, json.loads(e.args))
            for e in store.all_events(session)
        ]


def at_head(registry: Registry, engine: Engine) -> bool:
    """Whether the checkpoint names the head block by number, hash and time (the index's clock)."""
    head = registry.w3.eth.get_block("latest")
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
        assert checkpoint is not None
        found = (checkpoint.block_number, checkpoint.block_hash, checkpoint.block_time)
    return found == (head["number"], "0x" + bytes(head["hash"]).hex(), head["timestamp"])


def fresh_index(registry: Registry, make_db: Callable[[], Engine]) -> list[Row]:
    engine = make_db()
    Indexer(registry, engine, settings()).scan_once()
    return stored(engine)


def test_indexes_every_event_as_the_receipts_show(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine]
) -> None:
    registry = workload(make_registry)
    engine = make_db()
    indexer = Indexer(registry, engine, settings())
    result = indexer.scan_once()
    expected = from_receipts(registry)
    names = {row[5] for row in expected}
    assert {"MemberAdmitted", "ConnectorAdded", "DatasetRegistered", "Anchored"} <= names, names
    assert stored(engine) == expected
    assert result.events == len(expected) and result.ranges >= 2  # initial range 8 < the workload's blocks
    assert result.end_block == registry.w3.eth.block_number and result.lag == 0 and indexer.lag() == 0
    rpc(registry.w3, "evm_mine")
    rpc(registry.w3, "evm_mine")
    assert indexer.lag() == 2
    # A confirmation depth keeps the indexer behind the head.
    assert Indexer(registry, engine, settings(confirmations=1)).scan_once().lag == 1


def test_rescan_is_idempotent_and_reindex_is_identical(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine]
) -> None:
    registry = workload(make_registry)
    engine = make_db()
    indexer = Indexer(registry, engine, settings())
    indexer.scan_once()
    before = stored(engine)
    assert indexer.scan_once().events == 0
    # Re-inserting an already indexed range (as after a crash between read and commit) adds nothing.
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
        assert checkpoint is not None
        read = indexer._read_range(registry.manifest.deployment_block, checkpoint.block_number)
        rows = [_raw_row(registry.chain_id, event, None) for event in read.events]
        assert len(rows) == len(before) and store.insert_events(session, rows) == 0
        session.rollback()
    assert stored(engine) == before
    assert fresh_index(registry, make_db) == before


@pytest.mark.parametrize(("depth", "max_events"), [(1, 10_000), (3, 10_000), (3, 2)])
def test_reorg_rolls_back_to_the_common_ancestor(
    own_chain: Callable[..., Registry], make_db: Callable[[], Engine], depth: int, max_events: int
) -> None:
    # max_events 2: the index was written in parts of ranges; the reorg window must hold the
    # headers each part committed.
    registry = workload(own_chain)
    w3 = registry.w3
    engine = make_db()
    indexer = Indexer(registry, engine, settings(initial_range=64, max_events=max_events))
    indexer.scan_once()
    before = stored(engine)
    head = w3.eth.block_number
    old_hashes = [w3.eth.get_block(n)["hash"] for n in range(head - depth + 1, head + 1)]
    # Replace the last `depth` blocks; the new chain has a transaction of its own at the top.
    funder = new_account()
    rpc(w3, "anvil_setBalance", funder.address, hex(10**18))
    tx: dict[str, Any] = {
        "from": funder.address,
        "to": funder.address,
        "value": 0,
        "gas": 21000,
        "gasPrice": 0,
        "nonce": 0,
        "chainId": w3.eth.chain_id,
    }
    signed = funder.sign_transaction(tx)
    rpc(w3, "anvil_reorg", depth, [["0x" + bytes(signed.raw_transaction).hex(), depth - 1]])
    assert w3.eth.block_number >= head
    assert all(
        w3.eth.get_block(n)["hash"] != h for n, h in zip(range(head - depth + 1, head + 1), old_hashes, strict=True)
    )
    rpc(w3, "evm_mine")
    result = indexer.scan_once()
    assert result.rolled_back == depth
    after = stored(engine)
    assert after == fresh_index(registry, make_db) == from_receipts(registry)
    assert after != before  # the reorganised blocks held registry events (the anchor at least)
    assert at_head(registry, engine)  # the clock moved back with the rollback, then on to the new head
    assert indexer.scan_once().events == 0


def test_range_shrinks_when_the_node_refuses(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = workload(make_registry)
    limit = 3
    real_get_logs = chain_rpc.get_logs
    asked: list[int] = []

    def get_logs(w3: Web3, addresses: Any, start: int, end: int) -> Any:
        asked.append(end - start + 1)
        if end - start + 1 > limit:
            raise Web3RPCError(f"query exceeds max block range {limit}")
        return real_get_logs(w3, addresses, start, end)

    monkeypatch.setattr(chain_rpc, "get_logs", get_logs)
    engine = make_db()
    indexer = Indexer(registry, engine, settings(initial_range=64, max_range=64))
    result = indexer.scan_once()
    assert asked[0] > limit and min(asked) <= limit
    assert indexer.range_size <= 2 * limit
    monkeypatch.undo()
    assert stored(engine) == from_receipts(registry) == fresh_index(registry, make_db)
    assert result.lag == 0


class Killed(BaseException):
    """Stands for the process dying in the middle of a range (not an Exception: nothing catches it)."""


@pytest.mark.parametrize(
    "limits",
    [{"initial_range": 4, "max_range": 4}, {"initial_range": 64, "max_range": 64, "max_events": 2}],
    ids=["block-ranges", "event-parts"],
)
def test_killed_mid_range_leaves_a_consistent_index(
    make_registry: Callable[..., Registry],
    make_db: Callable[[], Engine],
    monkeypatch: pytest.MonkeyPatch,
    limits: dict[str, int],
) -> None:
    # With an event cap the second commit is the second part of one block range: its
    # checkpoint must name a block of the range's middle, by its hash.
    registry = workload(make_registry)
    engine = make_db()
    real_set_checkpoint = store.set_checkpoint
    calls = 0

    def dying_set_checkpoint(*args: Any) -> None:
        nonlocal calls
        calls += 1
        real_set_checkpoint(*args)
        if calls == 2:  # the second range's rows and checkpoint are written but not committed
            raise Killed

    monkeypatch.setattr(store, "set_checkpoint", dying_set_checkpoint)
    with pytest.raises(Killed):
        Indexer(registry, engine, settings(**limits)).scan_once()
    monkeypatch.undo()
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
        assert checkpoint is not None
        indexed = checkpoint.block_number
        assert checkpoint.block_hash == "0x" + bytes(registry.w3.eth.get_block(indexed)["hash"]).hex()
    expected = from_receipts(registry)
    assert stored(engine) == [row for row in expected if row[0] <= indexed]  # exactly the committed ranges
    Indexer(registry, engine, settings()).scan_once()  # a restart finishes the job
    assert stored(engine) == expected


def test_run_follows_the_chain_until_stopped(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine]
) -> None:
    registry = workload(make_registry)
    engine = make_db()
    indexer = Indexer(registry, engine, settings(poll_interval=0.05))
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop,))
    thread.start()
    try:
        assert wait_until(lambda: indexer.indexed_block() == registry.w3.eth.block_number)
        rpc(registry.w3, "evm_mine")
        assert wait_until(lambda: indexer.lag() == 0)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert stored(engine) == from_receipts(registry)


def test_reorg_deeper_than_the_window_reindexes_from_the_deployment(
    own_chain: Callable[..., Registry], make_db: Callable[[], Engine]
) -> None:
    registry = workload(own_chain)
    engine = make_db()
    indexer = Indexer(registry, engine, settings(reorg_window=1))
    indexer.scan_once()
    rpc(registry.w3, "anvil_reorg", 3, [])
    result = indexer.scan_once()
    assert result.rolled_back == registry.w3.eth.block_number - registry.manifest.deployment_block + 1
    assert stored(engine) == from_receipts(registry) == fresh_index(registry, make_db)
    assert at_head(registry, engine)


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IDSREG_API_CONFIRMATIONS", "12")
    monkeypatch.setenv("IDSREG_API_RPC_URL", "http://node:8545")
    loaded = ApiSettings(deployments=tmp_path)
    assert loaded.confirmations == 12 and loaded.rpc_url == "http://node:8545"
    assert loaded.database_url.startswith("sqlite:///") and loaded.database_url.endswith("registry.db")


def test_planner_statistics_are_refreshed_after_a_bulk_catch_up(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = workload(make_registry)
    engine = make_db()
    monkeypatch.setattr(indexer_module, "ANALYSE_AFTER", 5)
    indexer = Indexer(registry, engine, settings())
    indexer.scan_once()
    assert indexer.unanalysed == 0
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            analysed = connection.exec_driver_sql(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'rawevent'"
            ).scalar_one()
            assert analysed is not None
        else:
            tables = {t for (t,) in connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
            assert {"rawevent", "dataset"} <= tables


def batches(registry: Registry, governor: LocalAccount, count: int, size: int) -> None:
    """`count` batch registrations of `size` datasets each: one block of size + 1 events apiece."""
    alpha = admit(Consortium(registry), governor, "DEMO:ALPHA", connectors=1)
    datasets = Datasets(registry)
    for _ in range(count):
        datasets.register_batch(alpha.connectors[0], [Registration(root=os.urandom(32)) for _ in range(size)])


def record_commits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[set[int], int]]:
    """The blocks and the number of events of each transaction's raw event insert, as they happen."""
    commits: list[tuple[set[int], int]] = []
    real_add_events = store.add_events

    def recording_add_events(session: Session, rows: Any) -> None:
        commits.append(({int(r["block_number"]) for r in rows}, len(rows)))
        real_add_events(session, rows)

    monkeypatch.setattr(store, "add_events", recording_add_events)
    return commits


def test_transactions_hold_at_most_max_events_and_ranges_shrink_to_fit(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    governor = new_account()
    registry = make_registry([governor])
    batches(registry, governor, 6, 4)  # six blocks of five events
    blocks = registry.w3.eth.block_number - registry.manifest.deployment_block + 1
    assert blocks < 64  # the whole chain is one range of 64 blocks
    engine = make_db()
    commits = record_commits(monkeypatch)
    indexer = Indexer(registry, engine, settings(initial_range=64, max_range=64, max_events=10))
    result = indexer.scan_once()
    expected = from_receipts(registry)
    assert stored(engine) == expected and at_head(registry, engine)
    # Never more than 10 events in one transaction, unless one block holds more (never split).
    assert all(count <= 10 or len(numbers) == 1 for numbers, count in commits), commits
    assert sum(count for _, count in commits) == result.events == len(expected)
    assert result.ranges == len(commits) >= len(expected) // 10
    # The next range is sized to hold about 10 events at the density just seen.
    assert indexer.range_size == max(blocks * 10 // len(expected), 1) < 64
    # The reorg window holds the last blocks without a gap, whichever part wrote them.
    with Session(engine) as session:
        window = [b.number for b in store.recent_blocks(session)]
    head = registry.w3.eth.block_number
    assert window == list(range(head, head - len(window), -1)) and len(window) >= min(blocks, 8)


def test_a_block_with_more_events_than_max_events_is_one_transaction(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    governor = new_account()
    registry = make_registry([governor])
    batches(registry, governor, 2, 6)  # two blocks of seven events
    engine = make_db()
    commits = record_commits(monkeypatch)
    Indexer(registry, engine, settings(initial_range=64, max_events=3)).scan_once()
    monkeypatch.undo()
    assert stored(engine) == from_receipts(registry) == fresh_index(registry, make_db)
    head = registry.w3.eth.block_number
    assert ({head - 1}, 7) in commits and ({head}, 7) in commits


def test_statistics_are_refreshed_as_the_tables_grow_during_a_catch_up(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    governor = new_account()
    registry = make_registry([governor])
    batches(registry, governor, 8, 4)
    engine = make_db()
    monkeypatch.setattr(indexer_module, "ANALYSE_AFTER", 4)
    sizes: list[int] = []
    real_refresh = store.refresh_statistics

    def counting_refresh(session: Session) -> None:
        sizes.append(store.count_events(session))
        real_refresh(session)

    monkeypatch.setattr(store, "refresh_statistics", counting_refresh)
    result = Indexer(registry, engine, settings(initial_range=64, max_events=5)).scan_once()
    # Refreshed in the middle of one long catch-up each time the event table had doubled (and at
    # least 4 events were new), not after every part; the last one may be the end of the scan's.
    assert len(sizes) >= 3, sizes
    assert sizes[0] >= 4 and sizes[-1] <= result.events
    assert all(after >= 2 * before for before, after in itertools.pairwise(sizes[:-1])), sizes

"""The domain tables: a workload touching every event type, indexed, equals the contracts'
state and a from-scratch re-index — also across reorganisations — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from client.chain.abi import _event_table
from client.chain.registry import Registry
from registry_api import projection
from registry_api.errors import ServiceConfigError
from registry_api.indexer import Indexer
from registry_api.models import RawEvent, UndoEntry
from tests.conftest import new_account
from tests.registry_api.compare import assert_matches_chain, rows, snapshot
from tests.registry_api.helpers import rpc, settings
from tests.registry_api.workload import Story, h, hx, story

#: Declared in an ABI but never emitted by these contracts (the EIP-712 domain is fixed).
NEVER_EMITTED = {("ExchangeLedger", "EIP712DomainChanged")}


def every_event() -> set[tuple[str, str]]:
    return {(contract, item["name"]) for contract, item in _event_table().values() if contract != "MinimalRegistry"}


def indexed_names(engine: Engine) -> set[tuple[str, str]]:
    with Session(engine) as session:
        return {(c, n) for c, n in session.connection().execute(select(RawEvent.contract, RawEvent.name))}  # type: ignore[call-overload]


def fresh(registry: Registry, make_db: Callable[[], Engine], **overrides: Any) -> Engine:
    engine = make_db()
    Indexer(registry, engine, settings(**overrides)).scan_once()
    return engine


def test_every_event_has_a_handler_or_is_kept_raw() -> None:
    handled, raw_only = projection.handled_events(), projection.RAW_ONLY
    assert not handled & raw_only
    assert handled | raw_only == every_event()


def test_story_indexes_every_event_into_the_domain_tables(s: Story, make_db: Callable[[], Engine]) -> None:
    engine = make_db()
    indexer = Indexer(s.registry, engine, settings())
    indexer.scan_once()
    assert indexed_names(engine) == every_event() - NEVER_EMITTED
    assert_matches_chain(engine, s.registry)
    assert snapshot(engine) == snapshot(fresh(s.registry, make_db, initial_range=5000))
    check_story_rows(engine, s)


def check_story_rows(engine: Engine, s: Story) -> None:
    """What the story did, as the API will serve it."""
    orgs = {r["org_id"]: r for r in rows(engine, "org")}
    alpha, beta, gamma, delta = (orgs[s.orgs[n].org_id] for n in ("ALPHA", "BETA", "GAMMA", "DELTA"))
    assert (alpha["name"], delta["status"], gamma["status"], beta["level"]) == ("ALPHA", "expelled", "active", 3)
    assert beta["admin"] == s.orgs["BETA"].admin.address
    keys = {r["address"]: r for r in rows(engine, "orgkey")}
    assert (
        sum(1 for k in keys.values() if k["org_no"] == alpha["org_no"] and k["role"] == "none") == 2
    )  # spare, old admin
    datasets = {r["root"]: r for r in rows(engine, "dataset")}
    scans = datasets[hx(s.roots["turbine scans"])]
    assert (scans["metadata_uri"], scans["processing"], scans["offer_holding"]) == (
        "ipfs://alpha/turbine-scans.json",
        beta["org_no"],
        None,
    )
    assert datasets[hx(s.roots["weld parameters"])]["offer_holding"] == beta["org_no"]
    assert datasets[hx(s.roots["line sensor 3"])]["manifest_uri"] == "ipfs://alpha/batch-1.json"
    gear = datasets[hx(s.roots["gear test bench"])]
    assert (gear["registrant"], json.loads(gear["parents"]), gear["metadata_uri"]) == (
        beta["org_no"],
        [hx(s.roots["weld parameters"])],
        "ipfs://beta/gear.json",
    )
    drawings = datasets[hx(s.roots["prototype drawings"])]
    assert (drawings["operation"], drawings["holding"], drawings["frozen"]) == (gamma["org_no"], alpha["org_no"], 0)
    changes = [(r["kind"], r["right"], r["to_org"]) for r in rows(engine, "rightchange")]
    assert sorted(changes) == [("awarded", "operation", gamma["org_no"]), ("transferred", "processing", beta["org_no"])]
    grants = sorted(
        (r["serial"], r["status"], r["current"], r["permissions"])
        for r in rows(engine, "grant")
        if r["root"] == hx(s.roots["turbine scans"]) and r["grantee"] == beta["org_no"]
    )
    assert grants == [(1, "active", False, 1), (2, "active", True, 3)]
    weld_grants = {
        r["grantee"]: (r["status"], r["decided_by"])
        for r in rows(engine, "grant")
        if r["root"] == hx(s.roots["weld parameters"])
    }
    assert weld_grants == {
        gamma["org_no"]: ("active", s.auditor.address),
        beta["org_no"]: ("rejected", s.auditor.address),
    }
    (receipt,) = rows(engine, "receipt")
    assert (receipt["terms_commitment"], receipt["consumer"]) == (hx(s.openings[-1].commitment), beta["org_no"])
    disputes = sorted(
        (r["status"], r["uphold_votes"], r["dismiss_votes"], r["prior_anchored_at"] is not None)
        for r in rows(engine, "dispute")
    )
    assert disputes == [("dismissed", 0, 2, False), ("lapsed", 0, 0, False), ("upheld", 1, 0, True)]
    assert len(rows(engine, "vote")) == 3


def test_subjects_list_the_events_about_a_dataset(s: Story, make_db: Callable[[], Engine]) -> None:
    engine = fresh(s.registry, make_db)
    with Session(engine) as session:
        found = [
            n
            for (n,) in session.connection().execute(
                select(RawEvent.name)
                .where(RawEvent.subject == hx(s.roots["prototype drawings"]))  # type: ignore[arg-type]
                .order_by(RawEvent.block_number, RawEvent.log_index)  # type: ignore[arg-type]
            )
        ]
    assert found == list(Story.UPHELD_DISPUTE_EVENTS)


def reorg(registry: Registry, depth: int, replacement: list[list[Any]]) -> None:
    w3 = registry.w3
    head = w3.eth.block_number
    old = [w3.eth.get_block(n)["hash"] for n in range(head - depth + 1, head + 1)]
    rpc(w3, "anvil_reorg", depth, replacement)
    assert all(w3.eth.get_block(n)["hash"] != o for n, o in zip(range(head - depth + 1, head + 1), old, strict=True))


def registration_tx(s: Story, org: str, name: str, depth: int) -> str:
    """A signed registration by `org`'s connector, valid on the chain as it was `depth` blocks ago."""
    signer = s.key(org)
    w3 = s.w3
    contract = s.registry.contract("DataRegistry")
    data = contract.encode_abi("register", args=[(h(name), 0, h("meta"), "ipfs://reorg", [])])
    nonce = w3.eth.get_transaction_count(signer.address, w3.eth.block_number - depth)
    tx = {
        "to": contract.address,
        "data": data,
        "gas": 500_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "nonce": nonce,
        "chainId": s.registry.chain_id,
    }
    return "0x" + bytes(signer.sign_transaction(tx).raw_transaction).hex()


def test_reorganisations_of_depth_1_3_and_10_leave_the_canonical_chain_s_rows(
    own_chain: Callable[..., Registry], make_db: Callable[[], Engine]
) -> None:
    s = story(own_chain).run()
    engine = make_db()
    indexer = Indexer(s.registry, engine, settings())
    indexer.scan_once()
    for depth in (1, 3, 10):
        before = snapshot(engine)
        # The new fork's first block registers a dataset the old fork never had.
        reorg(s.registry, depth, [[registration_tx(s, "GAMMA", f"fork of depth {depth}", depth), 0]])
        rpc(s.w3, "evm_mine")
        result = indexer.scan_once()
        assert result.rolled_back == depth
        after = snapshot(engine)
        assert after != before
        assert after == snapshot(fresh(s.registry, make_db)), depth
        assert_matches_chain(engine, s.registry)
        assert hx(h(f"fork of depth {depth}")) in {r["root"] for r in rows(engine, "dataset")}
    # The undo log covers exactly the window of recent blocks.
    with Session(engine) as session:
        oldest = session.connection().execute(select(UndoEntry.block_number).order_by(UndoEntry.block_number)).first()  # type: ignore[arg-type]
    assert oldest is None or oldest[0] > s.w3.eth.block_number - settings().reorg_window


def test_reorg_deeper_than_the_window_rebuilds_the_domain_tables(
    own_chain: Callable[..., Registry], make_db: Callable[[], Engine]
) -> None:
    s = story(own_chain).run()
    engine = make_db()
    indexer = Indexer(s.registry, engine, settings(reorg_window=2))
    indexer.scan_once()
    reorg(s.registry, 4, [])
    indexer.scan_once()
    assert snapshot(engine) == snapshot(fresh(s.registry, make_db))
    assert_matches_chain(engine, s.registry)


def test_a_changed_deployment_is_not_mixed_into_the_index(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine]
) -> None:
    first = make_registry([new_account()])
    engine = fresh(first, make_db)
    second = make_registry([new_account()])
    with pytest.raises(ServiceConfigError, match="re-index") as refused:
        Indexer(second, engine, settings()).scan_once()
    assert refused.value.exit_code == 2

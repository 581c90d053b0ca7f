"""A dispute's freeze ends by time: the API reports a right frozen only while its freeze runs,
by the clock of the latest indexed block, even if nobody closes the expired dispute."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from client.chain.enums import Action, Grade, Right
from client.datasets import Datasets, Registration
from client.disputes import Disputes
from tests.conftest import chain_time, new_account
from tests.registry_api.conftest import TEST_TOKEN_SECRET, FreshApi
from tests.registry_api.helpers import rpc
from tests.registry_api.workload import h, hx


def dataset(fresh: FreshApi, root: bytes) -> dict[str, Any]:
    response = fresh.http.get(f"/v1/datasets/{hx(root)}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def mine_at(fresh: FreshApi, timestamp: int) -> None:
    """Mine one block whose time is `timestamp`, and index it."""
    rpc(fresh.registry.w3, "evm_setNextBlockTimestamp", timestamp)
    rpc(fresh.registry.w3, "evm_mine")
    fresh.indexer.scan_once()


def disputed(fresh: FreshApi, right: Right) -> tuple[bytes, int, int]:
    """A dataset of the first member disputed by the second (after an arbiter is appointed):
    its root, the dispute's id and the freeze's end as the chain records it."""
    alpha, beta = fresh.orgs[:2]
    assert fresh.consortium.propose(fresh.governor, Action.APPOINT_ARBITER, new_account().address).executed
    root = h(f"disputed {right.name}")
    Datasets(fresh.registry).register(alpha.connectors[0], Registration(root, Grade.GENERAL, h("metadata"), "", ()))
    dispute_id, _ = Disputes(fresh.registry).open(beta.connectors[0], root, right, h("beta's claim"))
    until = int(fresh.registry.call("DataRegistry", "frozenUntil", root, int(right)))
    assert until > chain_time(fresh.registry.w3)
    return root, dispute_id, until


def test_a_freeze_lapses_by_time_without_anyone_closing_the_dispute(fresh_api: Callable[..., Any]) -> None:
    with fresh_api("DEMO:A", "DEMO:B") as fresh:
        root, dispute_id, until = disputed(fresh, Right.PROCESSING)
        fresh.indexer.scan_once()
        running = dataset(fresh, root)
        assert (running["frozen"], running["frozenUntil"], running["openDisputes"]) == (
            ["processing"],
            {"processing": until},
            [dispute_id],
        )
        mine_at(fresh, until - 1)  # the freeze's last second: the chain still refuses to move the right
        assert fresh.registry.call("DataRegistry", "isFrozen", root, int(Right.PROCESSING))
        assert dataset(fresh, root)["frozenUntil"] == {"processing": until}
        mine_at(fresh, until)  # its end: nobody closed the dispute, but the right is free
        assert not fresh.registry.call("DataRegistry", "isFrozen", root, int(Right.PROCESSING))
        lapsed = dataset(fresh, root)
        # The dispute stays open on chain until someone records its end; it freezes nothing.
        assert (lapsed["frozen"], lapsed["frozenUntil"], lapsed["openDisputes"]) == ([], {}, [dispute_id])
        Disputes(fresh.registry).close(fresh.orgs[0].connectors[0], dispute_id)
        fresh.indexer.scan_once()
        closed = dataset(fresh, root)
        assert (closed["frozen"], closed["frozenUntil"], closed["openDisputes"]) == ([], {}, [])


#: The columns this version added to the index: a database of the previous version lacks them.
ADDED_COLUMNS = {
    "dataset": ["frozen_until_holding", "frozen_until_processing", "frozen_until_operation"],
    "checkpoint": ["block_time"],
    "roleholder": ["log_index"],
    "vote": ["log_index"],
}


def run_service(fresh: FreshApi, home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m registry_api …` as an operator runs it, against the fresh deployment's index."""
    deployments = home / "deployments"
    fresh.registry.manifest.save(deployments)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
    env.update(
        IDSREG_HOME=str(home),
        IDSREG_API_DATABASE_URL=fresh.served.engine.url.render_as_string(hide_password=False),
        IDSREG_API_DEPLOYMENTS=str(deployments),
        IDSREG_API_RPC_URL=str(fresh.registry.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        IDSREG_API_TOKEN_SECRET=TEST_TOKEN_SECRET,
    )
    return subprocess.run(
        [sys.executable, "-m", "registry_api", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_index_of_the_previous_schema_is_refused_then_rebuilt(fresh_api: Callable[..., Any], tmp_path: Path) -> None:
    with fresh_api("DEMO:A", "DEMO:B") as fresh:
        root, dispute_id, until = disputed(fresh, Right.OPERATION)
        fresh.indexer.scan_once()
        engine = fresh.served.engine
        with engine.begin() as connection:  # what the previous version made: the same tables without the new columns
            for table, columns in ADDED_COLUMNS.items():
                for column in columns:
                    connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            connection.execute(text("DROP TABLE setting"))  # and without the new table
        refused = run_service(fresh, tmp_path, "index", "--once")
        assert refused.returncode == 2, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
        named = [f"table {table} has no {', '.join(sorted(columns))}" for table, columns in ADDED_COLUMNS.items()]
        assert any(n in lines[0] for n in named) and "idsreg api reindex" in lines[0], lines[0]
        rebuilt = run_service(fresh, tmp_path, "reindex", "--yes", "--json")
        assert rebuilt.returncode == 0, rebuilt.stderr
        head = fresh.registry.w3.eth.get_block("latest")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT block_number, block_time FROM checkpoint")).one() == (
                head["number"],
                head["timestamp"],
            )
        detail = dataset(fresh, root)
        assert (detail["frozen"], detail["frozenUntil"], detail["openDisputes"]) == (
            ["operation"],
            {"operation": until},
            [dispute_id],
        )


def test_an_open_dispute_counts_only_live_votes_as_the_chain_does(fresh_api: Callable[..., Any]) -> None:
    """A removed arbiter's vote stops counting at once; re-appointed, its old vote does not come back."""
    with fresh_api("DEMO:A", "DEMO:B") as fresh:
        alpha, beta = fresh.orgs
        arbiters = [new_account() for _ in range(3)]
        for arbiter in arbiters:
            assert fresh.consortium.propose(fresh.governor, Action.APPOINT_ARBITER, arbiter.address).executed
        assert fresh.consortium.propose(fresh.governor, Action.SET_ARBITER_THRESHOLD, 2).executed
        root = h("voted on")
        Datasets(fresh.registry).register(alpha.connectors[0], Registration(root, Grade.GENERAL, h("metadata"), "", ()))
        disputes = Disputes(fresh.registry)
        dispute_id, _ = disputes.open(beta.connectors[0], root, Right.HOLDING, h("beta's claim"))
        disputes.vote(arbiters[0], dispute_id, True)
        disputes.vote(arbiters[1], dispute_id, False)

        def indexed() -> tuple[int, int, list[tuple[str, bool, bool]]]:
            fresh.indexer.scan_once()
            listed = fresh.http.get("/v1/disputes", params={"dataset": hx(root)}).json()["data"][0]
            one = fresh.http.get(f"/v1/disputes/{dispute_id}").json()
            assert (one["upholdVotes"], one["dismissVotes"]) == (listed["upholdVotes"], listed["dismissVotes"])
            votes = sorted((v["arbiter"], v["uphold"], v["live"]) for v in one["votes"])
            return one["upholdVotes"], one["dismissVotes"], votes

        def on_chain() -> tuple[int, int]:
            shown = disputes.show(dispute_id)
            return shown.uphold_votes, shown.dismiss_votes

        first, second = arbiters[0].address, arbiters[1].address
        assert on_chain() == (1, 1)
        assert indexed() == (1, 1, sorted([(first, True, True), (second, False, True)]))
        assert fresh.consortium.propose(fresh.governor, Action.REMOVE_ARBITER, first).executed
        assert on_chain() == (0, 1)
        assert indexed() == (0, 1, sorted([(first, True, False), (second, False, True)]))
        assert fresh.consortium.propose(fresh.governor, Action.APPOINT_ARBITER, first).executed
        assert on_chain() == (0, 1)  # a new term: the old vote does not come back
        assert indexed() == (0, 1, sorted([(first, True, False), (second, False, True)]))
        disputes.vote(arbiters[2], dispute_id, False)  # the deciding vote: dismissed with the counts of that moment
        assert on_chain() == (0, 2)
        assert indexed() == (
            0,
            2,
            sorted([(first, True, False), (second, False, True), (arbiters[2].address, False, True)]),
        )


def test_the_dispute_period_is_indexed_as_the_council_sets_it(fresh_api: Callable[..., Any]) -> None:
    with fresh_api("DEMO:A") as fresh:

        def period() -> int:
            fresh.indexer.scan_once()
            response = fresh.http.get("/v1/roles")
            assert response.status_code == 200, response.text
            value: int = response.json()["disputePeriod"]
            assert value == int(fresh.registry.call("Consortium", "disputePeriod"))
            return value

        assert period() == 30 * 86400  # set at deployment
        assert fresh.consortium.propose(fresh.governor, Action.SET_DISPUTE_PERIOD, 2 * 86400).executed
        assert period() == 2 * 86400

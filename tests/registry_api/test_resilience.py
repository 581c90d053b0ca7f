"""The index and the API under trouble: the indexer killed with SIGKILL at random moments of a
running workload, the chain node restarting, the node down, and concurrent load."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from web3 import Web3

from client.chain.deploy import deploy_registry
from client.chain.node import ChainConfig, LocalChain, free_port
from client.chain.registry import Registry
from client.consortium import Consortium
from client.datasets import Datasets, Registration
from registry_api import store
from registry_api.indexer import Indexer
from tests.conftest import admit, new_account, wait_until
from tests.registry_api.compare import assert_matches_chain, rows, snapshot
from tests.registry_api.conftest import Served, api_settings_for, serving
from tests.registry_api.helpers import settings
from tests.registry_api.workload import h, hx, story


def indexed(engine: Engine) -> int:
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
        return checkpoint.block_number if checkpoint is not None else -1


#: A process that has imported the indexer and forks one indexer process per line on stdin
#: (printing its pid): each start then costs a fork, not two seconds of imports. The children
#: run exactly what `python -m registry_api index` runs (follow_chain).
ZYGOTE = """
import os, signal, sys, threading
from registry_api.db import make_engine
from registry_api.indexer import follow_chain
from registry_api.settings import ApiSettings
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they die
for _line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        settings = ApiSettings()
        follow_chain(settings, make_engine(settings.database_url), threading.Event())
        os._exit(0)
    print(pid, flush=True)
"""


class IndexerProcesses:
    """Indexer processes on one database, started and killed at will."""

    def __init__(self, registry: Registry, engine: Engine, deployments: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
        env.update(
            IDSREG_API_DATABASE_URL=engine.url.render_as_string(hide_password=False),
            IDSREG_API_RPC_URL=str(registry.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
            IDSREG_API_DEPLOYMENTS=str(deployments),
            IDSREG_API_POLL_INTERVAL="0.05",
            IDSREG_API_INITIAL_RANGE="2",
            IDSREG_API_MAX_RANGE="8",
        )
        self.env = env
        self.log = log.open("ab")
        self.zygote = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.pid: int | None = None

    def start(self) -> None:
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        self.zygote.stdin.write("start\n")
        self.zygote.stdin.flush()
        self.pid = int(self.zygote.stdout.readline())

    def kill(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        assert wait_until(lambda: not _exists(self.pid), timeout=10)
        self.pid = None

    def close(self) -> None:
        if self.pid is not None:
            self.kill()
        self.zygote.kill()
        self.zygote.wait()
        self.log.close()


def _exists(pid: int | None) -> bool:
    try:
        os.kill(pid or 0, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine], tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    chance = random.Random(seed)
    s = story(make_registry)
    deployments = tmp_path / "deployments"
    s.registry.manifest.save(deployments)
    engine = make_db()
    indexer = IndexerProcesses(s.registry, engine, deployments, tmp_path / "indexer.log")
    kills = 0
    done = threading.Event()

    def workload() -> None:
        try:
            for step in s.steps():
                step()
            datasets = Datasets(s.registry)
            n = 0
            while kills < 10:  # keep the chain moving until the indexer has died ten times
                datasets.register(s.key("ALPHA"), Registration(h(f"more data {n}")))
                n += 1
                time.sleep(0.1)
        finally:
            done.set()

    writer = threading.Thread(target=workload)
    indexer.start()
    writer.start()
    try:
        while not done.is_set() or kills < 10:
            before = indexed(engine)
            # Kill only once it works: the checkpoint has moved since the last start.
            assert wait_until(lambda b=before: indexed(engine) > b or done.is_set(), timeout=60), (seed, kills)
            time.sleep(chance.uniform(0, 0.25))
            indexer.kill()
            kills += 1
            indexer.start()
        writer.join()
        indexer.kill()
    finally:
        done.set()
        writer.join(timeout=120)
        indexer.close()
    assert kills >= 10
    # A restart of the service's own command finishes the job.
    head = s.w3.eth.block_number
    finish = subprocess.run(
        [sys.executable, "-m", "registry_api", "index", "--once", "--json"],
        env=indexer.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finish.returncode == 0, finish.stderr
    assert indexed(engine) == head, (seed, indexed(engine), head)
    fresh = make_db()
    Indexer(s.registry, fresh, settings()).scan_once()
    assert snapshot(engine) == snapshot(fresh), f"seed {seed}"
    assert_matches_chain(engine, s.registry)


def test_a_node_restart_loses_no_registration(make_db: Callable[[], Engine], tmp_path: Path) -> None:
    config = ChainConfig.load()
    local = ChainConfig(config.chain_id, config.genesis, "127.0.0.1", free_port(), 0, 1)
    chain = LocalChain(tmp_path / "chain", local)
    chain.up()
    try:
        w3 = Web3(Web3.HTTPProvider(local.rpc_url))
        governor = new_account()
        registry = Registry(w3, deploy_registry(w3, governor, [governor.address], 1, tmp_path / "deployments"))
        org = admit(Consortium(registry), governor, "DEMO:ALPHA", connectors=1)
        datasets = Datasets(registry)
        datasets.register(org.connectors[0], Registration(h("before the restart")))
        engine = make_db()
        api_settings = api_settings_for(registry, engine, tmp_path / "deployments").model_copy(
            update={"poll_interval": 0.05}
        )
        indexer = Indexer(registry, engine, api_settings)
        stop = threading.Event()
        follower = threading.Thread(target=indexer.run, args=(stop,))
        follower.start()
        try:
            assert wait_until(lambda: indexed(engine) == w3.eth.block_number)
            time.sleep(1.5)  # let the node write its state (every second)
            assert chain.down()
            time.sleep(0.3)  # the indexer meets a node that is gone, and keeps trying
            chain.up()
            assert datasets.is_registered(h("before the restart"))
            datasets.register(org.connectors[0], Registration(h("after the restart")))
            assert wait_until(lambda: indexed(engine) == w3.eth.block_number, timeout=20)
        finally:
            stop.set()
            follower.join(timeout=20)
        assert {hx(h("before the restart")), hx(h("after the restart"))} <= {r["root"] for r in rows(engine, "dataset")}
        assert_matches_chain(engine, registry)
    finally:
        chain.down()


def test_with_the_node_down_the_index_is_still_served(served: Served, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    api_settings = api_settings_for(served.story.registry, served.engine, tmp_path).model_copy(update={"rpc_url": dead})
    served.story.registry.manifest.save(tmp_path)
    with serving(api_settings, served.engine) as url, httpx.Client(base_url=url, timeout=30) as http:
        status = http.get("/v1/status").json()
        assert (status["nodeReachable"], status["chainHead"], status["lag"]) == (False, None, None)
        assert status["indexedBlock"] == indexed(served.engine) and status["chainId"] == 7351
        scans = hx(served.story.roots["turbine scans"])
        assert http.get(f"/v1/datasets/{scans}").status_code == 200
        assert len(http.get("/v1/datasets").json()["data"]) == len(served.story.roots)
        refused = http.post("/v1/verify", json={"contentRoot": scans})
        assert refused.status_code == 503 and "does not answer" in refused.json()["error"]
        metrics = http.get("/metrics").text
        samples = [line.split(" ")[0] for line in metrics.splitlines() if not line.startswith("#")]
        assert "idsreg_indexed_block" in samples and "idsreg_chain_head_block" not in samples


@pytest.mark.parametrize("clients", [32])
def test_concurrent_load_answers_every_request(api: Served, clients: int) -> None:
    s = api.story
    roots = [hx(r) for r in s.roots.values()]
    paths = [f"/v1/datasets/{r}" for r in roots] + [f"/v1/datasets/{r}/history" for r in roots]
    paths += [f"/v1/datasets/{r}/lineage" for r in roots] + ["/v1/datasets?limit=5", "/v1/members", "/v1/status"]
    limits = httpx.Limits(max_connections=clients)
    with httpx.Client(base_url=api.url, timeout=30, limits=limits) as http, ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(lambda p: http.get(p).status_code, paths * 12))
    assert statuses == [200] * len(paths) * 12

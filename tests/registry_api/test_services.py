"""Several registry services on one PostgreSQL database, as operators run them behind a load
balancer: exactly one indexes (it holds the indexing lock), the others serve reads, and when the
indexing one is killed another takes over within seconds, with nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from client.chain.node import free_port
from client.chain.registry import Registry
from client.datasets import Datasets, Registration
from registry_api import store
from registry_api.errors import LeadershipLost
from registry_api.indexer import Indexer
from registry_api.leader import indexing_lock, indexing_service
from tests.conftest import wait_until
from tests.registry_api.compare import snapshot
from tests.registry_api.conftest import TEST_TOKEN_SECRET, databases
from tests.registry_api.helpers import settings
from tests.registry_api.workload import h, story

#: How long a survivor may take to index again after the indexing service is killed. The lock
#: passes at once (the server ends the dead connection's session); the rest is the survivor's
#: next ask (0.5 s), its connection to the node and its first range, on a busy shared machine.
TAKEOVER_SECONDS = 10.0
KILLS = 3


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    with databases("postgresql", tmp_path) as make:
        yield make


def environment(engine: Engine, registry: Registry, deployments: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
    env.update(
        IDSREG_HOME=str(home),
        IDSREG_API_DATABASE_URL=engine.url.render_as_string(hide_password=False),
        IDSREG_API_DEPLOYMENTS=str(deployments),
        IDSREG_API_RPC_URL=str(registry.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        IDSREG_API_TOKEN_SECRET=TEST_TOKEN_SECRET,
        IDSREG_API_POLL_INTERVAL="0.1",
        # Small ranges: a kill lands in the middle of the catch-up, between and inside ranges.
        IDSREG_API_INITIAL_RANGE="2",
        IDSREG_API_MAX_RANGE="8",
        IDSREG_API_WORKERS="1",
    )
    return env


def indexed_block(engine: Engine) -> int:
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
    return checkpoint.block_number if checkpoint is not None else -1


@dataclass
class Service:
    """One `python -m registry_api serve` (supervisor, indexer, worker) in a process group of its own."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def status(self) -> dict[str, object] | None:
        try:
            answer = httpx.get(f"{self.url}/v1/status", timeout=2)
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None  # type: ignore[no-any-return]

    def kill(self) -> None:
        """SIGKILL every process of the service at once (a host that dies)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def start(name: str, env: dict[str, str], log: Path) -> Service:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "registry_api", "serve", "--port", str(port), "--log-level", "warning"],
            env={**env, "IDSREG_API_SERVICE_NAME": name},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, f"http://127.0.0.1:{port}", process)


def test_one_service_indexes_and_a_survivor_takes_over_each_kill(
    make_registry: Callable[..., Registry], pg: Callable[[], Engine], tmp_path: Path
) -> None:
    s = story(make_registry)
    deployments = tmp_path / "deployments"
    s.registry.manifest.save(deployments)
    engine = pg()
    env = environment(engine, s.registry, deployments, tmp_path)
    log = tmp_path / "services.log"
    kills = 0
    done = threading.Event()

    def workload() -> None:
        try:
            for step in s.steps():
                step()
            datasets = Datasets(s.registry)
            n = 0
            while kills < KILLS:  # the chain keeps moving until the last kill
                datasets.register(s.key("ALPHA"), Registration(h(f"more data {n}")))
                n += 1
                time.sleep(0.05)
        finally:
            done.set()

    # Started together, as an operator starts them: they race for the tables and the lock.
    services = {name: start(name, env, log) for name in ("one", "two", "three")}
    writer = threading.Thread(target=workload)
    takeovers: list[float] = []
    try:
        for service in services.values():
            assert wait_until(lambda sv=service: sv.status() is not None, timeout=90), log.read_text()[-3000:]
        writer.start()
        while kills < KILLS:
            answers = {name: answer for name, service in services.items() if (answer := service.status()) is not None}
            # Every service that answers names the same indexing service: the lock's holder.
            indexing = {a["indexingService"] for a in answers.values()}
            assert len(indexing) == 1, (answers, log.read_text()[-3000:])
            (leader,) = indexing
            # Kill it once another service is up to take over, and once it works: the index moves.
            if leader is None or not set(answers) - {leader}:
                time.sleep(0.1)
                continue
            assert isinstance(leader, str) and leader in services, answers
            before = indexed_block(engine)
            assert wait_until(lambda b=before: indexed_block(engine) > b, timeout=30), log.read_text()[-3000:]
            services[leader].kill()
            killed_at, at_kill = time.monotonic(), indexed_block(engine)
            kills += 1
            survivors = [services[name] for name in answers if name != leader]

            def taken_over(old: str = leader, mark: int = at_kill, asked: Service = survivors[0]) -> bool:
                answer = asked.status()
                return (
                    answer is not None and answer["indexingService"] not in (None, old) and indexed_block(engine) > mark
                )

            assert wait_until(taken_over, timeout=TAKEOVER_SECONDS), (leader, log.read_text()[-3000:])
            takeovers.append(time.monotonic() - killed_at)
            # The survivors still answer reads; the killed one starts again and joins them.
            assert all(survivor.status() is not None for survivor in survivors)
            services[leader] = start(leader, env, log)
        writer.join(timeout=120)
        assert done.is_set()
        head = s.w3.eth.block_number
        assert wait_until(lambda: indexed_block(engine) == head, timeout=60), log.read_text()[-3000:]
        for service in services.values():  # one started again may still be starting: let it finish first
            assert wait_until(lambda sv=service: sv.status() is not None, timeout=90), log.read_text()[-3000:]
    finally:
        done.set()
        if writer.is_alive():
            writer.join(timeout=120)
        codes = {name: service.stop() for name, service in services.items() if service.process.poll() is None}
    assert set(codes.values()) <= {0}, (codes, log.read_text()[-3000:])
    print(f"takeovers after SIGKILL: {', '.join(f'{t:.2f} s' for t in takeovers)}")
    assert len(takeovers) == KILLS
    fresh = pg()
    Indexer(s.registry, fresh, settings()).scan_once()
    assert snapshot(engine) == snapshot(fresh)  # nothing lost, nothing doubled
    text = log.read_text()
    assert "waits to take over" in text and "holds the indexing lock" in text, text[-3000:]


def test_an_indexer_that_loses_its_lock_commits_nothing_more(
    make_registry: Callable[..., Registry], pg: Callable[[], Engine]
) -> None:
    """A member of bad faith (or a network fault) ends the indexing lock's connection while the
    indexer lives on: its next commit is refused, so it cannot race the service that takes over."""
    s = story(make_registry)
    for step in s.steps()[:3]:
        step()
    engine = pg()
    indexer = Indexer(s.registry, engine, settings(initial_range=1, max_range=1))
    stop = threading.Event()
    with indexing_lock(engine, "doomed", stop) as fence:
        assert fence is not None
        with engine.connect() as other:
            assert indexing_service(other) == "doomed"
            other.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'doomed'"
            )
        with pytest.raises(LeadershipLost, match="lock"):
            indexer.scan_once()
        assert stop.is_set()  # the indexer's loop stops too
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
    assert checkpoint is None  # not even the checkpoint row was written
    # Once the lock is free, another takes it at once.
    with indexing_lock(engine, "next", threading.Event()) as fence, engine.connect() as other:
        assert fence is not None and indexing_service(other) == "next"


def test_one_off_indexing_is_refused_while_a_service_indexes(
    make_registry: Callable[..., Registry], pg: Callable[[], Engine], tmp_path: Path
) -> None:
    s = story(make_registry)
    deployments = tmp_path / "deployments"
    s.registry.manifest.save(deployments)
    engine = pg()
    env = environment(engine, s.registry, deployments, tmp_path)
    with indexing_lock(engine, "busy-service", threading.Event()):
        for command in (["index", "--once"], ["reindex", "--yes"]):
            done = subprocess.run(
                [sys.executable, "-m", "registry_api", *command],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 2, done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "busy-service indexes" in lines[0] and "Traceback" not in done.stderr, lines
    with Session(engine) as session:
        assert store.get_checkpoint(session) is None

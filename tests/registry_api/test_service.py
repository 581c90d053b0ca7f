"""The service as an operator runs it: `python -m registry_api serve` with worker processes, and
`reindex`, on an index of the workload story."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from client.anchors import Anchors
from client.chain.node import free_port
from registry_api import store
from registry_api.indexer import Indexer
from tests.conftest import wait_until
from tests.registry_api.compare import snapshot
from tests.registry_api.conftest import TEST_TOKEN_SECRET, Served
from tests.registry_api.helpers import settings
from tests.registry_api.workload import Story, h, hx


def service_env(database_url: str, story: Story, deployments: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
    env.update(
        IDSREG_HOME=str(home),
        IDSREG_API_DATABASE_URL=database_url,
        IDSREG_API_DEPLOYMENTS=str(deployments),
        IDSREG_API_RPC_URL=str(story.registry.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        IDSREG_API_TOKEN_SECRET=TEST_TOKEN_SECRET,
    )
    return env


def test_two_workers_answer_and_add_up_their_metrics(served: Served, tmp_path: Path) -> None:
    deployments = tmp_path / "deployments"
    served.story.registry.manifest.save(deployments)
    env = service_env(served.engine.url.render_as_string(hide_password=False), served.story, deployments, tmp_path)
    port = free_port()
    log = (tmp_path / "service.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "registry_api",
            "serve",
            "--no-index",
            "--workers",
            "2",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"{url}/v1/status", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(answers, timeout=60), (tmp_path / "service.log").read_text()
        root = hx(served.story.roots["turbine scans"])
        for _ in range(40):  # new connections each time, so that both workers answer
            assert httpx.get(f"{url}/v1/datasets/{root}", timeout=10).status_code == 200
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        counted = re.search(
            r'idsreg_http_requests_total\{method="GET",route="/v1/datasets/\{root\}",status="200"\} (\S+)', metrics
        )
        assert counted is not None and float(counted.group(1)) == 40.0, metrics[-2000:]
        assert f"idsreg_indexed_block {served.story.w3.eth.block_number}.0" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log.close()
    assert code == 0, (tmp_path / "service.log").read_text()


def test_reindex_rebuilds_the_same_rows(s: Story, make_db: Callable[[], Engine], tmp_path: Path) -> None:
    engine = make_db()
    Indexer(s.registry, engine, settings()).scan_once()
    before = snapshot(engine)
    deployments = tmp_path / "deployments"
    s.registry.manifest.save(deployments)
    env = service_env(engine.url.render_as_string(hide_password=False), s, deployments, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "registry_api", "reindex", "--yes", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["indexedBlock"] == s.w3.eth.block_number and summary["events"] == len(before["rawevent"])
    assert snapshot(engine) == before
    refused = subprocess.run(
        [sys.executable, "-m", "registry_api", "reindex", "--json"],
        env=env,
        input="n\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1 and snapshot(engine) == before


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/v1/status", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def service(env: dict[str, str], log_path: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m registry_api serve ARGS` on a free port until it answers; stopped (SIGTERM) after."""
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "registry_api", "serve", "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: answers(url), timeout=60), log_path.read_text()
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        finally:
            log.close()
    assert code == 0, log_path.read_text()


def test_a_deep_or_huge_body_is_refused_and_the_service_stays_up(served: Served, tmp_path: Path) -> None:
    deployments = tmp_path / "deployments"
    served.story.registry.manifest.save(deployments)
    env = service_env(served.engine.url.render_as_string(hide_password=False), served.story, deployments, tmp_path)
    deep = 30_000  # within the size limit: refused for its depth
    bodies = [
        # Nested 100,000 deep, this overflowed the C stack (py_ecc raises the recursion limit).
        ("/v1/verify", b"[" * 100_000 + b"]" * 100_000, 413, "larger than"),
        ("/v1/auth/challenge", b'{"address": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 413, "larger than"),
        ("/v1/verify", b'{"proof": ' + b"[" * deep + b"]" * deep + b"}", 422, "levels deep"),
        ("/v1/auth/challenge", b'{"address": ' + b"{" * deep + b"}" * deep + b"}", 422, "levels deep"),
        ("/v1/auth/token", b'{"message": "' + b"x" * 70_000 + b'", "signature": "0x"}', 413, "larger than"),
    ]
    with service(env, tmp_path / "service.log") as (url, _):
        for path, body, status, text in bodies:
            try:
                answer = httpx.post(
                    f"{url}{path}", content=body, headers={"content-type": "application/json"}, timeout=30
                )
            except httpx.HTTPError as exc:
                raise AssertionError(
                    f"{path}: no answer ({exc!r}); {(tmp_path / 'service.log').read_text()[-2000:]}"
                ) from None
            assert answer.status_code == status, (path, answer.text)
            assert answer.json()["field"] == "body" and text in answer.json()["error"], answer.text
            assert answers(url)


def children(pid: int) -> dict[str, int]:
    """The service's child processes by kind (indexer, worker)."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        found["indexer" if b"index" in command else "worker"] = int(child)
    return found


def indexed_block(engine: Engine) -> int:
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
    return checkpoint.block_number if checkpoint is not None else -1


def test_a_killed_worker_or_indexer_comes_back(s: Story, make_db: Callable[[], Engine], tmp_path: Path) -> None:
    engine = make_db()
    deployments = tmp_path / "deployments"
    s.registry.manifest.save(deployments)
    env = service_env(engine.url.render_as_string(hide_password=False), s, deployments, tmp_path)
    env["IDSREG_API_POLL_INTERVAL"] = "0.2"
    log = tmp_path / "service.log"
    with service(env, log, "--workers", "1") as (url, process):
        assert wait_until(lambda: indexed_block(engine) == s.w3.eth.block_number, timeout=60)
        first = children(process.pid)
        assert set(first) == {"indexer", "worker"}, first
        os.kill(first["worker"], signal.SIGKILL)
        # The indexer goes on while no worker answers: a new block gets indexed.
        Anchors(s.registry).anchor(s.key("GAMMA"), [h("while the worker was down")])
        assert wait_until(lambda: indexed_block(engine) == s.w3.eth.block_number, timeout=30), log.read_text()
        assert wait_until(lambda: answers(url), timeout=30), log.read_text()
        second = children(process.pid)
        assert second["indexer"] == first["indexer"] and second["worker"] != first["worker"]
        os.kill(second["indexer"], signal.SIGKILL)
        assert wait_until(
            lambda: children(process.pid).get("indexer", second["indexer"]) != second["indexer"], timeout=30
        )
        Anchors(s.registry).anchor(s.key("GAMMA"), [h("after the indexer came back")])
        assert wait_until(lambda: indexed_block(engine) == s.w3.eth.block_number, timeout=30), log.read_text()
        assert httpx.get(f"{url}/v1/status", timeout=5).json()["indexedBlock"] == s.w3.eth.block_number
        time.sleep(0.1)
    text = log.read_text()
    assert "API worker" in text and "indexer" in text and "restarting" in text, text


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
    env.update(IDSREG_HOME=str(tmp_path), IDSREG_API_DATABASE_URL=f"sqlite:///{tmp_path / 'index.db'}")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "registry_api", "serve", "--no-index", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        taken.close()
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr, done.stderr

"""`idsreg connector serve` as a user runs it: the whole negotiation from beta's connector to a
served alpha, FINALIZED with the licence on chain; a restart keeps every negotiation."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from client.chain.node import free_port
from client.connector.negotiation import Role, State
from client.connector.schemas import Schemas
from client.grants import Grants
from client.keys import Keystore
from tests.cli.conftest import TEST_PASSWORD
from tests.connector.conftest import Side, start_side
from tests.contracts.factories import GENERAL, Licensing, key, make_licensing

IDSREG = str(Path(sys.executable).parent / "idsreg")


class Served:
    def __init__(self, home: Path, scene: Licensing, deployments: Path, rpc_url: str) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
        self.env.update(
            IDSREG_HOME=str(home),
            IDSREG_RPC_URL=rpc_url,
            IDSREG_DEPLOYMENTS=str(deployments),
            IDSREG_PASSWORD=TEST_PASSWORD,
        )
        self.process: subprocess.Popen[str] | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([IDSREG, *args], check=False, env=self.env, capture_output=True, text=True, timeout=180)

    def start(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [
                IDSREG,
                "connector",
                "serve",
                "--port",
                str(self.port),
                "--key",
                "alpha",
                "--purpose",
                "predictive maintenance",
                "--poll-seconds",
                "0.2",
                *args,
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 180  # a loaded machine: imports and the key's scrypt take a while
        while True:
            try:
                if httpx.get(f"{self.url}/.well-known/dspace-version").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, "the connector did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def served(w3: Web3, tmp_path: Path, schemas: Schemas) -> Iterator[tuple[Served, Side, Licensing]]:
    scene = make_licensing(w3, tmp_path / "deployments")
    home = tmp_path / "alpha-home"
    Keystore(home / "keystore").import_private_key("alpha", key(scene.alpha).key.hex(), TEST_PASSWORD, scrypt_n=2**10)
    Keystore(home / "keystore").import_private_key(
        "alpha-admin", scene.alpha.admin.key.hex(), TEST_PASSWORD, scrypt_n=2**10
    )
    alpha = Served(home, scene, tmp_path / "deployments", str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    beta = start_side(scene, scene.beta, tmp_path / "beta", schemas, auto=True)
    yield alpha, beta, scene
    alpha.stop()
    beta.consumer.wait_idle()
    beta.server.stop()
    beta.connector.provider.close()
    beta.connector.consumer.close()


def test_serve_negotiates_to_a_licence_and_keeps_it_across_a_restart(
    served: tuple[Served, Side, Licensing],
) -> None:
    alpha, beta, scene = served
    alpha.start()
    done = beta.consumer.negotiate(alpha.url, GENERAL, timeout=180)
    assert done.state == State.FINALIZED and done.grant is not None
    grant = Grants(scene.registry).show(GENERAL, beta.org_id)
    assert grant.serial == done.grant["serial"] and grant.permissions == ["read"]

    alpha.stop()
    alpha.start()  # a new process over the same $IDSREG_HOME/connector
    response = beta.consumer.peer.get(alpha.url, f"{alpha.url}/negotiations/{done.provider_pid}")
    assert response.json()["state"] == "FINALIZED"
    stored = beta.consumer.store.by_pid(Role.CONSUMER, done.consumer_pid)
    assert stored is not None and stored.state == State.FINALIZED


def test_serve_refuses_a_key_that_is_not_a_connector_key(served: tuple[Served, Side, Licensing]) -> None:
    alpha, _beta, _scene = served
    result = alpha.run("connector", "serve", "--port", str(alpha.port), "--key", "alpha-admin")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "is not a connector key" in lines[0] and "Traceback" not in result.stderr

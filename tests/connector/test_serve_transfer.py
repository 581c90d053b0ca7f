"""`idsreg connector serve --data` as a user runs it: beta's connector negotiates and pulls a
registered file from the served alpha; after a restart the transfer and its token still hold.
A `--data` path whose root is not registered, or not the named one, is refused at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from client.chain.enums import Grade
from client.connector.identity import issue_token
from client.connector.schemas import Schemas
from client.hashing import bytes_root, hex32
from client.keys import Keystore
from tests.cli.conftest import TEST_PASSWORD
from tests.connector.conftest import Side, start_side
from tests.connector.test_serve_cli import Served
from tests.connector.transfers import file_contents
from tests.contracts.factories import Licensing, key, make_licensing


@pytest.fixture
def alpha_with_data(w3: Web3, tmp_path: Path, schemas: Schemas) -> Iterator[tuple[Served, Side, Licensing, Path]]:
    scene = make_licensing(w3, tmp_path / "deployments")
    home = tmp_path / "alpha-home"
    Keystore(home / "keystore").import_private_key("alpha", key(scene.alpha).key.hex(), TEST_PASSWORD, scrypt_n=2**10)
    data = tmp_path / "readings.bin"
    data.write_bytes(file_contents(1_300_000))
    alpha = Served(home, scene, tmp_path / "deployments", str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    beta = start_side(scene, scene.beta, tmp_path / "beta", schemas, auto=True)
    yield alpha, beta, scene, data
    alpha.stop()
    beta.consumer.wait_idle()
    beta.server.stop()
    beta.connector.close()


def test_serve_transfers_a_registered_file_across_a_restart(
    alpha_with_data: tuple[Served, Side, Licensing, Path],
) -> None:
    alpha, beta, scene, data = alpha_with_data
    contents = data.read_bytes()
    root = bytes_root(contents)
    scene.register(scene.alpha, root, grade=Grade.GENERAL)
    alpha.start("--data", str(data))
    negotiation = beta.consumer.negotiate(alpha.url, root, timeout=180)
    transfer, address = beta.consumer.start_transfer(negotiation.consumer_pid, timeout=120)

    def get(path: str) -> bytes:
        proof = issue_token(beta.key, beta.org_id, address.endpoint)
        headers = {"Authorization": f"Bearer {address.token}", "X-Idsreg-Proof": proof}
        response = httpx.get(f"{address.endpoint}/{path}", headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        return response.content

    assert b'"kind":"file"' in get("manifest")
    assert get("files/readings.bin") == contents
    alpha.stop()
    alpha.start("--data", f"{hex32(root)}={data}")
    assert get("files/readings.bin") == contents  # the same token, the same transfer, after a restart
    done = beta.consumer.complete_transfer(transfer.consumer_pid)
    assert done.state.value == "COMPLETED"


def test_serve_refuses_data_that_is_not_registered(alpha_with_data: tuple[Served, Side, Licensing, Path]) -> None:
    alpha, _beta, _scene, data = alpha_with_data
    for spec, words in (
        (str(data), "which is not registered"),
        (f"0x{'11' * 32}={data}", "not to the named root"),
        (str(data.parent / "missing.bin"), "does not exist"),
    ):
        result = alpha.run("connector", "serve", "--port", str(alpha.port), "--key", "alpha", "--data", spec)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.stderr, result.stderr

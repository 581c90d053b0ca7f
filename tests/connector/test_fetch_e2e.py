"""The whole exchange over two organisations' connectors, two real HTTP servers on loopback and a
real anvil: catalog → FINALIZED → grant on chain → transfer → bytes verified while they stream →
receipt signed by both organisations and recorded on chain; for a file and a directory, general
and important data (which waits for the auditor's approval). Tampered bytes on the provider's
disk: refused, nothing signed. And `idsreg connector fetch` run as a user runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3 import Web3

from client.chain.enums import Grade, GrantStatus
from client.chain.node import free_port
from client.chain.registry import Registry
from client.connector.app import Connector, create_app, make_connector
from client.connector.delivery import BackgroundServer, Delivery, fetch_dataset
from client.connector.fetch import RootMismatch
from client.connector.negotiation import Role
from client.connector.schemas import Schemas
from client.connector.sources import DataSources, local_dataset
from client.connector.transfer import TransferState
from client.errors import UnknownRecordError
from client.grants import Grants
from client.hashing import CHUNK_SIZE, content_root
from client.keys import Keystore
from client.receipts import Receipts
from tests.cli.conftest import TEST_PASSWORD
from tests.connector.conftest import TERMS
from tests.contracts.factories import Licensing, key, make_licensing

IDSREG = str(Path(sys.executable).parent / "idsreg")


@dataclass
class Running:
    url: str
    connector: Connector
    server: BackgroundServer


@dataclass
class Exchange:
    scene: Licensing
    alpha: Running  # provider, serving `datasets`
    beta: Running  # consumer
    datasets: dict[str, Path]

    def root(self, name: str) -> bytes:
        return content_root(self.datasets[name])


def start(scene: Licensing, org: object, home: Path, schemas: Schemas, sources: DataSources) -> Running:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    registry = Registry(Web3(Web3.HTTPProvider(scene.registry.w3.provider.endpoint_uri)), scene.registry.manifest)  # type: ignore[attr-defined]
    home.mkdir(parents=True)
    connector = make_connector(
        registry,
        key(org),
        org.org_id,
        url,
        home,
        TERMS,
        schemas=schemas,
        cache_seconds=0,
        sources=sources,  # type: ignore[attr-defined]
    )
    server = BackgroundServer(create_app(connector), "127.0.0.1", port)
    server.start()
    return Running(url, connector, server)


def write(path: Path, size: int, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes((i * seed + i // 5) % 256 for i in range(size)))
    return path


@pytest.fixture
def exchange(w3: Web3, tmp_path: Path, schemas: Schemas) -> Iterator[Exchange]:
    scene = make_licensing(w3, tmp_path / "deployments")
    data = tmp_path / "alpha-data"
    datasets = {
        "file": write(data / "vibration.csv", 2 * CHUNK_SIZE + 77, 3),
        "directory": data / "weld-runs",
        "important": write(data / "weld-parameters.bin", CHUNK_SIZE + 5, 7),
    }
    write(datasets["directory"] / "run-1.csv", 1000, 5)
    write(datasets["directory"] / "images" / "frame 01.raw", CHUNK_SIZE + 3, 11)
    for name, path in datasets.items():
        scene.register(scene.alpha, content_root(path), grade=Grade.IMPORTANT if name == "important" else Grade.GENERAL)
    sources = DataSources([local_dataset(path) for path in datasets.values()])
    alpha = start(scene, scene.alpha, tmp_path / "alpha", schemas, sources)
    beta = start(scene, scene.beta, tmp_path / "beta", schemas, DataSources())
    yield Exchange(scene, alpha, beta, datasets)
    for side in (alpha, beta):
        side.server.stop()
        side.connector.close()


def assert_recorded(exchange: Exchange, delivery: Delivery, root: bytes) -> None:
    """The receipt on chain: both organisations' connector keys, the delivered root, the licence."""
    receipts = Receipts(exchange.scene.registry)
    evidence = receipts.verify_on_chain(delivery.receipt)
    assert evidence.transaction == delivery.receipt_transaction
    assert (evidence.provider.org_id, evidence.consumer.org_id) == (
        exchange.scene.alpha.org_id.lower(),
        exchange.scene.beta.org_id.lower(),
    )
    assert delivery.receipt.signatures["provider"]["key"] == key(exchange.scene.alpha).address
    assert delivery.receipt.signatures["consumer"]["key"] == key(exchange.scene.beta).address
    assert delivery.receipt.receipt.delivered_root == root == delivery.receipt.receipt.dataset
    grant = Grants(exchange.scene.registry).show(root, exchange.scene.beta.org_id)
    assert grant.status == GrantStatus.ACTIVE and grant.serial == delivery.receipt.receipt.grant_serial
    assert delivery.receipt.opening.terms.fields["size"] == str(delivery.verified.size)


def test_a_file_moves_verified_with_a_receipt_on_chain(exchange: Exchange, tmp_path: Path) -> None:
    root = exchange.root("file")
    out = tmp_path / "received.csv"
    delivery = fetch_dataset(exchange.beta.connector, exchange.alpha.url, root, out, timeout=90)
    assert out.read_bytes() == exchange.datasets["file"].read_bytes()
    assert delivery.verified.kind == "file" and content_root(out) == root
    assert_recorded(exchange, delivery, root)
    assert exchange.alpha.connector.transfers is not None
    transfer = exchange.alpha.connector.transfers.store.by_pid(Role.PROVIDER, delivery.transfer)
    assert transfer is not None and transfer.state == TransferState.COMPLETED


def test_a_directory_moves_verified_with_a_receipt_on_chain(exchange: Exchange, tmp_path: Path) -> None:
    root = exchange.root("directory")
    delivery = fetch_dataset(exchange.beta.connector, exchange.alpha.url, root, tmp_path / "runs", timeout=90)
    assert content_root(tmp_path / "runs") == root
    assert [f.path for f in delivery.verified.files] == ["images/frame 01.raw", "run-1.csv"]
    assert_recorded(exchange, delivery, root)


def test_important_data_moves_after_the_auditors_approval(exchange: Exchange, tmp_path: Path) -> None:
    root = exchange.root("important")
    scene = exchange.scene
    approved = threading.Event()

    def approve_when_pending() -> None:
        grants = Grants(scene.registry)
        while not approved.is_set():
            try:
                status = grants.show(root, scene.beta.org_id).status
            except UnknownRecordError:  # not agreed yet
                status = None
            if status == GrantStatus.PENDING:
                scene.approve(root, scene.beta)
                exchange.alpha.connector.provider.poll_pending()
                approved.set()
                return
            approved.wait(0.1)

    auditor = threading.Thread(target=approve_when_pending, daemon=True)
    auditor.start()
    try:
        delivery = fetch_dataset(exchange.beta.connector, exchange.alpha.url, root, tmp_path / "weld.bin", timeout=90)
    finally:
        approved.set()
        auditor.join(timeout=10)
    assert_recorded(exchange, delivery, root)


def test_tampered_bytes_are_refused_and_nothing_is_signed(exchange: Exchange, tmp_path: Path) -> None:
    root = exchange.root("file")
    source = exchange.datasets["file"]
    data = bytearray(source.read_bytes())
    data[CHUNK_SIZE + 10] ^= 0xFF
    # The provider's disk changes under the connector with the same size and modification time:
    # what a silent corruption looks like to the data plane.
    stat = source.stat()
    source.write_bytes(bytes(data))
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    out = tmp_path / "received.csv"
    with pytest.raises(RootMismatch) as caught:
        fetch_dataset(exchange.beta.connector, exchange.alpha.url, root, out, timeout=90)
    assert f"0x{root.hex()}" in str(caught.value) and f"0x{caught.value.computed.hex()}" in str(caught.value)
    assert not out.exists() and caught.value.kept is not None and caught.value.kept.read_bytes() == bytes(data)
    assert exchange.scene.registry.events("ExchangeLedger", "ReceiptRecorded") == []
    # The consumer terminated the transfer; the provider signed nothing for it.
    transfers = exchange.beta.connector.transfer_consumer
    assert transfers is not None
    [ended] = transfers.store.in_state(Role.CONSUMER, TransferState.TERMINATED)
    assert "do not match" in ended.reason
    assert exchange.alpha.connector.receipts is not None
    assert exchange.alpha.connector.receipts.signed_for(ended.provider_pid) is None


def fetch_cli(exchange: Exchange, tmp_path: Path, w3: Web3, *args: str) -> subprocess.CompletedProcess[str]:
    """`idsreg connector fetch` as beta's operator runs it, with beta's connector key in a keystore."""
    home = tmp_path / "beta-cli"
    if not (home / "keystore").exists():
        Keystore(home / "keystore").import_private_key(
            "beta", key(exchange.scene.beta).key.hex(), TEST_PASSWORD, scrypt_n=2**10
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
    env.update(
        IDSREG_HOME=str(home),
        IDSREG_RPC_URL=str(w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        IDSREG_DEPLOYMENTS=str(tmp_path / "deployments"),
        IDSREG_PASSWORD=TEST_PASSWORD,
    )
    return subprocess.run(
        [IDSREG, "connector", "fetch", exchange.alpha.url, *args, "--key", "beta"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def test_the_fetch_command_gets_verified_bytes_and_a_receipt(exchange: Exchange, tmp_path: Path, w3: Web3) -> None:
    root = exchange.root("directory")
    result = fetch_cli(exchange, tmp_path, w3, "0x" + root.hex(), "--json", "--purpose", TERMS.purpose)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["dataset"] == "0x" + root.hex() and shown["kind"] == "directory"
    assert Path(shown["path"]) == tmp_path / f"dataset-{root.hex()[:12]}"
    assert content_root(Path(shown["path"])) == root
    recorded = exchange.scene.registry.events("ExchangeLedger", "ReceiptRecorded", shown["receipt"])
    assert recorded and recorded[0][1]["transactionHash"].to_0x_hex() == shown["receiptTransaction"]
    human = fetch_cli(exchange, tmp_path, w3, "0x" + exchange.root("file").hex(), "--out", "got.csv")
    assert human.returncode == 0, human.stderr
    assert f"→ {tmp_path / 'got.csv'}" in human.stdout and "recorded in transaction 0x" in human.stdout


def test_the_fetch_command_refuses_clearly(exchange: Exchange, tmp_path: Path, w3: Web3) -> None:
    def one_line(result: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
        assert result.returncode == code, (result.returncode, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        for part in parts:
            assert part in lines[0], lines[0]

    root = "0x" + exchange.root("file").hex()
    one_line(fetch_cli(exchange, tmp_path, w3, "0x" + "ab" * 32), 6, "is not registered on chain")
    one_line(fetch_cli(exchange, tmp_path, w3, "0xnothex"), 2, "'0xnothex' is not a dataset id")
    one_line(fetch_cli(exchange, tmp_path, w3, root, "--purpose", "resale"), 5, "not for 'resale'")
    (tmp_path / "taken.csv").write_text("mine")
    one_line(fetch_cli(exchange, tmp_path, w3, root, "--out", "taken.csv"), 2, "taken.csv already exists")
    assert (tmp_path / "taken.csv").read_text() == "mine"

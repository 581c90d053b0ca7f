"""The connector benchmark: a dataset from one organisation's connector to another's, verified while
it streams, next to `curl` fetching the same file from a plain static HTTP server in the same run.

Two connectors over the bench chain on loopback: alpha's (the provider) as its operator runs
it, `idsreg connector serve --data FILE` in a process of its own, and beta's (the consumer) in
this process, as `idsreg connector fetch` runs it. One random file of `size_mib` MiB is
registered by alpha and served by its data plane.
Rows: `curl` from `python -m http.server` (the yardstick), the connector's data plane with the
consumer's streaming verification (the download step alone), and the time from the catalog
request to the receipt recorded on chain, step by step. Both downloads write into the same
scratch folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median

import httpx
from rich.console import Console

from client.chain.enums import Permission
from client.chain.node import free_port
from client.connector.app import create_app, make_connector
from client.connector.delivery import BackgroundServer, Delivery, fetch_dataset
from client.connector.fetch import DataPlaneClient
from client.connector.odrl import OfferTerms
from client.connector.schemas import find_release, load
from client.connector.sources import local_dataset
from client.connector.transfer import DataAddress
from client.consortium import org_id
from client.datasets import Datasets, Registration
from client.keys import Keystore

from .chain import BenchChain
from .report import Column, Table

MIB = 1024 * 1024


def _random_file(path: Path, size_mib: int) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as sink:
        # A fresh first 8 bytes per MiB: no two chunks alike, without os.urandom's cost for 1 GiB.
        sink.writelines(i.to_bytes(8, "big") + block[8:] for i in range(size_mib))


def _wait_port(port: int, timeout: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def _static(folder: Path) -> Iterator[str]:
    """`python -m http.server` serving `folder` on a free loopback port: its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _curl(url: str, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-sSf", "-o", str(out), url], check=True)
    elapsed = time.perf_counter() - started
    out.unlink()
    return elapsed


def _client(client: DataPlaneClient, url: str, root: bytes, out: Path) -> float:
    """The data plane client with its verification, pulling from the static server's copy of the layout."""
    started = time.perf_counter()
    client.fetch(DataAddress(url + "/data/plain", "unused"), root, out)
    elapsed = time.perf_counter() - started
    out.unlink()
    return elapsed


class _Provider:
    """Alpha's connector as its operator runs it: `idsreg connector serve --data FILE`, a process of its own."""

    def __init__(self, scratch: Path, chain: BenchChain, data: Path) -> None:
        home = scratch / "alpha-home"
        deployments = scratch / "deployments"
        chain.registry.manifest.save(deployments)
        password = os.urandom(12).hex()
        Keystore(home / "keystore").import_private_key(
            "alpha", chain.alpha.connector.key.hex(), password, scrypt_n=2**10
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
        self.env.update(
            IDSREG_HOME=str(home),
            IDSREG_RPC_URL=str(chain.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
            IDSREG_DEPLOYMENTS=str(deployments),
            IDSREG_PASSWORD=password,
        )
        self.args = [
            str(Path(sys.executable).parent / "idsreg"),
            "connector",
            "serve",
            "--port",
            str(self.port),
            "--key",
            "alpha",
            "--purpose",
            "benchmarking",
            "--data",
            str(data),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{self.url}/.well-known/dspace-version").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"alpha's connector stopped: {self.process.stderr.read().decode() if self.process.stderr else ''}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("alpha's connector did not start in 600 s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def connector_table(chain: BenchChain, console: Console, size_mib: int = 1024, runs: int = 3) -> Table:
    """Move one `size_mib` MiB file from alpha's connector to beta's `runs` times, each time next to
    a curl of the same file; the best of each, with the steps of the connector's best run."""
    release = find_release()
    schemas = None if release is None else load(release)
    with tempfile.TemporaryDirectory(prefix="idsreg-bench-connector-") as scratch_text:
        scratch = Path(scratch_text)
        (scratch / "data").mkdir()
        source = scratch / "data" / "dataset.bin"
        with console.status(f"connector: writing and hashing a {size_mib:,} MiB file"):
            _random_file(source, size_mib)
            dataset = local_dataset(source)
        Datasets(chain.registry).register(chain.alpha.connector, Registration(dataset.root))
        provider = _Provider(scratch, chain, source)
        beta_home = scratch / "beta"
        beta_home.mkdir()
        port = free_port()
        beta = make_connector(
            chain.registry,
            chain.beta.connector,
            "0x" + org_id(chain.beta.identifier).hex(),
            f"http://127.0.0.1:{port}",
            beta_home,
            OfferTerms(Permission.READ, "", 24 * 3600),
            schemas=schemas,
        )
        server = BackgroundServer(create_app(beta), "127.0.0.1", port)
        try:
            with console.status("connector: starting alpha's connector (idsreg connector serve, hashing its data)"):
                provider.start()
            server.start()
            # The data plane's layout as static files, for the client alone against the same server as curl.
            plain = scratch / "data" / "data" / "plain"
            (plain / "files").mkdir(parents=True)
            (plain / "manifest").write_text(json.dumps(dataset.manifest()))
            os.link(source, plain / "files" / source.name)
            client = DataPlaneClient(chain.beta.connector, "0x" + org_id(chain.beta.identifier).hex())
            deliveries: list[tuple[float, Delivery]] = []
            curls: list[float] = []
            clients: list[float] = []
            with _static(source.parent) as static:
                for run in range(1, runs + 1):  # interleaved: each sees the same moments of a busy machine
                    with console.status(f"connector: catalog → … → receipt of {size_mib:,} MiB, run {run} of {runs}"):
                        started = time.perf_counter()
                        out = scratch / "via-connector.bin"
                        delivery = fetch_dataset(beta, provider.url, dataset.root, out, timeout=600)
                        deliveries.append((time.perf_counter() - started, delivery))
                        out.unlink()
                    with console.status(f"connector: curl and the client alone from http.server, run {run} of {runs}"):
                        curls.append(_curl(f"{static}/{source.name}", scratch / "via-curl.bin"))
                        clients.append(_client(client, static, dataset.root, scratch / "via-client.bin"))
        finally:
            server.stop()
            beta.close()
            provider.stop()
    curl = min(curls)
    total, delivery = min(deliveries, key=lambda pair: pair[1].timings["download"])
    download = delivery.timings["download"]
    rows = [
        {"what": "curl ← python -m http.server (same file)", "seconds": curl, "MiB/s": size_mib / curl, "ratio": 1.0},
        {
            "what": "data plane client + streaming verification ← python -m http.server",
            "seconds": min(clients),
            "MiB/s": size_mib / min(clients),
            "ratio": curl / min(clients),
        },
        {
            "what": "connector data plane + streaming verification",
            "seconds": download,
            "MiB/s": size_mib / download,
            "ratio": curl / download,
        },
    ]
    rows += [{"what": f"  step: {name}", "seconds": seconds} for name, seconds in delivery.timings.items()]
    rows.append({"what": "catalog request → receipt on chain", "seconds": total})
    rows.append(
        {"what": "catalog request → receipt on chain, median of runs", "seconds": median(t for t, _ in deliveries)}
    )
    return Table(
        "connector",
        f"Connector transfer of a {size_mib:,} MiB dataset",
        [
            Column("what", "what"),
            Column("seconds", "seconds", ".2f"),
            Column("MiB/s", "MiB/s", ",.1f"),
            Column("ratio", "× curl", ".2f"),
        ],
        rows,
        [
            f"best of {runs} runs each, interleaved; the steps are those of the connector's best download",
            (
                f"both downloads write into the same scratch folder ({tempfile.gettempdir()}); "
                "curl is timed as a subprocess; the connector's row is the download step alone"
            ),
            f"× curl: curl's time divided by the row's (≥ 0.8 is the target); curl at {shutil.which('curl')}",
        ],
    )

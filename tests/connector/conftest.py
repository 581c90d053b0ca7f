"""Two organisations' connectors as two real HTTP servers on loopback, over a real anvil chain.

Alpha (provider) holds a general, an important and a core dataset (tests/contracts/factories.py,
`make_licensing`); beta is the consumer. Each connector has its own chain connection, its own
SQLite negotiation store and its own uvicorn server in a thread. Every message either side
sends or receives is checked against the official DSP 2025-1 schemas (`../shared/dsp/2025-1/`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eth_account.signers.local import LocalAccount
from web3 import Web3

from client.chain.enums import Permission
from client.chain.node import free_port
from client.chain.registry import Registry
from client.connector.app import Connector, create_app, make_connector
from client.connector.identity import issue_token
from client.connector.negotiation import Negotiation, Role, State
from client.connector.odrl import OfferTerms, dataset_iri
from client.connector.schemas import Schemas, find_release, load
from tests.contracts.factories import Licensing, key, make_licensing

TERMS = OfferTerms(Permission.READ, "predictive maintenance", 30 * 24 * 3600)


@pytest.fixture(scope="session")
def schemas() -> Schemas:
    release = find_release()
    if release is None:
        pytest.skip("the DSP 2025-1 schemas are not at ../shared/dsp/2025-1 (see ../shared/dsp/README.md)")
    return load(release)


class Server:
    """A uvicorn server in a thread."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline, "the connector did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Side:
    """One organisation's running connector."""

    url: str
    connector: Connector
    key: LocalAccount
    org_id: str
    server: Server

    @property
    def provider(self) -> Any:
        return self.connector.provider

    @property
    def consumer(self) -> Any:
        return self.connector.consumer

    def token(self, audience: str, signer: LocalAccount | None = None, org_id: str | None = None) -> str:
        return issue_token(signer or self.key, org_id or self.org_id, audience)


def start_side(scene: Licensing, org: Any, home: Path, schemas: Schemas, *, auto: bool) -> Side:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    registry = Registry(Web3(Web3.HTTPProvider(scene.registry.w3.provider.endpoint_uri)), scene.registry.manifest)  # type: ignore[attr-defined]
    connector = make_connector(
        registry, key(org), org.org_id, url, home, TERMS, schemas=schemas, auto=auto, page_size=2, cache_seconds=0
    )
    server = Server(create_app(connector), port)
    server.start()
    return Side(url, connector, key(org), org.org_id, server)


@dataclass
class Pair:
    scene: Licensing
    alpha: Side  # provider
    beta: Side  # consumer
    schemas: Schemas

    def http(self) -> httpx.Client:
        return httpx.Client(timeout=30)

    def post_as(self, side: Side, url: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        """A raw message, as the TCK sends it (schema-checked first)."""
        self.schemas.validate(body)
        headers = {"Authorization": token or side.token(self.alpha.url)}
        with self.http() as client:
            return client.post(url, json=body, headers=headers)

    def provider_state(self, negotiation: Negotiation) -> State:
        """The provider's state, read over HTTP as the consumer (GET /negotiations/{providerPid})."""
        response = self.beta.connector.consumer.peer.get(
            self.alpha.url, f"{self.alpha.url}/negotiations/{negotiation.provider_pid}"
        )
        body = response.json()
        self.schemas.validate(body, "ContractNegotiation")
        return State(body["state"])

    def wait_provider(self, negotiation: Negotiation, state: State, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while self.provider_state(negotiation) != state:
            assert time.monotonic() < deadline, f"provider still {self.provider_state(negotiation)}, not {state}"
            time.sleep(0.05)

    def wait_consumer(self, pid: str, state: State, timeout: float = 90) -> Negotiation:
        deadline = time.monotonic() + timeout
        while True:
            found = self.beta.consumer.store.by_pid(Role.CONSUMER, pid)
            if found is not None and found.state == state:
                return found
            assert time.monotonic() < deadline, f"consumer still {found and found.state}, not {state}"
            time.sleep(0.05)

    def offer(self, root: bytes, **changes: Any) -> dict[str, Any]:
        """The catalog's offer for `root` with its target (as a consumer requests it), edited by `changes`."""
        return {**self.alpha.connector.catalog.offer_for(root), **changes}

    def request(self, root: bytes, offer: dict[str, Any] | None = None) -> Negotiation:
        return self.beta.consumer.request(self.alpha.url, self.alpha.org_id, offer or self.offer(root))

    def idle(self) -> None:
        self.alpha.provider.wait_idle()
        self.beta.consumer.wait_idle()


def _pair(w3: Web3, tmp_path: Path, schemas: Schemas, *, provider_auto: bool, consumer_auto: bool) -> Iterator[Pair]:
    scene = make_licensing(w3, tmp_path / "deployments")
    alpha = start_side(scene, scene.alpha, tmp_path / "alpha", schemas, auto=provider_auto)
    beta = start_side(scene, scene.beta, tmp_path / "beta", schemas, auto=consumer_auto)
    pair = Pair(scene, alpha, beta, schemas)
    yield pair
    pair.idle()
    for side in (alpha, beta):
        side.server.stop()
        side.connector.provider.close()
        side.connector.consumer.close()


@pytest.fixture
def pair(w3: Web3, tmp_path: Path, schemas: Schemas) -> Iterator[Pair]:
    """Both connectors deciding by themselves (the provider's automatic policy)."""
    yield from _pair(w3, tmp_path, schemas, provider_auto=True, consumer_auto=True)


@pytest.fixture
def manual(w3: Web3, tmp_path: Path, schemas: Schemas) -> Iterator[Pair]:
    """Both connectors waiting for their operators: the test makes each side's moves (as the
    compatibility kit's mock makes the provider's)."""
    yield from _pair(w3, tmp_path, schemas, provider_auto=False, consumer_auto=False)


@pytest.fixture
def deciding(w3: Web3, tmp_path: Path, schemas: Schemas) -> Iterator[Pair]:
    """The provider deciding by itself, the consumer's moves made by the test (as the kit makes them)."""
    yield from _pair(w3, tmp_path, schemas, provider_auto=True, consumer_auto=False)


def dataset_url(pair: Pair, root: bytes) -> str:
    return f"{pair.alpha.url}/catalog/datasets/{dataset_iri(root)}"


Waiter = Callable[[], bool]

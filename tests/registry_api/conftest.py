"""Fixtures of the registry API tests: fresh index databases on SQLite and on PostgreSQL, the
workload story, and the API served over real HTTP."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from eth_account.signers.local import LocalAccount
from psycopg import sql
from sqlalchemy import Engine
from web3 import Web3

from client.chain.deploy import deploy_registry
from client.chain.node import AnvilProcess, ChainConfig, free_port
from client.chain.registry import Registry
from client.consortium import Consortium
from client.siwe import sign_message
from registry_api.api import create_app
from registry_api.db import init_db, make_engine
from registry_api.indexer import Indexer
from registry_api.settings import ApiSettings
from tests.conftest import Org, admit, new_account
from tests.registry_api.helpers import settings
from tests.registry_api.workload import Story

#: The machine's PostgreSQL server (trust authentication); each test makes and drops its own database.
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
#: Signs the test servers' bearer tokens (test-only).
TEST_TOKEN_SECRET = "test-only-token-secret-0123456789abcdef"


@contextmanager
def databases(kind: str, folder: Path) -> Iterator[Callable[[], Engine]]:
    """A factory of fresh, empty index databases of one kind, dropped on the way out."""
    engines: list[Engine] = []
    names: list[str] = []

    def make() -> Engine:
        if kind == "sqlite":
            url = f"sqlite:///{folder / f'index-{uuid.uuid4().hex[:8]}.db'}"
        else:
            name = f"idsreg_test_{uuid.uuid4().hex[:12]}"
            try:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.OperationalError as exc:
                pytest.fail(f"these tests need the PostgreSQL server at 127.0.0.1:5432: {exc}")
            names.append(name)
            url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        engine = make_engine(url)
        init_db(engine)
        engines.append(engine)
        return engine

    try:
        yield make
    finally:
        for engine in engines:
            engine.dispose()
        if names:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                for name in names:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def make_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A factory of fresh, empty index databases of one kind (dropped after the test)."""
    with databases(request.param, tmp_path) as make:
        yield make


@pytest.fixture
def own_chain(tmp_path: Path) -> Iterator[Callable[..., Registry]]:
    """Like `make_registry`, on an anvil node of the test's own. For reorganisations: anvil's
    evm_revert restores the state but not the blocks an anvil_reorg replaced, so a reorganised
    node would leave later tests a chain whose blocks and state disagree."""
    node = AnvilProcess.from_genesis(ChainConfig.load(), free_port(), tmp_path / "anvil.log")
    node.start()
    w3 = Web3(Web3.HTTPProvider(node.rpc_url))

    def make(governors: list[LocalAccount], threshold: int = 1) -> Registry:
        manifest = deploy_registry(
            w3, governors[0], [g.address for g in governors], threshold, tmp_path / "deployments", force=True
        )
        return Registry(w3, manifest)

    try:
        yield make
    finally:
        node.stop()


def tell_story(w3: Web3, deployments: Path) -> Story:
    governors = [new_account(), new_account()]
    manifest = deploy_registry(w3, governors[0], [g.address for g in governors], 1, deployments, force=True)
    return Story(Registry(w3, manifest), governors).run()


@pytest.fixture(scope="module")
def told_story(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The workload story, run once per module; the per-test chain snapshot gives every test
    the same state (told before any test's snapshot is taken, having the wider scope)."""
    return tell_story(w3, tmp_path_factory.mktemp("deployments"))


@pytest.fixture
def s(told_story: Story, w3: Web3) -> Story:
    """The told story, as it was before the test."""
    return told_story


@contextmanager
def serving(api_settings: ApiSettings, engine: Engine) -> Iterator[str]:
    """The API app over `engine`, served by uvicorn on a free port in a thread; yields its URL."""
    port = free_port()
    app = create_app(api_settings.model_copy(update={"port": port, "public_url": None}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Served:
    """The story indexed into one database and served over HTTP."""

    story: Story
    engine: Engine
    url: str
    http: httpx.Client
    kind: str

    def sign_in(self, account: LocalAccount) -> dict[str, str]:
        """Authorization headers for `account` (challenge, signature, token)."""
        challenge = self.http.post("/v1/auth/challenge", json={"address": account.address})
        assert challenge.status_code == 200, challenge.text
        message = challenge.json()["message"]
        token = self.http.post("/v1/auth/token", json={"message": message, "signature": sign_message(account, message)})
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['accessToken']}"}


def api_settings_for(registry: Registry, engine: Engine, deployments: Path) -> ApiSettings:
    rpc_url = str(registry.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    # Tests sign in far more often than anyone would: the challenge rate limits are out of their way.
    return settings(
        database_url=engine.url.render_as_string(hide_password=False),
        rpc_url=rpc_url,
        deployments=deployments,
        token_secret=TEST_TOKEN_SECRET,
        challenges_per_address=10_000,
        challenges_per_client=10_000,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, told_story: Story, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The module's story, indexed into a fresh database of each kind and served over HTTP."""
    folder = tmp_path_factory.mktemp("served")
    with databases(request.param, folder) as make:
        engine = make()
        registry = told_story.registry
        deployments = folder / "deployments"
        registry.manifest.save(deployments)
        api_settings = api_settings_for(registry, engine, deployments)
        Indexer(registry, engine, api_settings).scan_once()
        with serving(api_settings, engine) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield Served(told_story, engine, url, http, request.param)


@pytest.fixture
def api(served: Served, w3: Web3) -> Served:
    """The served story; the chain snapshot per test keeps it as it was."""
    return served


@dataclass
class FreshApi:
    """A deployment of its own with some members, indexed and served (for tests that change the
    chain under the API)."""

    registry: Registry
    consortium: Consortium
    orgs: list[Org]
    indexer: Indexer
    served: Served
    #: The deployment's one governor (threshold one: its proposals execute at once).
    governor: LocalAccount

    @property
    def http(self) -> httpx.Client:
        return self.served.http


@pytest.fixture
def fresh_api(
    make_registry: Callable[..., Registry], make_db: Callable[[], Engine], tmp_path: Path
) -> Callable[..., Any]:
    """`fresh_api(*identifiers)`: a context manager serving a new deployment whose members are
    `identifiers` (one connector key each), indexed once before it is served."""

    @contextmanager
    def make(*identifiers: str) -> Iterator[FreshApi]:
        governor = new_account()
        registry = make_registry([governor])
        consortium = Consortium(registry)
        orgs = [admit(consortium, governor, identifier, connectors=1) for identifier in identifiers]
        registry.manifest.save(tmp_path / "deployments")
        engine = make_db()
        api_settings = api_settings_for(registry, engine, tmp_path / "deployments")
        indexer = Indexer(registry, engine, api_settings)
        indexer.scan_once()
        with serving(api_settings, engine) as url, httpx.Client(base_url=url) as http:
            served = Served(None, engine, url, http, "")  # type: ignore[arg-type]
            yield FreshApi(registry, consortium, orgs, indexer, served, governor)

    return make

"""Fixtures of the registry API tests: fresh index databases on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from web3 import Web3

from client.chain.deploy import deploy_registry
from client.chain.registry import Registry
from registry_api.db import init_db, make_engine
from tests.conftest import new_account
from tests.registry_api.workload import Story

#: The machine's PostgreSQL server (trust authentication); each test makes and drops its own database.
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def make_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A factory of fresh, empty index databases of one kind (dropped after the test)."""
    engines: list[Engine] = []
    databases: list[str] = []

    def make() -> Engine:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'index-{len(engines)}.db'}"
        else:
            name = f"idsreg_test_{uuid.uuid4().hex[:12]}"
            try:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.OperationalError as exc:
                pytest.fail(f"these tests need the PostgreSQL server at 127.0.0.1:5432: {exc}")
            databases.append(name)
            url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        engine = make_engine(url)
        init_db(engine)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
    if databases:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            for name in databases:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def told_story(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Story:
    """The workload story, run once per module; the per-test chain snapshot gives every test
    the same state (told before any test's snapshot is taken, having the wider scope)."""
    governors = [new_account(), new_account()]
    manifest = deploy_registry(w3, governors[0], [g.address for g in governors], 1,
                               tmp_path_factory.mktemp("deployments"), force=True)  # fmt: skip
    return Story(Registry(w3, manifest), governors).run()


@pytest.fixture
def s(told_story: Story, w3: Web3) -> Story:
    """The told story, as it was before the test."""
    return told_story

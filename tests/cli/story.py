"""The workload story on the test chain, indexed and served by a real registry API over HTTP,
and users whose keystores hold its organisations' keys (for the API and watch CLI tests)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from client.keys import Keystore
from registry_api.indexer import Indexer
from tests.cli.conftest import TEST_PASSWORD, CommandForks, User
from tests.registry_api.conftest import api_settings_for, databases, serving, tell_story
from tests.registry_api.workload import Story


@dataclass
class Served:
    story: Story
    url: str
    deployments: Path


@pytest.fixture(scope="module")
def served(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The workload story on the test chain, indexed into SQLite and served over HTTP."""
    folder = tmp_path_factory.mktemp("lists")
    story = tell_story(w3, folder / "deployments")
    with databases("sqlite", folder) as make:
        engine = make()
        settings = api_settings_for(story.registry, engine, folder / "deployments")
        Indexer(story.registry, engine, settings).scan_once()
        with serving(settings, engine) as url:
            yield Served(story, url, folder / "deployments")


@pytest.fixture
def person(served: Served, w3: Web3, tmp_path: Path, command_forks: CommandForks) -> Any:
    """`person(name, org=…, auditor=…)`: a user whose keystore holds that organisation's
    connector key (or the story's auditor key) under the label `name`, pointed at the API."""

    def make(name: str, org: str | None = None, *, auditor: bool = False) -> User:
        home = tmp_path / name
        home.mkdir()
        (home / "password").write_text(TEST_PASSWORD + "\n")
        user = User(home, str(w3.provider.endpoint_uri), served.deployments, home / "password", command_forks)  # type: ignore[attr-defined]
        user.extra_env["IDSREG_API_URL"] = served.url
        account = served.story.auditor if auditor else served.story.key(org or "")
        Keystore(home / "keystore").import_private_key(name, account.key.hex(), TEST_PASSWORD, scrypt_n=2**10)
        return user

    return make

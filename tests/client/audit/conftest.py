"""The workload story told once per module, and its datasets' audit bundles exported from the node."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from client.audit.bundle import Bundle
from client.audit.export import export_bundle
from tests.registry_api.conftest import tell_story
from tests.registry_api.workload import Story


@pytest.fixture(scope="module")
def story(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Story:
    return tell_story(w3, tmp_path_factory.mktemp("deployments"))


@pytest.fixture(scope="module")
def scans_bundle(story: Story) -> Bundle:
    """The bundle of "turbine scans": registration, lineage, rights, licences, a delivery, a
    dispute; with the openings the story's parties hold."""
    return export_bundle(story.registry, story.roots["turbine scans"], 1, openings=story.openings)


@pytest.fixture
def scans_file(scans_bundle: Bundle, tmp_path: Path) -> Path:
    path = tmp_path / "scans.bundle.json"
    path.write_bytes(scans_bundle.to_bytes())
    return path
